"""A counter's state (core/counter_states.py, docs/queue.md "Counter states"): open on sign-in,
closed on sign-out, a break or back-office work with a reason; each change one event with the
state it left; call next refused while away; bad input refused, nothing changed."""
from __future__ import annotations

import json

import pytest

from core.errors import InvalidState, ValidationError
from core.faces.counter import CounterFace
from store_rows import all_rows


@pytest.fixture
def clerks(office):
    office.users.create("sara", "clerk", "1234")
    office.users.create("ali", "clerk", "5678")
    return office


def events(office, kind="counter.state_changed") -> list[dict]:
    return [json.loads(r["body"]) for r in office.store.all(
        "SELECT body FROM outbox WHERE type = ? ORDER BY seq", (kind,))]


def audit_actions(office) -> list[str]:
    return [r["action"] for r in office.store.all("SELECT action FROM audit ORDER BY seq")]


def test_sign_in_opens_and_sign_out_closes_the_counter(clerks, clock):
    office = clerks
    face = CounterFace(office, "2")
    assert office.counter_states.get("2")["state"] == "closed"
    face.sign_in("sara", "1234")
    state = office.counter_states.get("2")
    assert (state["state"], state["clerk"], state["since"]) == \
        ("open", "sara", "2026-11-24T08:00:00.000+00:00")
    clock.advance(minutes=30)
    face.sign_out("sara")
    assert office.counter_states.get("2")["state"] == "closed"
    opened, closed = events(office)
    assert opened["actor"] == "sara" and opened["entity_type"] == "counter"
    assert opened["data"] == {"counter": "2", "clerk": "sara", "state": "open",
                              "reason": None, "note": None,
                              "since": "2026-11-24T08:00:00.000+00:00", "previous": None}
    assert closed["data"]["state"] == "closed"
    assert closed["data"]["previous"] == {"state": "open", "since": "2026-11-24T08:00:00.000+00:00",
                                          "clerk": "sara", "reason": None}
    assert audit_actions(office).count("counter.state_changed") == 2


def test_a_break_with_a_reason_and_back(clerks, clock):
    office = clerks
    face = CounterFace(office, "2")
    face.sign_in("sara", "1234")
    clock.advance(minutes=65)
    on_break = face.set_counter_state("sara", "break", "prayer")
    assert (on_break["state"], on_break["reason"]) == ("break", "prayer")
    clock.advance(minutes=12)
    face.set_counter_state("sara", "back_office", "other", "  filing the day's forms ")
    state = face.counter_state()
    assert (state["state"], state["reason"], state["note"]) == \
        ("back_office", "other", "filing the day's forms")
    clock.advance(minutes=20)
    face.set_counter_state("sara", "open")
    changes = [e["data"] for e in events(office)]
    assert [(c["state"], c["reason"]) for c in changes] == [
        ("open", None), ("break", "prayer"), ("back_office", "other"), ("open", None)]
    # each change names the interval it ends: what the KPI facts count as break time
    assert changes[2]["previous"] == {"state": "break", "since": "2026-11-24T09:05:00.000+00:00",
                                      "clerk": "sara", "reason": "prayer"}
    assert changes[3]["previous"]["state"] == "back_office"


def test_asking_for_the_same_state_again_writes_nothing(clerks):
    office = clerks
    face = CounterFace(office, "2")
    face.sign_in("sara", "1234")
    face.set_counter_state("sara", "break", "meal")
    before = all_rows(office.store)
    face.set_counter_state("sara", "break", "meal")
    # unlocking the screen (a sign-in by the same clerk) keeps the break
    face.sign_in("sara", "1234")
    assert all_rows(office.store) == before
    assert office.counter_states.get("2")["state"] == "break"


