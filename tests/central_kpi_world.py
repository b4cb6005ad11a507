"""Real offices in their own zones, enrolled with a real central over HTTP, serving tickets on
a frozen clock: the world central's figures are tested in (tests/central/test_central_kpi_facts.py,
tests/central/test_kept_reports.py)."""
from __future__ import annotations

import random
from pathlib import Path

from central.app import create_app
from central.service import Central
from core.clock import FrozenClock, UlidFactory
from core.office import Office
from core.settings import load_settings
from sync.agent import enrol

from central_servers import ServerThread

START = "2026-11-24T20:50:00+00:00"  # 23:50 in Bahrain, 02:20 next day in Kolkata


class World:
    def __init__(self, tmp_path: Path, db_url: str | None = None, start: str = START):
        self.tmp_path, self.clock = tmp_path, FrozenClock(start)
        self.central, _ = Central.init_root(tmp_path / "central", db_url, clock=self.clock)
        self.server = ServerThread(create_app(self.central)).start()
        self.offices: list[Office] = []

    def office(self, code: str, device: str, timezone: str, seed: int) -> Office:
        settings = load_settings(self.tmp_path / f"{code}-{device}", environ={
            "NAFITHA_OFFICE__CODE": code, "NAFITHA_DEVICE__ID": device,
            "NAFITHA_OFFICE__TIMEZONE": timezone})
        enrol(settings, self.server.url, self.central.enrol_code(code, role="hub")["code"])
        office = Office.open(settings, clock=self.clock,
                             ids=UlidFactory(self.clock, random.Random(seed)))
        office.users.create("sara", "clerk", "1234")
        self.offices.append(office)
        return office

    def close(self):
        for office in self.offices:
            office.close()
        self.server.stop()
        self.central.close()


def serve_one(office: Office, clock: FrozenClock, wait_min: int, serve_min: int,
              counter: str = "1") -> dict:
    """A ticket taken now, called after wait_min, served for serve_min minutes."""
    ticket = office.queue.take_ticket("residence-certificate")
    clock.advance(minutes=wait_min)
    office.queue.call_next(counter)
    office.queue.start_serving(ticket["id"])
    clock.advance(minutes=serve_min)
    office.queue.finish(ticket["id"])
    return ticket


