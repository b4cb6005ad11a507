"""core.kpis: periods, the projector (pure, idempotent, local days and hours across midnight
and daylight saving), what tickets now carry for it, refusals that change nothing, the
backfill of a store upgraded to m020, and `queue stats` computed by the same module."""
from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from core import kpis, migrations
from core.errors import ValidationError
from core.office import Office

BAHRAIN, LONDON = ZoneInfo("Asia/Bahrain"), ZoneInfo("Europe/London")


def facts(store, table: str) -> list[dict]:
    return store.all(f"SELECT * FROM {table} ORDER BY 1, 2, 3")


# --- periods ------------------------------------------------------------------------------
def test_periods():
    day = kpis.Period.day("2026-12-06")
    assert day.as_dict() == {"from": "2026-12-06", "to": "2026-12-06", "kind": "day", "days": 1}
    # Weeks start on Sunday: 6 December 2026 is a Sunday, the 5th a Saturday.
    assert (kpis.Period.week(date(2026, 12, 6)).first, kpis.Period.week("2026-12-06").last) \
        == ("2026-12-06", "2026-12-12")
    assert kpis.Period.week("2026-12-05").as_dict() == {
        "from": "2026-11-29", "to": "2026-12-05", "kind": "week", "days": 7}
    assert kpis.Period.week("2026-12-10").first == "2026-12-06"
    assert kpis.Period.month(2028, 2).as_dict() == {
        "from": "2028-02-01", "to": "2028-02-29", "kind": "month", "days": 29}
    assert kpis.Period.month(2026, 12).last == "2026-12-31"
    assert kpis.Period.parse("2026-11-03").kind == "day"
    year = kpis.Period.parse("2028-01-01", "2028-12-31")  # a leap year: 366 days, allowed
    assert (year.kind, year.days) == ("range", 366)


@pytest.mark.parametrize("first, last, field, reason", [
    ("2026-11-10", "2026-11-09", "to", "backwards_range"),
    ("2026-01-01", "2027-02-05", "to", "range_too_long"),  # 401 days
    ("2025-01-01", "2026-01-02", "to", "range_too_long"),  # 367 days
    ("2026-13-01", "2026-12-01", "from", "not_a_date"),
    ("2026-11-01", "yesterday", "to", "not_a_date"),
])
def test_bad_periods_are_refused_and_change_nothing(office, db_state, first, last, field,
                                                    reason):
    office.queue.take_ticket("R")
    before = db_state()
    with pytest.raises(ValidationError) as info:
        kpis.report(kpis.HubFacts(office.store), kpis.Period.parse(first, last))
    assert (info.value.field, info.value.details["reason"]) == (field, reason)
    assert db_state() == before


def test_a_bad_month_is_refused():
    with pytest.raises(ValidationError) as info:
        kpis.Period.month(2026, 13)
    assert info.value.details["reason"] == "not_a_month"


def test_unknown_office_or_service_is_refused(office, db_state):
    before = db_state()
    codes = [s.code for s in office.catalog]
    with pytest.raises(ValidationError) as info:
        kpis.check_filters(services=["residence-certificate", "nope"], known_services=codes)
    assert (info.value.field, info.value.details["reason"]) == ("service", "unknown_service")
    with pytest.raises(ValidationError) as info:
        kpis.check_filters(offices=["XXX"], known_offices=["MUH", "SIT"])
    assert (info.value.field, info.value.details["office"]) == ("office", "XXX")
    kpis.check_filters(offices=["MUH"], services=codes[:2], known_offices=["MUH"],
                       known_services=codes)  # known: no error
    assert db_state() == before


# --- the projector ------------------------------------------------------------------------
def ticket(created_at: str, **more) -> dict:
    return {"id": "T1", "number": "R001", "service_code": "residence-certificate",
            "priority": None, "state": "waiting", "counter": None, "call_count": 0,
            "created_at": created_at, "called_at": None, "serving_at": None,
            "finished_at": None, "transferred_from": None, "day": None, "channel": "kiosk",
            "clerk": None, "first_called_at": None, "target_wait_s": 900, **more}


def visit(event: str, data: dict, tz=BAHRAIN) -> dict:
    [fact] = kpis.facts_from_event(event, data, "MUH", tz)
    assert fact.table == "kpi_visits" and fact.key == {"office": "MUH", "ticket_id": "T1"}
    return fact.values