def test_another_clerk_signing_in_takes_the_counter_over(clerks):
    office = clerks
    CounterFace(office, "2").sign_in("sara", "1234")
    CounterFace(office, "2").set_counter_state("sara", "break", "rest")
    CounterFace(office, "2").sign_in("ali", "5678")
    state = office.counter_states.get("2")
    assert (state["state"], state["clerk"]) == ("open", "ali")
    assert events(office)[-1]["data"]["previous"]["clerk"] == "sara"
    # sara signing out elsewhere later does not close ali's counter
    CounterFace(office, "2").sign_out("sara")
    assert office.counter_states.get("2")["state"] == "open"


def test_call_next_is_refused_on_a_break_and_nothing_changes(clerks):
    office = clerks
    face = CounterFace(office, "2")
    face.sign_in("sara", "1234")
    office.queue.take_ticket("R")
    face.set_counter_state("sara", "break", "prayer")
    before = all_rows(office.store)
    with pytest.raises(InvalidState) as caught:
        face.call_next("sara")
    assert caught.value.details["reason"] == "counter_away"
    assert caught.value.details["away_reason"] == "prayer"
    assert all_rows(office.store) == before
    face.set_counter_state("sara", "open")
    assert face.call_next("sara")["number"] == "R001"


def test_call_next_is_refused_on_a_closed_counter(clerks):
    office = clerks
    face = CounterFace(office, "2")
    face.sign_in("sara", "1234")
    face.sign_out("sara")
    office.queue.take_ticket("R")
    before = all_rows(office.store)
    with pytest.raises(InvalidState) as caught:
        office.queue.call_next("2")
    assert caught.value.details["reason"] == "counter_closed"
    assert all_rows(office.store) == before
    # a counter that never had a state (a script, the CLI) calls as before
    assert office.queue.call_next("7")["counter"] == "7"


def test_a_break_while_a_ticket_is_called_or_served_is_refused(clerks):
    office = clerks
    face = CounterFace(office, "2")
    face.sign_in("sara", "1234")
    office.queue.take_ticket("R")
    ticket = face.call_next("sara")
    for step in (None, "start_serving"):
        if step:
            face.ticket_step("sara", step, ticket["id"])
        before = all_rows(office.store)
        with pytest.raises(InvalidState) as caught:
            face.set_counter_state("sara", "break", "prayer")
        assert caught.value.details == {"reason": "ticket_at_counter", "counter": "2",
                                        "ticket": "R001"}
        assert all_rows(office.store) == before
    face.ticket_step("sara", "park", ticket["id"])  # parked: the break may start
    assert face.set_counter_state("sara", "break", "prayer")["state"] == "break"


@pytest.mark.parametrize("args, field, code", [
    (("lunch",), "state", ("reason", "unknown_state")),
    (("break",), "reason", ("reason", "reason_required")),
    (("break", ""), "reason", ("reason", "reason_required")),
    (("back_office", "nap"), "reason", ("reason", "unknown_reason")),
    (("break", "x" * 500), "reason", ("reason", "unknown_reason")),
    (("open", "prayer"), "reason", ("reason", "no_reason_for_state")),
    (("break", "other"), "note", ("problem", "required")),
    (("break", "other", "   "), "note", ("problem", "required")),
    (("break", "other", "n" * 101), "note", ("problem", "too_long")),
])
def test_bad_input_is_refused_and_changes_nothing(clerks, args, field, code):
    office = clerks
    face = CounterFace(office, "2")
    face.sign_in("sara", "1234")
    before = all_rows(office.store)
    with pytest.raises(ValidationError) as caught:
        face.set_counter_state("sara", *args)
    assert caught.value.field == field
    assert caught.value.details[code[0]] == code[1]
    assert all_rows(office.store) == before


def test_a_closed_counter_cannot_go_on_a_break(clerks):
    office = clerks
    before = all_rows(office.store)
    with office.acting_as("sara"), pytest.raises(InvalidState) as caught:
        office.counter_states.set("2", "break", "prayer")
    assert caught.value.details["reason"] == "counter_closed"
    assert all_rows(office.store) == before
    with pytest.raises(ValidationError):
        office.counter_states.set("counter two!", "open")
    assert all_rows(office.store) == before


