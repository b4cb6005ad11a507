"""ui.messages: every refusal of a resident's value has a problem code and a sentence in
Arabic and English; numbers follow the office's digit setting. Pure Python, no Kivy."""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from core import money
from core.catalog import load_catalog, validate_fields
from core.errors import ValidationError
from core.settings import load_settings
from core.text import clean_text, with_check_digit
from ui.messages import (GENERIC, MESSAGES, field_error, field_hint, format_digits, format_money,
                         has_message)
from ui.rtl import _ARABIC_FONT_CHARS

ROOT = Path(__file__).resolve().parents[2]
CATALOG = load_catalog()
ASCII_LETTER = re.compile(r"[A-Za-z]")
ARABIC_LETTER = re.compile(r"[\u0621-\u064a]")

# Values each field type accepts, and values it must refuse.
CPR = with_check_digit("85010123", "luhn")
VALID = {"text": "Ali Hasan", "national_id": CPR,
         "phone": "36001234", "block": "304", "road": "1234", "building": "12A",
         "area_m2": "40", "money": "12.500"}
BAD = {
    "text": [5, "\u200b", "a\nb", "a\u202eb", "a\x00b"],
    "national_id": ["12345", "abcdefghi", CPR[:-1] + str((int(CPR[-1]) + 1) % 10),
                    "1" * 40, "85010123\u202e6", int(CPR)],
    "phone": ["12345", "21234567", "3600 12345", "1" * 25, "3600\n1234", 36001234],
    "block": ["0", "12345", "abc", "-1", "1\t2"],
    "road": ["0", "10000", "12a"],
    "building": ["0", "12AB", "A12", "123456"],
    "area_m2": ["0", "50", "abc", "1e3", "1" * 25],
    "money": ["0", "-1", "1.0005", "abc", "1e3", "100000.001", True],
    "choice": ["nope", 3],
}


@pytest.fixture(scope="module")
def validation(tmp_path_factory):
    return load_settings(tmp_path_factory.mktemp("data")).validation


def bad_values(f) -> list:
    """BAD for the field's type, plus what its own rules (length, bounds) refuse."""
    extra = []
    if f.max_length:
        extra.append("x" * (f.max_length + 1))
    for bound in (f.min_exclusive, f.max_exclusive):
        if bound is not None:
            extra.append(str(bound))
    return BAD[f.type] + extra


def valid_values(service) -> dict:
    return {f.key: (f.options[0].value if f.type == "choice" else VALID[f.type])
            for f in service.fields}


def validate(service, values, v, partial=False):
    return validate_fields(service, values, v.national_id_pattern, v.national_id_check,
                           v.phone_pattern, v.max_amount_minor, partial=partial)


def refusals(v) -> list[tuple[ValidationError, object]]:
    """Every bad value of every field of every default service, plus the form-level
    refusals, each as (error, the field's label or None)."""
    out = []
    for service in CATALOG:
        base = valid_values(service)
        assert validate(service, base, v)  # the base form is fine
        for f in service.fields:
            for bad in bad_values(f):
                with pytest.raises(ValidationError) as info:
                    validate(service, {**base, f.key: bad}, v)
                assert info.value.field == f.key, (service.code, f.key, bad, info.value)
                out.append((info.value, f.label))
            if f.required:
                with pytest.raises(ValidationError) as info:
                    validate(service, {k: x for k, x in base.items() if k != f.key}, v)
                out.append((info.value, f.label))
        with pytest.raises(ValidationError) as info:
            validate(service, {**base, "favourite_colour": "blue"}, v)
        out.append((info.value, None))
    # A rule no default service uses: a minimum length.
    service = CATALOG.get("R")
    name = dataclasses.replace(service.field("full_name"), min_length=3)
    service = dataclasses.replace(service, fields=tuple(
        name if f.key == "full_name" else f for f in service.fields))
    with pytest.raises(ValidationError) as info:
        validate(service, {**valid_values(service), "full_name": "Al"}, v)
    out.append((info.value, name.label))
    return out


def problems_in_core_source() -> set[str]:
    found = set()
    for path in (ROOT / "core").rglob("*.py"):
        found |= set(re.findall(r"""problem=["']([a-z_]+)["']""", path.read_text("utf-8")))
    return found


def test_default_catalogue_types_all_have_bad_values():
    types = {f.type for s in CATALOG for f in s.fields}
    assert types <= set(BAD), f"add bad values for {sorted(types - set(BAD))}"


