"""Residents' ratings of a finished visit (core/ratings.py, docs/ratings.md): 1-5, once, only
for a served ticket, within the window after its finish, only by its own counter's screen;
the row, the audit entry and the event ticket.rated in one transaction, with nothing of the
resident; every refusal changes nothing. What a counter's screen asks about (awaiting)."""
import json

import pytest

from core import migrations
from core.errors import InvalidState, PermissionDenied, ValidationError
from core.office import Office
from core.pairing import Devices
from core.ratings import RATE_WITHIN_S

RES = "residence-certificate"


def served(office, clock, counter="3", service=RES) -> dict:
    """A ticket taken, called at `counter`, served and finished."""
    office.queue.take_ticket(service)
    clock.advance(60)
    ticket = office.queue.call_next(counter, [service])
    clock.advance(30)
    office.queue.start_serving(ticket["id"])
    clock.advance(120)
    return office.queue.finish(ticket["id"])


def outbox_events(office, event_type):
    return [json.loads(r[0]) for r in office.store.conn.execute(
        "SELECT body FROM outbox WHERE type = ? ORDER BY seq", (event_type,))]


def test_a_served_ticket_is_rated_once_with_its_event_and_audit_entry(office, clock):
    ticket = served(office, clock)
    clock.advance(20)
    with office.acting_as("rating:rate-3"):
        rated = office.ratings.rate(ticket["id"], 4, counter="3")
    assert rated["rating"] == 4 and rated["counter"] == "3" and rated["service_code"] == RES
    row = office.ratings.of_ticket(ticket["id"])
    assert (row["rating"], row["counter"], row["service_code"]) == (4, "3", RES)

    (event,) = outbox_events(office, "ticket.rated")
    # Nothing of the resident: the ticket, the rating, where and for what.
    assert event["data"] == {"id": ticket["id"], "rating": 4, "counter": "3",
                             "service_code": RES}
    assert event["entity_type"] == "ticket" and event["entity_id"] == ticket["id"]
    assert event["actor"] == "rating:rate-3"
    audit = office.store.one("SELECT * FROM audit WHERE action = 'ticket.rated'")
    assert audit["entity_id"] == ticket["id"] and json.loads(audit["data"])["rating"] == 4
    assert office.verify_audit()["ok"]


@pytest.mark.parametrize("rating", [1, 5])
def test_the_ends_of_the_scale_are_accepted(office, clock, rating):
    ticket = served(office, clock)
    assert office.ratings.rate(ticket["number"], rating)["rating"] == rating  # by number too


@pytest.mark.parametrize("rating", [0, 6, -1, 3.5, "4", None, True, 400])
def test_a_rating_outside_1_to_5_is_refused_and_changes_nothing(office, clock, db_state,
                                                              rating):
    ticket = served(office, clock)
    before = db_state()
    with pytest.raises(ValidationError) as refused:
        office.ratings.rate(ticket["id"], rating)
    assert refused.value.field == "rating" and refused.value.details["reason"] == "rating_range"
    assert db_state() == before


def test_a_second_rating_is_refused_and_changes_nothing(office, clock, db_state):
    ticket = served(office, clock)
    office.ratings.rate(ticket["id"], 2)
    before = db_state()
    for rating in (2, 5):
        with pytest.raises(InvalidState) as refused:
            office.ratings.rate(ticket["id"], rating)
        assert refused.value.details["reason"] == "already_rated"
    assert db_state() == before
    assert office.ratings.of_ticket(ticket["id"])["rating"] == 2
    assert len(outbox_events(office, "ticket.rated")) == 1


def test_only_a_served_ticket_is_rated(office, clock, db_state):
    waiting = office.queue.take_ticket(RES)
    before = db_state()
    with pytest.raises(InvalidState) as refused:
        office.ratings.rate(waiting["id"], 5)
    assert refused.value.details["reason"] == "not_served"
    called = office.queue.call_next("3")
    for state_of in (called, office.queue.start_serving(called["id"])):
        assert state_of["state"] in ("called", "serving")
        before = db_state()
        with pytest.raises(InvalidState):
            office.ratings.rate(called["id"], 5)
        assert db_state() == before
    office.queue.take_ticket(RES)
    no_show = office.queue.call_next("4")
    for _ in range(office.settings.queue.call_limit):
        office.queue.recall(no_show["id"])
    assert office.queue.get(no_show["id"])["state"] == "no_show"
    before = db_state()
    with pytest.raises(InvalidState) as refused:
        office.ratings.rate(no_show["id"], 1)
    assert refused.value.details["reason"] == "not_served"
    assert db_state() == before


def test_not_after_the_window(office, clock, db_state):
    ticket = served(office, clock)
    clock.advance(RATE_WITHIN_S)  # the last second of the window still counts
    office.ratings.rate(ticket["id"], 3)
    late = served(office, clock)
    clock.advance(RATE_WITHIN_S + 1)
    before = db_state()
    with pytest.raises(InvalidState) as refused:
        office.ratings.rate(late["id"], 3)
    assert refused.value.details["reason"] == "rating_closed"
    assert db_state() == before


def test_a_screen_rates_only_its_own_counters_tickets(office, clock, db_state):
    ticket = served(office, clock, counter="3")
    before = db_state()
    with pytest.raises(PermissionDenied) as refused:
        office.ratings.rate(ticket["id"], 5, counter="4")
    assert refused.value.details["reason"] == "other_counter"
    assert db_state() == before
    assert office.ratings.rate(ticket["id"], 5, counter="3")["rating"] == 5


