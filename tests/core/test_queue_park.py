"""Park and resume: a called or serving ticket set aside while the resident fetches a document,
then served again at its counter or another (docs/queue.md)."""
import json

import pytest

from core.errors import InvalidState, NotFound, ValidationError
from core.office import Office
from core.settings import load_settings


def outbox_events(office, entity_id):
    return [json.loads(r["body"]) for r in office.store.all(
        "SELECT body FROM outbox WHERE entity_id = ? ORDER BY seq", (entity_id,))]


def counts(office):
    conn = office.store.conn
    return tuple(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                 for t in ("ticket_events", "outbox", "audit"))


def called(office, service="R", counter="1"):
    t = office.queue.take_ticket(service)
    assert office.queue.call_next(counter, [service])["id"] == t["id"]
    return t


def test_park_a_called_ticket_keeps_its_number_counter_and_service(office, clock):
    t = called(office, counter="2")
    clock.advance(minutes=1)
    parked = office.queue.park(t["number"])
    assert (parked["id"], parked["state"], parked["number"], parked["counter"],
            parked["service_code"], parked["call_count"], parked["serving_at"]) == \
        (t["id"], "parked", "R001", "2", "residence-certificate", 1, None)
    assert office.queue.get(t["id"]) == parked
    last = office.queue.events(t["id"])[-1]
    assert (last["from_state"], last["to_state"], last["counter"], last["at"]) == \
        ("called", "parked", "2", "2026-11-24T08:01:00.000+00:00")
    event = outbox_events(office, t["id"])[-1]
    assert (event["type"], event["data"]) == ("ticket.parked", parked)
    audit = office.store.one("SELECT action, entity_id FROM audit ORDER BY seq DESC LIMIT 1")
    assert audit == {"action": "ticket.parked", "entity_id": t["id"]}


def test_park_a_serving_ticket_keeps_its_serving_time(office, clock):
    t = called(office)
    served = office.queue.start_serving(t["id"])
    clock.advance(minutes=3)
    parked = office.queue.park(t["id"])
    assert parked["state"] == "parked"
    assert parked["serving_at"] == served["serving_at"] == "2026-11-24T08:00:00.000+00:00"
    assert [e["to_state"] for e in office.queue.events(t["id"])] == \
        ["waiting", "called", "serving", "parked"]


def test_call_next_never_returns_a_parked_ticket(office, clock):
    first = called(office)
    office.queue.park(first["id"])
    clock.advance(minutes=1)
    second = office.queue.take_ticket("R")
    assert second["people_ahead"] == 0  # the parked resident is not waiting
    assert office.queue.call_next("1")["id"] == second["id"]
    assert office.queue.call_next("1") is None
    assert office.queue.call_next("2", ["R"]) is None
    assert office.queue.get(first["id"])["state"] == "parked"
    assert "people_ahead" not in office.queue.get(first["id"])


def test_resume_at_the_counter_it_was_parked_at(office, clock):
    t = called(office, counter="2")
    office.queue.start_serving(t["id"])
    office.queue.park(t["id"])
    clock.advance(minutes=10)
    resumed = office.queue.resume(t["number"])
    assert (resumed["state"], resumed["counter"], resumed["serving_at"]) == \
        ("serving", "2", "2026-11-24T08:00:00.000+00:00")
    last = office.queue.events(t["id"])[-1]
    assert (last["from_state"], last["to_state"], last["counter"]) == ("parked", "serving", "2")
    event = outbox_events(office, t["id"])[-1]
    assert (event["type"], event["data"]) == ("ticket.resumed", resumed)
    assert office.queue.finish(t["id"])["state"] == "done"


def test_resume_at_another_counter_starts_the_service_time_if_never_served(office, clock):
    t = called(office, counter="2")
    office.queue.park(t["id"])
    clock.advance(minutes=10)
    resumed = office.queue.resume(t["id"], "3")
    assert (resumed["state"], resumed["counter"], resumed["serving_at"]) == \
        ("serving", "3", "2026-11-24T08:10:00.000+00:00")
    assert office.queue.events(t["id"])[-1]["counter"] == "3"
    clock.advance(minutes=4)
    office.queue.finish(t["id"])
    assert office.queue.stats()["mean_service_minutes"] == 4.0


