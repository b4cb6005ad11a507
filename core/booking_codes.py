"""An appointment's booking reference, its QR text and the national ID's hash (pure; central
makes them, the office reads them: docs/appointments.md).

    7K3Q-W9XC               the reference as shown and typed: 7 random Crockford base32
                            characters and a check character (Luhn mod 32)
    NFB:MUH:7K3QW9XC        the booking's QR: office and reference, nothing personal

The check character catches every single wrong character and every swap of two different
neighbours, so a reference typed with one slip is refused rather than matched to another
booking. Typing is forgiving as Crockford's alphabet intends: lower case, O for 0, I and L
for 1, and hyphens or spaces anywhere.

The national ID is kept only as a salted scrypt hash (as a PIN: core.users.hash_pin), made at
booking and checked at the office's check-in; a national ID is a few hundred million values,
so a fast hash would give it back in seconds."""
from __future__ import annotations

import re

from .errors import ValidationError
from .users import hash_pin, pin_matches

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
RANDOM_CHARS = 7  # 35 bits: a guess at a live booking is about one in 10^7 at a busy office
LENGTH = RANDOM_CHARS + 1
QR_PREFIX = "NFB"
_TYPED = str.maketrans({"O": "0", "I": "1", "L": "1"})
_QR = re.compile(rf"^{QR_PREFIX}:([A-Z0-9]{{1,8}}):([0-9A-Z]{{{LENGTH}}})$")


def check_character(body: str) -> str:
    """Luhn mod 32 over the body's characters (ALPHABET's order)."""
    factor, total = 2, 0
    for char in reversed(body):
        addend = factor * ALPHABET.index(char)
        total += addend // 32 + addend % 32
        factor = 1 if factor == 2 else 2
    return ALPHABET[(32 - total % 32) % 32]


def make_reference(random_bytes) -> str:
    """A new reference from `random_bytes(n)` (injected: tests freeze it)."""
    raw = random_bytes(RANDOM_CHARS)
    body = "".join(ALPHABET[b % 32] for b in raw)
    return body + check_character(body)


def shown(reference: str) -> str:
    """As printed and typed: 7K3Q-W9XC."""
    return f"{reference[:4]}-{reference[4:]}"


def parse_reference(text) -> str:
    """The reference a person typed (or a QR's), normalised; ValidationError with reason
    malformed_reference or bad_check_character, naming nothing of the input."""
    if not isinstance(text, str) or len(text) > 40:
        raise ValidationError("a booking reference looks like 7K3Q-W9XC",
                              field="reference", reason="malformed_reference")
    clean = re.sub(r"[\s-]", "", text).upper().translate(_TYPED)
    if len(clean) != LENGTH or any(c not in ALPHABET for c in clean):
        raise ValidationError("a booking reference looks like 7K3Q-W9XC",
                              field="reference", reason="malformed_reference")
    if check_character(clean[:-1]) != clean[-1]:
        raise ValidationError("the booking reference's last character does not match: one "
                              "character is wrong or two are swapped", field="reference",
                              reason="bad_check_character")
    return clean


def qr_text(office: str, reference: str) -> str:
    return f"{QR_PREFIX}:{office}:{reference}"


def parse_qr(text) -> tuple[str, str] | None:
    """(office, reference) of a booking's QR text whose check holds, else None."""
    if not isinstance(text, str):
        return None
    found = _QR.match(text.strip())
    if found is None:
        return None
    try:
        return found.group(1), parse_reference(found.group(2))
    except ValidationError:
        return None


def hash_national_id(national_id: str) -> str:
    """A salted scrypt hash of a checked, normalised national ID."""
    return hash_pin(national_id)


def national_id_matches(national_id: str, stored: str) -> bool:
    return pin_matches(national_id, stored)
