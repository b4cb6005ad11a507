"""Time-based one-time passwords (RFC 6238: HMAC-SHA-1, 30-second steps, 6 digits), the
console's second factor. Pure functions: the caller passes the time, so tests freeze it.

`matches` accepts the step before and after the current one (a phone's clock a little off)
and refuses any step at or before the last one used, so a code works once."""
from __future__ import annotations

import base64
import hmac
import secrets
import struct
from urllib.parse import quote, urlencode

STEP_S = 30
DIGITS = 6
WINDOW = 1  # steps either side of now


def new_secret() -> str:
    """160 random bits in base32 (what authenticator apps expect), no padding."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii").rstrip("=")


def _key(secret: str) -> bytes:
    text = secret.replace(" ", "").upper()
    return base64.b32decode(text + "=" * (-len(text) % 8))


def valid_secret(secret: str) -> bool:
    """A secret as new_secret makes them: 32 base32 characters (160 bits)."""
    try:
        return isinstance(secret, str) and len(secret) == 32 and len(_key(secret)) == 20
    except ValueError:
        return False


def step_at(t: float) -> int:
    return int(t // STEP_S)


def code_for_step(secret: str | bytes, step: int, digits: int = DIGITS,
                  digest: str = "sha1") -> str:
    key = secret if isinstance(secret, bytes) else _key(secret)
    mac = hmac.new(key, struct.pack(">Q", step), digest).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10 ** digits).zfill(digits)


def code_at(secret: str | bytes, t: float, digits: int = DIGITS, digest: str = "sha1") -> str:
    """The code shown at Unix time t."""
    return code_for_step(secret, step_at(t), digits, digest)


def matches(secret: str, code: str, t: float, last_step: int | None) -> int | None:
    """The step `code` belongs to (within ±1 step of t and after last_step), else None."""
    code = (code or "").replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    now = step_at(t)
    for step in (now, now - WINDOW, now + WINDOW):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(code_for_step(secret, step), code):
            return step
    return None


def otpauth_uri(secret: str, account: str, issuer: str = "Nafitha") -> str:
    """What an authenticator app scans: otpauth://totp/Issuer:account?secret=...&issuer=..."""
    label = quote(f"{issuer}:{account}", safe=":@")
    query = urlencode({"secret": secret, "issuer": issuer, "algorithm": "SHA1",
                       "digits": DIGITS, "period": STEP_S})
    return f"otpauth://totp/{label}?{query}"
