"""Fixtures for the console's tests (central's web pages at /console).

    clock        FrozenClock at 2026-11-24 08:00 UTC; the served central uses it, so
                 clock.advance(minutes=31) expires a session
    site         a fresh central (root key, catalogue, office MUH with device D01) served over
                 HTTP on loopback: Site(central, staff, clock, url, admin_token) with
                   site.person(username, role="officer", municipality=None,
                               two_step=None, full_name=None, language="ar")
                               -> Someone (its password is
                               PASSWORD; two_step=True gives it a second factor, returned
                               as .secret; admins get one unless two_step=False)
                   site.code(secret) -> the TOTP code for the clock's current time
                   site.municipality(code="CAP", offices=("MUH",))
    browser      Debian's Chromium through Playwright (tests/hub/board_browser.py), one per
                 module
    page         a fresh browser context and page (no cookies), 1366x900
    sign_in      sign_in(page, username, password=PASSWORD, secret=None) signs in through the
                 real form (entering the TOTP code when `secret` is given) and lands on
                 /console
    work         NORTH (office MUH) and SOUTH (office RIF) have worked and pushed
                 (tests/central_offices.py do_work): the permits, a certificate, its licence,
                 and the two Offices (closed afterwards)
    db_rows      db_rows(central) -> every row of the console's tables, to prove nothing
                 changed
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from central import db
from central.app import create_app
from central.service import Central
from central.staff import Staff
from core import totp
from core.clock import FrozenClock
from core.credentials import keys

from central_offices import do_work, north_and_south
from central_servers import ServerThread

sys.path.insert(0, str(Path(__file__).parents[2] / "hub"))
from board_browser import ARGS, CHROMIUM

START = "2026-11-24T08:00:00+00:00"
PASSWORD = "correct horse battery"
VIEWPORT = {"width": 1366, "height": 900}


@dataclass
class Someone:
    username: str
    role: str
    municipality: str | None
    password: str
    secret: str | None


@dataclass
class Site:
    central: Central
    staff: Staff
    clock: FrozenClock
    url: str
    admin_token: str

    def code(self, secret: str) -> str:
        return totp.code_at(secret, self.clock.now().timestamp())

    def person(self, username: str, role: str = "officer", municipality: str | None = None,
               two_step: bool | None = None, full_name: str | None = None,
               language: str = "ar") -> Someone:
        wants = two_step
        self.staff.add("test", username, full_name or f"{username.title()} Test", role,
                       municipality, PASSWORD, language)
        secret = None
        if wants or (wants is None and role == "admin"):
            secret = totp.new_secret()
            token = self.staff.sign_in(username, PASSWORD)
            self.staff.enrol_totp(token, secret, self.code(secret))
            self.staff.sign_out(token)
            self.clock.advance(30)  # the enrolment used this step's code
        return Someone(username, role, municipality, PASSWORD, secret)

    def municipality(self, code: str = "CAP", offices: tuple = ("MUH",)) -> str:
        self.staff.add_municipality("test", code, f"بلدية {code}", f"{code} municipality")
        for office in offices:
            self.staff.assign_office("test", office, code)
        return code


def make_site(tmp_path: Path, db_url: str | None = None) -> tuple[Site, ServerThread]:
    clock = FrozenClock(START)
    central, admin_token = Central.init_root(tmp_path / "central", db_url, clock=clock)
    code = central.enrol_code("MUH", role="hub")["code"]
    central.enrol(code, "MUH", "D01", keys.public_bytes(keys.generate()).hex())
    app = create_app(central)
    server = ServerThread(app).start()
    return Site(central, app.state.staff, clock, server.url, admin_token), server


@pytest.fixture
def clock(site):
    return site.clock


@pytest.fixture
def site(tmp_path):
    made, server = make_site(tmp_path)
    yield made
    server.stop()
    made.central.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(10_000)
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture
def sign_in(site):
    def go(page, username: str, password: str = PASSWORD, secret: str | None = None):
        page.goto(f"{site.url}/console/sign-in")
        page.fill("#username", username)
        page.fill("#password", password)
        page.click("button[type=submit] >> text=/دخول|Sign in/")
        if secret is not None:
            page.fill("#code", site.code(secret))
            page.click("main button[type=submit]")
        return page
    return go


CONSOLE_TABLES = (db.staff, db.console_sessions, db.api_keys, db.console_audit,
                  db.municipalities, db.offices)


@pytest.fixture
def db_rows():
    def rows(central: Central) -> dict:
        with central.engine.connect() as conn:
            return {t.name: sorted(tuple(map(str, r)) for r in conn.execute(sa.select(t)))
                    for t in CONSOLE_TABLES}
    return rows


@pytest.fixture
def work(site, tmp_path):
    """NORTH (office MUH) and SOUTH (office RIF) have worked and pushed: see do_work."""
    north, south = north_and_south(tmp_path, site.url, site.central, site.clock,
                                   lambda code, offices: site.municipality(code, offices))
    done = do_work(north, south, site.clock)
    yield {**done, "north": north, "south": south}
    north.close()
    south.close()