def test_local_day_and_hour_follow_the_zone_at_that_moment():
    # Europe/London: BST (UTC+1) until 01:00 UTC on 25 October 2026, GMT after.
    assert (visit("ticket.taken", ticket("2026-10-24T08:30:00+00:00"), LONDON)["hour"],
            visit("ticket.taken", ticket("2026-10-26T08:30:00+00:00"), LONDON)["hour"]) == (9, 8)
    before = visit("ticket.taken", ticket("2026-10-25T00:59:59+00:00"), LONDON)
    after = visit("ticket.taken", ticket("2026-10-25T01:00:00+00:00"), LONDON)
    assert (before["day"], before["hour"], after["day"], after["hour"]) == \
        ("2026-10-25", 1, "2026-10-25", 1)  # 01:59:59 BST, then 01:00 GMT
    # 20:59 UTC is 23:59 in Bahrain (UTC+3): that day, hour 23; a minute later the next day.
    late = visit("ticket.taken", ticket("2026-11-10T20:59:00+00:00"))
    assert (late["day"], late["hour"]) == ("2026-11-10", 23)
    assert visit("ticket.taken", ticket("2026-11-10T21:00:00+00:00"))["day"] == "2026-11-11"


def test_wait_is_to_the_first_call_and_service_time_to_the_finish():
    called = ticket("2026-11-10T20:59:00+00:00", state="called", counter="1", clerk="sara",
                    first_called_at="2026-11-10T21:03:00.900+00:00",
                    called_at="2026-11-10T21:09:00+00:00")
    values = visit("ticket.recalled", called)
    assert (values["wait_s"], values["service_s"], values["clerk"]) == (240, None, "sara")
    done = {**called, "state": "done", "serving_at": "2026-11-10T21:10:00+00:00",
            "finished_at": "2026-11-10T21:17:30.999+00:00"}
    assert visit("ticket.finished", done)["service_s"] == 450  # whole seconds, floor
    assert "rating" not in visit("ticket.finished", done)  # a rating is never overwritten
    [rated] = kpis.facts_from_event("ticket.rated", {"id": "T1", "rating": 4, "counter": "1",
                                                     "service_code": "x"}, "MUH", BAHRAIN)
    assert rated.values == {"rating": 4}


def test_counter_intervals_payments_and_events_no_figure_reads():
    change = {"counter": "2", "clerk": "sara", "state": "open", "reason": None,
              "since": "2026-11-10T07:20:00+00:00",
              "previous": {"state": "break", "since": "2026-11-10T07:00:00+00:00",
                           "clerk": "sara", "reason": "prayer"}}
    [interval] = kpis.facts_from_event("counter.state_changed", change, "MUH", BAHRAIN)
    assert interval.key == {"office": "MUH", "counter": "2",
                            "started_at": "2026-11-10T07:00:00+00:00"}
    assert interval.values == {"clerk": "sara", "state": "break", "reason": "prayer",
                               "day": "2026-11-10", "seconds": 1200}
    closed = {**change, "previous": {**change["previous"], "state": "closed"}}
    assert kpis.facts_from_event("counter.state_changed", closed, "MUH", BAHRAIN) == []
    assert kpis.facts_from_event("counter.state_changed", {**change, "previous": None},
                                 "MUH", BAHRAIN) == []
    [paid, _app] = kpis.facts_from_event("payment.taken", {
        "id": "P1", "application_id": "A1", "method": "card", "amount_minor": 2000,
        "currency": "BHD", "taken_at": "2026-11-10T21:30:00+00:00", "voided_at": None,
        "application_state": "approved", "service_code": "residence-certificate",
        "channel": "kiosk"}, "MUH", BAHRAIN)
    assert paid.values["day"] == "2026-11-11" and paid.values["channel"] == "kiosk"
    [void, _app] = kpis.facts_from_event("payment.voided", {
        "id": "P1", "application_id": "A1", "method": "card", "amount_minor": 2000,
        "currency": "BHD", "taken_at": "2026-11-10T21:30:00+00:00",
        "voided_at": "2026-11-11T06:00:00+00:00", "application_state": "submitted"},
        "MUH", BAHRAIN)
    assert void.values == {"voided": 1}  # where it was paid stays as it was
    refund = {"number": "B1", "application_id": "A1", "payment_id": "P2", "refund":
              "double_payment", "amount_minor": 2000, "paid_at": "2026-11-10T21:30:00+00:00"}
    assert kpis.facts_from_event("bill.paid", refund, "MUH", BAHRAIN) == []
    [network, app] = kpis.facts_from_event("bill.paid", {
        **refund, "refund": None, "taken_at": "2026-11-10T21:30:00+00:00",
        "service_code": "building-land-tax", "currency": "BHD",
        "application_state": "approved"}, "MUH", BAHRAIN)
    assert network.key == {"office": "MUH", "payment_id": "P2"}
    assert network.values == {"service_code": "building-land-tax", "method": "network",
                              "channel": "network", "day": "2026-11-11",
                              "amount_minor": 2000, "currency": "BHD", "voided": 0}
    assert (app.table, app.values) == ("kpi_applications", {"state": "approved"})
    for event in ("user.created", "shift.opened", "application.drafted", "device.paired"):
        assert kpis.facts_from_event(event, {"id": "x"}, "MUH", BAHRAIN) == []
    with pytest.raises(ValidationError) as info:
        kpis.facts_from_event("ticket.taken", {"created_at": "2026-11-10T21:30:00+00:00"},
                              "MUH", BAHRAIN)
    assert info.value.details["reason"] == "unprojectable_event"


