"""The customer queue: numbering, local days, states and events, counters, recall, transfer,
the wait estimate and the day's KPIs (docs/queue.md)."""
import math

import pytest

from core.errors import InvalidState, NotFound, ValidationError
from core.office import Office
from core.settings import load_settings


@pytest.fixture
def open_office(tmp_path, clock, ids):
    """Office.open with environment-style overrides, closed at the end."""
    opened = []

    def make(**env):
        s = load_settings(tmp_path, environ={f"NAFITHA_{k.upper()}": str(v)
                                             for k, v in env.items()})
        office = Office.open(s, clock=clock, ids=ids)
        opened.append(office)
        return office

    yield make
    for office in opened:
        office.close()


def table_rows(office, table):
    return office.store.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


# --- numbers --------------------------------------------------------------------------------

def test_numbers_are_prefix_and_daily_number_per_service(office):
    numbers = [office.queue.take_ticket(s)["number"] for s in ("R", "R", "B", "R", "B")]
    assert numbers == ["R001", "R002", "B001", "R003", "B002"]


def test_taking_a_ticket_by_code_or_prefix(office):
    assert office.queue.take_ticket("residence-certificate")["service_code"] == \
        office.queue.take_ticket("R")["service_code"] == "residence-certificate"


def test_numbering_restarts_at_local_midnight_not_utc(office, clock):
    # Asia/Bahrain is UTC+3: 20:59 UTC is 23:59 local, 21:01 UTC is 00:01 the next local day,
    # although both are on the same UTC day.
    clock.set("2026-11-24T20:58:00+00:00")
    assert office.queue.take_ticket("R")["number"] == "R001"
    clock.set("2026-11-24T20:59:00+00:00")
    late = office.queue.take_ticket("R")
    clock.set("2026-11-24T21:01:00+00:00")
    early = office.queue.take_ticket("R")
    assert (late["number"], late["day"]) == ("R002", "2026-11-24")
    assert (early["number"], early["day"]) == ("R001", "2026-11-25")


def test_one_local_day_spans_two_utc_dates(office, clock):
    clock.set("2026-11-23T21:01:00+00:00")  # 00:01 on the 24th in Bahrain
    first = office.queue.take_ticket("R")
    clock.set("2026-11-24T20:59:00+00:00")  # 23:59 on the 24th in Bahrain
    second = office.queue.take_ticket("R")
    assert first["day"] == second["day"] == "2026-11-24"
    assert (first["number"], second["number"]) == ("R001", "R002")


def test_the_office_timezone_decides_the_day(open_office, clock):
    office = open_office(office__timezone="UTC")
    clock.set("2026-11-24T20:59:00+00:00")
    office.queue.take_ticket("R")
    clock.set("2026-11-24T21:01:00+00:00")
    assert office.queue.take_ticket("R")["number"] == "R002"


def test_configured_range_and_width(open_office):
    office = open_office(queue__number_start=98, queue__number_end=1000)
    numbers = [office.queue.take_ticket("R")["number"] for _ in range(3)]
    assert numbers == ["R0098", "R0099", "R0100"]


def test_range_wraps_to_the_start(open_office):
    office = open_office(queue__number_start=7, queue__number_end=9)
    taken = [office.queue.take_ticket("R") for _ in range(3)]
    assert [t["number"] for t in taken] == ["R7", "R8", "R9"]
    for t in taken:
        office.queue.cancel(t["id"])
    assert [office.queue.take_ticket("R")["number"] for _ in range(2)] == ["R7", "R8"]


def test_wrap_skips_numbers_still_live(open_office):
    office = open_office(queue__number_start=1, queue__number_end=3)
    first, second, third = (office.queue.take_ticket("R") for _ in range(3))
    office.queue.cancel(second["id"])
    assert office.queue.take_ticket("R")["number"] == "R2"  # R1 is still waiting


def test_all_numbers_live_is_refused_and_changes_nothing(open_office, db_state):
    office = open_office(queue__number_start=1, queue__number_end=2)
    office.queue.take_ticket("R")
    office.queue.take_ticket("R")
    before = office.store.conn.execute("SELECT * FROM sequences").fetchall()
    count = table_rows(office, "outbox")
    with pytest.raises(InvalidState, match="every ticket number of R is in use"):
        office.queue.take_ticket("R")
    assert office.store.conn.execute("SELECT * FROM sequences").fetchall() == before
    assert table_rows(office, "outbox") == count
    assert table_rows(office, "tickets") == 2


# --- states and events ----------------------------------------------------------------------