def test_overview_serving_idle_break_and_closed(clerks, clock):
    office = clerks
    CounterFace(office, "10").sign_in("ali", "5678")
    serving = CounterFace(office, "2")
    serving.sign_in("sara", "1234")
    office.queue.take_ticket("R")
    clock.advance(minutes=3)
    serving.call_next("sara")
    office.users.create("mona", "clerk", "4321")
    away = CounterFace(office, "3")
    away.sign_in("mona", "4321")
    clock.advance(minutes=1)
    away.set_counter_state("mona", "break", "prayer")
    office.users.create("omar", "clerk", "8765")
    CounterFace(office, "4").sign_in("omar", "8765")
    CounterFace(office, "4").sign_out("omar")
    rows = office.counter_states.overview()
    assert [r["counter"] for r in rows] == ["2", "3", "4", "10"]  # 2 before 10
    by = {r["counter"]: r for r in rows}
    assert by["2"] == {"counter": "2", "clerk": "sara", "state": "serving", "reason": None,
                       "note": None, "since": "2026-11-24T08:03:00.000+00:00", "ticket": "R001"}
    assert (by["3"]["state"], by["3"]["reason"], by["3"]["clerk"], by["3"]["since"]) == \
        ("break", "prayer", "mona", "2026-11-24T08:04:00.000+00:00")
    assert (by["4"]["state"], by["4"]["clerk"]) == ("closed", None)
    assert (by["10"]["state"], by["10"]["ticket"]) == ("idle", None)


def test_overview_lists_a_paired_counter_nobody_signed_in_at(clerks):
    from core.pairing import Devices
    office = clerks
    Devices(office).create_pairing("counter", "c-7")
    assert [(r["counter"], r["state"]) for r in office.counter_states.overview()] == \
        [("c-7", "closed")]


def test_through_the_hub_the_same_states_and_refusals(clerks, tmp_path):
    """A service centre's counter reaches the same states through the hub's derived routes
    (sign-in opens, break, call next refused with the same reason, sign-out closes)."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hub"))
    from hubrig import RunningHub

    office = clerks
    hub = RunningHub(office)
    try:
        remote = hub.counter(tmp_path, "5")
        remote.sign_in("sara", "1234")
        assert office.counter_states.get("5")["state"] == "open"
        office.queue.take_ticket("R")
        assert remote.set_counter_state("sara", "break", "meal")["reason"] == "meal"
        assert remote.counter_state()["state"] == "break"
        before = all_rows(office.store)
        with pytest.raises(InvalidState) as caught:
            remote.call_next("sara")
        assert caught.value.details["reason"] == "counter_away"
        with pytest.raises(ValidationError) as bad:
            remote.set_counter_state("sara", "break", "nap")
        assert bad.value.details["reason"] == "unknown_reason"
        assert all_rows(office.store) == before
        remote.set_counter_state("sara", "open")
        assert remote.call_next("sara")["number"] == "R001"
        remote.sign_out("sara")
        assert office.counter_states.get("5")["state"] == "closed"
    finally:
        hub.stop()


def test_break_time_becomes_break_intervals_in_the_kpi_facts(clerks, clock):
    """What H1's projector makes of the events (core/kpis.py, kpi_counter_time): the break
    is a break interval with its reason, never idle time."""
    office = clerks
    face = CounterFace(office, "2")
    face.sign_in("sara", "1234")
    clock.advance(minutes=60)
    face.set_counter_state("sara", "break", "prayer")
    clock.advance(minutes=15)
    face.set_counter_state("sara", "open")
    rows = office.store.all("SELECT state, reason, clerk, seconds FROM kpi_counter_time "
                            "WHERE counter = '2' ORDER BY started_at")
    assert rows == [{"state": "open", "reason": None, "clerk": "sara", "seconds": 3600},
                    {"state": "break", "reason": "prayer", "clerk": "sara", "seconds": 900}]