# --- on a real store ----------------------------------------------------------------------
def test_tickets_carry_what_the_facts_read(office, clock):
    office.users.create("sara", "clerk", "1234")
    kiosk = office.queue.take_ticket("R")
    counter = office.queue.take_ticket("A", channel="counter")
    assert (kiosk["channel"], counter["channel"], kiosk["target_wait_s"]) == \
        ("kiosk", "counter", 15 * 60)
    clock.advance(seconds=125)
    with office.acting_as("sara"):
        called = office.queue.call_next("1", ["R"])
    clock.advance(seconds=60)
    with office.acting_as("huda"):
        again = office.queue.recall(kiosk["id"])
    assert called["first_called_at"] == again["first_called_at"] == "2026-11-24T08:02:05.000+00:00"
    assert (called["clerk"], again["clerk"]) == ("sara", "sara")  # who FIRST called it
    clock.advance(seconds=30)
    office.queue.start_serving(kiosk["id"])
    clock.advance(seconds=300)
    office.queue.transfer(kiosk["id"], "A")
    [row] = [r for r in facts(office.store, "kpi_visits") if r["ticket_id"] == kiosk["id"]]
    assert (row["service_code"], row["state"], row["wait_s"], row["clerk"], row["channel"],
            row["hour"], row["day"]) == ("address-form", "waiting", 125, "sara", "kiosk", 11,
                                         "2026-11-24")


def test_a_bad_channel_is_refused_and_changes_nothing(office, db_state):
    before = db_state()
    with pytest.raises(ValidationError) as info:
        office.queue.take_ticket("R", channel="phone")
    assert (info.value.field, info.value.details["reason"]) == ("channel", "unknown_channel")
    assert db_state() == before


def test_an_application_keeps_the_channel_it_was_made_on(office, valid_fields, db_state):
    from core.faces.counter import CounterFace
    from core.faces.kiosk import KioskFace
    office.users.create("sara", "clerk", "1234")
    at_kiosk = KioskFace(office).submit("residence-certificate", valid_fields())
    at_counter = CounterFace(office, "1").submit("sara", "residence-certificate", valid_fields())
    by_cli = office.applications.submit("residence-certificate", valid_fields())
    channels = {r["application_id"]: r["channel"] for r in facts(office.store,
                                                                  "kpi_applications")}
    number_of = {a["number"]: a for a in (at_kiosk, at_counter, by_cli)}
    assert sorted(channels.values(), key=str) == sorted(["kiosk", "counter", None], key=str)
    assert len(number_of) == 3
    before = db_state()
    with pytest.raises(ValidationError) as info:
        office.applications.submit("residence-certificate", valid_fields(), channel="phone")
    assert info.value.details["reason"] == "unknown_channel" and db_state() == before


def test_applying_an_event_twice_equals_once(office):
    office.queue.take_ticket("R")
    office.queue.call_next("1")
    once = facts(office.store, "kpi_visits")
    [event] = office.store.all("SELECT type, body FROM outbox WHERE type = 'ticket.called'")
    import json
    data = json.loads(event["body"])["data"]
    with office.store.atomic():
        for _ in range(2):
            kpis.apply_facts_sqlite(office.store.conn, kpis.facts_from_event(
                "ticket.called", data, "MUH", office.settings.tz))
    assert facts(office.store, "kpi_visits") == once


