"""Device certificates: a COSE_Sign1 by the municipality's root key over

    {1: device id, 2: office, 3: device public key (32 bytes), 4: not before,
     5: not after, 6: sign until, 7: [licence types], 8: serial}

Times are Unix seconds. As for travel documents' signer certificates, a device may sign
licences only from `not before` to `sign until` (its key's usage period), while the
certificate stays valid for verifying until `not after`, which covers the longest licence
it can issue."""
from __future__ import annotations

import re
from dataclasses import dataclass

from . import cbor, cose
from .keys import key_id, public_bytes

CERT_KEYS = {1: "device_id", 2: "office", 3: "public_key", 4: "not_before", 5: "not_after",
             6: "sign_until", 7: "licence_types", 8: "serial"}


@dataclass(frozen=True)
class DeviceCertificate:
    device_id: str
    office: str
    public_key: bytes
    not_before: int
    not_after: int
    sign_until: int
    licence_types: tuple[str, ...]
    serial: int
    root_kid: bytes
    sign1: cose.Sign1

    def to_dict(self) -> dict:
        return {"device_id": self.device_id, "office": self.office,
                "public_key": self.public_key.hex(), "not_before": self.not_before,
                "not_after": self.not_after, "sign_until": self.sign_until,
                "licence_types": list(self.licence_types), "serial": self.serial,
                "root_kid": self.root_kid.hex()}

    def to_cbor(self) -> cbor.Tag:
        return self.sign1.to_cbor()

    def to_bytes(self) -> bytes:
        return cbor.dumps(self.to_cbor())


def issue(root_key, device_id: str, office: str, device_public: bytes, not_before: int,
          sign_until: int, not_after: int, licence_types: list[str], serial: int
          ) -> DeviceCertificate:
    if not (not_before <= sign_until <= not_after):
        raise ValueError("need not_before <= sign_until <= not_after")
    if len(device_public) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    claims = {1: device_id, 2: office, 3: device_public, 4: not_before, 5: not_after,
              6: sign_until, 7: sorted(set(licence_types)), 8: serial}
    sign1 = cose.sign(cbor.dumps(claims), root_key, key_id(public_bytes(root_key)))
    return parse(sign1.to_cbor())


# office and device codes as core/settings.py allows them
CODE_RE = re.compile(r"^[A-Z0-9]{1,8}$")
ROOT_KID_BYTES = 8



def parse(obj) -> DeviceCertificate:
    """Shape only: whether a trusted root signed it is the verifier's question. Closed: the
    eight claims and nothing else, an empty unprotected header, licence types strictly
    ascending (so a set has one encoding)."""
    sign1 = cose.parse(obj)
    if len(sign1.kid) != ROOT_KID_BYTES:
        raise cose.FormatError(f"certificate key id is {len(sign1.kid)} bytes, not "
                               f"{ROOT_KID_BYTES} (the root kid)")
    try:
        claims = cbor.loads(sign1.payload, max_depth=2, max_items=64)
    except cbor.CBORError as exc:
        raise cose.FormatError(f"certificate: {exc}")
    if not isinstance(claims, dict) or set(claims) != set(CERT_KEYS):
        raise cose.FormatError("certificate claims are incomplete or unknown")
    types = claims[7]
    checks = [isinstance(claims[1], str) and CODE_RE.match(claims[1]),
              isinstance(claims[2], str) and CODE_RE.match(claims[2]),
              isinstance(claims[3], bytes) and len(claims[3]) == 32,
              all(cbor.is_uint(claims[k]) for k in (4, 5, 6, 8)),
              isinstance(types, list) and types != []
              and all(isinstance(t, str) and t for t in types)]
    if not all(checks):
        raise cose.FormatError("certificate claims have the wrong types")
    if any(a >= b for a, b in zip(types, types[1:])):
        raise cose.FormatError("certificate licence types are not strictly ascending")
    if not claims[4] <= claims[6] <= claims[5]:
        raise cose.FormatError("certificate periods out of order (need not before <= sign "
                               "until <= not after)")
    return DeviceCertificate(claims[1], claims[2], claims[3], claims[4], claims[5], claims[6],
                             tuple(types), claims[8], sign1.kid, sign1)


def from_bytes(data: bytes) -> DeviceCertificate:
    try:
        return parse(cbor.loads(data, allowed_tags=frozenset({18})))
    except cbor.CBORError as exc:
        raise cose.FormatError(f"certificate: {exc}")
