"""Central's facts (central/reports.py): real offices push their events over HTTP and central
projects each new one into the kpi_* tables, in its office's time zone.

- Two offices in different zones: the same UTC moment falls on another local day and hour.
- A resend (the whole outbox again, and an old batch delivered late) changes no fact.
- Migration 0011 builds the same facts from the events already held (downgrade to 0010,
  upgrade again); changing an office's zone projects its facts again; a bad zone or an
  unknown office changes nothing.
- The same on PostgreSQL (the embedded server), rebuilt by `reproject` to the same rows.
- The console's report and the hub's own report of the same office agree, figure for figure
  (core.kpis.report over central's facts, SQLite and PostgreSQL, and over the office's store).
  Ratings (ticket.rated) and counter time (counter.state_changed) reach central's facts."""
from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from central import db, reports
from central.service import Central, CentralError
from core import kpis
from core.office import Office
from sync import protocol
from sync.agent import SyncAgent

from central_kpi_world import World, serve_one
from central_offices import FORM, nid

KOLKATA = "Asia/Kolkata"


def facts(central: Central) -> dict:
    with central.engine.connect() as conn:
        return {name: sorted(tuple(map(str, r)) for r in conn.execute(sa.select(table)))
                for name, table in db.FACTS.items()}


def visits(central: Central, office: str) -> list[dict]:
    with central.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(db.FACTS["kpi_visits"]).where(
            db.FACTS["kpi_visits"].c.office == office).order_by("taken_at")).mappings()]


def work(world: World) -> tuple[Office, Office]:
    """MUH (Bahrain) serves a ticket (rated 4), issues a certificate and has counter 1 open
    then on a break; RIF (Kolkata) serves one ticket and has one no-show; both push."""
    north = world.office("MUH", "D01", "Asia/Bahrain", seed=1)
    south = world.office("RIF", "K01", KOLKATA, seed=2)
    reports.set_timezone(world.central, "RIF", KOLKATA)
    served = serve_one(north, world.clock, wait_min=15, serve_min=5)  # 23:50 on the 24th
    serve_one(south, world.clock, wait_min=3, serve_min=4)  # taken 02:40 on the 25th
    gone = south.queue.take_ticket("residence-certificate")
    south.queue.call_next("2")
    south.queue.no_show(gone["id"])
    app = north.applications.submit("residence-certificate", {
        **FORM, "full_name": "فاطمة علي", "national_id": nid(1)})
    north.payments.open_shift("sara", 20_000)
    north.payments.take(app["id"], "cash", "sara", tendered_minor=1000)
    north.licences.issue(app["id"])
    north.ratings.rate(served["id"], 4)  # 7 minutes after it finished
    with north.acting_as("sara"):  # counter 1: open 5 minutes, then 10 on a prayer break
        north.counter_states.set("1", "open")
        world.clock.advance(minutes=5)
        north.counter_states.set("1", "break", "prayer")
        world.clock.advance(minutes=10)
        north.counter_states.set("1", "open")
    for office in (north, south):
        assert SyncAgent(office).once()["status"]["pending"] == 0
    return north, south


@pytest.fixture
def world(tmp_path):
    made = World(tmp_path)
    yield made
    made.close()


def check_two_zones(central: Central) -> None:
    north, south = visits(central, "MUH"), visits(central, "RIF")
    assert [(v["day"], v["hour"], v["wait_s"], v["service_s"], v["state"]) for v in north] \
        == [("2026-11-24", 23, 900, 300, "done")]
    # Taken at 21:10 UTC (02:40 in Kolkata), and 21:17 UTC (02:47), on the 25th there.
    assert [(v["day"], v["hour"], v["wait_s"], v["service_s"], v["state"]) for v in south] \
        == [("2026-11-25", 2, 180, 240, "done"), ("2026-11-25", 2, 0, None, "no_show")]
    assert north[0]["rating"] == 4 and south[0]["rating"] is None
    with central.engine.connect() as conn:
        times = conn.execute(sa.select(db.FACTS["kpi_counter_time"]).order_by(
            "started_at")).mappings().all()
        apps = conn.execute(sa.select(db.FACTS["kpi_applications"])).mappings().all()
        licences = conn.execute(sa.select(db.FACTS["kpi_licences"])).mappings().all()
        pays = conn.execute(sa.select(db.FACTS["kpi_payments"])).mappings().all()
    assert [(t["office"], t["counter"], t["clerk"], t["state"], t["reason"], t["day"],
             t["seconds"]) for t in times] == [
        ("MUH", "1", "sara", "open", None, "2026-11-25", 300),
        ("MUH", "1", "sara", "break", "prayer", "2026-11-25", 600)]
    assert [(a["office"], a["service_code"], a["state"]) for a in apps] == \
        [("MUH", "residence-certificate", "issued")]
    assert [(lic["office"], lic["day"], lic["reprints"]) for lic in licences] == \
        [("MUH", "2026-11-25", 0)]
    assert [(p["office"], p["method"], p["amount_minor"], p["voided"]) for p in pays] == \
        [("MUH", "cash", 1000, 0)]


