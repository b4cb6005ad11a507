"""Checking in an appointment at the office (core/appointments.py, docs/appointments.md):
bookings arrive as reference rows (kind "appointment"), as central publishes them; check-in
early, on time and late, the wrong national ID, no-shows, and each refusal changing nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest

from core import booking_codes, reference
from core.clock import iso, parse_iso
from core.errors import InvalidState, NotFound, PermissionDenied, ValidationError

SERVICE = "residence-certificate"
# The clock starts at 08:00 UTC (11:00 in Bahrain); the slot starts at 12:00 local.
SLOT = "2026-11-24T09:00:00.000+00:00"


def fixed_bytes(seed: int):
    return lambda n: bytes((seed * 7 + i * 13) % 256 for i in range(n))


@pytest.fixture
def publish(office, valid_nid):
    """publish(n, slot_start=SLOT, state="booked", office_code="MUH") -> the booking's
    reference, as if a bundle from central had brought it."""
    versions = iter(range(1, 10_000))

    def put(n: int = 0, slot_start: str = SLOT, state: str = "booked",
            office_code: str = "MUH", reference_text: str | None = None) -> str:
        ref = reference_text or booking_codes.make_reference(fixed_bytes(n))
        body = {"reference": ref, "office": office_code, "service_code": SERVICE,
                "slot_start": slot_start,
                "slot_end": iso(parse_iso(slot_start) + timedelta(minutes=15)),
                "national_id_hash": booking_codes.hash_national_id(valid_nid(n)),
                "state": state}
        with office.store.atomic():
            reference.put(office.store, {"kind": "appointment", "key": ref,
                                         "version": next(versions), "body": body},
                          office.store.now(), None)
        return ref
    return put


def test_on_time_check_in_queues_at_the_slot_start(office, publish, valid_nid, clock):
    ref = publish(1)
    clock.set("2026-11-24T09:05:00+00:00")  # five minutes late: within the grace
    ticket = office.appointments.check_in(booking_codes.shown(ref), valid_nid(1))
    row = office.queue.ticket_row(ticket["id"])
    assert row["queue_key"] == SLOT and row["channel"] == "appointment"
    assert ticket["appointment"]["reference"] == ref
    visit = office.store.one("SELECT * FROM appointment_visits WHERE reference = ?", (ref,))
    assert visit["state"] == "checked_in" and visit["ticket_id"] == ticket["id"]
    sent = office.store.all("SELECT type, body FROM outbox WHERE type = "
                            "'appointment.checked_in'")
    assert len(sent) == 1 and valid_nid(1) not in sent[0]["body"]
    assert ticket["number"] in sent[0]["body"]


def test_an_early_arrival_is_called_after_walk_ins_who_came_before_its_slot(
        office, publish, valid_nid, clock):
    ref = publish(2)
    clock.set("2026-11-24T08:35:00+00:00")  # 25 minutes early
    booked = office.appointments.check_in(f"NFB:MUH:{ref}", valid_nid(2))  # by its QR
    clock.set("2026-11-24T08:40:00+00:00")
    walk_in = office.queue.take_ticket(SERVICE)  # came after the check-in, before the slot
    clock.set("2026-11-24T09:01:00+00:00")
    late_walk_in = office.queue.take_ticket(SERVICE)  # came after the slot started
    order = [office.queue.call_next("1")["id"] for _ in range(3)]
    assert order == [walk_in["id"], booked["id"], late_walk_in["id"]]


def test_too_early_is_refused_with_the_time_to_come_back(office, publish, valid_nid, clock,
                                                         db_state):
    ref = publish(3)
    clock.set("2026-11-24T08:29:00+00:00")  # 31 minutes before the slot
    before = db_state()
    with pytest.raises(InvalidState) as exc:
        office.appointments.check_in(ref, valid_nid(3))
    assert exc.value.details["reason"] == "too_early"
    assert exc.value.details["opens_at"].startswith("2026-11-24T11:30:00+03:00")
    assert db_state() == before


def test_late_beyond_the_grace_is_missed_then_a_no_show(office, publish, valid_nid, clock):
    ref = publish(4)
    clock.set("2026-11-24T09:15:00+00:00")  # exactly the grace's end: still in
    other = publish(5)
    assert office.appointments.check_in(other, valid_nid(5))["appointment"]
    clock.set("2026-11-24T09:16:00+00:00")
    with pytest.raises(InvalidState) as exc:
        office.appointments.check_in(ref, valid_nid(4))
    assert exc.value.details["reason"] == "appointment_missed"
    # the attempt marked the missed booking a no-show (mark_no_shows runs first)
    assert office.appointments.booking(ref)["visit"]["state"] == "no_show"
    rows = office.store.all("SELECT entity_id FROM outbox WHERE type = 'appointment.no_show'")
    assert [r["entity_id"] for r in rows] == [ref]
    assert office.appointments.mark_no_shows()["no_shows"] == []  # once


def test_mark_no_shows_leaves_checked_in_cancelled_and_open_windows(office, publish,
                                                                    valid_nid, clock):
    done = publish(6)
    cancelled = publish(7, state="cancelled")
    later = publish(8, slot_start="2026-11-24T10:00:00.000+00:00")
    missed = publish(9)
    clock.set("2026-11-24T09:00:00+00:00")
    office.appointments.check_in(done, valid_nid(6))
    clock.set("2026-11-24T09:20:00+00:00")
    assert office.appointments.mark_no_shows()["no_shows"] == [missed]
    states = {b["reference"]: b["state"] for b in office.appointments.today()}
    assert states == {done: "checked_in", cancelled: "cancelled", later: "booked",
                      missed: "no_show"}


def test_a_wrong_national_id_changes_nothing(office, publish, valid_nid, clock, db_state):
    ref = publish(10)
    clock.set("2026-11-24T09:00:00+00:00")
    before = db_state()
    with pytest.raises(PermissionDenied) as exc:
        office.appointments.check_in(ref, valid_nid(11))
    assert exc.value.details["reason"] == "national_id_mismatch"
    assert db_state() == before


@pytest.mark.parametrize("typed, reason", [("ZZZZ", "malformed_reference"),
                                           ("not a reference at all", "malformed_reference")])
def test_a_malformed_reference_is_refused(office, valid_nid, typed, reason):
    with pytest.raises(ValidationError) as exc:
        office.appointments.check_in(typed, valid_nid(1))
    assert exc.value.details["reason"] == reason


def test_one_wrong_character_fails_the_check(office, publish, valid_nid):
    ref = publish(12)
    wrong = ("1" if ref[0] != "1" else "2") + ref[1:]
    with pytest.raises(ValidationError) as exc:
        office.appointments.check_in(wrong, valid_nid(12))
    assert exc.value.details["reason"] == "bad_check_character"
    swapped = ref[1] + ref[0] + ref[2:]
    if swapped != ref:
        with pytest.raises(ValidationError):
            office.appointments.check_in(swapped, valid_nid(12))


def test_typing_is_forgiving(office, publish, valid_nid, clock):
    ref = publish(13)
    clock.set("2026-11-24T09:00:00+00:00")
    typed = booking_codes.shown(ref).lower().replace("0", "o").replace("1", "l")
    assert office.appointments.check_in(f"  {typed} ", valid_nid(13))["appointment"]


def test_malformed_national_id(office, publish):
    ref = publish(14)
    with pytest.raises(ValidationError) as exc:
        office.appointments.check_in(ref, "12345")
    assert exc.value.details["problem"] == "national_id_format"


def test_unknown_cancelled_twice_and_other_office(office, publish, valid_nid, clock):
    clock.set("2026-11-24T09:00:00+00:00")
    unknown = booking_codes.make_reference(fixed_bytes(99))
    with pytest.raises(NotFound) as exc:
        office.appointments.check_in(unknown, valid_nid(1))
    assert exc.value.details["reason"] == "unknown_booking"
    cancelled = publish(15, state="cancelled")
    with pytest.raises(InvalidState) as exc:
        office.appointments.check_in(cancelled, valid_nid(15))
    assert exc.value.details["reason"] == "appointment_cancelled"
    ref = publish(16)
    office.appointments.check_in(ref, valid_nid(16))
    with pytest.raises(InvalidState) as exc:
        office.appointments.check_in(ref, valid_nid(16))
    assert exc.value.details["reason"] == "already_checked_in"
    with pytest.raises(NotFound) as exc:
        office.appointments.check_in(f"NFB:RIF:{ref}", valid_nid(16))
    assert exc.value.details["reason"] == "other_office"
    foreign = publish(17, office_code="RIF")  # published here by mistake: not this office's
    with pytest.raises(NotFound):
        office.appointments.check_in(foreign, valid_nid(17))


def test_the_daily_cap_does_not_refuse_a_booked_visit(office, publish, valid_nid, clock,
                                                      monkeypatch):
    from core import ticket_limits
    ref = publish(18)
    clock.set("2026-11-24T09:00:00+00:00")

    def full(*_a, **_k):
        raise InvalidState("full", reason="service_full_today")
    monkeypatch.setattr(ticket_limits, "check", full)
    with pytest.raises(InvalidState):
        office.queue.take_ticket(SERVICE)
    assert office.appointments.check_in(ref, valid_nid(18))["number"]


def test_reference_codes_round_trip():
    for seed in range(200):
        ref = booking_codes.make_reference(fixed_bytes(seed))
        assert booking_codes.parse_reference(booking_codes.shown(ref)) == ref
        assert booking_codes.parse_qr(booking_codes.qr_text("MUH", ref)) == ("MUH", ref)
        for i in range(len(ref)):  # every single wrong character is caught
            for char in booking_codes.ALPHABET:
                if char != ref[i]:
                    with pytest.raises(ValidationError):
                        booking_codes.parse_reference(ref[:i] + char + ref[i + 1:])
    assert booking_codes.parse_qr("NFT:MUH:01ABC") is None
