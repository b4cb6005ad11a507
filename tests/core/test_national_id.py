"""The national ID check: format and check digit are configurable (luhn, mod11, none)."""
import pytest

from core.errors import ValidationError
from core.office import Office
from core.settings import load_settings
from core.text import check_national_id, luhn_ok, mod11_ok, with_check_digit


def test_luhn_by_hand():
    # 1 2 3 4 5 6 7 8 d: doubled from the right -> 1+4+3+8+5+3+7+7 = 38, so d = 2
    assert with_check_digit("12345678", "luhn") == "123456782"
    assert luhn_ok("123456782") and not luhn_ok("123456789")


def test_mod11_by_hand():
    # weights 2..9 from the right of 12345678: 16+21+24+25+24+21+16+9 = 156; 156 % 11 = 2;
    # check = (11 - 2) % 11 = 9
    assert with_check_digit("12345678", "mod11") == "123456789"
    assert mod11_ok("123456789") and not mod11_ok("123456782")


def test_mod11_never_issues_a_remainder_of_ten():
    # body 00000005: 5 x 2 = 10, 10 % 11 = 10, check would be 1 ... find a body giving 10
    body = next(f"{n:08d}" for n in range(1000) if
                (11 - sum(int(d) * w for d, w in zip(reversed(f"{n:08d}"), range(2, 10))) % 11)
                % 11 == 10)
    with pytest.raises(ValueError):
        with_check_digit(body, "mod11")
    assert not any(mod11_ok(body + d) for d in "0123456789")


def test_check_national_id_rules():
    pattern = r"^[0-9]{9}$"
    assert check_national_id(" 123456782 ", pattern, "luhn") == "123456782"
    assert check_national_id("123456789", pattern, "mod11") == "123456789"
    assert check_national_id("123456780", pattern, "none") == "123456780"
    with pytest.raises(ValidationError, match="check digit"):
        check_national_id("123456789", pattern, "luhn")
    with pytest.raises(ValidationError, match="format"):
        check_national_id("12345678", pattern, "none")


def test_office_configured_for_mod11(tmp_path, clock, ids, valid_fields):
    s = load_settings(tmp_path / "m", environ={"NAFITHA_VALIDATION__NATIONAL_ID_CHECK": "mod11"})
    office = Office.open(s, clock=clock, ids=ids)
    try:
        fields = valid_fields("R", national_id="123456789")
        assert office.applications.submit("R", fields)["fields"]["national_id"] == "123456789"
        with pytest.raises(ValidationError) as info:
            office.applications.submit("R", {**fields, "national_id": "123456782"})
        assert info.value.field == "national_id"
    finally:
        office.close()
