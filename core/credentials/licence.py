"""The licence QR payload: `NF1:` + Base45(COSE_Sign1) (docs/credential-format.md).

Claims (CBOR map, Unix seconds):
    1 licence number   2 licence type   3 holder name   4 [salt, scrypt(national ID)]
    5 {1 parcel, 2 block, 3 road, 4 building} (absent when empty)    6 issued at      7 valid until   8 office
    9 conditions (absent when empty)    10 device counter
The signing device's certificate rides in the unprotected header (label -65537), so a
verifier needs only the municipality's root public key."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import time
from dataclasses import dataclass, field
from datetime import datetime

from . import base45, cbor, cose, keys
from . import certificate as certs

PREFIX = "NF1:"
CERT_LABEL = -65537
MAX_TEXT = 4096  # characters; refused before any parsing
CLOCK_SKEW = 300  # seconds a verifier tolerates for an issuing clock running ahead
# scrypt makes guessing a 9-digit ID from the QR cost ~40 ms per guess.
# 8 random bytes of salt make each licence's hash unique; 12 bytes of hash leave no useful
# collisions; both kept short because every byte costs 1.5 QR characters.
NID_SCRYPT = dict(n=2 ** 14, r=8, p=1, dklen=12)
NID_SALT_BYTES = 8

ADDRESS_KEYS = {1: "parcel", 2: "block", 3: "road", 4: "building"}
CLAIM_KEYS = {1: "number", 2: "type", 3: "holder", 4: "national_id_hash", 5: "address",
              6: "issued_at", 7: "valid_until", 8: "office", 9: "conditions",
              10: "device_counter"}

REASONS = {
    "valid": "Genuine licence.",
    "too_large": "Too long to be a licence code.",
    "malformed": "Not a readable licence code.",
    "unsupported_version": "A licence code of a version this verifier does not know.",
    "unknown_issuer": "Not issued by a device the municipality certified.",
    "bad_signature": "The signature does not match: the code was altered or forged.",
    "wrong_issuer": "Claims an office or a number its issuing device may not use.",
    "certificate_not_yet_valid": "The issuing device's certificate is not valid yet.",
    "certificate_expired": "The issuing device's certificate has expired.",
    "issued_outside_certificate": "Issued outside the period the device was allowed to sign.",
    "type_not_allowed": "The issuing device may not issue this type of licence.",
    "device_revoked": "Issued by a device reported compromised at that time.",
    "revoked": "This licence has been revoked.",
    "issued_in_future": "The issue date is in the future.",
    "licence_expired": "This licence has expired.",
}


@dataclass
class VerificationResult:
    valid: bool
    reason: str
    message: str
    claims: dict = field(default_factory=dict)
    certificate: dict = field(default_factory=dict)
    detail: str = ""
    revocation_list: dict | None = None

    def to_dict(self) -> dict:
        return {"valid": self.valid, "reason": self.reason, "message": self.message,
                "detail": self.detail, "claims": self.claims, "certificate": self.certificate,
                "revocation_list": self.revocation_list}


def protect_national_id(national_id: str, salt: bytes | None = None) -> list[bytes]:
    salt = salt if salt is not None else os.urandom(NID_SALT_BYTES)
    return [salt, hashlib.scrypt(national_id.encode(), salt=salt, **NID_SCRYPT)]


def national_id_matches(claims: dict, national_id: str) -> bool:
    salt, digest = bytes.fromhex(claims["national_id_hash"][0]), \
        bytes.fromhex(claims["national_id_hash"][1])
    return hmac.compare_digest(protect_national_id(national_id, salt)[1], digest)


def epoch(value: str | datetime | int) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return int(value.timestamp())


def claims_for(row: dict, office: str, salt: bytes | None = None,
               national_id_hash: list[bytes] | None = None) -> dict:
    """row: a licence row; its address is the JSON object the store keeps.
    national_id_hash: already computed (the fit probe's stand-in skips scrypt)."""
    parts = json.loads(row["address"]) if isinstance(row["address"], str) else row["address"]
    address = {k: parts[name] for k, name in ADDRESS_KEYS.items() if parts.get(name)}
    claims = {1: row["number"], 2: row["licence_type"], 3: row["holder_name"],
              4: national_id_hash or protect_national_id(row["national_id"], salt),
              6: epoch(row["issued_at"]), 7: epoch(row["valid_until"]), 8: office,
              10: row["device_counter"]}
    if address:  # the format has no empty maps: a licence without a place has no key 5
        claims[5] = address
    if row.get("conditions"):
        claims[9] = row["conditions"]
    return claims


def sign_claims(claims: dict, device_key, cert: certs.DeviceCertificate) -> str:
    sign1 = cose.sign(cbor.dumps(claims), device_key, cert.device_id.encode(),
                      {CERT_LABEL: cert.to_cbor()})
    return PREFIX + base45.encode(cbor.dumps(sign1.to_cbor()))


# The largest values of what a licence carries besides the resident's words: a probe signed
# with them is at least as long as the code any device of the office will sign later.
WORST_UINT = 2 ** 32 - 1  # times, counters and serials until 2106 are 5-byte CBOR
WORST_DEVICE = "D" * 8  # device ids are at most 8 characters (certificate.CODE_RE)


def worst_case_code(office: str, licence_type: str, fields: dict, conditions: str,
                    licence_types: list[str], cert: certs.DeviceCertificate | None = None
                    ) -> str:
    """A code as long as the longest this application's licence can get, signed by a
    throw-away key (the signature's size is all that matters; no scrypt: the national ID
    hash is fixed-size): what approval measures against the paper before anything is
    numbered or signed. cert: the issuing device's own certificate when known; otherwise
    the largest one a device of the office can hold."""
    device = keys.generate()
    if cert is None:
        cert = certs.issue(keys.generate(), WORST_DEVICE, office, keys.public_bytes(device),
                           WORST_UINT, WORST_UINT, WORST_UINT,
                           sorted(set(licence_types) | {licence_type}), WORST_UINT)
    row = {"number": f"{office}-9999-{cert.device_id}-999999", "licence_type": licence_type,
           "holder_name": fields.get("full_name", ""),
           "address": {name: fields[name] for name in ADDRESS_KEYS.values()
                       if fields.get(name)},
           "issued_at": WORST_UINT, "valid_until": WORST_UINT, "device_counter": WORST_UINT,
           "conditions": conditions}
    stand_in = [bytes(NID_SALT_BYTES), bytes(NID_SCRYPT["dklen"])]
    return sign_claims(claims_for(row, office, national_id_hash=stand_in), device, cert)


def _readable_claims(raw: dict) -> dict:
    out = {}
    for k, v in raw.items():
        name = CLAIM_KEYS[k]
        if name == "national_id_hash":
            v = [v[0].hex(), v[1].hex()]
        elif name == "address":
            v = {ADDRESS_KEYS[part]: text for part, text in sorted(v.items())}
        out[name] = v
    out.setdefault("address", {})  # absent on the wire when the licence names no place
    return out


REQUIRED_CLAIMS = {1, 2, 3, 4, 6, 7, 8, 10}  # 5 (address) and 9 (conditions) are optional
# {office}-{year}-{device}-{sequence}; office and device as core/settings.py allows them
NUMBER_RE = re.compile(r"^[A-Z0-9]{1,8}-[0-9]{4}-[A-Z0-9]{1,8}-[0-9]{6,}$")



def _text(value) -> bool:
    return isinstance(value, str) and value != ""


def _check_claims(raw) -> dict:
    """Claims are well-formed (docs/credential-format.md, LicenceClaims): the required
    keys, no unknown key, each of its type, no empty text or map."""
    if not isinstance(raw, dict) or not set(raw) <= set(CLAIM_KEYS) or \
            not REQUIRED_CLAIMS <= set(raw):
        raise cose.FormatError("licence claims are incomplete or unknown")
    if 5 in raw:
        address = raw[5]
        if not (isinstance(address, dict) and address and set(address) <= set(ADDRESS_KEYS)
                and all(_text(v) for v in address.values())):
            raise cose.FormatError("licence address has the wrong shape (a non-empty map of "
                                   "non-empty parts)")
    texts = (1, 2, 3, 8) + ((9,) if 9 in raw else ())
    nid = raw[4]
    if not all(_text(raw[k]) for k in texts) or \
            not all(cbor.is_uint(raw[k]) for k in (6, 7, 10)) or \
            not (isinstance(nid, list) and len(nid) == 2 and
                    [len(x) if isinstance(x, bytes) else -1 for x in nid] ==
                    [NID_SALT_BYTES, NID_SCRYPT["dklen"]]):
        raise cose.FormatError("licence claims have the wrong types")
    if not NUMBER_RE.match(raw[1]):
        raise cose.FormatError(f"licence number {raw[1]!r} is not OFFICE-YEAR-DEVICE-SEQUENCE")
    return _readable_claims(raw)


def decode(text: str) -> cose.Sign1:
    """Base45 text after the prefix -> the licence's COSE_Sign1 (shape only). Raises
    Base45Error, CBORError or FormatError."""
    raw = base45.decode(text)
    return cose.parse(cbor.loads(raw, max_depth=6, max_items=32, max_bytes=MAX_TEXT),
                      frozenset({CERT_LABEL}))


def verify(text, trust, now: int | None = None) -> VerificationResult:
    """Valid, or one precise reason. Never raises: anything unexpected is 'malformed'."""
    try:
        return _verify(text, trust, int(time.time()) if now is None else now)
    except Exception as exc:  # noqa: BLE001 - a verifier answers, it does not crash
        return _fail("malformed", f"{type(exc).__name__}: {exc}")


def device_key(office: str, device_id: str) -> str:
    """How a revocation list names a device: device ids repeat across offices."""
    return f"{office}/{device_id}"


def licence_number_of(number: str, office: str, device_id: str) -> bool:
    """The number is one this office's device makes (core/licences.py)."""
    return re.fullmatch(rf"{re.escape(office)}-\d{{4}}-{re.escape(device_id)}-\d+",
                        number) is not None


def _fail(reason, detail="", **kw) -> VerificationResult:
    return VerificationResult(False, reason, REASONS[reason], detail=detail, **kw)


# Device certificates a root key signed, as (root key, protected header, payload, signature):
# whether a key signed given bytes is a pure function of those bytes (Ed25519 verification is
# deterministic), and a certificate's bytes never change, so a "yes" may be remembered. Only
# "yes" is kept, so forgeries cannot fill it. Everything that depends on time, trust or
# revocation (the root still being trusted, validity periods, licence types, revoked devices
# and licences) is still checked for every licence.
_SIGNED_CERTIFICATES: set = set()
_SIGNED_CERTIFICATES_MAX = 4096


def _certificate_signed_by(sign1: cose.Sign1, root: bytes) -> bool:
    key = (root, sign1.protected_bytes, sign1.payload, sign1.signature)
    if not all(type(part) is bytes for part in key):
        return sign1.signed_by(root)
    if key in _SIGNED_CERTIFICATES:
        return True
    if not sign1.signed_by(root):
        return False
    if len(_SIGNED_CERTIFICATES) >= _SIGNED_CERTIFICATES_MAX:
        _SIGNED_CERTIFICATES.clear()
    _SIGNED_CERTIFICATES.add(key)
    return True


def _verify(text, trust, now: int) -> VerificationResult:
    if isinstance(text, bytes):
        if len(text) > MAX_TEXT:
            return _fail("too_large", f"{len(text)} bytes; the limit is {MAX_TEXT}")
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError:
            return _fail("malformed", "not ASCII text")
    if not isinstance(text, str):
        return _fail("malformed", "not text")
    if len(text) > MAX_TEXT:
        return _fail("too_large", f"{len(text)} characters; the limit is {MAX_TEXT}")
    # Nothing is trimmed: the code is exactly the prefix and Base45 (whose alphabet has a
    # space), so surrounding whitespace is refused, not guessed away.
    version = re.match(r"^NF(\d{1,3}):", text)
    if not version:
        return _fail("malformed", "does not start with NF1:")
    if version.group(0) != PREFIX:
        return _fail("unsupported_version", f"prefix {version.group(0)}")
    try:
        sign1 = decode(text[len(PREFIX):])
    except (base45.Base45Error, cbor.CBORError, cose.FormatError) as exc:
        return _fail("malformed", str(exc))
    try:
        cert = certs.parse(sign1.unprotected[CERT_LABEL])  # decode() required it
    except cose.FormatError as exc:
        return _fail("malformed", str(exc))
    cert_info = cert.to_dict()
    root = trust.root(cert.root_kid)
    if root is None:
        return _fail("unknown_issuer", f"root key {cert.root_kid.hex()} is not trusted",
                     certificate=cert_info)
    if not _certificate_signed_by(cert.sign1, root):
        return _fail("unknown_issuer", "the device certificate is not signed by a trusted root",
                     certificate=cert_info)
    if sign1.kid != cert.device_id.encode() or not sign1.signed_by(cert.public_key):
        return _fail("bad_signature", certificate=cert_info)
    try:
        claims = _check_claims(cbor.loads(sign1.payload, max_depth=2, max_items=64))
    except (cbor.CBORError, cose.FormatError) as exc:
        return _fail("malformed", str(exc), certificate=cert_info)
    kw = {"claims": claims, "certificate": cert_info}
    # A genuine device signs only its own office's licences, numbered
    # {office}-{year}-{device}-{seq}: the certificate binds both.
    if claims["office"] != cert.office or not licence_number_of(claims["number"], cert.office,
                                                                 cert.device_id):
        return _fail("wrong_issuer", f"{claims['number']} for office {claims['office']}, "
                                     f"signed by {cert.office}/{cert.device_id}", **kw)
    revocations = trust.revocations
    rl_info = None
    if revocations is not None:
        rl_info = {"number": revocations.number, "issued_at": revocations.issued_at,
                   "age_seconds": max(0, now - revocations.issued_at)}
    kw["revocation_list"] = rl_info
    if now < cert.not_before:
        return _fail("certificate_not_yet_valid", **kw)
    if now > cert.not_after:
        return _fail("certificate_expired", **kw)
    issued = claims["issued_at"]
    if not (cert.not_before <= issued <= cert.sign_until):
        return _fail("issued_outside_certificate", **kw)
    if claims["type"] not in cert.licence_types:
        return _fail("type_not_allowed", f"{claims['type']} not in "
                     f"{', '.join(cert.licence_types)}", **kw)
    if revocations is not None:
        since = revocations.devices.get(device_key(cert.office, cert.device_id))
        if since is not None and issued >= since:
            return _fail("device_revoked", f"compromised since {since}", **kw)
        if claims["number"] in revocations.licences:
            return _fail("revoked", f"revocation list {revocations.number}, "
                         f"{rl_info['age_seconds'] // 3600} hours old", **kw)
    if issued > now + CLOCK_SKEW:
        return _fail("issued_in_future", **kw)
    if now > claims["valid_until"]:
        return _fail("licence_expired", **kw)
    return VerificationResult(True, "valid", REASONS["valid"], **kw)
