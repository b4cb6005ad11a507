"""verify(text): valid, or exactly one precise reason; never raises, never hangs."""
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from core.credentials import base45, cbor, ceremony, cose, keys
from core.credentials import certificate as certs
from core.credentials.licence import (CERT_LABEL, MAX_TEXT, PREFIX, REASONS, claims_for, decode,
                                      national_id_matches, sign_claims, verify)
from core.credentials.trust import TrustStore

NOW = 1_795_500_000  # 2026-11-24
DAY = 86400

ROOT = keys.generate()
OTHER_ROOT = keys.generate()
DEVICE = keys.generate()
TRUST = TrustStore({keys.key_id(keys.public_bytes(ROOT)): keys.public_bytes(ROOT)})


def make_cert(root=ROOT, device=DEVICE, device_id="D01", not_before=NOW - 10 * DAY,
              sign_until=NOW + 365 * DAY, not_after=NOW + 4000 * DAY, types=("RES", "BPS")):
    return certs.issue(root, device_id, "MUH", keys.public_bytes(device), not_before,
                       sign_until, not_after, list(types), 1)


CERT = make_cert()


def row(**over):
    base = {"number": "MUH-2026-D01-000001", "licence_type": "RES",
            "holder_name": "محمد علي حسن", "national_id": "850101239",
            "address": {"block": "204", "road": "15", "building": "12"}, "issued_at": NOW - DAY,
            "valid_until": NOW + 89 * DAY, "device_counter": 1, "conditions": ""}
    return {**base, **over}


def licence(cert=CERT, key=DEVICE, **over) -> str:
    return sign_claims(claims_for(row(**over), "MUH", salt=bytes(8)), key, cert)


GOOD = licence()


def reason(text, trust=TRUST, now=NOW):
    return verify(text, trust, now).reason


def test_a_genuine_licence():
    result = verify(GOOD, TRUST, NOW)
    assert result.valid and result.reason == "valid"
    assert result.claims["number"] == "MUH-2026-D01-000001"
    assert result.claims["holder"] == "محمد علي حسن"
    assert result.certificate["device_id"] == "D01"


def test_the_national_id_is_not_in_clear_but_can_be_checked():
    assert "850101239" not in repr(verify(GOOD, TRUST, NOW).to_dict())
    assert "850101239".encode() not in base45.decode(GOOD[len(PREFIX):])
    claims = verify(GOOD, TRUST, NOW).claims
    assert national_id_matches(claims, "850101239")
    assert not national_id_matches(claims, "850101247")


def test_every_reason_has_a_plain_message():
    assert all(REASONS.values())


@pytest.mark.parametrize("text,expected", [
    ("", "malformed"),
    ("hello", "malformed"),
    ("NF1:", "malformed"),
    ("NF1:!!!!", "malformed"),
    ("NF2:" + GOOD[4:], "unsupported_version"),
    ("NF9:ABC", "unsupported_version"),
    ("HC1:" + GOOD[4:], "malformed"),
    ("X" * (MAX_TEXT + 1), "too_large"),
    ("NF1:" + "A" * 5000, "too_large"),
    ("NF1:٣٤٥ é ü", "malformed"),
])
def test_malformed_and_wrong_prefix(text, expected):
    assert reason(text) == expected


def test_non_text_input_is_malformed_not_a_crash():
    for value in (None, 42, b"\xff\xfe", ["NF1:"], b"NF1:" + b"A" * 10):
        assert reason(value) == "malformed"


def test_valid_signature_by_a_key_with_no_certificate():
    """The certificate is part of the closed structure: without it the code is malformed."""
    sign1 = cose.sign(cbor.dumps(claims_for(row(), "MUH")), DEVICE, b"D01")
    result = verify(PREFIX + base45.encode(cbor.dumps(sign1.to_cbor())), TRUST, NOW)
    assert result.reason == "malformed" and "-65537" in result.detail


def test_certificate_from_another_root():
    foreign = make_cert(root=OTHER_ROOT)
    assert reason(licence(cert=foreign)) == "unknown_issuer"


def test_certificate_whose_root_signature_is_forged():
    """Right root key id, but the signature is not the root's."""
    cert = make_cert()
    s = cert.sign1
    forged = cose.Sign1(s.protected_bytes, s.protected, s.unprotected, s.payload,
                        bytes(64))
    text = PREFIX + base45.encode(cbor.dumps(cose.sign(
        cbor.dumps(claims_for(row(), "MUH")), DEVICE, b"D01",
        {CERT_LABEL: forged.to_cbor()}).to_cbor()))
    assert reason(text) == "unknown_issuer"


def test_certificate_swapped_from_another_licence():
    other_device = keys.generate()
    other_cert = make_cert(device=other_device, device_id="D02")
    other = licence(cert=other_cert, key=other_device)
    # take this licence's signed body with the other device's (genuine) certificate
    mine = cbor.loads(base45.decode(GOOD[4:]))
    theirs = cbor.loads(base45.decode(other[4:]))
    mine.value[1] = theirs.value[1]
    assert reason(PREFIX + base45.encode(cbor.dumps(mine))) == "bad_signature"


