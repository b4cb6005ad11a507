"""Checking in an appointment at the real kiosk, by touch, in Arabic and in English: a booking
central published (a reference row, as a pull brings it) is checked in by typing its
reference and the national ID, or by scanning its QR and typing the ID; the ticket prints on
the kiosk's printer and queues at the slot's start. A wrong national ID is refused in the
resident's language and changes nothing. The Arabic screen is shot for a person to look at
(docs/screenshots/kiosk/appointment-ar.png and -en.png, NAFITHA_WRITE_SCREENSHOTS=1)."""
from __future__ import annotations

import itertools
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest

from core import booking_codes, reference
from core.clock import iso, parse_iso

from kiosk_rig import PERSON, KioskRig

pytestmark = pytest.mark.ui

ARABIC = re.compile("[\u0600-\u06ff]")
SERVICE = "residence-certificate"
# The app's frozen clock reads 09:00 in Bahrain (06:00 UTC): a 09:15 slot is in its window.
SLOT = "2026-11-24T06:15:00.000+00:00"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "kiosk"
SEEDS = itertools.count(1)  # each booking of the module its own reference


@pytest.fixture(scope="module", params=["ar", "en"])
def rig(request, xvfb_display, tmp_path_factory):
    with KioskRig(tmp_path_factory.mktemp(f"appointment-{request.param}"),
                  lang=request.param) as rig:
        yield rig


@pytest.fixture(autouse=True)
def at_start(rig):
    rig.show_scene()
    rig.go_home()
    yield
    rig.show_scene()
    rig.go_home()


@pytest.fixture
def office(rig):
    office = rig.office()
    yield office
    office.close()


@pytest.fixture
def booked(rig, office):
    """booked() -> the reference of a new booking of this language's resident."""
    def make() -> str:
        seed = next(SEEDS) + (100 if rig.lang == "en" else 0)
        ref = booking_codes.make_reference(lambda n: bytes((seed * 37 + i * 11) % 256
                                                           for i in range(n)))
        body = {"reference": ref, "office": "MUH", "service_code": SERVICE,
                "slot_start": SLOT, "slot_end": iso(parse_iso(SLOT) + timedelta(minutes=15)),
                "national_id_hash": booking_codes.hash_national_id(
                    PERSON[rig.lang]["national_id"]), "state": "booked"}
        with office.store.atomic():
            reference.put(office.store, {"kind": "appointment", "key": ref,
                                         "version": seed, "body": body},
                          office.store.now(), None)
        return ref
    return make


def in_language(rig, text: str) -> None:
    assert text.strip()
    assert bool(ARABIC.search(text)) == (rig.lang == "ar"), text


def tickets(office) -> int:
    return office.store.one("SELECT COUNT(*) AS n FROM tickets")["n"]


def check_in_typed(rig, typed: str, national_id: str) -> dict:
    p = rig.pilot
    p.tap("home:appointment")
    state = rig.wait_screen("appointment")
    in_language(rig, state["texts"]["instructions"])
    assert state["flags"]["can_check_in"] is False
    p.tap("booking_field:reference")
    p.type(typed.lower())
    p.tap("booking_field:national_id")
    p.type(national_id)
    state = rig.state()
    assert state["texts"]["reference"] == typed.upper()
    p.tap("check_in")
    return rig.pilot.wait_until(
        lambda s: not s["busy"] and (s["screen"] == "ticket" or
                                     s["visit"]["booking_problem"]), timeout_s=30)


def assert_ticket(rig, office, ref: str, jobs_before: int) -> None:
    state = rig.wait_screen("ticket")
    visit = office.store.one("SELECT * FROM appointment_visits WHERE reference = ?", (ref,))
    ticket = office.store.one("SELECT * FROM tickets WHERE id = ?", (visit["ticket_id"],))
    assert state["texts"]["number"] == ticket["number"]
    assert (ticket["channel"], ticket["queue_key"]) == ("appointment", SLOT)
    in_language(rig, state["texts"]["priority"])  # "your appointment is at 09:15"
    assert "09:15" in state["texts"]["priority"]
    assert state["flags"]["printed"] is True
    assert len(rig.printer.jobs) == jobs_before + 1


def test_check_in_by_typing_the_reference(rig, office, booked):
    ref = booked()
    jobs = len(rig.printer.jobs)
    check_in_typed(rig, booking_codes.shown(ref), PERSON[rig.lang]["national_id"])
    assert_ticket(rig, office, ref, jobs)
    rig.pilot.tap("done")


def test_check_in_by_scanning_the_qr(rig, office, booked, tmp_path):
    ref = booked()
    jobs = len(rig.printer.jobs)
    rig.show_qr(booking_codes.qr_text("MUH", ref))
    p = rig.pilot
    p.tap("home:appointment")
    state = rig.pilot.wait_until(
        lambda s: s["screen"] == "appointment" and s["flags"].get("field") == "national_id",
        timeout_s=30)
    assert state["texts"]["reference"] == booking_codes.shown(ref)
    rig.show_scene()
    p.type(PERSON[rig.lang]["national_id"])
    # For a person to look at: NAFITHA_WRITE_SCREENSHOTS=1 writes docs/screenshots/kiosk/.
    out = SHOTS if os.environ.get("NAFITHA_WRITE_SCREENSHOTS") == "1" else tmp_path
    p.screenshot(out / f"appointment-{rig.lang}.png")
    assert not [x for x in p.layout()], p.layout()  # nothing overlaps or is cut off
    p.tap("check_in")
    assert_ticket(rig, office, ref, jobs)
    rig.pilot.tap("done")


def test_a_wrong_national_id_is_refused_and_changes_nothing(rig, office, booked):
    ref = booked()
    before, jobs = tickets(office), len(rig.printer.jobs)
    other = PERSON["en" if rig.lang == "ar" else "ar"]["national_id"]
    state = check_in_typed(rig, booking_codes.shown(ref), other)
    assert state["screen"] == "appointment"
    assert state["visit"]["booking_problem"] == "national_id_mismatch"
    in_language(rig, state["texts"]["problem"])
    assert tickets(office) == before and len(rig.printer.jobs) == jobs
    rig.pilot.tap("back")
    rig.wait_screen("home")
    state = check_in_typed(rig, booking_codes.shown(ref)[:-1] + "Z" if not ref.endswith("Z")
                           else booking_codes.shown(ref)[:-1] + "Y",
                           PERSON[rig.lang]["national_id"])
    assert state["visit"]["booking_problem"] == "bad_check_character"
    in_language(rig, state["texts"]["problem"])
    assert tickets(office) == before
