"""COSE_Sign1 (RFC 9052) with EdDSA (alg -8): just what Nafitha's credentials need."""
from __future__ import annotations

from dataclasses import dataclass

from . import cbor
from .keys import signature_ok

ALG = 1
KID = 4
EDDSA = -8
COSE_SIGN1_TAG = 18


class FormatError(ValueError):
    """The bytes are not the COSE structure expected."""


@dataclass(frozen=True)
class Sign1:
    protected_bytes: bytes
    protected: dict
    unprotected: dict
    payload: bytes
    signature: bytes

    @property
    def kid(self) -> bytes | None:
        return self.protected.get(KID)

    def to_be_signed(self) -> bytes:
        return sig_structure(self.protected_bytes, self.payload)

    def signed_by(self, public: bytes) -> bool:
        return signature_ok(public, self.signature, self.to_be_signed())

    def to_cbor(self) -> cbor.Tag:
        return cbor.Tag(COSE_SIGN1_TAG, [self.protected_bytes, self.unprotected, self.payload,
                                         self.signature])


def sig_structure(protected_bytes: bytes, payload: bytes) -> bytes:
    return cbor.dumps(["Signature1", protected_bytes, b"", payload])


def sign(payload: bytes, private_key, kid: bytes, unprotected: dict | None = None) -> Sign1:
    protected = {ALG: EDDSA, KID: kid}
    protected_bytes = cbor.dumps(protected)
    signature = private_key.sign(sig_structure(protected_bytes, payload))
    return Sign1(protected_bytes, protected, unprotected or {}, payload, signature)


def parse(obj, unprotected_labels: frozenset = frozenset()) -> Sign1:
    """A decoded CBOR value -> Sign1, checking its shape (not its signature). The format is
    closed: the protected header is exactly {1: -8, 4: kid (bstr)} and the unprotected
    header holds exactly `unprotected_labels` (none unless the caller names some)."""
    if not isinstance(obj, cbor.Tag) or obj.number != COSE_SIGN1_TAG:
        raise FormatError("not a COSE_Sign1 (tag 18)")
    value = obj.value
    if not isinstance(value, list) or len(value) != 4:
        raise FormatError("COSE_Sign1 must be an array of 4")
    protected_bytes, unprotected, payload, signature = value
    if not isinstance(protected_bytes, bytes) or not isinstance(unprotected, dict) or \
            not isinstance(payload, bytes) or not isinstance(signature, bytes):
        raise FormatError("COSE_Sign1 members have the wrong types")
    try:
        protected = cbor.loads(protected_bytes, max_depth=1, max_items=16)
    except cbor.CBORError as exc:
        raise FormatError(f"protected header: {exc}")
    if not isinstance(protected, dict):
        raise FormatError("protected header is not a map")
    if protected.get(ALG) != EDDSA:
        raise FormatError(f"unsupported algorithm {protected.get(ALG)!r} (only EdDSA, -8)")
    if not isinstance(protected.get(KID), bytes) or not protected[KID]:
        raise FormatError("protected header has no key id (a byte string)")
    if set(protected) != {ALG, KID}:
        raise FormatError("protected header has parameters other than alg and kid")
    if set(unprotected) != set(unprotected_labels):
        raise FormatError("unprotected header has parameters other than "
                          + (", ".join(map(str, sorted(unprotected_labels))) or "none"))
    if len(signature) != 64:
        raise FormatError("an EdDSA signature is 64 bytes")
    return Sign1(protected_bytes, protected, unprotected, payload, signature)