def test_an_unknown_ticket_is_not_found_and_changes_nothing(office, clock, db_state):
    from core.errors import NotFound
    before = db_state()
    with pytest.raises(NotFound):
        office.ratings.rate("01JUNKNOWNTICKET", 4)
    assert db_state() == before


# --- what the counter's screen asks about ----------------------------------------------------
def test_awaiting_follows_the_counter(office, clock):
    assert office.ratings.awaiting("3") is None  # nothing finished yet
    first = served(office, clock, counter="3")
    served(office, clock, counter="5")  # another counter's visit is not asked at 3
    asked = office.ratings.awaiting("3")
    assert asked["ticket"] == first["id"] and asked["number"] == first["number"]
    assert 0 < asked["closes_in_s"] <= RATE_WITHIN_S

    office.ratings.rate(first["id"], 4, counter="3")
    assert office.ratings.awaiting("3") is None  # rated: the screen clears

    second = served(office, clock, counter="3")
    assert office.ratings.awaiting("3")["ticket"] == second["id"]
    office.queue.take_ticket(RES)
    office.queue.call_next("3")  # the next resident is called: not the last one's screen
    assert office.ratings.awaiting("3") is None

    third = served(office, clock, counter="6")
    clock.advance(RATE_WITHIN_S + 1)
    assert office.ratings.awaiting("6") is None  # the window is over
    with pytest.raises(InvalidState):
        office.ratings.rate(third["id"], 4)


def test_a_no_show_after_a_finish_ends_the_question(office, clock):
    served(office, clock, counter="3")
    office.queue.take_ticket(RES)
    clock.advance(5)
    gone = office.queue.call_next("3")
    for _ in range(office.settings.queue.call_limit):
        clock.advance(5)
        office.queue.recall(gone["id"])
    assert office.ratings.awaiting("3") is None


# --- the store and the devices ---------------------------------------------------------------
def test_a_rating_screen_faces_one_counter(office):
    devices = Devices(office)
    device = devices.create_pairing("rating", "rate-3", counter="3")["device"]
    assert device["role"] == "rating" and device["counter"] == "3"
    token = devices.redeem(devices.create_pairing("rating", "rate-3", counter="4")["code"])[1]
    assert devices.authenticate(token, ("rating",))["counter"] == "4"  # moved to counter 4
    with pytest.raises(PermissionDenied):
        devices.authenticate(token, ("board",))
    for role, counter, field in (("rating", None, "counter"), ("rating", "no spaces", "counter"),
                                 ("board", "3", "counter")):
        with pytest.raises(ValidationError) as refused:
            devices.create_pairing(role, "screen-x", counter=counter)
        assert refused.value.field == field
    assert "counter" not in devices.create_pairing("board", "hall")["device"]


def test_m022_keeps_the_paired_devices(tmp_path, clock, ids, monkeypatch, certified):
    """A hub store paired before m022: its devices, tokens and sessions survive the rebuild
    of hub_devices, and a rating screen pairs afterwards."""
    from core.settings import load_settings
    settings = load_settings(tmp_path, environ={})
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:21])
    old = Office.open(settings, clock=clock, ids=ids)
    devices = Devices(old)
    token = devices.redeem(devices.create_pairing("counter", "3")["code"])[1]
    device = devices.authenticate(token)
    devices.start_session(device, "sara")
    assert old.ratings.awaiting("3") is None  # no table yet: nothing asked, nothing broken
    with pytest.raises(InvalidState):
        old.ratings.rate("x", 3)
    old.close()
    monkeypatch.undo()

    office = Office.open(settings, clock=clock, ids=ids)
    try:
        devices = Devices(office)
        assert devices.authenticate(token)["name"] == "3"
        assert office.store.conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert office.store.one("SELECT COUNT(*) AS n FROM hub_sessions")["n"] == 1
        assert devices.create_pairing("rating", "rate-3", counter="3")["device"]["counter"] == "3"
        served(office, clock)
        assert office.ratings.rate(office.ratings.awaiting("3")["ticket"], 5)["rating"] == 5
    finally:
        office.close()


# --- the figures ------------------------------------------------------------------------------
def test_ratings_count_in_the_figures_by_service_and_counter(office, clock):
    """The event feeds the KPI facts in its own transaction (core/kpis.py): the day's report
    has each counter's and each service's mean rating, and no figure by resident."""
    from core import kpis
    plan = [("3", RES, 5), ("3", RES, 4), ("4", RES, 2), ("4", "address-form", 3)]
    for counter, service, rating in plan:
        ticket = served(office, clock, counter=counter, service=service)
        office.ratings.rate(ticket["id"], rating, counter=counter)
    served(office, clock, counter="4")  # served, never rated: not in n
    report = kpis.report(kpis.HubFacts(office.store),
                         kpis.Period.day(office.queue.today()))
    visits = report["visits"]
    assert visits["total"]["rating"] == {"mean": 3.5, "n": 4}
    by_counter = {r["key"]: r["rating"] for r in visits["by_counter"]}
    assert by_counter == {"3": {"mean": 4.5, "n": 2}, "4": {"mean": 2.5, "n": 2}}
    by_service = {r["key"]: r["rating"] for r in visits["by_service"]}
    assert by_service == {RES: {"mean": 3.67, "n": 3}, "address-form": {"mean": 3.0, "n": 1}}
    # The facts hold the rating by ticket only, beside the ticket's own facts.
    columns = {r["name"] for r in office.store.all("PRAGMA table_info(kpi_visits)")}
    assert not columns & {"national_id", "name", "phone", "holder_name"}
