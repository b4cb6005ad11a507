"""Shared fixtures: time, ids and randomness are frozen (DESIGN.md house style 7).

    clock         FrozenClock at 2026-11-24 08:00 UTC (11:00 in Asia/Bahrain)
    ids           UlidFactory(clock, random.Random(7)): the same ids on every run
    settings      load_settings(tmp_path, environ={}): defaults, data in tmp_path
    root_key      the municipality's root signing key (one per test session)
    certified     the device of settings.data_dir has a key and certificate from root_key
    office        core.office.Office.open(settings, clock=clock, ids=ids), certified
    valid_nid     valid_nid(n=0) -> a national ID that passes the configured check digit
    valid_fields  valid_fields(service, **overrides) -> a form that passes the catalogue
    submit_valid  submit_valid(service="residence-certificate", **overrides) -> application
    till          a clerk (sara/1234) with an open shift (float 20.000 BHD) and a
                  supervisor (huda/987654)
    db_state      db_state() -> every row of every table, to prove that nothing changed
"""
from __future__ import annotations

import random
import sys
from pathlib import Path
from dataclasses import dataclass

import pytest

from core.catalog import load_catalog
from core.clock import FrozenClock, UlidFactory
from core.credentials import ceremony, keys
from core.office import Office
from core.settings import load_settings
from core.text import with_check_digit

sys.path.insert(0, str(Path(__file__).parent))  # shared test helpers (bench_loader.py)
from store_rows import all_rows  # noqa: E402

pytest_plugins = ["central_servers"]  # pg, central_db: for tests/sync and tests/central


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (`make test` runs `-n 2 --dist loadgroup`): the tests that drive a
    Kivy app under Xvfb run one after another on one worker (each renders with Mesa's
    software renderer, which takes a core); every other file runs whole on one worker, so
    its module fixtures are made once."""
    for item in items:
        group = "kivy" if item.get_closest_marker("ui") else item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group(group))

START = "2026-11-24T08:00:00+00:00"

# Values that pass each field type of the catalogue (core/catalog.py FIELD_TYPES).
SAMPLE_BY_TYPE = {
    "text": "Sample text",
    "phone": "33334444",
    "block": "204",
    "road": "15",
    "building": "1203A",
    "area_m2": "45",
    "money": "12.500",
}
SAMPLE_BY_KEY = {"full_name": "Fatima Ali Hasan", "parcel": "02-1234"}


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def ids(clock) -> UlidFactory:
    return UlidFactory(clock, random.Random(7))


@pytest.fixture
def settings(tmp_path):
    return load_settings(tmp_path, environ={})


# PINs and passwords hashed at test strength in this process: the suite makes thousands of
# accounts and sign-ins, each 0.1-0.2 s of one core at production strength. Hashes carry
# their own cost, so an app started by a test verifies them at the strength they were made
# with; what the apps and central make themselves keeps production strength, which
# tests/core/test_hash_costs.py asserts in a fresh process.
TEST_SCRYPT_N = 2 ** 10


@pytest.fixture(scope="session", autouse=True)
def _test_strength_hashes():
    import argon2

    import core.users

    production_n = core.users.SCRYPT_N
    core.users.SCRYPT_N = TEST_SCRYPT_N
    try:
        import central.staff
    except ImportError:  # central's extras not installed: only the office's PINs
        central = None
    if central is not None:
        production_hasher = central.staff.PasswordHasher
        central.staff.PasswordHasher = lambda: argon2.PasswordHasher(
            time_cost=1, memory_cost=1024, parallelism=1)
    yield
    core.users.SCRYPT_N = production_n
    if central is not None:
        central.staff.PasswordHasher = production_hasher


@pytest.fixture
def production_strength_hashes(monkeypatch):
    """For a test about the hash itself: PINs hashed at production strength."""
    import core.users

    monkeypatch.setattr(core.users, "SCRYPT_N", 2 ** 16)


@pytest.fixture(scope="session")
def root_key():
    """The municipality's root key for the test session (generating one is cheap, but one
    key makes licences from different tests comparable)."""
    return keys.generate()


@pytest.fixture
def certified(settings, clock, root_key):
    """This data directory's device holds a key and a certificate for every catalogue
    licence type, signed by root_key (what `nafitha keys request/certify/install` do)."""
    types = [s.licence_type for s in load_catalog(settings.catalog_dir)]
    return ceremony.setup_device(settings.data_dir, root_key, settings.device.id,
                                 settings.office.code, types, int(clock.now().timestamp()))


@pytest.fixture
def office(settings, clock, ids, certified):
    office = Office.open(settings, clock=clock, ids=ids)
    yield office
    office.close()


@pytest.fixture
def valid_nid(settings):
    rule = settings.validation.national_id_check

    def make(n: int = 0) -> str:
        return with_check_digit(f"{85010000 + n:08d}", rule)

    return make


@pytest.fixture
def valid_fields(office, valid_nid):
    def make(service: str = "residence-certificate", **overrides) -> dict:
        svc = office.catalog.get(service)
        values = {}
        for field in svc.fields:
            if field.key in SAMPLE_BY_KEY:
                values[field.key] = SAMPLE_BY_KEY[field.key]
            elif field.type == "national_id":
                values[field.key] = valid_nid()
            elif field.type == "choice":
                values[field.key] = field.options[0].value
            else:
                values[field.key] = SAMPLE_BY_TYPE[field.type]
        values.update(overrides)
        return {k: v for k, v in values.items() if v is not None}

    return make


@pytest.fixture
def submit_valid(office, valid_fields):
    def submit(service: str = "residence-certificate", **overrides) -> dict:
        return office.applications.submit(service, valid_fields(service, **overrides))

    return submit


@dataclass
class Till:
    clerk: str
    clerk_pin: str
    supervisor: str
    supervisor_pin: str
    shift: dict


@pytest.fixture
def till(office) -> Till:
    office.users.create("sara", "clerk", "1234")
    office.users.create("huda", "supervisor", "987654")
    shift = office.payments.open_shift("sara", 20_000)
    return Till("sara", "1234", "huda", "987654", shift)


@pytest.fixture
def db_state(office):
    """Every row of every table (sqlite_sequence excluded), in a stable order."""
    return lambda: all_rows(office.store)


@pytest.fixture
def issued(office, submit_valid, till):
    """issued() -> a freshly issued, signed residence-certificate licence row."""
    def issue(**overrides) -> dict:
        app = submit_valid("residence-certificate", **overrides)
        office.payments.take(app["id"], "cash", till.clerk, tendered_minor=1000)
        return office.licences.issue(app["id"])

    return issue
