"""The committed test vectors: stable, verified by us, and verified again through an
independent path (the PyPI base45 package, cbor2 and pycose, a general COSE library) so the
format is really what docs/credential-format.md says."""
import json
import re

import base45 as base45_reference
import cbor2
import pytest
from pycose.keys import OKPKey
from pycose.keys.curves import Ed25519
from pycose.messages import Sign1Message

from core.credentials.licence import REASONS, verify
from core.credentials.trust import TrustStore

from vector_builder import VECTORS, build

DATA = json.loads(VECTORS.read_text(encoding="utf-8"))
ROOT_PUBLIC = bytes.fromhex(DATA["root_public_key"])
SIGNED = [v for v in DATA["vectors"] if "claims" in v]


def test_the_committed_vectors_are_what_the_code_produces():
    assert build() == DATA, "format changed: regenerate with vector_builder.py --write"


def test_every_verdict_is_covered():
    assert {v["expected"] for v in DATA["vectors"]} == set(REASONS)


@pytest.mark.parametrize("vector", DATA["vectors"], ids=lambda v: v["name"])
def test_our_verifier_gives_the_expected_reason(vector, tmp_path):
    trust = TrustStore(data_dir=tmp_path)
    trust.add_root(ROOT_PUBLIC)
    if "revocation_list" in vector:
        trust.install_revocations(bytes.fromhex(vector["revocation_list"]))
    assert verify(vector["text"], trust, vector["verify_at"]).reason == vector["expected"]


# --- a second verifier, written from docs/credential-format.md with other libraries --------

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
CODE = re.compile(r"[A-Z0-9]{1,8}")
NUMBER = re.compile(r"[A-Z0-9]{1,8}-[0-9]{4}-[A-Z0-9]{1,8}-[0-9]{6,}")


class Verdict(Exception):
    """The first failing check's verdict name."""


def require(ok, verdict="malformed"):
    if not ok:
        raise Verdict(verdict)


def only_encoding(data: bytes):
    """Decode, and require that the deterministic encoding of the value is these bytes
    (cbor2's canonical order is length-first, which equals bytewise order for the keys
    this format uses) and that nothing but the format's types appears."""
    try:
        value = cbor2.loads(data)
    except Exception:
        raise Verdict("malformed")
    require(cbor2.dumps(value, canonical=True) == data)
    stack = [value]
    while stack:
        item = stack.pop()
        require(not isinstance(item, float))
        if isinstance(item, cbor2.CBORTag):
            require(item.tag == 18)
            stack.append(item.value)
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            require(all(type(k) in (int, str) for k in item))
            stack.extend(item.values())
    return value


def uint(value) -> bool:
    return type(value) is int and value >= 0


def text_value(value) -> bool:
    return type(value) is str and value != ""


def sign1_parts(item, unprotected_keys: set):
    require(isinstance(item, cbor2.CBORTag) and item.tag == 18)
    require(isinstance(item.value, list) and len(item.value) == 4)
    protected_bytes, unprotected, payload, signature = item.value
    require(type(protected_bytes) is bytes and type(unprotected) is dict and
            type(payload) is bytes and type(signature) is bytes and len(signature) == 64)
    protected = only_encoding(protected_bytes)
    require(type(protected) is dict and set(protected) == {1, 4} and protected[1] == -8)
    require(type(protected[4]) is bytes and protected[4] != b"")
    require(set(unprotected) == unprotected_keys)
    return protected[4], unprotected, payload


def signed_by(item, public: bytes) -> bool:
    message = Sign1Message.decode(cbor2.dumps(item))
    message.key = OKPKey(crv=Ed25519, x=public)
    try:
        return message.verify_signature()
    except Exception:  # pycose raises on some mismatches instead of returning False
        return False


def independent_verdict(text: str, now: int, revocation_list_hex: str | None) -> str:
    try:
        return _independent_verdict(text, now, revocation_list_hex)
    except Verdict as verdict:
        return verdict.args[0]


