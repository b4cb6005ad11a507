"""Real offices doing real work against a central served over HTTP, for the back office's
tests (tests/central/test_backoffice.py) and the console's pages (tests/central/console/):
each office is enrolled with a one-time code, takes applications and payments, and its sync
agent pushes them, exactly as in production.

    office = working_office(directory, url, central, "MUH", "D01", clock, seed=1)
    work = do_work(north, south, clock)   # the permits, a certificate and its licence, pushed
"""
from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image

from core.clock import UlidFactory
from core.office import Office
from core.settings import load_settings
from core.text import with_check_digit
from sync.agent import SyncAgent, enrol

FORM = {"phone": "33334444", "block": "204", "road": "15", "building": "12"}
PERMIT = {**FORM, "parcel": "02-1234", "area_m2": "45"}
PEOPLE = {"ahmad": "أحمد محمد الحسن", "fatima": "فاطمة علي", "john": "John Smith"}


def page_image(label: str) -> bytes:
    """A small real PNG page, different for each label."""
    shade = sum(label.encode()) % 200
    out = io.BytesIO()
    Image.new("RGB", (120, 160), (255, 255 - shade // 4, 200 + shade // 4)).save(out, "PNG")
    return out.getvalue()


def attach_required(office: Office, application_id: str, clerk: str = "sara") -> list[dict]:
    """A page of each document the application's service requires before a decision
    (issue 20: the console approves only once they reached central), captured at the
    office; its sync agent sends the events and the files."""
    app = office.applications.get(application_id)
    return [office.attachments.add_page(application_id, d.key, page_image(d.key), "image/png",
                                        "camera", clerk)
            for d in office.catalog.get(app["service_code"]).documents if d.required]


def nid(n: int) -> str:
    return with_check_digit(f"{85010000 + n:08d}", "luhn")


def working_office(directory: Path, url: str, central, code: str, device: str, clock,
                   seed: int) -> Office:
    """An office device enrolled with central at `url`, clerk "sara" (PIN 1234) signed up with
    an open cash shift. The caller closes it."""
    settings = load_settings(Path(directory) / f"{code}-{device}", environ={
        "NAFITHA_OFFICE__CODE": code, "NAFITHA_DEVICE__ID": device})
    enrol(settings, url, central.enrol_code(code, role="hub")["code"])
    office = Office.open(settings, clock=clock, ids=UlidFactory(clock, random.Random(seed)))
    office.users.create("sara", "clerk", "1234")
    office.payments.open_shift("sara", 20_000)
    return office


def do_work(north: Office, south: Office, clock) -> dict:
    """North: three building permits a day apart (Ahmad's paid), an instant certificate
    issued; south: one permit. All pushed."""
    permits = {}
    for n, who in enumerate(("ahmad", "fatima", "john")):
        permits[who] = north.applications.submit("building-permit-small", {
            **PERMIT, "full_name": PEOPLE[who], "national_id": nid(n)})
        clock.advance(hours=24)
    north.payments.take(permits["ahmad"]["id"], "cash", "sara", tendered_minor=20_000)
    certificate = north.applications.submit("residence-certificate", {
        **FORM, "full_name": "Instant Person", "national_id": nid(10)})
    north.payments.take(certificate["id"], "cash", "sara", tendered_minor=1000)
    licence = north.licences.issue(certificate["id"])
    permits["south"] = south.applications.submit("building-permit-small", {
        **PERMIT, "full_name": "فاطمه سالم", "national_id": nid(20)})
    for office in (north, south):
        SyncAgent(office).once()
    return {"permits": permits, "certificate": certificate, "licence": licence}


def north_and_south(directory: Path, url: str, central, clock, add_municipality,
                    north_device: str = "D02") -> tuple[Office, Office]:
    """Two working offices, MUH (municipality NORTH) and RIF (SOUTH); add_municipality(code,
    offices) gives offices to a municipality (the console's Site.municipality)."""
    north = working_office(directory, url, central, "MUH", north_device, clock, seed=1)
    south = working_office(directory, url, central, "RIF", "K01", clock, seed=2)
    add_municipality("NORTH", ("MUH",))
    add_municipality("SOUTH", ("RIF",))
    return north, south