def test_cancel_a_parked_ticket(office):
    t = called(office)
    office.queue.park(t["id"])
    cancelled = office.queue.cancel(t["id"])
    assert (cancelled["state"], cancelled["finished_at"]) == \
        ("cancelled", "2026-11-24T08:00:00.000+00:00")
    assert office.queue.events(t["id"])[-1]["from_state"] == "parked"
    assert outbox_events(office, t["id"])[-1]["type"] == "ticket.cancelled"
    with pytest.raises(InvalidState):
        office.queue.resume(t["id"])


def waiting(office):
    return office.queue.take_ticket("R")


def done(office):
    t = called(office)
    office.queue.finish(t["id"])
    return t


def parked(office):
    t = called(office)
    office.queue.park(t["id"])
    return t


def serving(office):
    t = called(office)
    office.queue.start_serving(t["id"])
    return t


@pytest.mark.parametrize("make, action, state, needs", [
    (waiting, "park", "waiting", "called or serving"),
    (done, "park", "done", "called or serving"),
    (parked, "park", "parked", "called or serving"),
    (waiting, "resume", "waiting", "parked"),
    (called, "resume", "called", "parked"),
    (serving, "resume", "serving", "parked"),
    (done, "resume", "done", "parked"),
    # a parked ticket is resumed or cancelled, nothing else
    (parked, "finish", "parked", "called or serving"),
    (parked, "start_serving", "parked", "called"),
    (parked, "recall", "parked", "called"),
    (parked, "no_show", "parked", "called"),
])
def test_bad_moves_are_refused_and_change_nothing(office, db_state, make, action, state, needs):
    t = make(office)
    before, row, n = db_state(), office.queue.get(t["id"]), counts(office)
    with pytest.raises(InvalidState) as info:
        getattr(office.queue, action)(t["number"])
    assert str(info.value).startswith(f"ticket {t['number']} is {state}; ")
    assert str(info.value).endswith(f"needs it {needs}")
    assert (office.queue.get(t["id"]), counts(office)) == (row, n)
    assert db_state() == before


def test_a_parked_ticket_cannot_be_transferred(office, db_state):
    t = parked(office)
    before = db_state()
    with pytest.raises(InvalidState):
        office.queue.transfer(t["id"], "B")
    assert db_state() == before


@pytest.mark.parametrize("action", ["park", "resume"])
def test_unknown_ticket(office, db_state, action):
    called(office)
    before, n = db_state(), counts(office)
    with pytest.raises(NotFound):
        getattr(office.queue, action)("R999")
    assert (db_state(), counts(office)) == (before, n)


def test_resume_at_a_badly_named_counter_changes_nothing(office, db_state):
    t = parked(office)
    before = db_state()
    with pytest.raises(ValidationError) as info:
        office.queue.resume(t["id"], "counter 3!")
    assert info.value.to_dict()["field"] == "counter"
    assert db_state() == before


def test_list_and_stats_show_parked_tickets(office):
    parked_ticket = parked(office)
    done(office)
    waiting_ticket = waiting(office)
    assert [(t["id"], t["state"]) for t in office.queue.list()] == \
        [(parked_ticket["id"], "parked"), (waiting_ticket["id"], "waiting")]
    assert [t["id"] for t in office.queue.list(("parked",))] == [parked_ticket["id"]]
    by_state = office.queue.stats()["by_state"]
    assert (by_state["parked"], by_state["waiting"], by_state["done"]) == (1, 1, 1)


def test_a_parked_ticket_keeps_its_number_when_numbering_wraps(tmp_path, clock, ids):
    settings = load_settings(tmp_path, environ={"NAFITHA_QUEUE__NUMBER_START": "1",
                                                "NAFITHA_QUEUE__NUMBER_END": "2"})
    office = Office.open(settings, clock=clock, ids=ids)
    try:
        first = called(office)
        office.queue.park(first["id"])
        second = office.queue.take_ticket("R")
        office.queue.cancel(second["id"])
        # R1 is parked: the range comes round to R2, never to the parked resident's number
        assert office.queue.take_ticket("R")["number"] == "R2"
        with pytest.raises(InvalidState, match="every ticket number of R is in use"):
            office.queue.take_ticket("R")
    finally:
        office.close()