def test_full_life_of_a_ticket_with_timestamped_events(office, clock):
    t = office.queue.take_ticket("R")
    assert t["state"] == "waiting"
    clock.advance(minutes=4)
    called = office.queue.call_next("1")
    assert (called["id"], called["state"], called["counter"], called["call_count"]) == \
        (t["id"], "called", "1", 1)
    clock.advance(minutes=1)
    assert office.queue.start_serving(t["number"])["state"] == "serving"
    clock.advance(minutes=6)
    done = office.queue.finish(t["id"])
    assert done["state"] == "done"
    assert done["finished_at"] == "2026-11-24T08:11:00.000+00:00"
    events = office.queue.events(t["id"])
    assert [(e["from_state"], e["to_state"], e["at"]) for e in events] == [
        (None, "waiting", "2026-11-24T08:00:00.000+00:00"),
        ("waiting", "called", "2026-11-24T08:04:00.000+00:00"),
        ("called", "serving", "2026-11-24T08:05:00.000+00:00"),
        ("serving", "done", "2026-11-24T08:11:00.000+00:00"),
    ]
    assert [e["counter"] for e in events] == [None, "1", "1", "1"]
    assert all(e["service_code"] == "residence-certificate" for e in events)


@pytest.mark.parametrize("action", ["start_serving", "finish", "no_show", "recall"])
def test_operations_on_a_waiting_ticket_are_refused(office, action):
    t = office.queue.take_ticket("R")
    events = table_rows(office, "ticket_events")
    with pytest.raises(InvalidState) as info:
        getattr(office.queue, action)(t["id"])
    assert "waiting" in str(info.value)
    assert office.queue.get(t["id"])["state"] == "waiting"
    assert table_rows(office, "ticket_events") == events


def test_final_states_are_final(office):
    t = office.queue.take_ticket("R")
    office.queue.call_next("1")
    office.queue.finish(t["id"])
    for action in ("start_serving", "finish", "no_show", "cancel", "recall"):
        with pytest.raises(InvalidState):
            getattr(office.queue, action)(t["id"])
    with pytest.raises(InvalidState):
        office.queue.transfer(t["id"], "B")


def test_cancel_a_waiting_ticket(office):
    t = office.queue.take_ticket("R")
    assert office.queue.cancel(t["number"])["state"] == "cancelled"
    assert office.queue.call_next("1") is None


def test_unknown_ticket(office):
    with pytest.raises(NotFound):
        office.queue.get("R999")


def test_bad_priority_and_counter_names(office):
    with pytest.raises(ValidationError) as info:
        office.queue.take_ticket("R", priority="vip")
    assert info.value.field == "priority"
    with pytest.raises(ValidationError) as info:
        office.queue.call_next("counter 1; DROP")
    assert info.value.field == "counter"
    assert table_rows(office, "tickets") == 0


# --- counters -------------------------------------------------------------------------------

def test_call_next_only_for_the_counters_services(office, clock):
    r = office.queue.take_ticket("R")
    clock.advance(seconds=1)
    b = office.queue.take_ticket("B")
    assert office.queue.call_next("2", ["B"])["id"] == b["id"]
    assert office.queue.call_next("2", ["B", "E"]) is None  # R is waiting, but not for 2
    assert office.queue.get(r["id"])["state"] == "waiting"
    assert office.queue.call_next("1", ["residence-certificate"])["id"] == r["id"]


def test_call_next_is_first_come_first_served(office, clock):
    ids = []
    for service in ("B", "R", "B", "R"):
        ids.append(office.queue.take_ticket(service)["id"])
        clock.advance(seconds=30)
    called = [office.queue.call_next("1")["id"] for _ in range(4)]
    assert called == ids
    assert office.queue.call_next("1") is None


def test_priority_goes_ahead_of_those_who_came_less_than_ten_minutes_before(office, clock):
    early = office.queue.take_ticket("R")            # 08:00
    clock.advance(minutes=5)
    normal = office.queue.take_ticket("R")           # 08:05
    clock.advance(minutes=7)
    elderly = office.queue.take_ticket("R", "elderly")  # 08:12, queues as 08:02
    order = [office.queue.call_next("1")["id"] for _ in range(3)]
    assert order == [early["id"], elderly["id"], normal["id"]]


# --- recall and no-show ---------------------------------------------------------------------

def test_recall_up_to_the_call_limit_then_no_show(office, clock):
    t = office.queue.take_ticket("R")
    office.queue.call_next("1")
    clock.advance(minutes=1)
    assert office.queue.recall(t["id"])["call_count"] == 2
    clock.advance(minutes=1)
    third = office.queue.recall(t["id"])
    assert (third["state"], third["call_count"]) == ("called", 3)
    clock.advance(minutes=1)
    gone = office.queue.recall(t["id"])
    assert gone["state"] == "no_show"
    assert gone["finished_at"] == "2026-11-24T08:03:00.000+00:00"
    assert [e["to_state"] for e in office.queue.events(t["id"])] == \
        ["waiting", "called", "called", "called", "no_show"]
    actions = [r[0] for r in office.store.conn.execute(
        "SELECT action FROM audit WHERE entity_id = ? ORDER BY seq", (t["id"],))]
    assert actions == ["ticket.taken", "ticket.called", "ticket.recalled", "ticket.recalled",
                       "ticket.no_show"]
    with pytest.raises(InvalidState):
        office.queue.recall(t["id"])


