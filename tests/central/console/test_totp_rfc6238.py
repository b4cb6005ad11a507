"""core/totp.py against RFC 6238's test vectors, and the rules the console relies on."""
from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlparse

import pytest

from core import totp

SEED = b"12345678901234567890"
VECTORS = [(59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"),
           (1234567890, "89005924"), (2000000000, "69279037"), (20000000000, "65353130")]


@pytest.mark.parametrize("t,expected", VECTORS)
def test_rfc6238_sha1_vectors(t, expected):
    assert totp.code_at(SEED, t, digits=8) == expected
    # the same key given as base32 (how secrets are stored), six digits
    assert totp.code_at(base64.b32encode(SEED).decode(), t) == expected[-6:]


def test_rfc6238_sha256_vector():
    assert totp.code_at(b"12345678901234567890123456789012", 59, 8, "sha256") == "46119246"


def test_matches_accepts_one_step_either_side_and_a_code_only_once():
    secret = totp.new_secret()
    t = 1_800_000_000
    now = totp.step_at(t)
    for step in (now - 1, now, now + 1):
        assert totp.matches(secret, totp.code_for_step(secret, step), t, None) == step
    assert totp.matches(secret, totp.code_for_step(secret, now - 2), t, None) is None
    assert totp.matches(secret, totp.code_for_step(secret, now + 2), t, None) is None
    code = totp.code_at(secret, t)
    assert totp.matches(secret, code, t, now) is None  # used already
    assert totp.matches(secret, code, t, now - 1) == now
    assert totp.matches(secret, totp.code_for_step(secret, now - 1), t, now) is None
    for bad in ("", "12345", "1234567", "12a456", None):
        assert totp.matches(secret, bad, t, None) is None


def test_secrets_and_the_otpauth_uri():
    secret = totp.new_secret()
    assert len(secret) == 32 and totp.valid_secret(secret)
    assert secret != totp.new_secret()
    assert not totp.valid_secret("ABC") and not totp.valid_secret("1" * 32)
    uri = urlparse(totp.otpauth_uri(secret, "huda"))
    assert (uri.scheme, uri.netloc, uri.path) == ("otpauth", "totp", "/Nafitha:huda")
    assert parse_qs(uri.query) == {"secret": [secret], "issuer": ["Nafitha"],
                                   "algorithm": ["SHA1"], "digits": ["6"], "period": ["30"]}
