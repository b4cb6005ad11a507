"""Following a ticket on a phone (core/follow.py, docs/phone.md): the follow token (good,
forged, mangled, another centre's, a ticket this store does not hold), "I need more time"
(Queue.postpone: back N places once, to the end when fewer wait, only a waiting ticket),
leaving the queue as the phone, and the one-read view of the whole queue the hub shares
between phones."""
from __future__ import annotations

import json
import random

import pytest

from core.clock import UlidFactory
from core.errors import InvalidState, NotFound, PermissionDenied, ValidationError
from core.follow import MAC_LENGTH
from core.office import Office
from core.settings import load_settings

RES = "residence-certificate"


def take(office, n: int, service: str = RES) -> list[dict]:
    out = []
    for _ in range(n):
        out.append(office.queue.take_ticket(service))
        office.store.clock.advance(30)
    return out


def waiting_order(office, service: str = RES) -> list[str]:
    return [t["number"] for t in office.queue.list(("waiting",), service=service)]


def events_of(office, event_type: str) -> list[dict]:
    return [json.loads(r[0]) for r in office.store.conn.execute(
        "SELECT body FROM outbox WHERE type = ? ORDER BY seq", (event_type,))]


# --- the token ------------------------------------------------------------------------------
def test_a_tickets_token_opens_that_ticket_only(office):
    a, b = take(office, 2)
    token = office.follow.token(a["id"])
    code, ticket_id, mac = token.split(".")
    assert (code, ticket_id, len(mac)) == ("MUH", a["id"], MAC_LENGTH)
    assert office.follow.ticket_of(token) == a["id"]
    assert office.follow.token(a["id"]) == token  # the same link every time
    assert office.follow.token(b["id"]) != token
    view = office.follow.view(a["id"])
    assert view == {"number": a["number"], "service_code": RES, "state": "waiting",
                    "counter": None, "call_count": 0, "people_ahead": 0,
                    "estimated_wait_minutes": 0, "postponed": False,
                    "can_have_more_time": True}
    assert office.follow.view(b["id"])["people_ahead"] == 1


def test_the_secret_is_made_once_and_kept_in_the_store(office, settings, clock, ids):
    a = take(office, 1)[0]
    token = office.follow.token(a["id"])
    rows = office.store.all("SELECT office, length(secret) AS n FROM follow_secrets")
    assert rows == [{"office": "MUH", "n": 32}]
    again = Office.open(settings, clock=clock, ids=ids)  # another process on the same store
    try:
        assert again.follow.ticket_of(token) == a["id"]
    finally:
        again.close()


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),   # one character of the mac changed
    lambda t: t.rsplit(".", 1)[0] + "." + "A" * MAC_LENGTH,
    lambda t: t.rsplit(".", 1)[0],                        # no mac
    lambda t: t + "A",                                    # too long
    lambda t: t.lower(),
    lambda t: "",
    lambda t: "../../etc/passwd",
])
def test_a_forged_or_mangled_token_is_refused(office, mangle):
    a = take(office, 1)[0]
    with pytest.raises(PermissionDenied) as refused:
        office.follow.ticket_of(mangle(office.follow.token(a["id"])))
    assert refused.value.details["reason"] == "forged"


def test_a_token_for_another_tickets_id_with_this_mac_is_refused(office):
    a, b = take(office, 2)
    mac = office.follow.token(a["id"]).rsplit(".", 1)[1]
    with pytest.raises(PermissionDenied) as refused:
        office.follow.ticket_of(f"MUH.{b['id']}.{mac}")
    assert refused.value.details["reason"] == "forged"


def test_another_centres_token_is_refused(office, tmp_path, clock, certified):
    """Another centre: its own store and secret. Its link names its own office code (refused
    as another centre's); the same ticket id under our code is a forgery here."""
    other_settings = load_settings(tmp_path / "other", environ={"NAFITHA_OFFICE__CODE": "RIF"})
    other = Office.open(other_settings, clock=clock,
                        ids=UlidFactory(clock, random.Random(99)))
    try:
        theirs = other.queue.take_ticket(RES)
        token = other.follow.token(theirs["id"])
        assert token.startswith("RIF.")
        with pytest.raises(PermissionDenied) as refused:
            office.follow.ticket_of(token)
        assert refused.value.details["reason"] == "other_office"
        assert "another service centre" in refused.value.message
        with pytest.raises(PermissionDenied) as refused:
            office.follow.ticket_of("MUH." + token.split(".", 1)[1])
        assert refused.value.details["reason"] == "forged"
        assert other.follow.secret() != office.follow.secret()
    finally:
        other.close()


def test_a_good_token_for_a_ticket_this_store_does_not_hold_is_not_found(office):
    token = office.follow.token("01ZZZZZZZZZZZZZZZZZZZZZZZZ")  # signed here, never taken
    with pytest.raises(NotFound) as missing:
        office.follow.ticket_of(token)
    assert missing.value.details["reason"] == "no_such_ticket"


def test_the_follow_url_needs_the_offices_public_address(office):
    a = take(office, 1)[0]
    assert office.follow.url(a["id"]) is None  # no hub.public_url: no QR on the slip
    office.settings.hub.public_url = "http://192.168.1.10:8471/"
    assert office.follow.url(a["id"]) == \
        f"http://192.168.1.10:8471/q/{office.follow.token(a['id'])}"