def test_queue_stats_come_from_the_same_figures(office, clock):
    first = office.queue.take_ticket("R")
    clock.advance(seconds=301)
    office.queue.call_next("1")
    clock.advance(seconds=200)
    office.queue.finish(first["id"])
    office.queue.take_ticket("R")
    stats = office.queue.stats()
    total = kpis.report(kpis.HubFacts(office.store), kpis.Period.day("2026-11-24"),
                        today=date(2026, 11, 24))["visits"]["total"]
    assert (total["wait_s"]["mean"], total["service_s"]["mean"]) == (301.0, 200.0)
    assert stats["mean_wait_minutes"] == round(301 / 60, 2)
    assert stats["mean_service_minutes"] == round(200 / 60, 2)
    assert stats["tickets"] == total["tickets"] == 2 and total["open"] == 1


@pytest.fixture
def before_m020(settings, clock, ids, monkeypatch, valid_nid, certified):
    """A store at schema 19 (before the facts) with a day of work; returns nothing, closed."""
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:19])
    office = Office.open(settings, clock=clock, ids=ids)
    office.users.create("sara", "clerk", "1234")
    office.payments.open_shift("sara", 0)
    with office.acting_as(settings.kiosk.account):
        kiosk = office.queue.take_ticket("R")
    with office.acting_as("sara"):
        counter = office.queue.take_ticket("A")
    clock.advance(seconds=90)
    with office.acting_as("sara"):
        office.queue.call_next("1", ["R"])
        clock.advance(seconds=30)
        office.queue.recall(kiosk["id"])
        office.queue.start_serving(kiosk["id"])
        clock.advance(seconds=240)
        office.queue.finish(kiosk["id"])
    resident = {"full_name": "Ali Hasan", "national_id": valid_nid(), "phone": "33123456",
                "block": "204", "road": "15", "building": "12"}
    app = office.applications.submit("R", resident, ticket=kiosk["id"])
    office.payments.take(app["id"], "cash", "sara", tendered_minor=5000)
    office.licences.issue(app["id"])
    assert office.store.conn.execute("PRAGMA user_version").fetchone()[0] == 19
    stats = office.queue.stats()  # no facts yet: counts, but no means
    assert (stats["tickets"], stats["mean_wait_minutes"]) == (2, None)
    office.close()
    monkeypatch.undo()
    return kiosk["id"], counter["id"], app["id"]


def test_an_upgraded_store_gets_the_facts_of_what_it_kept(before_m020, settings, clock, ids):
    kiosk, counter, app = before_m020
    office = Office.open(settings, clock=clock, ids=ids)
    try:
        store = office.store
        visits = {r["ticket_id"]: r for r in facts(store, "kpi_visits")}
        assert (visits[kiosk]["channel"], visits[kiosk]["clerk"], visits[kiosk]["wait_s"],
                visits[kiosk]["service_s"], visits[kiosk]["state"]) == \
            ("kiosk", "sara", 90, 240, "done")
        assert visits[kiosk]["target_wait_s"] is None  # unknown before: not in the share
        assert (visits[counter]["channel"], visits[counter]["wait_s"]) == ("counter", None)
        [application] = facts(store, "kpi_applications")
        assert (application["application_id"], application["state"]) == (app, "issued")
        [payment] = facts(store, "kpi_payments")
        assert (payment["service_code"], payment["channel"], payment["voided"]) == \
            ("residence-certificate", "counter", 0)
        assert len(facts(store, "kpi_licences")) == 1
        # The tickets kept their first call and clerk: their next events carry them.
        assert store.one("SELECT first_called_at, clerk, channel FROM tickets WHERE id = ?",
                         (kiosk,)) == {"first_called_at": "2026-11-24T08:01:30.000+00:00",
                                       "clerk": "sara", "channel": "kiosk"}
        total = kpis.report(kpis.HubFacts(store), kpis.Period.day("2026-11-24"),
                            today=date(2026, 11, 24))["visits"]["total"]
        assert (total["tickets"], total["served"], total["within_target"]) == (2, 1, None)
        before = facts(store, "kpi_visits")
        assert kpis.backfill(store, settings.tz) == 0  # once only
        assert facts(store, "kpi_visits") == before
    finally:
        office.close()
