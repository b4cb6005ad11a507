"""Fixtures for central and the sync agent.

    (pg and central_db, "sqlite" / "postgresql", come from tests/central_servers.py)
    make_central   make_central(db_url=None) -> Central with a root key, on the shared clock
    serve          serve(central) -> ServerThread (real HTTP on loopback), stopped afterwards
    make_office    make_office(central, url, office="MUH", device="D01", role="hub")
                   -> enrolled Office
"""
from __future__ import annotations

import random

import pytest

from central.app import create_app
from central.service import Central
from core.clock import UlidFactory
from core.office import Office
from core.settings import load_settings
from sync.agent import SyncAgent, enrol

from central_servers import ServerThread


@pytest.fixture
def make_central(tmp_path, clock):
    made = []

    def make(db_url=None, name="central"):
        central, token = Central.init_root(tmp_path / name, db_url, clock=clock)
        central.admin_token = token
        made.append(central)
        return central

    yield make
    for central in made:
        central.close()


@pytest.fixture
def serve():
    servers = []

    def start(central, **config):
        server = ServerThread(create_app(central), **config).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def make_office(tmp_path, clock):
    opened = []

    def make(central, url, office="MUH", device="D01", seed=11, role="hub", **env):
        data = tmp_path / f"{office}-{device}"
        environ = {"NAFITHA_OFFICE__CODE": office, "NAFITHA_DEVICE__ID": device,
                   "NAFITHA_SYNC__PROBE_INTERVAL_S": "0.2", **env}
        settings = load_settings(data, environ=environ)
        code = central.enrol_code(office, role=role)["code"]
        enrol(settings, url, code)
        o = Office.open(settings, clock=clock, ids=UlidFactory(clock, random.Random(seed)))
        opened.append(o)
        return o

    yield make
    for o in opened:
        o.close()


def agent_for(office, **kw) -> SyncAgent:
    return SyncAgent(office, **kw)


@pytest.fixture
def two_offices(make_central, make_office, central_db, serve):
    """two_offices((office, device), (office, device)) -> central, its server, and one
    enrolled office for each pair."""
    def make(*pairs):
        central = make_central(central_db)
        server = serve(central)
        return (central, server, *(make_office(central, server.url, office=office,
                                               device=device, seed=n)
                                   for n, (office, device) in enumerate(pairs, start=1)))
    return make