def test_call_limit_is_configurable(open_office):
    office = open_office(queue__call_limit=1)
    t = office.queue.take_ticket("R")
    office.queue.call_next("1")
    assert office.queue.recall(t["id"])["state"] == "no_show"


def test_direct_no_show(office):
    t = office.queue.take_ticket("R")
    office.queue.call_next("1")
    assert office.queue.no_show(t["id"])["state"] == "no_show"


# --- transfer -------------------------------------------------------------------------------

def test_transfer_keeps_the_number_and_joins_the_new_queue_at_transfer_time(office, clock):
    r = office.queue.take_ticket("R")                 # R001 at 08:00
    clock.advance(minutes=1)
    b = office.queue.take_ticket("B")                 # B001 at 08:01
    office.queue.call_next("1", ["R"])
    office.queue.start_serving(r["id"])
    clock.advance(minutes=2)
    moved = office.queue.transfer(r["id"], "building-permit-small")
    assert (moved["number"], moved["state"], moved["service_code"], moved["counter"]) == \
        ("R001", "waiting", "building-permit-small", None)
    assert moved["transferred_from"] == "residence-certificate"
    assert moved["call_count"] == 0
    # B001 was already waiting for that service: it is called first
    assert office.queue.call_next("2", ["B"])["id"] == b["id"]
    again = office.queue.call_next("2", ["B"])
    assert (again["id"], again["number"], again["counter"]) == (r["id"], "R001", "2")
    last = office.queue.events(r["id"])[-2]
    assert (last["from_state"], last["to_state"], last["service_code"]) == \
        ("serving", "waiting", "building-permit-small")
    # still findable by its number
    assert office.queue.get("R001")["id"] == r["id"]


def test_transfer_to_the_same_service_or_a_waiting_ticket_is_refused(office):
    t = office.queue.take_ticket("R")
    with pytest.raises(InvalidState):
        office.queue.transfer(t["id"], "B")  # still waiting
    office.queue.call_next("1")
    with pytest.raises(ValidationError):
        office.queue.transfer(t["id"], "R")
    with pytest.raises(ValidationError):
        office.queue.transfer(t["id"], "no-such-service")
    assert office.queue.get(t["id"])["service_code"] == "residence-certificate"


def test_transferred_priority_ticket_keeps_its_head_start(office, clock):
    p = office.queue.take_ticket("R", "disabled")
    office.queue.call_next("1", ["R"])
    clock.advance(minutes=1)
    b = office.queue.take_ticket("B")                  # 08:01
    clock.advance(minutes=5)
    office.queue.transfer(p["id"], "B")                # 08:06, queues as 07:56
    assert office.queue.call_next("2", ["B"])["id"] == p["id"]
    assert office.queue.call_next("2", ["B"])["id"] == b["id"]


# --- estimate -------------------------------------------------------------------------------

def serve(office, clock, counter, minutes, service="R"):
    office.queue.take_ticket(service)
    t = office.queue.call_next(counter, [service])
    office.queue.start_serving(t["id"])
    clock.advance(minutes=minutes)
    office.queue.finish(t["id"])


def test_estimate_before_any_service_uses_the_default(office):
    tickets = [office.queue.take_ticket("R") for _ in range(4)]
    # no counter open yet: it divides by one; 3 ahead x 5 default minutes
    assert {k: tickets[3][k] for k in ("people_ahead", "open_counters",
                                       "estimated_wait_minutes")} == \
        {"people_ahead": 3, "open_counters": 0, "estimated_wait_minutes": 15}
    assert tickets[0]["people_ahead"] == 0 and tickets[0]["estimated_wait_minutes"] == 0


def test_estimate_from_recent_service_times_and_open_counters(office, clock):
    serve(office, clock, "1", minutes=3)
    serve(office, clock, "2", minutes=9)   # mean service time: (3 + 9) / 2 = 6 minutes
    office.queue.call_next("3", ["B"])    # open, but not for R
    waiting = [office.queue.take_ticket("R") for _ in range(5)]
    last = office.queue.get(waiting[-1]["id"])
    # 4 ahead x 6 minutes / 2 counters serving R = 12
    assert (last["people_ahead"], last["open_counters"], last["estimated_wait_minutes"]) == \
        (4, 2, 12)
    third = office.queue.get(waiting[2]["id"])
    assert (third["people_ahead"], third["estimated_wait_minutes"]) == (2, 6)
    # someone ahead is called: one fewer ahead
    office.queue.call_next("1", ["R"])
    last = office.queue.get(waiting[-1]["id"])
    assert (last["people_ahead"], last["estimated_wait_minutes"]) == (3, math.ceil(3 * 6 / 2))


