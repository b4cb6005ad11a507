"""Bill numbers: made at the office with no server, checked anywhere (pure; central uses it).

    MUH-D01-B000042-57
    office-device-B<sequence, at least 6 digits>-<check: 2 digits>

The check is a MOD 97 remainder over everything before it (check_digits): it catches every
single wrong character and every swap of two neighbours, so a number typed at an ATM or in
a bank app with one slip is refused, never paid to another bill."""
from __future__ import annotations

import re

from .errors import ValidationError

PATTERN = re.compile(r"^([A-Z0-9]{1,8})-([A-Z0-9]{1,8})-B([0-9]{6,12})-([0-9]{2})$")
MAX_LENGTH = 36


ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-"


def check_digits(office: str, device: str, sequence: int) -> str:
    """The text before the check read as a number in base 37 (digits, letters, hyphen),
    modulo 97. 97 is prime and above 37, so one wrong character (a difference below 37
    times a power of 37) and two neighbours swapped (that times 36) never leave the
    remainder unchanged."""
    value = 0
    for c in f"{office}-{device}-B{sequence:06d}":
        value = (value * 37 + ALPHABET.index(c)) % 97
    return f"{value:02d}"


def make(office: str, device: str, sequence: int) -> str:
    if not re.fullmatch(r"[A-Z0-9]{1,8}", office or "") or \
            not re.fullmatch(r"[A-Z0-9]{1,8}", device or ""):
        raise ValueError("office and device are 1-8 of A-Z0-9")
    if not isinstance(sequence, int) or isinstance(sequence, bool) or \
            not 1 <= sequence < 10 ** 12:
        raise ValueError("a bill sequence is a whole number from 1")
    return f"{office}-{device}-B{sequence:06d}-{check_digits(office, device, sequence)}"


def parse(text) -> tuple[str, str, int]:
    """(office, device, sequence) of a well-formed number whose check holds; else
    ValidationError (reason "malformed" or "bad_check_digit"), naming nothing of the input
    beyond its length."""
    if not isinstance(text, str) or len(text) > MAX_LENGTH:
        raise ValidationError("a bill number looks like MUH-D01-B000042-57",
                              field="bill_number", reason="malformed")
    found = PATTERN.match(text.strip().upper())
    if not found:
        raise ValidationError("a bill number looks like MUH-D01-B000042-57",
                              field="bill_number", reason="malformed")
    office, device, sequence, check = found.groups()
    if check != check_digits(office, device, int(sequence)):
        raise ValidationError("the bill number's check digits do not match: one character "
                              "is wrong or two are swapped", field="bill_number",
                              reason="bad_check_digit")
    return office, device, int(sequence)
