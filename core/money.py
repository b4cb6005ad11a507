"""Money is an integer count of minor units (1 BHD = 1000 fils). Text is parsed exactly,
never through float."""
from __future__ import annotations

import re

from .errors import ValidationError

# ISO 4217 minor-unit exponents for the currencies a municipality here meets.
CURRENCY_EXPONENT = {"BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "SAR": 2, "AED": 2, "QAR": 2,
                     "USD": 2, "EUR": 2}

_AMOUNT_RE = re.compile(r"^(?P<int>[0-9]{1,15})(?:\.(?P<frac>[0-9]+))?$")


def exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENT[currency]
    except KeyError:
        raise ValidationError(f"unknown currency {currency!r}", field="currency")


def parse_amount(text: str | int, currency: str, field: str = "amount",
                 max_minor: int | None = None) -> int:
    """'1.500' BHD -> 1500. Refuses zero, negative, more decimals than the currency has,
    exponents, and amounts above max_minor."""
    exp = exponent(currency)
    if isinstance(text, bool):
        raise ValidationError(f"{field}: not an amount", field=field, problem="money_format",
                              currency=currency, decimals=exp)
    if isinstance(text, int):
        minor = text * (10 ** exp)
    else:
        raw = str(text).strip()
        m = _AMOUNT_RE.match(raw)
        if not m:
            if raw.startswith("-"):
                raise ValidationError(f"{field}: must be positive, got {raw}", field=field,
                                      problem="too_small", limit="0", unit=currency)
            raise ValidationError(f"{field}: {raw!r} is not an amount like 1.500", field=field,
                                  problem="money_format", currency=currency, decimals=exp)
        frac = m.group("frac") or ""
        if len(frac) > exp:
            if frac[exp:].strip("0"):
                raise ValidationError(
                    f"{field}: {raw} has more than {exp} decimals ({currency} has "
                    f"{exp}); the smallest unit is {1 / 10 ** exp:.{exp}f}", field=field,
                    problem="money_format", currency=currency, decimals=exp)
            frac = frac[:exp]
        minor = int(m.group("int")) * 10 ** exp + int(frac.ljust(exp, "0") or 0)
    return check_minor(minor, currency, field, max_minor)


def check_minor(minor: int, currency: str, field: str = "amount",
                max_minor: int | None = None) -> int:
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise ValidationError(f"{field}: amounts are whole minor units, got {minor!r}",
                              field=field, problem="money_format", currency=currency,
                              decimals=exponent(currency))
    if minor <= 0:
        raise ValidationError(f"{field}: must be more than zero", field=field,
                              problem="too_small", limit="0", unit=currency)
    if max_minor is not None and minor > max_minor:
        raise ValidationError(f"{field}: {format_amount(minor, currency)} is above the limit "
                              f"of {format_amount(max_minor, currency)}", field=field,
                              problem="amount_too_large", limit_minor=max_minor,
                              currency=currency)
    return minor


def format_amount(minor: int, currency: str, with_code: bool = True) -> str:
    exp = exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10 ** exp)
    text = f"{sign}{whole:,}" + (f".{frac:0{exp}d}" if exp else "")
    return f"{text} {currency}" if with_code else text


# --- amounts as people read them (the kiosk, the counter, central's kiosk preview) ---------

DIGIT_SETTINGS = ("latin", "arabic")
_TO_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
# With Arabic-Indic digits the separators are the Arabic ones too (١٬٠٠٠٫٥٠٠).
_TO_ARABIC_NUMBER = str.maketrans("0123456789.,", "٠١٢٣٤٥٦٧٨٩٫٬")
# How an amount's currency is written after the number.
CURRENCY_AR = {"BHD": "د.ب", "KWD": "د.ك", "OMR": "ر.ع", "JOD": "د.أ", "SAR": "ر.س",
               "AED": "د.إ", "QAR": "ر.ق", "USD": "دولار", "EUR": "يورو"}


def check_digits_setting(digits_setting: str) -> None:
    if digits_setting not in DIGIT_SETTINGS:
        raise ValueError(f"digits setting must be latin or arabic, not {digits_setting!r}")


def format_digits(text: str, lang: str, digits_setting: str) -> str:
    """ASCII digits as Arabic-Indic (٠١٢٣٤٥٦٧٨٩) when the screen is in Arabic and the office
    shows Arabic digits (`settings.office.digits`); otherwise the text unchanged."""
    check_digits_setting(digits_setting)
    if lang == "ar" and digits_setting == "arabic":
        return text.translate(_TO_ARABIC_INDIC)
    return text


def format_number(text: str, lang: str, digits_setting: str) -> str:
    """A number as text ("1,000.5"), with Arabic digits and separators if so set."""
    check_digits_setting(digits_setting)
    if lang == "ar" and digits_setting == "arabic":
        return text.translate(_TO_ARABIC_NUMBER)
    return text


def currency_name(currency: str, lang: str) -> str:
    return CURRENCY_AR.get(currency, currency) if lang == "ar" else currency


def format_money(minor: int, currency: str, lang: str, digits_setting: str) -> str:
    """1000 BHD -> "1.000 BHD" in English, "1.000 د.ب" in Arabic, "١٫٠٠٠ د.ب" in Arabic with
    Arabic digits (the Arabic decimal and thousands separators go with Arabic digits)."""
    number = format_amount(minor, currency, with_code=False)  # "1,000.000"
    return f"{format_number(number, lang, digits_setting)} {currency_name(currency, lang)}"
