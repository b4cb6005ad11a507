"""core.kpis on a generated month with known answers (testing/kpi_month.py): every figure of
the report equals the one computed by hand from what the generator did, for the month, its
weeks, single days and one service; in Asia/Bahrain and in Europe/London across the
daylight-saving change of 25 October 2026; on SQLite and on PostgreSQL; and the facts are
what re-projecting the audit log gives."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from core import kpis
from testing.kpi_month import LEFT, NIGHT, R, generate_month


def report_of(office, period, today, services=None) -> dict:
    got = kpis.report(kpis.HubFacts(office.store), period, services=services, today=today)
    assert got.pop("generated_at")
    return got


@pytest.fixture(scope="module")
def bahrain(tmp_path_factory, root_key):
    office, expected = generate_month(tmp_path_factory.mktemp("bahrain"), "Asia/Bahrain",
                                      2026, 11, seed=24, root_key=root_key)
    yield office, expected
    office.close()


@pytest.fixture(scope="module")
def london(tmp_path_factory, root_key):
    office, expected = generate_month(tmp_path_factory.mktemp("london"), "Europe/London",
                                      2026, 10, seed=7, tickets_per_day=(10, 16),
                                      root_key=root_key)
    yield office, expected
    office.close()


def test_the_month_has_every_case_it_claims(bahrain):
    """The known answers are worth checking: each kind of event happened."""
    _office, expected = bahrain
    total = expected["visits"]["total"]
    assert total["tickets"] > 500 and total["served"] > 400
    assert total["no_show"] > 0 and total["cancelled"] > 0 and total["left"] > 0
    assert 0 < total["within_target"] < 1 and total["rating"]["n"] > 0
    assert {r["key"] for r in expected["visits"]["by_channel"]} == {"kiosk", "counter",
                                                                    "appointment"}
    assert {"P", "N"} <= {r["key"] for r in expected["visits"]["by_counter"]}
    apps = expected["applications"]
    assert apps["approved"] and apps["rejected"] and apps["withdrawn"] and apps["pending"]
    assert apps["decision_s"]["n"] > 0
    lic = expected["licences"]
    assert lic["issued"] and lic["reprinted"] and lic["revoked"]
    revenue = expected["revenue"]
    assert {r["key"] for r in revenue["by_channel"]} == {"counter", "kiosk"}
    assert {r["key"] for r in revenue["by_method"]} == {"cash", "card"}
    clerks = expected["staff_time"]["by_clerk"]
    assert all(c["open_s"] and c["break_s"] and c["back_office_s"] and c["serving_s"]
               for c in clerks)


def test_every_figure_of_the_month_equals_the_hand_computed_one(bahrain):
    office, expected = bahrain
    period = kpis.Period.month(2026, 11)
    got = report_of(office, period, date(2026, 12, 1))
    assert got == dict(expected)
    assert got["period"] == {"from": "2026-11-01", "to": "2026-11-30", "kind": "month",
                             "days": 30}


def test_weeks_days_and_one_service(bahrain):
    office, expected = bahrain
    after = date(2026, 12, 1)
    periods = [kpis.Period.week(date(2026, 11, 1) + timedelta(days=7 * n)) for n in range(5)]
    periods += [kpis.Period.day(date(2026, 11, d)) for d in (2, 3, 10, 11, 30)]
    periods.append(kpis.Period.parse("2026-11-05", "2026-11-19"))
    for period in periods:
        assert report_of(office, period, after) == expected.for_period(period, after), period
    month = kpis.Period.month(2026, 11)
    for services in ([R], [R, "address-form"], [LEFT]):
        assert report_of(office, month, after, services) == \
            expected.for_period(month, after, services), services


def test_tickets_of_a_day_not_over_are_open_not_left(bahrain):
    office, expected = bahrain
    day = kpis.Period.day("2026-11-03")  # a day with a ticket nobody serves (LEFT)
    still_today = report_of(office, day, date(2026, 11, 3))
    assert still_today == expected.for_period(day, date(2026, 11, 3))
    assert still_today["visits"]["total"]["open"] >= 1
    assert still_today["visits"]["total"]["left"] == 0
    over = report_of(office, day, date(2026, 11, 4))["visits"]["total"]
    assert over["left"] == still_today["visits"]["total"]["open"] and over["open"] == 0


def test_a_ticket_taken_at_2359_counts_on_its_day_at_hour_23(bahrain):
    office, _expected = bahrain
    after = date(2026, 12, 1)
    tenth = report_of(office, kpis.Period.day("2026-11-10"), after, [NIGHT])["visits"]
    assert tenth["total"]["tickets"] == 1 and tenth["total"]["served"] == 1
    assert [h["key"] for h in tenth["by_hour"] if h["tickets"]] == [23]
    assert tenth["total"]["wait_s"]["median"] == 4 * 60  # 23:59 -> called 00:03
    eleventh = report_of(office, kpis.Period.day("2026-11-11"), after, [NIGHT])["visits"]
    assert eleventh["total"]["tickets"] == 0


def test_hours_are_local_in_bahrain(bahrain):
    """The centre opens at 07:30 local (04:30 UTC): no ticket before hour 7 but the 23:59."""
    office, _expected = bahrain
    hours = report_of(office, kpis.Period.month(2026, 11), date(2026, 12, 1))["visits"][
        "by_hour"]
    assert [h["key"] for h in hours] == list(range(24))
    busy = [h["key"] for h in hours if h["tickets"]]
    assert busy[0] == 7 and busy[-1] == 23  # 23: the ticket taken at 23:59
    assert all(h["tickets"] == 0 for h in hours if 0 <= h["key"] < 7)


def test_the_london_month_across_the_clock_change(london):
    """October 2026 in Europe/London: BST (UTC+1) until the 25th, GMT after. Every figure
    equals the hand-computed one, and the opening hour is 7 on both sides of the change."""
    office, expected = london
    after = date(2026, 11, 1)
    month = kpis.Period.month(2026, 10)
    assert report_of(office, month, after) == dict(expected)
    for day in ("2026-10-23", "2026-10-25", "2026-10-26"):
        period = kpis.Period.day(day)
        got = report_of(office, period, after)
        assert got == expected.for_period(period, after)
        first = [h["key"] for h in got["visits"]["by_hour"] if h["tickets"]]
        assert first and first[0] == 7 and max(first) <= 13, (day, first)
    week = kpis.Period.week(date(2026, 10, 25))  # Sunday the 25th starts it
    assert week.first == "2026-10-25"
    assert report_of(office, week, after) == expected.for_period(week, after)


def test_facts_are_what_reprojecting_the_audit_gives(bahrain):
    """The facts written with each event equal those of replaying every audit entry through
    the projector; applying them all a second time changes nothing (idempotent)."""
    office, _expected = bahrain
    store = office.store
    tables = list(kpis.FACT_TABLES)

    def facts() -> dict:
        return {t: sorted(map(tuple, store.conn.execute(f"SELECT * FROM {t}"))) for t in tables}

    written = facts()
    assert all(written[t] for t in tables)
    entries = store.all("SELECT action, data FROM audit ORDER BY seq")
    replay = [(e["action"], json.loads(e["data"])) for e in entries]
    try:
        store.conn.execute("BEGIN IMMEDIATE")
        for t in tables:
            store.conn.execute(f"DELETE FROM {t}")
        for action, data in replay:
            kpis.apply_facts_sqlite(store.conn, kpis.facts_from_event(
                action, data, store.office_code, office.settings.tz))
        assert facts() == written
        for action, data in replay:  # again: nothing moves
            kpis.apply_facts_sqlite(store.conn, kpis.facts_from_event(
                action, data, store.office_code, office.settings.tz))
        assert facts() == written
    finally:
        store.conn.execute("ROLLBACK")


class FactsOnPostgres:
    """The same fact tables on PostgreSQL (built from FACT_TABLES, as central's are)."""

    dialect = "postgresql"

    def __init__(self, url: str):
        import sqlalchemy as sa
        self.sa = sa
        self.engine = sa.create_engine(url)
        meta = sa.MetaData()
        for spec in kpis.FACT_TABLES.values():
            sa.Table(spec.name, meta, *(
                sa.Column(c.name, sa.Integer if c.type == "int" else sa.Text,
                          primary_key=c.name in spec.key) for c in spec.columns))
        meta.create_all(self.engine)
        self.meta = meta

    def load(self, store) -> None:
        with self.engine.begin() as conn:
            for name, table in self.meta.tables.items():
                rows = store.all(f"SELECT * FROM {name}")
                if rows:
                    conn.execute(table.insert(), rows)

    def rows(self, sql: str, params: dict) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(self.sa.text(sql), params)]


def test_postgresql_gives_the_same_answers(bahrain, pg):
    """percentile_disc on PostgreSQL, histograms on SQLite: the same report."""
    office, _expected = bahrain
    source = FactsOnPostgres(pg.new_database())
    source.load(office.store)
    after = date(2026, 12, 1)
    for period, services in ((kpis.Period.month(2026, 11), None),
                             (kpis.Period.week(date(2026, 11, 10)), None),
                             (kpis.Period.day("2026-11-03"), None),
                             (kpis.Period.month(2026, 11), [R])):
        on_pg = kpis.report(source, period, services=services, today=after)
        on_sqlite = kpis.report(kpis.HubFacts(office.store), period, services=services,
                                today=after)
        on_pg.pop("generated_at"), on_sqlite.pop("generated_at")
        assert on_pg == on_sqlite, (period, services)
    source.engine.dispose()