def _independent_verdict(text, now, revocation_list_hex):
    require(len(text) <= 4096, "too_large")
    version = re.match(r"NF([0-9]{1,3}):", text)
    require(version)
    require(version.group(0) == "NF1:", "unsupported_version")
    body = text[4:]
    require(body and all(c in ALPHABET for c in body) and len(body) % 3 != 1)
    try:
        raw = base45_reference.b45decode(body)
    except Exception:
        raise Verdict("malformed")
    outer = only_encoding(raw)
    kid, unprotected, payload = sign1_parts(outer, {-65537})
    certificate = unprotected[-65537]
    root_kid, _, cert_payload = sign1_parts(certificate, set())
    require(len(root_kid) == 8)
    cert = only_encoding(cert_payload)
    require(type(cert) is dict and set(cert) == set(range(1, 9)))
    types = cert[7]
    require(text_value(cert[1]) and CODE.fullmatch(cert[1]) and text_value(cert[2]) and
            CODE.fullmatch(cert[2]) and type(cert[3]) is bytes and len(cert[3]) == 32 and
            all(uint(cert[k]) for k in (4, 5, 6, 8)) and type(types) is list and types and
            all(text_value(t) for t in types) and types == sorted(set(types)) and
            cert[4] <= cert[6] <= cert[5])
    require(root_kid == bytes.fromhex(DATA["root_kid"]), "unknown_issuer")
    require(signed_by(certificate, ROOT_PUBLIC), "unknown_issuer")
    require(kid == cert[1].encode() and signed_by(outer, cert[3]), "bad_signature")
    claims = only_encoding(payload)
    require(type(claims) is dict and {1, 2, 3, 4, 6, 7, 8, 10} <= set(claims) <=
            set(range(1, 11)))
    require(all(text_value(claims[k]) for k in (1, 2, 3, 8) + ((9,) if 9 in claims else ())))
    require(all(uint(claims[k]) for k in (6, 7, 10)) and NUMBER.fullmatch(claims[1]))
    nid = claims[4]
    require(type(nid) is list and [len(x) if type(x) is bytes else -1 for x in nid] == [8, 12])
    if 5 in claims:
        address = claims[5]
        require(type(address) is dict and address and set(address) <= {1, 2, 3, 4} and
                all(text_value(v) for v in address.values()))
    office, device = cert[2], cert[1]
    number = claims[1].split("-")
    require(claims[8] == office and number[0] == office and number[2] == device,
            "wrong_issuer")
    require(now >= cert[4], "certificate_not_yet_valid")
    require(now <= cert[5], "certificate_expired")
    require(cert[4] <= claims[6] <= cert[6], "issued_outside_certificate")
    require(claims[2] in types, "type_not_allowed")
    if revocation_list_hex:
        rl = cbor2.loads(bytes.fromhex(revocation_list_hex))
        assert signed_by(rl, ROOT_PUBLIC)
        rl_claims = cbor2.loads(rl.value[2])
        compromised = dict(rl_claims[4])  # a list names OFFICE/DEVICE
        since = compromised.get(f"{office}/{device}")
        require(since is None or claims[6] < since, "device_revoked")
        require(claims[1] not in rl_claims[3], "revoked")
    require(claims[6] <= now + 300, "issued_in_future")
    require(now <= claims[7], "licence_expired")
    return "valid"


@pytest.mark.parametrize("vector", DATA["vectors"], ids=lambda v: v["name"])
def test_a_second_verifier_from_the_spec_agrees(vector):
    assert independent_verdict(vector["text"], vector["verify_at"],
                               vector.get("revocation_list")) == vector["expected"]


@pytest.mark.parametrize("vector", SIGNED, ids=lambda v: v["name"])
def test_independent_cose_library_decodes_the_same_claims(vector):
    message = Sign1Message.decode(base45_reference.b45decode(vector["text"][4:]))
    expected = {int(k): v for k, v in vector["claims"].items()}
    expected[4] = [bytes.fromhex(x) for x in expected[4]]
    if 5 in expected:
        expected[5] = {int(part): text for part, text in expected[5].items()}
    assert cbor2.loads(message.payload) == expected


def test_qr_text_uses_only_the_alphanumeric_qr_alphabet():
    alphabet = set(ALPHABET)
    for vector in SIGNED:
        assert set(vector["text"]) <= alphabet, vector["name"]
