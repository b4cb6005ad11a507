"""The short codes printed as QR on tickets and receipts, so a kiosk or counter scanner can
look them up (licences carry the signed NF1: code instead, core/credentials).

    NFT:<office>:<ticket id>                    a queue ticket
    NFA:<office>:<application number>           an application (its receipt)
    NFA:<office>:<application number>:<token>   an application's slip: the token, keyed
                                                with the office's slip secret, shows the
                                                slip itself was scanned (collect_token)

Only characters of the QR alphanumeric set, so the codes stay small and read reliably."""
from __future__ import annotations

import base64
import hashlib
import hmac
import re

# The token's part is read loosely (any length a later format may print); only a token
# collect_token makes holds.
_CODE = re.compile(r"^(NFT|NFA):([A-Z0-9]{1,8}):([A-Z0-9-]{1,40})(?::([A-Z0-9]{1,32}))?$")
# 60 bits of the HMAC: guessing one takes about 2^59 tries, and the kiosk allows ten a minute.
TOKEN_LENGTH = 12


def ticket_code(office: str, ticket_id: str) -> str:
    return f"NFT:{office}:{ticket_id}"


def application_code(office: str, application_number: str, token: str | None = None) -> str:
    """The application's code; with `token` (collect_token), the code its slip prints."""
    return f"NFA:{office}:{application_number}" + (f":{token}" if token else "")


def _match(text) -> re.Match | None:
    m = _CODE.match(text.strip()) if isinstance(text, str) else None
    if m is None or (m.group(1) == "NFT" and m.group(4) is not None):
        return None  # only a slip carries a token
    return m


def parse(text: str) -> tuple[str, str, str] | None:
    """('ticket' | 'application', office, reference), or None if it is not such a code."""
    m = _match(text)
    if not m:
        return None
    return ("ticket" if m.group(1) == "NFT" else "application", m.group(2), m.group(3))


def token_of(text: str) -> str | None:
    """The token of a slip's code, or None (no token, or not a code)."""
    m = _match(text)
    return m.group(4) if m else None


def collect_token(secret: bytes, application_number: str) -> str:
    """The slip's token for an application number: the first TOKEN_LENGTH characters of
    base32(HMAC-SHA256(secret, number)), upper-case letters and digits 2-7."""
    digest = hmac.new(secret, application_number.encode("utf-8"), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii")[:TOKEN_LENGTH]


def token_holds(secret: bytes, application_number: str, token: str | None) -> bool:
    """Whether `token` is the slip's token for the number (compared in constant time)."""
    if not isinstance(token, str) or not token:
        return False
    return hmac.compare_digest(collect_token(secret, application_number).encode("ascii"),
                               token.encode("ascii", "replace"))