def check_arabic(text: str, label: str = "") -> None:
    assert text and ARABIC_LETTER.search(text), text
    assert not ASCII_LETTER.search(text), text
    # Only what the kiosk's Arabic fonts draw (the catalogue's own label aside).
    rest = text.replace(label, "") if label else text
    assert all(_ARABIC_FONT_CHARS.match(ch) for ch in rest), \
        [ch for ch in rest if not _ARABIC_FONT_CHARS.match(ch)]


def check_english(text: str) -> None:
    assert text and ASCII_LETTER.search(text) and not ARABIC_LETTER.search(text), text


def test_every_refusal_has_a_problem_and_both_translations(validation):
    seen = refusals(validation)
    assert len(seen) > 100
    for error, label in seen:
        problem = error.details.get("problem")
        assert problem and error.problem == problem, error.to_dict()
        assert has_message(problem), problem
        as_dict = error.to_dict()
        assert as_dict["problem"] == problem and as_dict["field"] == error.field
        json.dumps(as_dict, ensure_ascii=False)  # goes over the wire as it is
        for lab in (label, None):
            ar, en = field_error(error, lab, "ar"), field_error(error, lab, "en")
            check_arabic(ar, lab.ar if lab else "")
            check_english(en)
            assert ar != GENERIC["ar"] and en != GENERIC["en"], error.to_dict()
            assert error.message not in (ar, en)
        if label is not None and problem in ("required", "too_long", "choice"):
            assert label.ar in field_error(error, label, "ar")
            assert label.en in field_error(error, label, "en")


def test_every_problem_raised_in_core_is_triggered_and_translated(validation, office,
                                                                  valid_fields):
    triggered = {e.details["problem"] for e, _ in refusals(validation)}
    # Money and text refusals outside the catalogue's own fields, and a name too long for
    # the licence's QR code (core/credentials/qr_fit.py).
    for call in (lambda: money.check_minor(1.5, "BHD"),
                 lambda: money.check_minor(0, "BHD"),
                 lambda: money.parse_amount(True, "BHD"),
                 lambda: clean_text("ab", "reason", min_length=3),
                 lambda: office.applications.submit("residence-certificate",
                                                    valid_fields(full_name="عبد" * 33))):
        with pytest.raises(ValidationError) as info:
            call()
        triggered.add(info.value.details["problem"])
    in_source = problems_in_core_source()
    assert "national_id_check" in in_source and "too_long" in in_source  # the scan works
    assert in_source == triggered, (f"raised but not exercised here: {in_source - triggered}; "
                                    f"exercised but not found: {triggered - in_source}")
    missing = sorted(p for p in in_source if not has_message(p))
    assert not missing, f"problems without an Arabic and English sentence: {missing}"
    assert set(MESSAGES) == in_source, f"sentences for no problem: {set(MESSAGES) - in_source}"


def test_problem_parameters(validation):
    by_problem = {}
    for error, _ in refusals(validation):
        by_problem.setdefault(error.problem, error.details)
    assert by_problem["too_long"]["max_length"] == 100
    assert by_problem["number_range"]["min"] == 1 and by_problem["number_range"]["max"] == 9999
    assert by_problem["too_large"] == {"field": "area_m2", "problem": "too_large",
                                       "limit": "50", "unit": "m²"}
    assert by_problem["amount_too_large"]["limit_minor"] == validation.max_amount_minor
    assert by_problem["money_format"]["decimals"] == 3
    assert by_problem["choice"]["options"] == ["add", "change", "delete"]
    assert by_problem["national_id_format"]["pattern"] == validation.national_id_pattern
    assert by_problem["not_phone"]["pattern"] == validation.phone_pattern
    assert by_problem["control_character"]["character"] == "U+000A"
    assert by_problem["direction_control"]["character"] == "U+202E"


def test_the_form_says_what_an_id_or_a_phone_number_looks_like_before_a_wrong_try(validation):
    """The hint under the question (kiosk form) names the same shape as the error would,
    read from the office's own patterns, in the office's digits."""
    patterns = {"national_id_pattern": validation.national_id_pattern,
                "phone_pattern": validation.phone_pattern}
    assert field_hint("national_id", "en", **patterns) == \
        "9 digits, as shown on your smart card"
    assert field_hint("national_id", "ar", digits_setting="arabic", **patterns) == \
        "٩ أرقام كما في البطاقة الذكية"
    assert field_hint("phone", "en", **patterns) == "8 digits, starting with 1, 3, 6, 7 or 9"
    assert field_hint("phone", "ar", digits_setting="arabic", **patterns) == \
        "٨ أرقام، يبدأ بأحد الأرقام ١ أو ٣ أو ٦ أو ٧ أو ٩"
    # another office's shape is followed; a shape it cannot put in words says nothing
    assert field_hint("national_id", "en", national_id_pattern=r"^[0-9]{12}$",
                      phone_pattern="") == "12 digits, as shown on your smart card"
    assert field_hint("national_id", "en", national_id_pattern=r"^[A-Z][0-9]{7}$",
                      phone_pattern="") == ""
    assert field_hint("full_name", "en", **patterns) == ""
    with pytest.raises(ValueError, match="lang"):
        field_hint("phone", "fr", **patterns)


