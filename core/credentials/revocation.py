"""The revocation list: a COSE_Sign1 by the root key over

    {1: issued at, 2: list number, 3: [revoked licence numbers],
     4: [["OFFICE/DEVICE", compromised since], ...]}

A device is named by its office and its id (device ids repeat across offices: MUH/D01 and
SIT/D01 are two devices). A revoked device's licences issued before `compromised since` stay
valid; those issued at or after it are not. Lists are numbered; a device installs only a
newer one."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import cbor, cose
from .certificate import ROOT_KID_BYTES
from .keys import key_id, public_bytes

# OFFICE/DEVICE, each as core/settings.py allows them
DEVICE_KEY = re.compile(r"^[A-Z0-9]{1,8}/[A-Z0-9]{1,8}$")


@dataclass(frozen=True)
class RevocationList:
    issued_at: int
    number: int
    licences: frozenset[str]
    devices: dict[str, int] = field(default_factory=dict)
    root_kid: bytes = b""
    sign1: cose.Sign1 | None = None

    def to_bytes(self) -> bytes:
        return cbor.dumps(self.sign1.to_cbor())

    def to_dict(self) -> dict:
        return {"issued_at": self.issued_at, "number": self.number,
                "licences": sorted(self.licences),
                "devices": [{"device": d, "compromised_since": t}
                            for d, t in sorted(self.devices.items())],
                "root_kid": self.root_kid.hex()}


def make(root_key, number: int, issued_at: int, licences: list[str],
         devices: dict[str, int]) -> RevocationList:
    """devices: {"OFFICE/DEVICE": compromised since}."""
    bad = [d for d in devices if not DEVICE_KEY.match(d)]
    if bad:
        raise ValueError(f"a revoked device is named OFFICE/DEVICE, not {bad[0]!r}")
    claims = {1: issued_at, 2: number, 3: sorted(set(licences)),
              4: [[d, t] for d, t in sorted(devices.items())]}
    sign1 = cose.sign(cbor.dumps(claims), root_key, key_id(public_bytes(root_key)))
    return parse_bytes(cbor.dumps(sign1.to_cbor()))


# a list may be long: allow more items than a licence
LIMITS = dict(max_depth=3, max_items=200_000, max_bytes=8_000_000)


def parse_bytes(data: bytes) -> RevocationList:
    try:
        sign1 = cose.parse(cbor.loads(data, max_depth=3, max_items=16,
                                      max_bytes=LIMITS["max_bytes"]))
        claims = cbor.loads(sign1.payload, **LIMITS)
    except cbor.CBORError as exc:
        raise cose.FormatError(f"revocation list: {exc}")
    ok = (isinstance(claims, dict) and set(claims) == {1, 2, 3, 4}
          and cbor.is_uint(claims[1]) and cbor.is_uint(claims[2])
          and isinstance(claims[3], list) and all(isinstance(n, str) for n in claims[3])
          and isinstance(claims[4], list)
          and all(isinstance(d, list) and len(d) == 2 and isinstance(d[0], str)
                  and cbor.is_uint(d[1]) for d in claims[4]))
    if not ok or len(sign1.kid) != ROOT_KID_BYTES:
        raise cose.FormatError("revocation list claims have the wrong shape")
    bare = [d[0] for d in claims[4] if not DEVICE_KEY.match(d[0])]
    if bare:
        raise cose.FormatError(f"revocation list names device {bare[0]!r} without its "
                               f"office (OFFICE/DEVICE)")
    names = [d[0] for d in claims[4]]
    for listed in (claims[3], names):  # sets, so each has exactly one encoding
        if any(a >= b for a, b in zip(listed, listed[1:])):
            raise cose.FormatError("revocation list entries are not strictly ascending")
    return RevocationList(claims[1], claims[2], frozenset(claims[3]),
                          {d: t for d, t in claims[4]}, sign1.kid, sign1)
