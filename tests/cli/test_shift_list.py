"""Shifts as an operator sees and closes them (issue 25, "no `shift list`, and the kiosk's
card shift can only be closed by an undocumented command"): `nafitha shift list` with times
in the office's zone and the payments by method; `nafitha shift close --kiosk` and
`shift close SHIFT`, printing the Z report like a clerk's close; bad input changes nothing."""
import json

import pytest
from click.testing import CliRunner

from core.errors import InvalidState, NotFound, ValidationError
from nafitha.cli import cli

KIOSK_REF = "T0000001-000042-A1B2C3"


@pytest.fixture
def nafitha(tmp_path, office):
    """The command line on the office fixture's own data directory (its store, its zone:
    Asia/Bahrain); the fixture's frozen clock made the rows, the CLI runs on the real one."""
    def run(*args, expect=0, input=None, env=None):
        result = CliRunner().invoke(cli, ["--data", str(tmp_path), *args], input=input,
                                    env={"NAFITHA_DATA": None, "NAFITHA_CONFIG": None,
                                         **(env or {})}, catch_exceptions=False)
        assert result.exit_code == expect, (result.output, result.stderr)
        return result
    return run


@pytest.fixture
def day(office, till, submit_valid, clock):
    """sara's shift (float 20.000) opened 11:00 Bahrain time: a cash and a counter card
    payment, one voided; the field office's kiosk and a hub's kiosk-1 each took a card."""
    pay = office.payments
    pay.take(submit_valid()["id"], "cash", "sara", tendered_minor=2000)
    card = pay.take(submit_valid()["id"], "card", "sara", reference="T-1")
    pay.void(card["receipt_number"], "huda", "987654", "wrong service")
    clock.advance(hours=1)
    pay.record_card_approval(submit_valid()["id"], KIOSK_REF, "kiosk")
    pay.record_card_approval(submit_valid()["id"], "T0000002-000001-ZZ9999", "kiosk:kiosk-1")
    return pay


# --- core: Payments.shifts, close_shift_by, open_kiosk_shift ---------------------------------
def test_shifts_list_the_payments_by_method(day):
    listed = day.shifts()
    assert [(s["shift"], s["clerk"], s["kiosk"]) for s in listed] == [
        (1, "sara", False), (2, "kiosk", True), (3, "kiosk:kiosk-1", True)]
    sara = listed[0]
    assert sara["by_method"] == {"cash": {"count": 1, "total_minor": 1000},
                                 "card": {"count": 0, "total_minor": 0},
                                 "online": {"count": 0, "total_minor": 0}}
    assert (sara["payments"], sara["total_minor"], sara["voids"]) == (1, 1000, 1)
    assert sara["opened_at"] == "2026-11-24T08:00:00.000+00:00" and sara["closed_at"] is None
    assert listed[1]["by_method"]["card"] == {"count": 1, "total_minor": 1000}
    assert [s["shift"] for s in day.shifts(limit=2)] == [2, 3]  # the newest, oldest first
    day.close_shift("sara", 21_000)
    assert [s["shift"] for s in day.shifts(open_only=True)] == [2, 3]


def test_a_day_is_the_offices_local_day(office, clock):
    """Asia/Bahrain is UTC+3: 22:30 UTC on the 24th is 01:30 on the 25th there."""
    pay = office.payments
    clock.set("2026-11-24T06:00:00+00:00")
    pay.open_shift("sara", 0)
    clock.set("2026-11-24T20:30:00+00:00")  # 23:30 local: still the 24th
    pay.close_shift("sara", 0)
    clock.set("2026-11-24T22:30:00+00:00")  # 01:30 local on the 25th, left open
    pay.open_shift("omar", 0)
    clock.set("2026-11-26T09:00:00+00:00")
    assert [s["clerk"] for s in pay.shifts(day="2026-11-24")] == ["sara"]
    assert [s["clerk"] for s in pay.shifts(day="2026-11-25")] == ["omar"]
    assert [s["clerk"] for s in pay.shifts(day="2026-11-26")] == ["omar"]  # still open
    assert pay.shifts(day="2026-11-27") == []  # not yet
    assert pay.shifts(day="2026-11-23") == []


def test_a_kiosks_shift_closes_by_hand_under_the_operator(office, day):
    z = day.close_shift_by(day.open_kiosk_shift("main")["id"], None, "cli:op")
    assert (z["clerk"], z["counted_minor"], z["difference_minor"]) == ("kiosk", 0, 0)
    assert z["by_method"]["card"] == {"count": 1, "total_minor": 1000}
    closed = office.store.one("SELECT actor, data FROM audit WHERE action = 'shift.closed'")
    assert closed["actor"] == "cli:op" and json.loads(closed["data"])["clerk"] == "kiosk"
    # the one kiosk shift left open needs no name; the hub's kiosk by its device name
    assert day.open_kiosk_shift()["clerk"] == "kiosk:kiosk-1"
    assert day.open_kiosk_shift("kiosk-1")["clerk"] == "kiosk:kiosk-1"
    assert day.open_kiosk_shift("kiosk:kiosk-1")["clerk"] == "kiosk:kiosk-1"


