"""An appointment from booking to the queue: booked at central, pulled by its office as
reference data (and not by another office), checked in with the national ID at the office,
missed by another resident; the office's appointment.checked_in and appointment.no_show
reach central, which records them against the bookings; a cancellation reaches the office
and refuses its check-in."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from central import appointments as ap
from central.db import appointments as booking_rows
from core import reference
from core.errors import InvalidState
from core.text import with_check_digit
from sync.agent import SyncAgent

SERVICE = "residence-certificate"


def nid(n: int) -> str:
    return with_check_digit(f"{85020000 + n:08d}", "luhn")


@pytest.fixture
def world(two_offices):
    return two_offices(("MUH", "D01"), ("RIF", "K01"))


def states(central) -> dict:
    with central.engine.connect() as conn:
        return {r.reference: (r.state, r.ticket_number) for r in conn.execute(
            sa.select(booking_rows.c.reference, booking_rows.c.state,
                      booking_rows.c.ticket_number))}


def test_booked_pulled_checked_in_missed_and_cancelled(world, clock):
    central, _server, north, south = world
    # The clock reads 08:00 UTC (11:00 in Bahrain); the office opens for bookings 08-14.
    ap.set_plan(central, "MUH", SERVICE, "sun-thu 08:00-14:00", 30, 2)
    on_time = ap.book(central, "MUH", SERVICE, "2026-11-24T12:00:00+03:00", nid(1))
    missed = ap.book(central, "MUH", SERVICE, "2026-11-24T12:00:00+03:00", nid(2))
    cancelled = ap.book(central, "MUH", SERVICE, "2026-11-24T12:30:00+03:00", nid(3))
    for office in (north, south):
        SyncAgent(office).once()
    held = {r["key"] for r in reference.rows(north.store, "appointment")}
    assert held == {on_time["reference"], missed["reference"], cancelled["reference"]}
    assert reference.rows(south.store, "appointment") == []
    assert nid(1) not in str(reference.rows(north.store, "appointment"))  # only its hash

    ap.cancel(central, cancelled["reference"], nid(3))
    clock.set("2026-11-24T08:50:00+00:00")  # 11:50: ten minutes before the slot
    SyncAgent(north).once()
    with pytest.raises(InvalidState) as exc:
        north.appointments.check_in(cancelled["qr"], nid(3))
    assert exc.value.details["reason"] == "appointment_cancelled"
    ticket = north.appointments.check_in(on_time["qr"], nid(1))

    clock.set("2026-11-24T09:16:00+00:00")  # the grace is over: the other is a no-show
    SyncAgent(north).once()  # marks it, and pushes both events
    assert states(central) == {on_time["reference"]: ("checked_in", ticket["number"]),
                               missed["reference"]: ("no_show", None),
                               cancelled["reference"]: ("cancelled", None)}
    day = ap.bookings(central, "MUH", "2026-11-24")
    assert [b["state"] for b in day] == ["checked_in", "no_show", "cancelled"]
