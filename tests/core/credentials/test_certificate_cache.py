"""verify remembers only that a root signed a certificate's exact bytes: a forged or altered
certificate, a root no longer trusted, a different key under the same key id, an expired
certificate, a revoked device are refused as before, whatever was verified earlier."""
import dataclasses

from core.credentials import certificate as certs
from core.credentials import cose, keys, licence
from core.credentials.licence import claims_for, sign_claims, verify
from core.credentials.trust import TrustStore

NOW = 1_795_500_000
DAY = 86400
ROOT, DEVICE, IMPOSTOR = keys.generate(), keys.generate(), keys.generate()
ROOT_PUB = keys.public_bytes(ROOT)
TRUST = TrustStore({keys.key_id(ROOT_PUB): ROOT_PUB})


def cert(**over):
    args = {"not_before": NOW - 10 * DAY, "sign_until": NOW + 365 * DAY,
            "not_after": NOW + 400 * DAY}
    args.update(over)
    return certs.issue(ROOT, "D01", "MUH", keys.public_bytes(DEVICE), args["not_before"],
                       args["sign_until"], args["not_after"], ["RES"], 1)


def code(certificate, number="MUH-2026-D01-000001"):
    row = {"number": number, "licence_type": "RES", "holder_name": "A", "national_id": "1",
           "address": {}, "issued_at": NOW - DAY, "valid_until": NOW + 89 * DAY,
           "device_counter": 1, "conditions": ""}
    return sign_claims(claims_for(row, "MUH", salt=bytes(8)), DEVICE, certificate)


def forged(certificate, signature: bytes):
    sign1 = dataclasses.replace(certificate.sign1, signature=signature)
    return certs.parse(sign1.to_cbor())


def test_a_cached_certificate_does_not_vouch_for_other_bytes():
    good = cert()
    licence._SIGNED_CERTIFICATES.clear()
    assert verify(code(good), TRUST, NOW).valid
    assert verify(code(good, "MUH-2026-D01-000002"), TRUST, NOW).valid  # from the cache
    assert len(licence._SIGNED_CERTIFICATES) == 1
    # the same claims, another signature: not the remembered bytes
    bad = forged(good, bytes(64))
    assert verify(code(bad), TRUST, NOW).reason == "unknown_issuer"
    # a root that is not trusted any more, or another key claiming the same key id
    assert verify(code(good), TrustStore({}), NOW).reason == "unknown_issuer"
    other = TrustStore({keys.key_id(ROOT_PUB): keys.public_bytes(IMPOSTOR)})
    assert verify(code(good), other, NOW).reason == "unknown_issuer"
    # time-dependent checks still run for a remembered certificate
    assert verify(code(good), TRUST, NOW + 401 * DAY).reason == "certificate_expired"
    assert verify(code(good), TRUST, NOW - 11 * DAY).reason == "certificate_not_yet_valid"


def test_a_refused_certificate_is_not_remembered():
    good = cert(not_before=NOW - 20 * DAY)
    licence._SIGNED_CERTIFICATES.clear()
    bad = forged(good, bytes(64))
    assert verify(code(bad), TRUST, NOW).reason == "unknown_issuer"
    assert not licence._SIGNED_CERTIFICATES
    assert verify(code(good), TRUST, NOW).valid


def test_the_memory_is_bounded():
    licence._SIGNED_CERTIFICATES.clear()
    for i in range(licence._SIGNED_CERTIFICATES_MAX + 3):
        licence._SIGNED_CERTIFICATES.add((b"r", b"p", str(i).encode(), b"s"))
        if len(licence._SIGNED_CERTIFICATES) >= licence._SIGNED_CERTIFICATES_MAX:
            break
    assert verify(code(cert()), TRUST, NOW).valid
    assert len(licence._SIGNED_CERTIFICATES) <= licence._SIGNED_CERTIFICATES_MAX
    assert isinstance(cert().sign1, cose.Sign1)
