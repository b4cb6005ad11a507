"""Fixtures for central's API and schema tests (after the pattern of tests/sync/conftest.py).

    (pg and central_db, "sqlite" / "postgresql", come from tests/central_servers.py)
    start_central  start_central(db_url=None) -> Served: a central with a root key, the admin
                   token and one enrolled device (MUH/D01), served over HTTP on loopback;
                   module scope, stopped after the module
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from central.app import create_app
from central.service import Central
from core.clock import FrozenClock
from core.credentials import keys

from central_servers import ServerThread

OFFICE, DEVICE = "MUH", "D01"
START = "2026-11-24T08:00:00+00:00"


@dataclass
class Served:
    central: Central
    server: ServerThread
    admin_token: str
    device_token: str

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def admin(self) -> dict:
        return {"Authorization": f"Bearer {self.admin_token}"}

    @property
    def device(self) -> dict:
        return {"Authorization": f"Bearer {self.device_token}"}


@pytest.fixture(scope="module")
def start_central(tmp_path_factory):
    started: list[Served] = []

    def start(db_url: str | None = None) -> Served:
        home = tmp_path_factory.mktemp("central")
        central, admin_token = Central.init_root(home, db_url, clock=FrozenClock(START))
        code = central.enrol_code(OFFICE, role="hub")["code"]
        public = keys.public_bytes(keys.generate()).hex()
        device_token = central.enrol(code, OFFICE, DEVICE, public)["token"]
        served = Served(central, ServerThread(create_app(central)).start(), admin_token,
                        device_token)
        started.append(served)
        return served

    yield start
    for served in started:
        served.server.stop()
        served.central.close()
