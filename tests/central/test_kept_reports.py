"""A closed period's report is kept at central and served from there until a late fact touches
one of its days (central/reports.py, docs/console/reports.md).

- A closed month is computed once, then served from kept_reports; the open month never is.
- A late fact forgets it: a rating (a fact that names no day, placed by its row) and a ticket
  of an office that was offline since November; today's traffic forgets nothing.
- A late fact that arrives while the figures are being read leaves nothing kept.
- A time zone changed forgets everything; `keep_closed_months` keeps every office and each
  municipality's, in the server's background thread too (a failed round is tried again);
  the CLI refuses a month not over or not a month, and changes nothing."""
from __future__ import annotations

import json
import threading
import time

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from central import db, reports
from central.service import Central, CentralError
from central.staff import Staff
from core import kpis
from nafitha.cli import cli
from sync.agent import SyncAgent

from central_kpi_world import World, serve_one

NOVEMBER = kpis.Period.month(2026, 11)
DECEMBER = kpis.Period.month(2026, 12)


@pytest.fixture
def world(tmp_path):
    made = World(tmp_path)
    yield made
    made.close()


@pytest.fixture
def computed(monkeypatch):
    """How many times core.kpis.report ran (a kept report is served without it)."""
    calls = []
    real = reports.kpis.report

    def counting(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(reports.kpis, "report", counting)
    return calls


def kept(central) -> list[dict]:
    with central.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(
            db.kept_reports.c.first, db.kept_reports.c.last,
            db.kept_reports.c.body.is_not(None).label("filled"))).mappings()]


def without_time(report: dict) -> dict:
    return {k: v for k, v in report.items() if k != "generated_at"}


def test_a_closed_month_is_kept_until_a_late_fact_touches_it(world, computed):
    north = world.office("MUH", "D01", "Asia/Bahrain", seed=1)
    south = world.office("RIF", "K01", "Asia/Bahrain", seed=2)
    served = serve_one(north, world.clock, wait_min=15, serve_min=5)
    assert SyncAgent(north).once()["status"]["pending"] == 0
    assert SyncAgent(south).once()["status"]["pending"] == 0
    north.ratings.rate(served["id"], 4)  # not pushed yet
    south.queue.take_ticket("residence-certificate")  # south goes offline with it
    world.clock.advance(days=9)  # 3 December: November is over in every zone

    first = reports.report(world.central, NOVEMBER)
    assert first["visits"]["total"]["tickets"] == 1
    assert first["visits"]["total"]["rating"]["n"] == 0
    assert kept(world.central) == [{"first": "2026-11-01", "last": "2026-11-30", "filled": True}]
    again = reports.report(world.central, NOVEMBER)
    assert again == first and len(computed) == 1  # served from the keep, not computed

    # The rating names no day: it is placed by its ticket's row (24 November).
    assert SyncAgent(north).once()["status"]["pending"] == 0
    assert kept(world.central) == []
    rated = reports.report(world.central, NOVEMBER)
    assert len(computed) == 2 and rated["visits"]["total"]["rating"] == {"mean": 4.0, "n": 1}

    # Today's traffic (December, an open month) forgets nothing kept.
    serve_one(north, world.clock, wait_min=2, serve_min=3)
    assert SyncAgent(north).once()["status"]["pending"] == 0
    assert len(kept(world.central)) == 1
    assert reports.report(world.central, NOVEMBER) == rated and len(computed) == 2

    # The offline office's November ticket arrives in December.
    assert SyncAgent(south).once()["status"]["pending"] == 0
    assert kept(world.central) == []
    late = reports.report(world.central, NOVEMBER)
    assert late["visits"]["total"]["tickets"] == 2 and len(computed) == 3

    # The open month is computed every time and never kept.
    for expected_calls in (4, 5):
        december = reports.report(world.central, DECEMBER)
        assert december["visits"]["total"]["tickets"] == 1
        assert len(computed) == expected_calls
    assert [k["first"] for k in kept(world.central)] == ["2026-11-01"]

    # Each scope is kept on its own: one office's month is another report.
    one = reports.report(world.central, NOVEMBER, offices=["RIF"])
    assert one["visits"]["total"]["tickets"] == 1 and len(kept(world.central)) == 2
    assert reports.report(world.central, NOVEMBER) == late and len(computed) == 6

    # A zone changed moves the days of an office's facts: every kept report is forgotten.
    reports.set_timezone(world.central, "RIF", "Asia/Kolkata")
    assert kept(world.central) == []