def test_each_office_counts_days_and_hours_in_its_own_zone(world):
    work(world)
    check_two_zones(world.central)


def test_a_resend_changes_no_fact(world):
    north, _ = work(world)
    before = facts(world.central)
    assert sum(len(rows) for rows in before.values()) == 8
    # The whole outbox again (an office restored from a backup resends everything) ...
    north.store.conn.execute("UPDATE outbox SET sent_at = NULL")
    assert SyncAgent(north).once()["status"]["pending"] == 0
    # ... and an old batch delivered late by a proxy, straight to the ingest.
    bodies = [r["body"] for r in north.store.all("SELECT body FROM outbox ORDER BY seq")]
    device = world.central.authenticate(f"Bearer {SyncAgent(north).token}")
    reply = world.central.ingest(device, protocol.encode_batch(
        "D01", "MUH", north.store.now(), bodies, pending=0), "gzip")
    assert reply["stored"] == 0 and reply["duplicates"] == len(bodies)
    assert facts(world.central) == before


def _alembic(central: Central, revision: str, upgrade: bool) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(db.__file__).parent / "migrations"))
    with central.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.upgrade if upgrade else command.downgrade)(cfg, revision)


def test_migration_0011_builds_the_same_facts_from_the_events_held(world, monkeypatch):
    work(world)
    before = facts(world.central)
    monkeypatch.setattr(reports, "REPROJECT_CHUNK", 3)  # many pages of events, in order
    _alembic(world.central, "0010", upgrade=False)
    assert "kpi_visits" not in sa.inspect(world.central.engine).get_table_names()
    db.migrate(world.central.engine)
    # The zone was dropped with its column: RIF's facts are in Bahrain's zone until it is set.
    assert visits(world.central, "RIF")[0]["hour"] == 0  # 00:10 in Bahrain
    reports.set_timezone(world.central, "RIF", KOLKATA)
    assert facts(world.central) == before


def test_a_zone_changed_projects_the_office_again_and_bad_ones_change_nothing(world):
    work(world)
    result = reports.set_timezone(world.central, "MUH", "Europe/London")
    assert result["events"] > 0
    assert [(v["day"], v["hour"]) for v in visits(world.central, "MUH")] == [("2026-11-24", 20)]
    before = facts(world.central)
    for office, zone, code in (("MUH", "Mars/Olympus", "invalid_timezone"),
                               ("MUH", "../../etc/passwd", "invalid_timezone"),
                               ("MUH", "", "invalid_timezone"),
                               ("NOPE", "Asia/Bahrain", "unknown_office")):
        with pytest.raises(CentralError) as refused:
            reports.set_timezone(world.central, office, zone)
        assert refused.value.code == code
    assert facts(world.central) == before
    with world.central.engine.connect() as conn:
        assert conn.execute(sa.select(db.offices.c.code, db.offices.c.timezone).order_by(
            db.offices.c.code)).all() == [("MUH", "Europe/London"), ("RIF", KOLKATA)]


def test_on_postgresql_too(tmp_path, pg):
    made = World(tmp_path, pg.new_database())
    try:
        offices = work(made)
        check_two_zones(made.central)
        before = facts(made.central)
        with made.central.engine.begin() as conn:
            reports.reproject(conn)
        assert facts(made.central) == before
        agree(made, offices)
    finally:
        made.close()


def agree(world: World, offices) -> None:
    period = kpis.Period.week("2026-11-24")
    for office in offices:
        code = office.settings.office.code
        at_hub = kpis.report(kpis.HubFacts(office.store), period, today="2026-11-25")
        at_central = reports.report(world.central, period, offices=[code])
        for part in ("visits", "applications", "licences", "revenue", "staff_time"):
            assert at_central[part] == at_hub[part], (code, part)


def test_centrals_report_agrees_with_the_offices_own(world):
    north, south = work(world)
    agree(world, (north, south))
    both = reports.report(world.central, kpis.Period.week("2026-11-24"))
    assert both["offices"] == ["MUH", "RIF"]
    assert both["visits"]["total"]["tickets"] == 3
    assert [r["key"] for r in both["visits"]["by_office"]] == ["MUH", "RIF"]
