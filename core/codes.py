"""The short codes printed as QR on tickets and receipts, so a kiosk or counter scanner can
look them up (licences carry the signed NF1: code instead, core/credentials).

    NFT:<office>:<ticket id>           a queue ticket
    NFA:<office>:<application number>  an application (its receipt)

Only characters of the QR alphanumeric set, so the codes stay small and read reliably."""
from __future__ import annotations

import re

_CODE = re.compile(r"^(NFT|NFA):([A-Z0-9]{1,8}):([A-Z0-9-]{1,40})$")


def ticket_code(office: str, ticket_id: str) -> str:
    return f"NFT:{office}:{ticket_id}"


def application_code(office: str, application_number: str) -> str:
    return f"NFA:{office}:{application_number}"


def parse(text: str) -> tuple[str, str, str] | None:
    """('ticket' | 'application', office, reference), or None if it is not such a code."""
    m = _CODE.match(text.strip()) if isinstance(text, str) else None
    if not m:
        return None
    return ("ticket" if m.group(1) == "NFT" else "application", m.group(2), m.group(3))