def test_a_late_fact_while_the_figures_are_read_leaves_nothing_kept(tmp_path, pg,
                                                                      monkeypatch):
    # On PostgreSQL, where the figures are read without holding the write lock (central's
    # SQLite takes it at BEGIN, so there a late fact waits for the reading to end).
    world = World(tmp_path, pg.new_database())
    try:
        _interrupted(world, monkeypatch)
    finally:
        world.close()


def _interrupted(world, monkeypatch):
    north = world.office("MUH", "D01", "Asia/Bahrain", seed=1)
    serve_one(north, world.clock, wait_min=15, serve_min=5)
    assert SyncAgent(north).once()["status"]["pending"] == 0
    world.clock.advance(days=9)
    real = reports.kpis.report

    def interrupted(*args, **kwargs):
        figures = real(*args, **kwargs)
        # A late fact of 20 November lands before the figures are kept.
        with world.central.engine.begin() as conn:
            reports.forget_kept(conn, [kpis.Fact("kpi_visits", {
                "office": "MUH", "ticket_id": "late"}, {"day": "2026-11-20"})])
        return figures

    monkeypatch.setattr(reports.kpis, "report", interrupted)
    assert reports.report(world.central, NOVEMBER)["visits"]["total"]["tickets"] == 1
    assert kept(world.central) == []
    monkeypatch.setattr(reports.kpis, "report", real)
    reports.report(world.central, NOVEMBER)
    assert [k["filled"] for k in kept(world.central)] == [True]


def test_the_closed_month_is_kept_for_every_office_and_each_municipality(world, computed):
    north = world.office("MUH", "D01", "Asia/Bahrain", seed=1)
    world.office("RIF", "K01", "Asia/Bahrain", seed=2)
    serve_one(north, world.clock, wait_min=15, serve_min=5)
    assert SyncAgent(north).once()["status"]["pending"] == 0
    staff = Staff(world.central)
    staff.add_municipality("cli", "NORTH", "الشمالية", "Northern")
    staff.assign_office("cli", "MUH", "NORTH")
    home = str(world.central.home)

    # 30 November: November is not over yet; nothing is kept and nothing changes.
    world.clock.advance(days=6)
    with pytest.raises(CentralError) as early:
        reports.keep_closed_months(world.central, NOVEMBER)
    assert early.value.code == "future_month" and kept(world.central) == []
    # (The command runs on the real clock: a month far ahead is not over.)
    for month, words in (("2099-01", "not over yet"), ("2026-13", "month: YYYY-MM"),
                         ("November", "month: YYYY-MM")):
        refused = CliRunner().invoke(cli, ["central", "--home", home, "keep-reports",
                                           "--month", month])
        assert refused.exit_code == 1 and words in refused.output, refused.output
    assert kept(world.central) == []

    world.clock.advance(days=3)  # 3 December
    assert reports.last_closed_month(world.central) == NOVEMBER
    done = reports.keep_closed_months(world.central)
    assert done == [{"municipality": None, "offices": 2, "kept": True},
                    {"municipality": "NORTH", "offices": 1, "kept": True}]
    assert len(computed) == 2 and len(kept(world.central)) == 2
    # What a national and a northern officer open first is served from the keep.
    national = reports.report(world.central, NOVEMBER)
    northern = reports.report(world.central, NOVEMBER, person_municipality="NORTH")
    assert len(computed) == 2
    assert national["visits"]["total"]["tickets"] == 1 and national["municipality"] is None
    assert northern["offices"] == ["MUH"] and northern["municipality"] == "NORTH"

    again = CliRunner().invoke(cli, ["central", "--home", home, "keep-reports",
                                     "--month", "2026-11", "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.output) == {"month": "2026-11", "scopes": [
        {"municipality": None, "offices": 2, "kept": False},
        {"municipality": "NORTH", "offices": 1, "kept": False}]}


def test_the_server_keeps_the_closed_month_in_the_background(world, caplog):
    north = world.office("MUH", "D01", "Asia/Bahrain", seed=1)
    serve_one(north, world.clock, wait_min=15, serve_min=5)
    assert SyncAgent(north).once()["status"]["pending"] == 0
    world.clock.advance(days=9)
    opened = []

    def open_central():
        opened.append(1)
        if len(opened) == 1:  # the first round fails (the database restarting, say)
            raise OSError("database not reachable")
        return Central.open(world.central.home, clock=world.clock)

    stop = threading.Event()
    thread = reports.keep_in_background(open_central, every_s=0.05, first_after_s=0.01,
                                        stop=stop)
    try:
        deadline = time.monotonic() + 20
        while not kept(world.central) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive() and len(opened) >= 2
    assert kept(world.central) == [{"first": "2026-11-01", "last": "2026-11-30", "filled": True}]
    assert "keeping the closed month's reports failed" in caplog.text
