"""The browser verifier (assets/verify/nf1.js) gives Python's verdict on every input.

For every shared test vector (tests/vectors/credentials.json) and every forgery class the
credentials tests use, the same text is verified by core.credentials.licence.verify and by
nf1.js in Chromium, under both signature backends (WebCrypto Ed25519 and the vendored noble
implementation): the verdict code, the decoded claims, the certificate and the revocation
list's facts must be equal. The browser's trust list is opened from an NTL1 envelope built
here, as central publishes it, so openTrustList is on the path of every case."""
from __future__ import annotations

import base64
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from core import codes
from core.credentials import base45, cbor, ceremony, cose, keys
from core.credentials import certificate as certs
from core.credentials.licence import (CERT_LABEL, PREFIX, REASONS, claims_for, decode,
                                      protect_national_id, sign_claims, verify)
from core.credentials.trust import TrustStore

sys.path.insert(0, str(Path(__file__).parents[2] / "core" / "credentials"))
from vector_builder import ROOT as VECTOR_ROOT, VECTORS

NOW = 1_795_500_000  # 2026-11-24
DAY = 86400
VECTOR_DATA = json.loads(VECTORS.read_text(encoding="utf-8"))


def seeded(label: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(label.encode().ljust(32, b"."))


ROOT = seeded("web verifier root")
OTHER_ROOT = seeded("web verifier other root")
DEVICE = seeded("web verifier device D01")
NID = protect_national_id("850101239", bytes(8))  # scrypt once, not per licence
# Keys no honest ceremony makes, but which a root could certify: Ed25519 libraries differ on
# them, and the browser must still answer as Python's OpenSSL does (nf1.js nobleVerify).
IDENTITY = bytes([1]) + bytes(31)                          # the neutral point: small order
IDENTITY_NON_CANONICAL = (2 ** 255 - 18).to_bytes(32, "little")  # y = p + 1
L = 2 ** 252 + 27742317777372353535851937790883648493


def pub(key) -> bytes:
    """A key's raw public bytes (a raw 32-byte key is its own)."""
    return key if isinstance(key, bytes) else keys.public_bytes(key)


def kid_hex(key) -> str:
    return keys.key_id(pub(key)).hex()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def envelope(signer, version: int, roots, revocation: bytes | None = None,
             issued_at: int = NOW, over: dict | None = None) -> dict:
    """An NTL1 trust list as central publishes it (docs: the issue 21 contract)."""
    payload = {"format": "NTL1", "version": version, "issued_at": issued_at,
               "roots": [{"kid": kid_hex(k), "public_key": pub(k).hex()} for k in roots],
               "revocation_list": None if revocation is None else b64(revocation),
               **(over or {})}
    raw = json.dumps(payload).encode()
    return {"format": "NTL1", "payload": b64(raw), "kid": kid_hex(signer),
            "signature": b64(signer.sign(raw))}


def make_cert(root=ROOT, device=DEVICE, device_id="D01", not_before=NOW - 10 * DAY,
              sign_until=NOW + 365 * DAY, not_after=NOW + 4000 * DAY, types=("RES", "BPS"),
              serial=1):
    return certs.issue(root, device_id, "MUH", pub(device), not_before, sign_until, not_after,
                       list(types), serial)


CERT = make_cert()


def row(**over):
    base = {"number": "MUH-2026-D01-000001", "licence_type": "RES",
            "holder_name": "محمد علي حسن", "national_id": "850101239",
            "address": {"block": "204", "road": "15", "building": "12"}, "issued_at": NOW - DAY,
            "valid_until": NOW + 89 * DAY, "device_counter": 1, "conditions": ""}
    return {**base, **over}


def licence(cert=CERT, key=DEVICE, office="MUH", **over) -> str:
    return sign_claims(claims_for(row(**over), office, national_id_hash=NID), key, cert)


def signed(claims: dict, cert=CERT, key=DEVICE, kid: bytes = b"D01") -> str:
    """Any claims, signed genuinely: what a compromised but certified device could make."""
    sign1 = cose.sign(cbor.dumps(claims), key, kid, {CERT_LABEL: cert.to_cbor()})
    return PREFIX + base45.encode(cbor.dumps(sign1.to_cbor()))


def raw_text(data: bytes) -> str:
    return PREFIX + base45.encode(data)


GOOD = licence()
RAW = base45.decode(GOOD[len(PREFIX):])
BODY = GOOD[len(PREFIX):]
GOOD_CLAIMS = cbor.loads(decode(BODY).payload)


# --- trust: the same roots and revocation list on both sides --------------------------------

@dataclass(frozen=True)
class Trust:
    signer: object
    roots: tuple
    revocation: bytes | None = None

    def python(self) -> TrustStore:
        store = TrustStore({keys.key_id(pub(k)): pub(k) for k in self.roots})
        if self.revocation is not None:
            store.install_revocations(self.revocation)
        return store

    def envelope(self) -> dict:
        return envelope(self.signer, 1, self.roots, self.revocation)


TRUSTS = {
    "plain": Trust(ROOT, (ROOT,)),
    "odd root": Trust(ROOT, (ROOT, IDENTITY)),
    "revoked": Trust(ROOT, (ROOT,), ceremony.revoke(
        ROOT, 3, NOW - 7200, ["MUH-2026-D01-000001", "MUH-2026-D01-000777"],
        {"MUH/D01": NOW - DAY // 2, "SIT/D01": NOW - 10 * DAY}).to_bytes()),
}
for _v in VECTOR_DATA["vectors"]:
    _name = f"vectors:{_v.get('revocation_list', '')[:16]}"
    if _name not in TRUSTS:
        _rl = _v.get("revocation_list")
        TRUSTS[_name] = Trust(VECTOR_ROOT, (VECTOR_ROOT,), bytes.fromhex(_rl) if _rl else None)


def vector_trust(vector: dict) -> str:
    return f"vectors:{vector.get('revocation_list', '')[:16]}"


# --- the forgery classes (tests/core/credentials/test_verify.py) and other QR content -------

def flipped_bytes():
    for i in range(len(RAW)):
        for bit in (0x01, 0x80):
            data = bytearray(RAW)
            data[i] ^= bit
            yield raw_text(bytes(data))


def another_root():
    yield licence(cert=make_cert(root=OTHER_ROOT))
    s = CERT.sign1
    forged = cose.Sign1(s.protected_bytes, s.protected, s.unprotected, s.payload, bytes(64))
    yield signed(claims_for(row(), "MUH", national_id_hash=NID), cert=certs.parse(forged.to_cbor()))
    # the other root's signature under our root's kid
    impostor = cose.sign(s.payload, OTHER_ROOT, keys.key_id(pub(ROOT)))
    yield signed(claims_for(row(), "MUH", national_id_hash=NID),
                 cert=certs.parse(impostor.to_cbor()))


def certificate_periods():
    early = make_cert(not_before=NOW + DAY, sign_until=NOW + 2 * DAY, not_after=NOW + 3 * DAY)
    yield licence(cert=early, issued_at=NOW + DAY + 1)
    old = make_cert(not_before=NOW - 900 * DAY, sign_until=NOW - 800 * DAY, not_after=NOW - DAY)
    yield licence(cert=old, issued_at=NOW - 850 * DAY)
    ended = make_cert(not_before=NOW - 400 * DAY, sign_until=NOW - 30 * DAY)
    for issued in (NOW - DAY, NOW - 500 * DAY, NOW - 60 * DAY):
        yield licence(cert=ended, issued_at=issued)


def revocations():
    yield GOOD                                                   # listed: revoked
    yield licence(number="MUH-2026-D01-000002", issued_at=NOW - DAY)  # before compromise
    yield licence(number="MUH-2026-D01-000003", issued_at=NOW - DAY // 4)  # after: device
    yield licence(number="MUH-2026-D01-000777", issued_at=NOW - DAY)  # listed and expired?
    yield licence(number="MUH-2026-D01-000004", valid_until=NOW - 1, issued_at=NOW - DAY)


def truncated():
    for n in range(len(GOOD)):
        yield GOOD[:n]


def trailing_garbage():
    for tail in ("A", "AB", "ABC", "0", " ", "  ", "\n", "\r\n", "\t", "\u00a0", "\x00",
                 "NF1:", BODY):
        yield GOOD + tail
    for tail in (b"\x00", b"\xff", b"\x00\x00", RAW):
        yield raw_text(RAW + tail)


def wrong_prefix():
    for prefix in ("NF2:", "NF9:", "NF01:", "NF001:", "NF1000:", "NF١:", "NF۱:", "nf1:",
                   "Nf1:", "HC1:", "NF1", "NF:", "NF1;", " NF1:", "\ufeffNF1:", "NFT:", ""):
        yield prefix + BODY


def huge_input():
    yield "X" * 4097
    yield "NF1:" + "A" * 5000
    yield "NF1:" + "A" * 4092            # exactly 4096 characters: decoded, malformed
    yield "NF1:" + "A" * 4093            # 4097: too large
    yield GOOD + "0" * (4096 - len(GOOD))
    yield GOOD + "0" * (4097 - len(GOOD))
    yield "NF1:" + "😀" * 2100            # 2104 characters, 4204 UTF-16 units: not too large
    yield "NF1:" + "😀" * 4093            # 4097 characters
    yield "A" * 1_000_000
    yield raw_text(b"\x81" * 2000 + b"\x00")                   # deep nesting
    yield raw_text(b"\xd2\x84\x5b\x7f\xff\xff\xff\xff\xff\xff\xff")  # bstr of 2^63 bytes
    yield raw_text(b"\xd2\x9a\xff\xff\xff\xff")                 # array of 2^32 items


def other_codes():
    yield codes.ticket_code("MUH", "01JD5X3Q9R8T7V6W5Y4Z3A2B1C")
    yield codes.application_code("MUH", "MUH-2026-000123")
    yield "https://nafitha.example/verify?c=" + GOOD
    yield "HTTPS://NAFITHA.EXAMPLE/V/" + BODY[:40]
    yield "WIFI:S:Office guests;T:WPA;P:correct horse;;"
    yield "BEGIN:VCARD\nVERSION:3.0\nFN:Office\nEND:VCARD"
    yield ""
    yield "".join(map(chr, range(256)))                         # binary QR content, as text
    yield "NF1:" + "".join(map(chr, range(256)))
    yield bytes(random.Random(1).randrange(256) for _ in range(300)).decode("latin-1")


def bidi_controls():
    yield "\u202e" + GOOD
    yield GOOD + "\u202c"
    yield "\u2067" + GOOD + "\u2069"
    yield GOOD[:20] + "\u200f" + GOOD[20:]
    yield "NF1:\u200e" + BODY
    yield GOOD[:100] + "\u061c" + GOOD[100:]
    yield "رخصة " + GOOD


def signature_forgeries():
    claims = dict(GOOD_CLAIMS)
    claims[7] += 365 * DAY
    sign1 = decode(BODY)
    yield raw_text(cbor.dumps(cose.Sign1(sign1.protected_bytes, sign1.protected,
                                         sign1.unprotected, cbor.dumps(claims),
                                         sign1.signature).to_cbor()))
    other_device = seeded("web verifier device D02")
    other = licence(cert=make_cert(device=other_device, device_id="D02"), key=other_device)
    mine, theirs = cbor.loads(RAW), cbor.loads(base45.decode(other[4:]))
    mine.value[1] = theirs.value[1]
    yield raw_text(cbor.dumps(mine))
    yield licence(key=seeded("web verifier stray key"))
    yield signed(GOOD_CLAIMS, kid=b"D02")


def outside_the_certificate():
    for number, office in (("MUH-2026-D02-000001", "MUH"), ("SIT-2026-D01-000001", "SIT"),
                           ("MUH-2026-D01-000001", "SIT")):
        yield licence(number=number, office=office)
    yield licence(licence_type="EXC")
    yield licence(issued_at=NOW + 2 * DAY)
    yield licence(issued_at=NOW + 60)
    yield licence(issued_at=NOW + 300)             # the clock skew tolerated, to the second
    yield licence(issued_at=NOW + 301)
    yield licence(valid_until=NOW - 1)
    yield licence(number="MUH-2026-D01-000001\n")  # Python's $ allows one final line feed
    yield signed({**GOOD_CLAIMS, 1: "MUH-2026-D01-0000١2"})


def big_integers():
    top = 2 ** 64 - 1
    yield signed({**GOOD_CLAIMS, 7: top})                        # valid until the end of time
    yield signed({**GOOD_CLAIMS, 10: 2 ** 53 + 1})
    yield signed({**GOOD_CLAIMS, 6: -(2 ** 64)})                 # malformed after the signature
    wide = make_cert(serial=top, not_after=top, sign_until=2 ** 53)
    yield licence(cert=wide)
    yield licence(cert=make_cert(not_before=0, sign_until=0, not_after=top), issued_at=0)


def with_signature(claims: dict, cert, signature: bytes, kid: bytes = b"D01") -> str:
    protected = {1: -8, 4: kid}
    sign1 = cose.Sign1(cbor.dumps(protected), protected, {CERT_LABEL: cert.to_cbor()},
                       cbor.dumps(claims), signature)
    return raw_text(cbor.dumps(sign1.to_cbor()))


def odd_keys():
    claims = claims_for(row(), "MUH", national_id_hash=NID)
    for device in (IDENTITY, IDENTITY_NON_CANONICAL):
        cert = certs.issue(ROOT, "D01", "MUH", device, NOW - 10 * DAY, NOW + 365 * DAY,
                           NOW + 4000 * DAY, ["RES"], 7)
        yield with_signature(claims, cert, IDENTITY + bytes(32))       # R = 0, S = 0
        yield with_signature(claims, cert, IDENTITY_NON_CANONICAL + bytes(32))
        yield with_signature(claims, cert, IDENTITY + L.to_bytes(32, "little"))  # S = L
        yield with_signature(claims, cert, IDENTITY + (8).to_bytes(32, "little"))
    # a certificate "signed" by the neutral root: the trust "odd root" holds it
    payload = certs.issue(ROOT, "D01", "MUH", pub(DEVICE), NOW - 10 * DAY, NOW + 365 * DAY,
                          NOW + 4000 * DAY, ["RES"], 8).sign1.payload
    protected = {1: -8, 4: keys.key_id(IDENTITY)}
    for signature in (IDENTITY + bytes(32), IDENTITY_NON_CANONICAL + bytes(32)):
        cert = certs.parse(cose.Sign1(cbor.dumps(protected), protected, {}, payload,
                                      signature).to_cbor())
        yield sign_claims(claims, DEVICE, cert)


def random_mutations():
    rng = random.Random(21)
    for _ in range(150):
        data = bytearray(RAW)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        yield raw_text(bytes(data))


def random_texts():
    rng = random.Random(22)
    pool = base45.ALPHABET + "abcé٣😀\u202e\n\t\x00"
    for _ in range(100):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 60)))
        yield ("NF1:" if rng.random() < 0.7 else "") + text


# class -> (its texts, the trust to use, the Python verdicts the class must produce: a class
# that drifted into testing something else fails here, not silently)
CLASSES = {
    "flipped bytes": (flipped_bytes, "plain", {"malformed", "bad_signature", "unknown_issuer"}),
    "another root": (another_root, "plain", {"unknown_issuer"}),
    "certificate periods": (certificate_periods, "plain",
                            {"certificate_not_yet_valid", "certificate_expired",
                             "issued_outside_certificate", "valid"}),
    "revoked": (revocations, "revoked", {"revoked", "valid", "device_revoked",
                                         "licence_expired"}),
    "truncated": (truncated, "plain", {"malformed", "unsupported_version"}),
    "trailing garbage": (trailing_garbage, "plain", {"malformed"}),
    "wrong prefix": (wrong_prefix, "plain", {"malformed", "unsupported_version"}),
    "huge input": (huge_input, "plain", {"too_large", "malformed"}),
    "ticket, URL, Wi-Fi and binary content": (other_codes, "plain", {"malformed"}),
    "bidi controls": (bidi_controls, "plain", {"malformed"}),
    "signature forgeries": (signature_forgeries, "plain", {"bad_signature"}),
    "claims the certificate does not cover": (
        outside_the_certificate, "plain", {"wrong_issuer", "type_not_allowed",
                                           "issued_in_future", "valid", "licence_expired",
                                           "malformed"}),
    "big integers": (big_integers, "plain", {"valid", "malformed"}),
    "small-order and non-canonical keys": (odd_keys, "odd root",
                                           {"valid", "bad_signature", "unknown_issuer"}),
    "random mutations": (random_mutations, "plain",
                         {"malformed", "bad_signature", "unknown_issuer"}),
    "random texts": (random_texts, "plain", {"malformed", "unsupported_version"}),
}


# --- both sides ------------------------------------------------------------------------------

def python_verdict(text: str, trust: str, now: int) -> dict:
    result = verify(text, PYTHON_TRUST[trust], now)
    return {"code": result.reason, "claims": result.claims or None,
            "certificate": result.certificate or None,
            "revocation_list": result.revocation_list,
            "list_number": result.revocation_list["number"] if result.revocation_list else None}


PYTHON_TRUST = {name: trust.python() for name, trust in TRUSTS.items()}

BATCH = """async (nf1, arg) => {
  const lists = {};
  for (const [name, envelope] of Object.entries(arg.envelopes)) {
    const opened = await nf1.openTrustList(envelope, null);
    if (!opened.ok) throw new Error(`trust list ${name}: ${opened.code}`);
    lists[name] = opened.list;
  }
  const out = [];
  for (const c of arg.cases) {
    const r = await nf1.verifyText(c.text, lists[c.trust], c.now);
    out.push({code: r.code, ok: r.ok, claims: r.claims, certificate: r.certificate,
              revocation_list: r.revocation_list, list_number: r.list_number});
  }
  return out;
}"""

_BROWSER: dict[tuple[str, str], list[dict]] = {}  # (backend, group) -> verdicts, per session


def browser_verdicts(nf1, backend: str, group: str, cases: list[dict]) -> list[dict]:
    if (backend, group) not in _BROWSER:
        envelopes = {name: TRUSTS[name].envelope() for name in {c["trust"] for c in cases}}
        _BROWSER[backend, group] = nf1(BATCH, {"envelopes": envelopes, "cases": cases})
    return _BROWSER[backend, group]


def assert_same(browser: dict, python: dict, label) -> None:
    assert browser["ok"] is (python["code"] == "valid"), label
    assert {k: browser[k] for k in python} == python, label


VECTOR_CASES = [{"text": v["text"], "now": v["verify_at"], "trust": vector_trust(v)}
                for v in VECTOR_DATA["vectors"]]


@pytest.mark.parametrize("index", range(len(VECTOR_CASES)),
                         ids=[v["name"] for v in VECTOR_DATA["vectors"]])
def test_every_shared_vector_gets_pythons_verdict(nf1, backend, index):
    vector = VECTOR_DATA["vectors"][index]
    case = VECTOR_CASES[index]
    python = python_verdict(case["text"], case["trust"], case["now"])
    assert python["code"] == vector["expected"]
    browser = browser_verdicts(nf1, backend, "vectors", VECTOR_CASES)[index]
    assert_same(browser, python, vector["name"])


def test_the_vectors_cover_every_verdict_in_the_browser(nf1, backend):
    codes_seen = {r["code"] for r in browser_verdicts(nf1, backend, "vectors", VECTOR_CASES)}
    assert codes_seen == set(REASONS)


@pytest.mark.parametrize("forgery", list(CLASSES))
def test_every_forgery_class_gets_pythons_verdict(nf1, backend, forgery):
    make, trust, expected = CLASSES[forgery]
    cases = [{"text": text, "now": NOW, "trust": trust} for text in make()]
    assert cases
    python = [python_verdict(c["text"], trust, NOW) for c in cases]
    assert {p["code"] for p in python} <= expected
    if forgery == "small-order and non-canonical keys":  # where the libraries differ
        assert [p["code"] for p in python].count("valid") == 3
    browser = browser_verdicts(nf1, backend, forgery, cases)
    assert len(browser) == len(cases)
    mismatches = [(i, cases[i]["text"][:60], b["code"], p["code"])
                  for i, (b, p) in enumerate(zip(browser, python)) if b["code"] != p["code"]]
    assert mismatches == []
    for i, (b, p) in enumerate(zip(browser, python)):
        assert_same(b, p, (forgery, i))


def test_claims_are_decoded_as_python_decodes_them(nf1, backend):
    """The genuine licence's facts, as the kiosk shows them."""
    [result] = nf1("async (nf1, a) => [await nf1.verifyText(a.text, "
                   "(await nf1.openTrustList(a.envelope, null)).list, a.now)]",
                   {"text": GOOD, "envelope": TRUSTS["plain"].envelope(), "now": NOW})
    assert result["code"] == "valid" and result["ok"] is True
    assert result["claims"] == {
        "number": "MUH-2026-D01-000001", "type": "RES", "holder": "محمد علي حسن",
        "national_id_hash": [NID[0].hex(), NID[1].hex()],
        "address": {"block": "204", "road": "15", "building": "12"},
        "issued_at": NOW - DAY, "valid_until": NOW + 89 * DAY, "office": "MUH",
        "device_counter": 1}
    assert result["list_number"] is None and result["revocation_list"] is None


def test_the_default_backend_is_webcrypto_in_chromium(nf1_page):
    assert nf1_page.evaluate("async () => { await window.nf1.setSignatureBackend('auto'); "
                             "return window.nf1.signatureBackend(); }") == "webcrypto"


def test_an_unknown_backend_is_refused(nf1_page):
    with pytest.raises(Exception, match="unknown signature backend"):
        nf1_page.evaluate("() => window.nf1.setSignatureBackend('openssl')")


# --- the trust list --------------------------------------------------------------------------

NEW_ROOT = seeded("web verifier next root")
STRANGER = seeded("web verifier stranger")
RL5 = ceremony.revoke(ROOT, 5, NOW - 3600, ["MUH-2026-D01-000001"], {}).to_bytes()

OPEN_THEN = """async (nf1, a) => {
  const first = await nf1.openTrustList(a.held, null);
  if (!first.ok) throw new Error(`held list refused: ${first.code}`);
  const held = first.list;
  const before = JSON.stringify(held);
  const offered = await nf1.openTrustList(a.offered, held);
  const under = offered.ok ? offered.list : held;
  return {code: offered.code, ok: offered.ok, list: offered.list,
          held_unchanged: JSON.stringify(held) === before,
          good: (await nf1.verifyText(a.good, under, a.now)).code};
}"""


def offer(nf1, held: dict, offered) -> dict:
    return nf1(OPEN_THEN, {"held": held, "offered": offered, "good": GOOD, "now": NOW})


def test_a_correctly_signed_list_opens_on_first_use(nf1):
    env = envelope(ROOT, 4, [ROOT], RL5, issued_at=NOW - 60)
    result = nf1("async (nf1, a) => nf1.openTrustList(a, null)", env)
    assert (result["ok"], result["code"]) == (True, "ok")
    listed = result["list"]
    assert (listed["version"], listed["issued_at"]) == (4, NOW - 60)
    assert listed["roots"] == [{"kid": kid_hex(ROOT), "public_key": pub(ROOT).hex()}]
    assert listed["revocation"]["number"] == 5
    assert listed["revocation"]["licences"] == ["MUH-2026-D01-000001"]
    assert listed["envelope"] == env
    # the JSON text opens too, and the list is what verifies
    verdict = nf1("async (nf1, a) => nf1.verifyText(a.good, "
                  "(await nf1.openTrustList(JSON.stringify(a.env), null)).list, a.now)",
                  {"env": env, "good": GOOD, "now": NOW})
    assert verdict["code"] == "revoked" and verdict["list_number"] == 5


def test_a_newer_list_signed_by_a_held_root_replaces_it(nf1):
    """Key rotation: v2 (signed by the held root) brings a new root, which signs v3."""
    v1 = envelope(ROOT, 1, [ROOT])
    v2 = envelope(ROOT, 2, [ROOT, NEW_ROOT], RL5)
    result = offer(nf1, v1, v2)
    assert (result["ok"], result["code"], result["list"]["version"]) == (True, "ok", 2)
    assert result["good"] == "revoked"
    v3 = envelope(NEW_ROOT, 3, [NEW_ROOT, ROOT], RL5)
    assert offer(nf1, v2, v3)["code"] == "ok"


def test_a_list_with_a_bad_signature_is_refused_and_the_held_one_kept(nf1):
    bad = envelope(ROOT, 2, [ROOT], RL5)
    signature = bytearray(base64.b64decode(bad["signature"]))
    signature[10] ^= 1
    bad["signature"] = b64(bytes(signature))
    result = offer(nf1, envelope(ROOT, 1, [ROOT]), bad)
    assert (result["ok"], result["code"], result["list"]) == (False, "bad_signature", None)
    assert result["held_unchanged"] and result["good"] == "valid"  # the held list: no RL


def test_a_list_whose_payload_was_altered_is_refused(nf1):
    env = envelope(ROOT, 2, [ROOT])
    altered = envelope(ROOT, 2, [ROOT, STRANGER])
    altered["signature"] = env["signature"]
    result = offer(nf1, envelope(ROOT, 1, [ROOT]), altered)
    assert (result["code"], result["held_unchanged"]) == ("bad_signature", True)


@pytest.mark.parametrize("version", [1, 2])
def test_a_list_not_newer_than_the_held_one_is_refused(nf1, version):
    result = offer(nf1, envelope(ROOT, 2, [ROOT], RL5), envelope(ROOT, version, [ROOT]))
    assert (result["ok"], result["code"], result["list"]) == (False, "older", None)
    assert result["held_unchanged"] and result["good"] == "revoked"  # the held list's RL


def test_a_newer_list_with_an_older_revocation_list_is_refused(nf1):
    rl4 = ceremony.revoke(ROOT, 4, NOW - 7200, [], {}).to_bytes()
    result = offer(nf1, envelope(ROOT, 2, [ROOT], RL5), envelope(ROOT, 3, [ROOT], rl4))
    assert (result["code"], result["good"]) == ("older", "revoked")


def test_a_list_signed_by_a_root_not_held_is_refused(nf1):
    result = offer(nf1, envelope(ROOT, 1, [ROOT]), envelope(STRANGER, 2, [STRANGER, ROOT]))
    assert (result["ok"], result["code"], result["held_unchanged"]) == \
        (False, "unknown_root", True)


def test_on_first_use_the_signer_must_be_in_the_list(nf1):
    result = nf1("async (nf1, a) => nf1.openTrustList(a, null)", envelope(STRANGER, 1, [ROOT]))
    assert (result["ok"], result["code"]) == (False, "unknown_root")


def test_a_revocation_list_signed_by_no_listed_root_is_refused(nf1):
    foreign = ceremony.revoke(STRANGER, 9, NOW, [], {}).to_bytes()
    result = nf1("async (nf1, a) => nf1.openTrustList(a, null)", envelope(ROOT, 1, [ROOT], foreign))
    assert result["code"] == "unknown_root"


def test_a_revocation_list_with_a_forged_signature_is_refused(nf1):
    good = ceremony.revoke(ROOT, 9, NOW, ["X"], {}).sign1
    forged = cose.Sign1(good.protected_bytes, good.protected, good.unprotected, good.payload,
                        bytes(64))
    result = nf1("async (nf1, a) => nf1.openTrustList(a, null)",
                 envelope(ROOT, 1, [ROOT], cbor.dumps(forged.to_cbor())))
    assert result["code"] == "bad_signature"


def _resigned(env: dict, payload: bytes, signer=ROOT) -> dict:
    return {**env, "payload": b64(payload), "signature": b64(signer.sign(payload))}


def _unsorted_revocations() -> bytes:
    claims = {1: NOW, 2: 4, 3: ["L2", "L1"], 4: []}
    return cbor.dumps(cose.sign(cbor.dumps(claims), ROOT, keys.key_id(pub(ROOT))).to_cbor())


GOOD_ENV = envelope(ROOT, 1, [ROOT])
MALFORMED = {
    "not JSON": "{not json",
    "not an object": "[1, 2]",
    "another format": {**GOOD_ENV, "format": "NTL2"},
    "payload not base64": {**GOOD_ENV, "payload": "%%%"},
    "signature not 64 bytes": {**GOOD_ENV, "signature": b64(bytes(63))},
    "kid not hex16": {**GOOD_ENV, "kid": "ROOT"},
    "payload not JSON": _resigned(GOOD_ENV, b"\xff\xfe not json"),
    "payload of another format": envelope(ROOT, 1, [ROOT], over={"format": "NTL0"}),
    "negative version": envelope(ROOT, -1, [ROOT]),
    "version as text": envelope(ROOT, "2", [ROOT]),
    "fractional version": envelope(ROOT, 1.5, [ROOT]),
    "no roots": _resigned(GOOD_ENV, json.dumps(
        {"format": "NTL1", "version": 1, "issued_at": NOW, "roots": [],
         "revocation_list": None}).encode()),
    "a root's kid not its key's": envelope(ROOT, 1, [ROOT], over={"roots": [
        {"kid": kid_hex(STRANGER), "public_key": pub(ROOT).hex()}]}),
    "a short public key": envelope(ROOT, 1, [ROOT], over={"roots": [
        {"kid": kid_hex(ROOT), "public_key": pub(ROOT).hex()[:62]}]}),
    "revocation list not base64": envelope(ROOT, 1, [ROOT], over={"revocation_list": "***"}),
    "revocation list not CBOR": envelope(ROOT, 1, [ROOT], b"\xff\x00"),
    "revocation list unsorted": envelope(ROOT, 1, [ROOT], _unsorted_revocations()),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_a_malformed_list_is_refused_and_the_held_one_kept(nf1, name):
    result = offer(nf1, envelope(ROOT, 0, [ROOT], RL5), MALFORMED[name])
    assert (result["ok"], result["code"], result["list"]) == (False, "malformed", None)
    assert result["held_unchanged"] and result["good"] == "revoked"
    # and with nothing held: still nothing opened
    alone = nf1("async (nf1, a) => nf1.openTrustList(a, null)", MALFORMED[name])
    assert (alone["ok"], alone["code"], alone["list"]) == (False, "malformed", None)


def test_central_s_own_trust_list_opens_and_verifies_as_python_does(nf1):
    """The envelope central publishes (sync.protocol.sign_trust_list, what central/trust_list.py
    signs) opens in the page, and its revocation list gives Python's verdict."""
    from sync import protocol
    v1 = protocol.sign_trust_list(1, NOW - DAY, [pub(ROOT)], None, ROOT)
    v2 = protocol.sign_trust_list(2, NOW - 60, [pub(ROOT), pub(NEW_ROOT)], RL5, ROOT)
    result = offer(nf1, v1, v2)
    assert (result["ok"], result["code"], result["list"]["version"]) == (True, "ok", 2)
    python = TrustStore({keys.key_id(pub(ROOT)): pub(ROOT)})
    python.install_revocations(RL5)
    assert result["good"] == verify(GOOD, python, NOW).reason == "revoked"
    assert offer(nf1, v2, v1)["code"] == "older"
