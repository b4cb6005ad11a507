"""The revocation list: a COSE_Sign1 by the root key over

    {1: issued at, 2: list number, 3: [revoked licence numbers],
     4: [[device id, compromised since], ...]}

A revoked device's licences issued before `compromised since` stay valid; those issued at or
after it are not. Lists are numbered; a device installs only a newer one."""
from __future__ import annotations

from dataclasses import dataclass, field

from . import cbor, cose
from .keys import key_id, public_bytes


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
                "devices": [{"device_id": d, "compromised_since": t}
                            for d, t in sorted(self.devices.items())],
                "root_kid": self.root_kid.hex()}


def make(root_key, number: int, issued_at: int, licences: list[str],
         devices: dict[str, int]) -> RevocationList:
    claims = {1: issued_at, 2: number, 3: sorted(set(licences)),
              4: [[d, t] for d, t in sorted(devices.items())]}
    sign1 = cose.sign(cbor.dumps(claims), root_key, key_id(public_bytes(root_key)))
    return parse_bytes(cbor.dumps(sign1.to_cbor()))


# a list may be long: allow more items than a licence
LIMITS = dict(max_depth=4, max_items=200_000, max_bytes=8_000_000)


def parse_bytes(data: bytes) -> RevocationList:
    try:
        sign1 = cose.parse(cbor.loads(data, max_depth=4, max_items=16,
                                      max_bytes=LIMITS["max_bytes"]))
        claims = cbor.loads(sign1.payload, **LIMITS)
    except cbor.CBORError as exc:
        raise cose.FormatError(f"revocation list: {exc}")
    ok = (isinstance(claims, dict) and set(claims) == {1, 2, 3, 4}
          and isinstance(claims[1], int) and isinstance(claims[2], int)
          and isinstance(claims[3], list) and all(isinstance(n, str) for n in claims[3])
          and isinstance(claims[4], list)
          and all(isinstance(d, list) and len(d) == 2 and isinstance(d[0], str)
                  and isinstance(d[1], int) for d in claims[4]))
    if not ok:
        raise cose.FormatError("revocation list claims have the wrong shape")
    return RevocationList(claims[1], claims[2], frozenset(claims[3]),
                          {d: t for d, t in claims[4]}, sign1.kid, sign1)
