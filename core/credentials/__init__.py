"""Signed licences: CBOR, Base45, COSE_Sign1, device certificates, revocation lists,
verification."""