# --- more time ------------------------------------------------------------------------------
def test_more_time_moves_back_n_places_once(office):
    tickets = take(office, 6)
    assert waiting_order(office) == ["R001", "R002", "R003", "R004", "R005", "R006"]
    token = office.follow.token(tickets[1]["id"])
    before = office.follow.view(tickets[1]["id"])["people_ahead"]
    out = office.follow.more_time(token)  # 3 places (queue.more_time_places)
    assert out["moved_places"] == 3 and out["postponed"] and not out["can_have_more_time"]
    assert out["people_ahead"] == before + 3
    assert waiting_order(office) == ["R001", "R003", "R004", "R005", "R002", "R006"]
    # One ticket event from waiting to waiting, one outbox event, the phone as the actor.
    events = office.queue.events(tickets[1]["id"])
    assert [(e["from_state"], e["to_state"], e["actor"]) for e in events] == [
        (None, "waiting", "system"), ("waiting", "waiting", "phone")]
    [event] = events_of(office, "ticket.postponed")
    assert event["data"]["number"] == "R002" and event["data"]["state"] == "waiting"
    assert event["data"]["postponed_at"]
    # A second time is refused and changes nothing.
    with pytest.raises(InvalidState) as refused:
        office.follow.more_time(token)
    assert refused.value.details["reason"] == "already_postponed"
    assert waiting_order(office)[4] == "R002"
    assert len(events_of(office, "ticket.postponed")) == 1
    # The clerks call in the new order.
    called = [office.queue.call_next("1", [RES])["number"] for _ in range(5)]
    assert called == ["R001", "R003", "R004", "R005", "R002"]


def test_more_time_beyond_the_end_goes_to_the_end(office):
    tickets = take(office, 3)
    moved = office.queue.postpone(tickets[1]["id"], 5)
    assert moved["moved_places"] == 1
    assert waiting_order(office) == ["R001", "R003", "R002"]
    last = office.queue.postpone(tickets[0]["id"], 3)  # the first, behind the new last
    assert last["moved_places"] == 2
    assert waiting_order(office) == ["R003", "R002", "R001"]


def test_more_time_for_the_last_one_keeps_it_last(office):
    tickets = take(office, 2)
    assert office.queue.postpone(tickets[1]["id"], 3)["moved_places"] == 0
    assert waiting_order(office) == ["R001", "R002"]
    with pytest.raises(InvalidState):  # used up all the same
        office.queue.postpone(tickets[1]["id"], 3)


def test_only_other_services_tickets_are_not_passed(office):
    r1, _r2 = take(office, 2)
    a1 = take(office, 1, "address-form")[0]
    office.queue.postpone(r1["id"], 3)
    assert waiting_order(office) == ["R002", "R001"]
    assert waiting_order(office, "address-form") == [a1["number"]]


def test_more_time_needs_a_waiting_ticket(office):
    a, b = take(office, 2)
    office.queue.call_next("1", [RES])
    with pytest.raises(InvalidState) as refused:
        office.follow.more_time(office.follow.token(a["id"]))
    assert refused.value.details["reason"] == "not_waiting"
    office.queue.cancel(b["id"])
    with pytest.raises(InvalidState) as refused:
        office.queue.postpone(b["id"], 3)
    assert refused.value.details["reason"] == "not_waiting"
    assert events_of(office, "ticket.postponed") == []


@pytest.mark.parametrize("places", [0, -1, 101, 2.5, True, "3"])
def test_a_wrong_number_of_places_is_refused(office, places):
    a = take(office, 1)[0]
    with pytest.raises(ValidationError):
        office.queue.postpone(a["id"], places)
    assert office.follow.view(a["id"])["postponed"] is False


# --- leave ----------------------------------------------------------------------------------
def test_leave_cancels_the_ticket_as_the_phone(office):
    a, b = take(office, 2)
    out = office.follow.leave(office.follow.token(a["id"]))
    assert out["state"] == "cancelled" and out["people_ahead"] is None
    assert office.queue.events(a["id"])[-1]["actor"] == "phone"
    assert office.follow.view(b["id"])["people_ahead"] == 0
    with pytest.raises(InvalidState):
        office.follow.leave(office.follow.token(a["id"]))


# --- the shared view ------------------------------------------------------------------------
def test_one_read_of_the_queue_gives_every_phone_what_its_own_read_would(office, clock):
    tickets = take(office, 4) + take(office, 2, "address-form")
    office.queue.call_next("3", [RES])
    office.queue.postpone(tickets[2]["id"], 1)
    clock.advance(120)
    followed = office.queue.followed()
    for t in tickets:
        assert office.follow.view(t["id"], followed) == office.follow.view(t["id"]), t["number"]
    called = office.follow.view(tickets[0]["id"], followed)
    assert (called["state"], called["counter"], called["people_ahead"]) == ("called", "3", None)


def test_a_ticket_left_waiting_from_yesterday_counts_ahead_on_the_phone_too(office, clock):
    """Call next would take yesterday's waiting ticket first, and estimate() counts it: the
    phones' shared read must agree (it read today's tickets only)."""
    stale = take(office, 1)[0]
    clock.advance(24 * 3600)
    mine = take(office, 1)[0]
    followed = office.queue.followed()
    assert office.follow.view(mine["id"], followed)["people_ahead"] == 1
    assert office.follow.view(mine["id"], followed) == office.follow.view(mine["id"])
    assert office.queue.call_next("3", [RES])["id"] == stale["id"]
