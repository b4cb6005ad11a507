"""core.queue.Queue.service_usage: how often each service was used lately (tickets, and
applications made without one), what a kiosk orders its services by; and the kiosk face's
operation that carries it (in-process here; the hub route derives from the declaration)."""
from __future__ import annotations

import pytest

from core.errors import ValidationError
from core.faces.kiosk import KioskFace


def test_tickets_and_applications_without_a_ticket_count_for_30_local_days(office, clock,
                                                                         submit_valid):
    queue = office.queue
    assert queue.service_usage() == {}
    queue.take_ticket("residence-certificate")  # 31 days ago: outside the window
    clock.advance(days=31)
    for _ in range(3):
        queue.take_ticket("building-permit-small")
    queue.take_ticket("residence-certificate")
    submit_valid("residence-certificate")  # at the kiosk, no ticket: one use
    queue.take_ticket("excavation-permit")
    assert queue.service_usage() == {"building-permit-small": 3, "residence-certificate": 2,
                                     "excavation-permit": 1}
    assert queue.service_usage(days=1) == queue.service_usage()
    clock.advance(days=29)  # today's uses are still inside the 30 days
    assert queue.service_usage()["building-permit-small"] == 3
    clock.advance(days=1)
    assert queue.service_usage() == {}
    assert KioskFace(office).service_usage() == {}


def test_an_application_with_its_ticket_is_counted_once(office, valid_fields):
    ticket = office.queue.take_ticket("residence-certificate")
    office.applications.submit("residence-certificate", valid_fields(),
                               ticket=ticket["id"])
    assert office.queue.service_usage() == {"residence-certificate": 1}


@pytest.mark.parametrize("days", [0, -1, 367, 1.5, True, "30"])
def test_a_period_that_is_not_whole_days_is_refused(office, days):
    office.queue.take_ticket("residence-certificate")
    before = office.store.one("SELECT COUNT(*) AS n FROM tickets")["n"]
    with pytest.raises(ValidationError) as caught:
        office.queue.service_usage(days)
    assert caught.value.field == "days" and caught.value.details["reason"] == "not_a_period"
    assert office.store.one("SELECT COUNT(*) AS n FROM tickets")["n"] == before