def test_signed_by_a_key_other_than_the_certified_one():
    assert reason(licence(key=keys.generate())) == "bad_signature"


def test_altered_claims_break_the_signature():
    sign1 = decode(GOOD[4:])
    claims = cbor.loads(sign1.payload)
    claims[7] += 365 * DAY  # a year more validity
    tampered = cose.Sign1(sign1.protected_bytes, sign1.protected, sign1.unprotected,
                          cbor.dumps(claims), sign1.signature)
    assert reason(PREFIX + base45.encode(cbor.dumps(tampered.to_cbor()))) == "bad_signature"


def test_certificate_not_yet_valid_and_expired():
    early = make_cert(not_before=NOW + DAY, sign_until=NOW + 2 * DAY, not_after=NOW + 3 * DAY)
    assert reason(licence(cert=early, issued_at=NOW + DAY + 1)) == "certificate_not_yet_valid"
    old = make_cert(not_before=NOW - 900 * DAY, sign_until=NOW - 800 * DAY,
                    not_after=NOW - DAY)
    assert reason(licence(cert=old, issued_at=NOW - 850 * DAY)) == "certificate_expired"


def test_issued_outside_the_signing_period():
    cert = make_cert(not_before=NOW - 400 * DAY, sign_until=NOW - 30 * DAY)
    assert reason(licence(cert=cert, issued_at=NOW - DAY)) == "issued_outside_certificate"
    assert reason(licence(cert=cert, issued_at=NOW - 500 * DAY)) == \
        "issued_outside_certificate"
    # issued inside the period and still valid: fine even after signing ended
    assert reason(licence(cert=cert, issued_at=NOW - 60 * DAY)) == "valid"


def test_licence_type_not_allowed_for_the_device():
    assert reason(licence(licence_type="EXC")) == "type_not_allowed"


def test_licence_expired():
    assert reason(licence(valid_until=NOW - 1)) == "licence_expired"


def test_future_dated_licence():
    assert reason(licence(issued_at=NOW + 2 * DAY)) == "issued_in_future"
    assert reason(licence(issued_at=NOW + 60)) == "valid"  # a little clock skew is tolerated


def test_revoked_licence_shows_the_age_of_the_list():
    rl = ceremony.revoke(ROOT, 3, NOW - 7200, ["MUH-2026-D01-000001"], {})
    trust = TrustStore(TRUST.roots, rl)
    result = verify(GOOD, trust, NOW)
    assert result.reason == "revoked" and not result.valid
    assert result.revocation_list["age_seconds"] == 7200 and "2 hours" in result.detail
    assert verify(licence(number="MUH-2026-D01-000002"), trust, NOW).valid


