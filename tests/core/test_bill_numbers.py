"""Bill numbers (core/bill_numbers.py): made offline, and any one slip in typing one is
refused: every single wrong character and every swap of two neighbours."""
import pytest

from core.bill_numbers import ALPHABET, make, parse
from core.errors import ValidationError

NUMBERS = [make("MUH", "D01", 42), make("A", "B", 1), make("ZZZZZZZZ", "Z9", 10 ** 12 - 1),
           make("SIT", "K2", 1234567)]


def test_a_number_reads_back_as_its_office_device_and_sequence():
    assert make("MUH", "D01", 42) == "MUH-D01-B000042-17"
    assert parse("MUH-D01-B000042-17") == ("MUH", "D01", 42)
    assert parse(" muh-d01-b000042-17 ") == ("MUH", "D01", 42)  # as typed, case and spaces


@pytest.mark.parametrize("number", NUMBERS)
def test_every_single_wrong_character_and_every_neighbour_swap_is_refused(number):
    slips = {number[:i] + c + number[i + 1:] for i in range(len(number)) for c in ALPHABET}
    slips |= {number[:i] + number[i + 1] + number[i] + number[i + 2:]
              for i in range(len(number) - 1)}
    slips.discard(number)
    accepted = []
    for slip in slips:
        try:
            parse(slip)
            accepted.append(slip)
        except ValidationError as exc:
            assert exc.details["reason"] in ("malformed", "bad_check_digit")
    assert accepted == []


@pytest.mark.parametrize("text, reason", [
    ("MUH-D01-B000042-18", "bad_check_digit"), ("MUH-D01-B42-17", "malformed"),
    ("MUH-D01-000042-17", "malformed"), ("", "malformed"), (None, "malformed"),
    ("MUH-D01-B000042-17" * 3, "malformed"), ("MUH-D01-B٠٠٠٠٤٢-17", "malformed"),
    ("MUH-D01-B000042-17\u202e", "malformed")])
def test_a_bad_number_is_refused_with_its_reason(text, reason):
    with pytest.raises(ValidationError) as refused:
        parse(text)
    assert refused.value.details["reason"] == reason


@pytest.mark.parametrize("office, device, sequence", [
    ("muh", "D01", 1), ("MUH", "", 1), ("MUH", "D01", 0), ("MUH", "D01", True),
    ("MUH", "D01", 10 ** 12), ("TOOLONGXX", "D01", 1)])
def test_make_refuses_what_no_office_could_be(office, device, sequence):
    with pytest.raises(ValueError):
        make(office, device, sequence)
