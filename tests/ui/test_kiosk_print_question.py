"""A kiosk that stopped while printing a licence asks, at start, whether it came out (the
real app under Xvfb): never printed again by itself; `no` prints the original, `I don't
know` sends the resident to the counter for a counted COPY; each answer audited."""
from __future__ import annotations

import json
import re

import pytest

from kiosk_rig import PERSON, KioskRig

pytestmark = pytest.mark.ui

ARABIC = re.compile("[\u0600-\u06ff]")


def licence_left_printing(rig) -> dict:
    """What a kiosk killed in the middle of printing a licence leaves in its store."""
    office = rig.office()
    try:
        office.users.create("sara", "clerk", "1234")
        office.payments.open_shift("sara", 0)
        app = office.applications.submit("residence-certificate", {
            **PERSON[rig.lang], "block": "208", "road": "2811", "building": "1234"})
        office.payments.take(app["id"], "cash", "sara", tendered_minor=app["fee_minor"])
        lic = office.printing.issue_licence(app["id"], rig.lang)
        office.printing.mark_printing(lic["print_job"]["id"])
        return lic
    finally:
        office.close()


def answers(rig) -> list[tuple[str, str]]:
    office = rig.office()
    try:
        return [(r["actor"], json.loads(r["data"])["came_out"]) for r in office.store.all(
            "SELECT actor, data FROM audit WHERE action = 'print.answered'")]
    finally:
        office.close()


def test_the_kiosk_asks_in_arabic_and_no_prints_the_original_once(xvfb_display, tmp_path):
    rig = KioskRig(tmp_path, lang="ar")
    try:
        lic = licence_left_printing(rig)
        rig.start()
        state = rig.pilot.wait_until(lambda s: s["print_question"]["shown"], timeout_s=20)
        question = state["print_question"]
        assert question["title"] == "هل خرجت الرخصة من الطابعة؟"
        assert lic["number"] in question["body"] and ARABIC.search(question["body"])
        assert rig.printer.jobs == []  # not sent again by itself
        rig.pilot.screenshot(tmp_path / "print-question-ar.png")
        rig.pilot.tap("print_not_out")
        state = rig.pilot.wait_until(lambda s: s["print_question"]["answered"]
                                     and not s["busy"], timeout_s=30)
        assert "طُبعت الرخصة" in state["print_question"]["body"]
        assert len(rig.printer.wait_for_jobs(1)) == 1  # the original, once
        rig.pilot.tap("print_question_ok")
        rig.pilot.wait_until(lambda s: not s["print_question"]["shown"])
        assert answers(rig) == [("kiosk", "no")]
    finally:
        rig.close()


def test_a_resident_who_does_not_know_is_sent_to_the_counter(xvfb_display, tmp_path):
    rig = KioskRig(tmp_path, lang="en")
    try:
        lic = licence_left_printing(rig)
        rig.start()
        rig.pilot.wait_until(lambda s: s["print_question"]["shown"], timeout_s=20)
        rig.pilot.screenshot(tmp_path / "print-question-en.png")
        rig.pilot.tap("print_unsure")
        state = rig.pilot.wait_until(lambda s: s["print_question"]["answered"]
                                     and not s["busy"], timeout_s=20)
        assert "counter" in state["print_question"]["body"]
        assert rig.printer.jobs == []
        rig.pilot.tap("print_question_ok")
        rig.pilot.wait_until(lambda s: not s["print_question"]["shown"])
        assert answers(rig) == [("kiosk", "unsure")]
        office = rig.office()
        try:  # no other original: the counter's print is a counted COPY
            job = office.printing.get(lic["print_job"]["id"])
            assert job["state"] == "unknown"
            copy = office.printing.reprint_licence(lic["number"], "not sure it came out")
            assert copy["print_job"]["copy"] == 1 and copy["reprint_count"] == 1
        finally:
            office.close()
    finally:
        rig.close()