def test_estimate_rounds_up_and_forgets_idle_counters(office, clock):
    serve(office, clock, "1", minutes=4)
    serve(office, clock, "1", minutes=3)   # mean 3.5
    clock.advance(minutes=20)
    serve(office, clock, "2", minutes=5)   # mean (4+3+5)/3 = 4; counter 1 called 28 min ago
    waiting = [office.queue.take_ticket("R") for _ in range(4)]
    est = office.queue.get(waiting[-1]["id"])
    assert (est["people_ahead"], est["open_counters"], est["estimated_wait_minutes"]) == \
        (3, 2, 6)  # ceil(3 x 4 / 2)
    clock.advance(minutes=6)               # counter 1 now idle for 34 minutes
    est = office.queue.get(waiting[-1]["id"])
    assert (est["open_counters"], est["estimated_wait_minutes"]) == (1, 12)


def test_estimate_uses_only_the_recent_window(open_office, clock):
    office = open_office(queue__estimate_window=2)
    serve(office, clock, "1", minutes=30)
    serve(office, clock, "1", minutes=2)
    serve(office, clock, "1", minutes=4)   # window of 2: (2 + 4) / 2 = 3
    waiting = [office.queue.take_ticket("R") for _ in range(3)]
    assert office.queue.get(waiting[-1]["id"])["estimated_wait_minutes"] == 6


# --- stats ----------------------------------------------------------------------------------

def test_stats_mean_wait_service_time_and_no_show_rate(office, clock):
    a = office.queue.take_ticket("R")          # 08:00
    clock.advance(minutes=2)
    b = office.queue.take_ticket("R")          # 08:02
    c = office.queue.take_ticket("R")          # 08:02
    d = office.queue.take_ticket("R")          # 08:02, cancelled before a call
    clock.advance(minutes=2)                   # 08:04
    office.queue.call_next("1")                # a waited 4
    office.queue.start_serving(a["id"])
    clock.advance(minutes=6)                   # 08:10
    office.queue.finish(a["id"])               # service 6
    office.queue.call_next("1")                # b waited 8
    office.queue.start_serving(b["id"])
    clock.advance(minutes=2)                   # 08:12
    office.queue.finish(b["id"])               # service 2
    office.queue.call_next("1")                # c waited 10
    clock.advance(minutes=3)
    office.queue.recall(c["id"])               # a recall is not the end of the wait
    clock.advance(minutes=3)
    office.queue.recall(c["id"])
    office.queue.recall(c["id"])               # no-show
    office.queue.cancel(d["id"])
    office.queue.take_ticket("R")              # still waiting
    stats = office.queue.stats()
    assert stats["day"] == "2026-11-24"
    assert stats["tickets"] == 5
    assert stats["by_state"] == {"waiting": 1, "called": 0, "serving": 0, "parked": 0,
                                 "done": 2, "no_show": 1, "cancelled": 1}
    assert stats["mean_wait_minutes"] == round((4 + 8 + 10) / 3, 2)
    assert stats["mean_service_minutes"] == 4.0
    assert stats["no_show_rate"] == round(1 / 3, 3)


def test_stats_of_an_empty_day(office):
    stats = office.queue.stats("2026-01-01")
    assert stats["tickets"] == 0
    assert stats["mean_wait_minutes"] is None and stats["no_show_rate"] is None


def test_list_shows_live_tickets_in_call_order(office, clock):
    a = office.queue.take_ticket("R")
    clock.advance(minutes=1)
    p = office.queue.take_ticket("R", "pregnant")
    b = office.queue.take_ticket("B")
    office.queue.cancel(b["id"])
    assert [t["id"] for t in office.queue.list()] == [p["id"], a["id"]]
    assert [t["id"] for t in office.queue.list(service="B", states=("cancelled",))] == [b["id"]]


def test_calling_with_nobody_waiting_writes_nothing(office):
    before = office.store.conn.execute("SELECT total_changes()").fetchone()[0]
    assert office.queue.call_next("1") is None
    assert office.store.conn.execute("SELECT total_changes()").fetchone()[0] == before
    assert office.store.all("SELECT * FROM counters") == []


def test_transfer_clears_the_first_services_call_and_service_times(office, clock):
    office.queue.take_ticket("R")
    t = office.queue.call_next("1")
    office.queue.start_serving(t["id"])
    moved = office.queue.transfer(t["id"], "B")
    assert (moved["called_at"], moved["serving_at"]) == (None, None)
    clock.advance(600)
    office.queue.call_next("2", ["B"])
    clock.advance(120)
    done = office.queue.finish(t["id"])
    # service time counts from the second call, not from serving at the first service
    assert done["serving_at"] == "2026-11-24T08:10:00.000+00:00"
