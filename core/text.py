"""Cleaning what people type, and the identity-number check.

Policy (docs/input-policy.md): text is NFC-normalised and trimmed; zero-width characters
(ZWSP, ZWNJ, ZWJ, word joiner, BOM) are removed because they are invisible and make equal
names compare unequal; bidirectional control characters (LRE, RLE, PDF, LRO, RLO, LRI, RLI,
FSI, PDI, LRM, RLM, ALM) are refused because they can make a printed name read differently
from what is stored; other control characters are refused. SQL metacharacters are ordinary
text: every query is parameterised, so they are stored verbatim.
"""
from __future__ import annotations

import re
import unicodedata
from contextlib import contextmanager

from .errors import ValidationError

# The languages of every screen, paper and message: Arabic first.
LANGUAGES = ("ar", "en")
# The national ID and phone rules an office checks unless its settings say otherwise
# ([validation]); central checks a booking's national ID against the same
# (central/appointments.py).
NATIONAL_ID_PATTERN = r"^[0-9]{9}$"
NATIONAL_ID_CHECK = "luhn"  # luhn | mod11 | none
PHONE_PATTERN = r"^(\+973)?[13679][0-9]{7}$"
ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def clean_text(value, field: str, max_length: int | None = None, min_length: int = 0) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{field}: expected text", field=field, problem="not_text")
    text = unicodedata.normalize("NFC", value).translate(ZERO_WIDTH).strip()
    for ch in text:
        if ch in BIDI_CONTROLS:
            raise ValidationError(
                f"{field}: contains the invisible direction control U+{ord(ch):04X}; "
                f"type the text without it", field=field, problem="direction_control",
                character=f"U+{ord(ch):04X}")
        if unicodedata.category(ch) == "Cc":  # line breaks included: fields are one line
            raise ValidationError(f"{field}: contains the control character U+{ord(ch):04X}",
                                  field=field, problem="control_character",
                                  character=f"U+{ord(ch):04X}")
    if not text and min_length:
        raise ValidationError(f"{field}: is required", field=field, problem="required")
    if len(text) < min_length:
        raise ValidationError(f"{field}: is required", field=field, problem="too_short",
                              min_length=min_length, length=len(text))
    if max_length is not None and len(text) > max_length:
        raise ValidationError(f"{field}: at most {max_length} characters, got {len(text)}",
                              field=field, problem="too_long", max_length=max_length,
                              length=len(text))
    return text


# Arabic spelling variants people type interchangeably, folded for searching: alef with
# hamza or madda and wasla to bare alef, hamza on waw and ya to the letter, ta marbuta to ha,
# alef maqsura and Persian ya to ya; harakat, the superscript alef and tatweel dropped.
_SEARCH_FOLD = {**dict.fromkeys(map(ord, "أإآٱ"), "ا"), ord("ؤ"): "و", ord("ئ"): "ي",
                ord("ة"): "ه", ord("ى"): "ي", ord("ی"): "ي", ord("ء"): None, ord("ـ"): None,
                **dict.fromkeys(range(0x064B, 0x0660), None), 0x0670: None}


def search_key(text: str) -> str:
    """A name as searching compares it: folded Arabic variants (ا for أ إ آ, ه for ة, ي for
    ى and ئ, و for ؤ; no harakat, hamza or tatweel), Latin letters in lower case, one space
    between words."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_SEARCH_FOLD)
    return " ".join(text.split())


def to_ascii_digits(text: str) -> str:
    """Residents type Arabic-Indic digits (٠١٢...) as often as 0-9."""
    out = []
    for ch in text:
        if ch.isdigit():
            out.append(str(unicodedata.digit(ch)))
        else:
            out.append(ch)
    return "".join(out)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def mod11_ok(digits: str) -> bool:
    """Weights 2,3,4,... from the right of the body; check = (11 - sum % 11) % 11, and a
    remainder giving 10 is never issued."""
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * w for d, w in zip(reversed(body), range(2, 2 + len(body))))
    expected = (11 - total % 11) % 11
    return expected < 10 and expected == check


def with_check_digit(body: str, rule: str) -> str:
    """The number that passes `rule` for this body (used by tests and demo data)."""
    for d in "0123456789":
        candidate = body + d
        if (rule == "luhn" and luhn_ok(candidate)) or (rule == "mod11" and mod11_ok(candidate)) \
                or rule == "none":
            return candidate
    raise ValueError(f"no check digit makes {body} valid under {rule}")


@contextmanager
def too_long_means(problem: str, **params):
    """Re-label clean_text's `too_long` refusal (same message, same field) for a value that
    has a format of its own: 12345 in a block number is out of range, not "too long"."""
    try:
        yield
    except ValidationError as exc:
        if exc.problem != "too_long":
            raise
        raise ValidationError(exc.message, field=exc.field, problem=problem,
                              **params) from None


def check_phone(value, pattern: str, field: str = "phone") -> str:
    """A phone number in the office's format (validation.phone_pattern): ASCII digits,
    spaces removed; else ValidationError problem not_phone. The forms' phone fields and the
    messages' numbers (core/messages.py) both check with it."""
    with too_long_means(problem="not_phone", pattern=pattern):
        text = to_ascii_digits(clean_text(value, field, 20, 1)).replace(" ", "")
    if not re.fullmatch(pattern, text):
        raise ValidationError(f"{field}: {text!r} is not a phone number of the form this "
                              f"office accepts", field=field, problem="not_phone",
                              pattern=pattern)
    return text


def check_national_id(value, pattern: str, rule: str, field: str = "national_id") -> str:
    with too_long_means(problem="national_id_format", pattern=pattern):
        text = to_ascii_digits(clean_text(value, field, max_length=32, min_length=1))
    text = text.replace(" ", "")
    if not re.fullmatch(pattern, text):
        raise ValidationError(f"{field}: {text!r} is not in the national ID format",
                              field=field, problem="national_id_format", pattern=pattern)
    digits = re.sub(r"\D", "", text)
    ok = {"luhn": luhn_ok, "mod11": mod11_ok}.get(rule, lambda d: True)(digits)
    if not ok:
        raise ValidationError(f"{field}: {text} fails the national ID check digit", field=field,
                              problem="national_id_check", rule=rule)
    return text
