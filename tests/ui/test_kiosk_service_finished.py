"""A service whose tickets are finished for today, on the real kiosk under Xvfb, in Arabic and
English (core/ticket_limits.py, docs/queue.md "Daily cap and cut-off"): the service list marks
a service past its daily cap or its cut-off, a tap on it says so plainly instead of taking a
ticket, and a resident who lost the last ticket to another kiosk is told the same. Screenshots
are kept in /tmp/shots-h2/ (looked at when this was written)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from core.catalog import DEFAULT_CATALOG_DIR

from kiosk_rig import KioskRig

pytestmark = pytest.mark.ui

SHOTS = Path(os.environ.get("NAFITHA_SHOTS", "/tmp/shots-h2"))
# The kiosk's clock starts at 09:00 local (tests/ui/kiosk_rig.py START).
RULES = {"01-residence-certificate.toml": "queue = { daily_cap = 1 }",
         "03-building-permit-small.toml": 'queue = { cutoff = "08:30" }',
         "02-address-form.toml": "queue = { daily_cap = 1 }"}
WORDS = {"ar": {"tag": "انتهت تذاكر اليوم",
                "full": "انتهت تذاكر خدمة شهادة إثبات سكن لهذا اليوم. يرجى الحضور غداً.",
                "closed": "حتى الساعة 08:30 كل يوم", "form": "استمارة"},
         "en": {"tag": "No more tickets today",
                "full": "Tickets for Residence certificate are finished for today. "
                        "Please come back tomorrow.",
                "closed": "given until 08:30 each day", "form": "Address"}}


def capped_catalogue(data: Path) -> None:
    """The shipped catalogue with queue rules, in the kiosk's data directory."""
    directory = data / "catalog"
    shutil.copytree(DEFAULT_CATALOG_DIR, directory)
    for name, rule in RULES.items():
        path = directory / name
        text = path.read_text(encoding="utf-8")
        # before the first [[table]]: a key after one would be that table's
        path.write_text(text.replace("[[", f"{rule}\n\n[[", 1), encoding="utf-8")
    (data / "nafitha.toml").write_text('catalog_dir = "catalog"\n', encoding="utf-8")


def card(state: dict, code: str) -> dict:
    return next(r for r in state["rows"] if r["code"] == code)


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_finished_services_are_shown_and_said_plainly(lang, xvfb_display, tmp_path):
    words = WORDS[lang]
    rig = KioskRig(tmp_path / "rig", lang=lang)
    capped_catalogue(rig.data)
    office = rig.office()
    office.queue.take_ticket("residence-certificate")  # today's one ticket is taken
    office.close()
    with rig.start():
        p = rig.pilot
        p.tap("home:ticket")
        state = rig.wait_screen("services")
        residence, permit = card(state, "residence-certificate"), \
            card(state, "building-permit-small")
        assert residence["finished"] and residence["issue"] == words["tag"]
        assert permit["finished"] and permit["issue"] == words["tag"]
        assert not card(state, "address-form")["finished"]
        assert state["texts"]["notice"] == ""
        p.screenshot(SHOTS / f"kiosk-services-finished-{lang}.png")

        # A tap on a finished service: the sentence, and no ticket.
        p.tap("service:residence-certificate")
        state = rig.wait_screen("services")
        assert state["texts"]["notice"] == words["full"]
        p.screenshot(SHOTS / f"kiosk-service-full-{lang}.png")
        p.tap("service:building-permit-small")
        state = rig.wait_screen("services")
        assert words["closed"] in state["texts"]["notice"]
        p.screenshot(SHOTS / f"kiosk-service-closed-{lang}.png")

        # The last ticket of a service goes to another kiosk while this resident chooses.
        p.tap("service:address-form")
        rig.wait_screen("priority")
        office = rig.office()
        office.queue.take_ticket("address-form")
        office.close()
        p.tap("ticket:normal")
        state = rig.wait_screen("services")
        assert card(state, "address-form")["finished"]
        assert words["form"] in state["texts"]["notice"]
        p.screenshot(SHOTS / f"kiosk-service-lost-last-{lang}.png")
        assert rig.printer.jobs == []  # no ticket printed

    office = rig.office()
    try:  # one ticket each, both taken by the test: the kiosk took none
        assert office.queue.taken_on(office.queue.today(), "R") == 1
        assert office.queue.taken_on(office.queue.today(), "A") == 1
        assert office.queue.taken_on(office.queue.today(), "B") == 0
    finally:
        office.close()
