"""Central accepts "I need more time" from a phone (ticket.postponed, core/follow.py): the
office's event passes the wire check, is stored, and projects into the visit's facts like
any ticket state; the office's report and central's agree."""
from __future__ import annotations

import sqlalchemy as sa

from central import db, reports
from core import kpis
from sync.agent import SyncAgent

from central_kpi_world import World


def test_a_postponed_ticket_reaches_centrals_facts(tmp_path):
    world = World(tmp_path)
    try:
        office = world.office("MUH", "D01", "Asia/Bahrain", seed=1)
        first = office.queue.take_ticket("residence-certificate")
        office.queue.take_ticket("residence-certificate")
        world.clock.advance(minutes=2)
        office.follow.more_time(office.follow.token(first["id"]))
        world.clock.advance(minutes=3)
        office.queue.call_next("1")
        world.clock.advance(minutes=4)
        called = office.queue.call_next("1")
        assert called["id"] == first["id"]  # it let the other go first
        office.queue.finish(called["id"])
        result = SyncAgent(office).once()
        assert result["status"]["pending"] == 0 and result["status"]["held"] == 0
        with world.central.engine.connect() as conn:
            visits = {r["ticket_id"]: r for r in conn.execute(
                sa.select(db.FACTS["kpi_visits"])).mappings()}
        assert visits[first["id"]]["state"] == "done"
        assert visits[first["id"]]["wait_s"] == 9 * 60  # taken -> its first call
        period = kpis.Period.day(office.queue.today())
        at_hub = kpis.report(kpis.HubFacts(office.store), period, today=office.queue.today())
        at_central = reports.report(world.central, period, offices=["MUH"])
        assert at_central["visits"] == at_hub["visits"]
    finally:
        world.close()
