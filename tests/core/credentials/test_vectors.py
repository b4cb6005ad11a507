"""The committed test vectors: stable, verified by us, and verified again through an
independent path (the PyPI base45 package, cbor2 and pycose, a general COSE library) so the
format is really what docs/credential-format.md says."""
import json

import base45 as base45_reference
import cbor2
import pytest
from pycose.keys import OKPKey
from pycose.keys.curves import Ed25519
from pycose.messages import Sign1Message

from core.credentials.licence import verify
from core.credentials.trust import TrustStore

from vector_builder import VECTORS, build

DATA = json.loads(VECTORS.read_text(encoding="utf-8"))
ROOT_PUBLIC = bytes.fromhex(DATA["root_public_key"])
SIGNED = [v for v in DATA["vectors"] if v["expected"] not in ("malformed",
                                                             "unsupported_version")]


def test_the_committed_vectors_are_what_the_code_produces():
    assert build() == DATA, "format changed: regenerate with vector_builder.py --write"


def test_every_expected_reason_is_covered():
    assert {v["expected"] for v in DATA["vectors"]} >= {
        "valid", "revoked", "device_revoked", "bad_signature", "unknown_issuer",
        "certificate_expired", "issued_outside_certificate", "type_not_allowed",
        "licence_expired", "issued_in_future", "unsupported_version", "malformed"}


@pytest.mark.parametrize("vector", DATA["vectors"], ids=lambda v: v["name"])
def test_our_verifier_gives_the_expected_reason(vector, tmp_path):
    trust = TrustStore(data_dir=tmp_path)
    trust.add_root(ROOT_PUBLIC)
    if "revocation_list" in vector:
        trust.install_revocations(bytes.fromhex(vector["revocation_list"]))
    assert verify(vector["text"], trust, vector["verify_at"]).reason == vector["expected"]


def independent_decode(text: str):
    assert text.startswith("NF1:")
    message = Sign1Message.decode(base45_reference.b45decode(text[4:]))
    certificate = Sign1Message.decode(cbor2.dumps(message.uhdr[-65537]))
    return message, certificate


def signature_ok(message, public: bytes) -> bool:
    message.key = OKPKey(crv=Ed25519, x=public)
    try:
        return message.verify_signature()
    except Exception:  # pycose raises on some mismatches instead of returning False
        return False


@pytest.mark.parametrize("vector", SIGNED, ids=lambda v: v["name"])
def test_independent_cose_library_agrees(vector):
    message, certificate = independent_decode(vector["text"])
    cert_claims = cbor2.loads(certificate.payload)
    claims = cbor2.loads(message.payload)
    root_signed = signature_ok(certificate, ROOT_PUBLIC)
    device_signed = signature_ok(message, cert_claims[3])
    expected = {int(k): v for k, v in vector["claims"].items()}
    expected[4] = [bytes.fromhex(x) for x in expected[4]]
    expected[5] = {int(part): text for part, text in expected[5].items()}
    assert claims == expected
    if vector["expected"] == "unknown_issuer":
        assert not root_signed
        return
    assert root_signed
    assert device_signed is (vector["expected"] != "bad_signature")
    if vector["expected"] == "bad_signature":
        return
    # The verdict, recomputed from the independently decoded values (docs, "Verification").
    now = vector["verify_at"]
    revoked_licences, compromised = set(), {}
    if "revocation_list" in vector:
        rl = Sign1Message.decode(bytes.fromhex(vector["revocation_list"]))
        assert signature_ok(rl, ROOT_PUBLIC)
        rl_claims = cbor2.loads(rl.payload)
        revoked_licences, compromised = set(rl_claims[3]), dict(rl_claims[4])
    not_before, not_after, sign_until, types = (cert_claims[4], cert_claims[5],
                                                cert_claims[6], cert_claims[7])
    if now < not_before:
        verdict = "certificate_not_yet_valid"
    elif now > not_after:
        verdict = "certificate_expired"
    elif not not_before <= claims[6] <= sign_until:
        verdict = "issued_outside_certificate"
    elif claims[2] not in types:
        verdict = "type_not_allowed"
    elif cert_claims[1] in compromised and claims[6] >= compromised[cert_claims[1]]:
        verdict = "device_revoked"
    elif claims[1] in revoked_licences:
        verdict = "revoked"
    elif claims[6] > now + 300:
        verdict = "issued_in_future"
    elif now > claims[7]:
        verdict = "licence_expired"
    else:
        verdict = "valid"
    assert verdict == vector["expected"]


def test_qr_text_uses_only_the_alphanumeric_qr_alphabet():
    alphabet = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    for vector in DATA["vectors"]:
        assert set(vector["text"]) <= alphabet, vector["name"]