def test_revoked_device_keeps_licences_from_before_it_was_compromised():
    rl = ceremony.revoke(ROOT, 1, NOW, [], {"MUH/D01": NOW - DAY // 2})
    trust = TrustStore(TRUST.roots, rl)
    assert reason(licence(issued_at=NOW - DAY), trust) == "valid"
    assert reason(licence(issued_at=NOW - DAY // 4), trust) == "device_revoked"


def test_a_revoked_device_is_named_with_its_office():
    """Device ids repeat across offices: revoking SIT/D01 leaves MUH/D01's licences alone."""
    rl = ceremony.revoke(ROOT, 2, NOW, [], {"SIT/D01": NOW - 10 * DAY})
    result = verify(GOOD, TrustStore(TRUST.roots, rl), NOW)
    assert result.valid and rl.to_dict()["devices"] == [{"device": "SIT/D01",
                                                          "compromised_since": NOW - 10 * DAY}]
    with pytest.raises(ValueError, match="OFFICE/DEVICE"):
        ceremony.revoke(ROOT, 3, NOW, [], {"D01": NOW})
    # A list naming a bare device id (made without our checks) is not a list we take.
    claims = {1: NOW, 2: 4, 3: [], 4: [["D01", NOW]]}
    bare = cose.sign(cbor.dumps(claims), ROOT, keys.key_id(keys.public_bytes(ROOT)))
    with pytest.raises(Exception, match="without its office"):
        TrustStore(TRUST.roots).install_revocations(cbor.dumps(bare.to_cbor()))


@pytest.mark.parametrize("claims, problem", [
    ({1: NOW, 2: 4, 3: ["L2", "L1"], 4: []}, "not strictly ascending"),      # one encoding
    ({1: NOW, 2: 4, 3: ["L1", "L1"], 4: []}, "not strictly ascending"),
    ({1: NOW, 2: 4, 3: [], 4: [["SIT/D01", NOW], ["MUH/D01", NOW]]}, "not strictly ascending"),
    ({1: NOW, 2: -4, 3: [], 4: []}, "wrong shape"),
    ({1: NOW, 2: True, 3: [], 4: []}, "wrong shape"),
    ({1: NOW, 2: 4, 3: [], 4: [], 5: 0}, "wrong shape"),
])
def test_a_revocation_list_has_one_encoding_and_nothing_extra(claims, problem):
    signed = cose.sign(cbor.dumps(claims), ROOT, keys.key_id(keys.public_bytes(ROOT)))
    trust = TrustStore(TRUST.roots)
    with pytest.raises(Exception, match=problem):
        trust.install_revocations(cbor.dumps(signed.to_cbor()))
    assert trust.revocations is None


def test_a_revocation_list_with_header_parameters_is_refused():
    good = ceremony.revoke(ROOT, 4, NOW, ["L1"], {})
    extra = cose.Sign1(good.sign1.protected_bytes, good.sign1.protected, {33: b"x"},
                       good.sign1.payload, good.sign1.signature)
    with pytest.raises(Exception, match="unprotected header"):
        TrustStore(TRUST.roots).install_revocations(cbor.dumps(extra.to_cbor()))


@pytest.mark.parametrize("number, office, detail", [
    ("MUH-2026-D02-000001", "MUH", "signed by MUH/D01"),   # another device's number
    ("SIT-2026-D01-000001", "SIT", "for office SIT"),       # another office entirely
    ("MUH-2026-D01-000001", "SIT", "for office SIT"),       # the office claim alone
])
def test_a_licence_claiming_what_its_certificate_does_not_cover(number, office, detail):
    """A genuine device's genuine key signing another office's (or device's) licence."""
    text = sign_claims(claims_for(row(number=number), office), DEVICE, CERT)
    result = verify(text, TRUST, NOW)
    assert (result.valid, result.reason) == (False, "wrong_issuer")
    assert detail in result.detail and result.certificate["office"] == "MUH"


def test_revocation_list_must_come_from_a_trusted_root():
    forged = ceremony.revoke(OTHER_ROOT, 9, NOW, ["MUH-2026-D01-000001"], {})
    trust = TrustStore(TRUST.roots)
    with pytest.raises(Exception, match="not signed by a trusted root"):
        trust.install_revocations(forged.to_bytes())
    assert trust.revocations is None


def test_an_older_revocation_list_is_not_installed():
    trust = TrustStore(TRUST.roots)
    trust.install_revocations(ceremony.revoke(ROOT, 5, NOW, ["A"], {}).to_bytes())
    with pytest.raises(Exception, match="not newer"):
        trust.install_revocations(ceremony.revoke(ROOT, 4, NOW, [], {}).to_bytes())
    assert trust.revocations.number == 5


def test_deeply_nested_payload_is_refused_quickly():
    bomb = PREFIX + base45.encode(b"\x81" * 2000 + b"\x00")
    start = time.perf_counter()
    assert reason(bomb) == "malformed"
    assert time.perf_counter() - start < 0.5


def test_oversized_declared_lengths_are_refused():
    for raw in (b"\xd2\x84\x5b\x7f\xff\xff\xff\xff\xff\xff\xff",  # bstr of 2^63 bytes
                b"\xd2\x9a\xff\xff\xff\xff"):                        # array of 2^32 items
        assert reason(PREFIX + base45.encode(raw)) == "malformed"


def test_truncation_at_every_length():
    for n in range(len(GOOD)):
        result = verify(GOOD[:n], TRUST, NOW)
        assert not result.valid and result.reason in ("malformed", "unsupported_version")


def test_a_bit_flip_in_every_byte():
    raw = base45.decode(GOOD[4:])
    for i in range(len(raw)):
        for bit in (0x01, 0x80):
            flipped = bytearray(raw)
            flipped[i] ^= bit
            result = verify(PREFIX + base45.encode(bytes(flipped)), TRUST, NOW)
            assert not result.valid, (i, bit)
            assert result.reason in ("malformed", "bad_signature", "unknown_issuer"), \
                (i, bit, result.reason)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_random_bytes_never_crash(data):
    start = time.perf_counter()
    for text in (PREFIX + base45.encode(data), data):
        result = verify(text, TRUST, NOW)
        assert not result.valid and result.reason in REASONS
    assert time.perf_counter() - start < 0.5


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=5000))
def test_random_text_never_crashes(text):
    result = verify(text, TRUST, NOW)
    assert not result.valid and result.reason in REASONS


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=8))
def test_random_mutations_of_a_genuine_code_are_never_valid(mutations):
    original = base45.decode(GOOD[4:])
    raw = bytearray(original)
    for pos, value in mutations:
        raw[pos % len(raw)] = value
    result = verify(PREFIX + base45.encode(bytes(raw)), TRUST, NOW)
    assert result.valid is (bytes(raw) == original)