@pytest.mark.parametrize("call, error, detail", [
    (lambda p: p.close_shift_by("99", 0, "op"), NotFound, None),
    (lambda p: p.close_shift_by("1", None, "op"), ValidationError, ("field", "counted")),
    (lambda p: p.close_shift_by("1", -1, "op"), ValidationError, ("field", "counted")),
    (lambda p: p.close_shift_by("1", "20", "op"), ValidationError, ("field", "counted")),
    (lambda p: p.close_shift("sara", None), ValidationError, ("field", "counted")),
    (lambda p: p.open_kiosk_shift(), ValidationError, ("field", "kiosk")),
    (lambda p: p.open_kiosk_shift("kiosk-9"), InvalidState, ("reason", "no_open_shift")),
    (lambda p: p.shifts(day="24-11-2026"), ValidationError, ("field", "day")),
    (lambda p: p.shifts(day="2026-02-30"), ValidationError, ("field", "day")),
    (lambda p: p.shifts(day="2026-11-24T00:00"), ValidationError, ("field", "day")),
    (lambda p: p.shifts(limit=0), ValidationError, ("field", "limit")),
])
def test_bad_input_is_refused_and_changes_nothing(day, db_state, call, error, detail):
    before = db_state()
    with pytest.raises(error) as info:
        call(day)
    assert db_state() == before
    if detail:
        assert info.value.details[detail[0]] == detail[1]


def test_a_closed_shift_is_not_closed_again(day, db_state):
    day.close_shift("sara", 21_000)
    before = db_state()
    with pytest.raises(InvalidState) as info:
        day.close_shift_by("1", 21_000, "op")
    assert info.value.details["reason"] == "already_closed"
    # when, as people at the office read it: 09:00 UTC is 12:00 in Bahrain
    assert "was already closed at 2026-11-24 12:00 (Asia/Bahrain)" in info.value.message
    assert db_state() == before


# --- the command line ------------------------------------------------------------------------
def test_shift_list_shows_local_times_and_totals(day, nafitha):
    out = nafitha("shift", "list").stdout
    lines = out.splitlines()
    assert lines[0] == "times in Asia/Bahrain"
    assert lines[1].split() == ["shift", "1", "sara", "opened", "2026-11-24", "11:00", "open"]
    assert lines[2].split() == ["cash", "x1", "1.000", "BHD", "card", "x0", "0.000", "BHD",
                                "online", "x0", "0.000", "BHD", "total", "1.000", "BHD",
                                "voids", "x1"]
    assert "kiosk:kiosk-1" in lines[5] and "12:00" in lines[5]
    assert "08:00" not in out  # no UTC time for people
    rows = json.loads(nafitha("shift", "list", "--open", "--day", "2026-11-24",
                              "--json").stdout)
    assert [r["clerk"] for r in rows] == ["sara", "kiosk", "kiosk:kiosk-1"]
    assert rows[0]["opened_at"] == "2026-11-24T08:00:00.000+00:00"  # JSON keeps stored UTC
    assert nafitha("shift", "list", "--day", "2026-11-23").stdout == "no shifts on 2026-11-23\n"


def test_shift_close_kiosk_prints_the_z_report(day, nafitha, office):
    several = nafitha("shift", "close", "--kiosk", expect=1)
    assert "2 kiosks have an open shift (kiosk, kiosk:kiosk-1)" in several.stderr
    assert "nafitha shift close --kiosk kiosk-1" in several.stderr
    out = nafitha("shift", "close", "--kiosk", "main").stdout  # the field office's kiosk
    assert out.startswith("Z report  shift 2  clerk kiosk\nopened 2026-11-24 12:00  closed ")
    assert "card   x1      1.000 BHD" in out and "counted cash     0.000 BHD" in out
    assert "nafitha payments reconcile 2 --report FILE" in out
    z = json.loads(nafitha("shift", "close", "--kiosk", "--json").stdout)  # the one left
    assert (z["clerk"], z["counted_minor"]) == ("kiosk:kiosk-1", 0)
    none_left = nafitha("shift", "close", "--kiosk", expect=1)
    assert none_left.stderr == "Error: no kiosk has an open shift\n"


def test_shift_close_by_number_for_a_leavers_shift(day, nafitha, db_state):
    before = db_state()
    no_count = nafitha("shift", "close", "1", expect=1)
    assert "shift 1 is sara's; it closes with the cash counted in the drawer" in no_count.stderr
    assert "no shift '99'" in nafitha("shift", "close", "99", "--counted", "0",
                                      expect=1).stderr
    both = nafitha("shift", "close", "1", "--kiosk", "--counted", "1", expect=2)
    assert "name one shift: SHIFT, --clerk or --kiosk" in both.stderr
    assert db_state() == before
    out = nafitha("shift", "close", "1", "--counted", "21.000").stdout
    assert "Z report  shift 1  clerk sara" in out and "difference       0.000 BHD" in out
    again = nafitha("shift", "close", "1", "--counted", "21.000", expect=1)
    assert "shift 1 (sara) was already closed at " in again.stderr
    assert "(Asia/Bahrain)" in again.stderr


def test_a_bad_day_changes_nothing(day, nafitha, db_state):
    before = db_state()
    for bad in ("24-11-2026", "tomorrow", "2026-13-01"):
        result = nafitha("shift", "list", "--day", bad, expect=1)
        assert f"day: '{bad}' is not a date (YYYY-MM-DD, e.g. 2026-11-24)" in result.stderr
    assert db_state() == before


def test_the_new_commands_explain_themselves(nafitha):
    for args, words in ((("shift", "list"), "office's zone"),
                        (("shift", "close"), "--kiosk"),
                        (("shift",), "each kiosk's card shift"),
                        (("user", "disable"), "last active supervisor"),
                        (("user", "enable"), "reset-pin"),
                        (("user", "reset-pin"), "prompted twice")):
        text = " ".join(nafitha(*args, "--help").stdout.split())
        assert words in text and "Example: nafitha " in text, args