def test_national_id_is_the_cpr_on_the_smart_card(validation):
    service = CATALOG.get("R")
    with pytest.raises(ValidationError) as fmt:
        validate(service, {"national_id": "12345"}, validation, partial=True)
    assert field_error(fmt.value, None, "en") == \
        "Please enter your CPR number: 9 digits, as shown on your smart card."
    assert "9 أرقام" in field_error(fmt.value, None, "ar")
    assert "البطاقة الذكية" in field_error(fmt.value, None, "ar")
    with pytest.raises(ValidationError) as check:
        validate(service, {"national_id": "850101230"}, validation, partial=True)
    assert check.value.problem == "national_id_check"
    assert "check the number on your smart card" in field_error(check.value, None, "en")


def test_phone_message_spells_out_the_format(validation):
    with pytest.raises(ValidationError) as info:
        validate(CATALOG.get("R"), {"phone": "2123"}, validation, partial=True)
    assert field_error(info.value, None, "en") == \
        "Please enter your phone number: 8 digits, starting with 1, 3, 6, 7 or 9."
    assert field_error(info.value, None, "ar") == \
        "يرجى إدخال رقم هاتف صحيح من 8 أرقام يبدأ بأحد الأرقام 1 أو 3 أو 6 أو 7 أو 9."
    odd = ValidationError("x", field="phone", problem="not_phone", pattern=r"^\+?[0-9 ]+$")
    assert field_error(odd, None, "en") == "Please enter your phone number."


def test_unknown_problem_or_missing_parameters_give_the_generic_sentence():
    developer = "full_name: something only a developer understands"
    for error in (ValidationError(developer, field="full_name"),
                  ValidationError(developer, field="x", problem="brand_new_problem"),
                  ValidationError(developer, field="x", problem="too_long"),  # no max_length
                  RuntimeError(developer)):
        for lang in ("ar", "en"):
            assert field_error(error, None, lang) == GENERIC[lang]
    check_arabic(GENERIC["ar"])
    check_english(GENERIC["en"])
    with pytest.raises(ValueError):
        field_error(ValidationError("x", problem="required"), None, "fr")


def test_numbers_in_messages_follow_the_digit_setting(validation):
    with pytest.raises(ValidationError) as info:
        validate(CATALOG.get("B"), {"area_m2": "50"}, validation, partial=True)
    ar = field_error(info.value, None, "ar", digits_setting="arabic")
    assert "٥٠ متر مربع" in ar and not re.search(r"[0-9]", ar)
    assert "50 متر مربع" in field_error(info.value, None, "ar")
    en = field_error(info.value, None, "en", digits_setting="arabic")
    assert en == "For this service, the value must be under 50 m²."


def test_format_digits():
    assert format_digits("Block 304, 2024", "ar", "arabic") == "Block ٣٠٤, ٢٠٢٤"
    assert format_digits("0123456789", "ar", "arabic") == "٠١٢٣٤٥٦٧٨٩"
    assert format_digits("304", "ar", "latin") == "304"
    assert format_digits("304", "en", "arabic") == "304"
    assert format_digits("٣٠٤ x", "ar", "arabic") == "٣٠٤ x"
    assert format_digits("", "ar", "arabic") == ""
    with pytest.raises(ValueError):
        format_digits("1", "ar", "persian")


def test_format_money():
    assert money.format_amount(1000, "BHD", with_code=False) == "1.000"
    assert format_money(1000, "BHD", "en", "latin") == "1.000 BHD"
    assert format_money(1000, "BHD", "en", "arabic") == "1.000 BHD"
    assert format_money(1000, "BHD", "ar", "latin") == "1.000 د.ب"
    assert format_money(1000, "BHD", "ar", "arabic") == "١٫٠٠٠ د.ب"
    assert format_money(1_234_500, "BHD", "en", "latin") == "1,234.500 BHD"
    assert format_money(1_234_500, "BHD", "ar", "arabic") == "١٬٢٣٤٫٥٠٠ د.ب"
    assert format_money(250, "SAR", "ar", "latin") == "2.50 ر.س"
