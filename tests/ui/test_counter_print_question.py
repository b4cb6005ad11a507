"""A counter whose printer stopped while printing a licence asks the clerk, after sign-in,
whether it came out (the real app under Xvfb): never printed again by itself; `no` prints
the original once; the answer audited under the clerk."""
from __future__ import annotations

import json
import re

import pytest

from counter_rig import CLERK, CounterRig

pytestmark = pytest.mark.ui

ARABIC = re.compile("[\u0600-\u06ff]")


def licence_left_printing(rig) -> dict:
    """What a counter killed in the middle of printing a licence leaves in its store."""
    office = rig.office()
    try:
        office.payments.open_shift(CLERK[0], 0)
        app = office.applications.submit("residence-certificate", {
            "full_name": "فاطمة علي", "national_id": "880101233", "phone": "36001234",
            "block": "208", "road": "2811", "building": "1234"})
        office.payments.take(app["id"], "cash", CLERK[0], tendered_minor=app["fee_minor"])
        lic = office.printing.issue_licence(app["id"], "ar")
        office.printing.mark_printing(lic["print_job"]["id"])
        return lic
    finally:
        office.close()


def test_the_clerk_is_asked_and_no_prints_the_original_once(xvfb_display, tmp_path):
    with CounterRig(tmp_path, lang="ar") as rig:
        lic = licence_left_printing(rig)
        rig.wait_screen("signin")
        assert not rig.state()["print_question"]["shown"]  # nobody to answer yet
        rig.sign_in()
        state = rig.pilot.wait_until(lambda s: s["print_question"]["shown"] and not s["busy"],
                                     timeout_s=20)
        question = state["print_question"]
        assert question["title"] == "هل خرجت الرخصة من الطابعة؟"
        assert lic["number"] in question["body"] and ARABIC.search(question["body"])
        assert rig.printer.jobs == []  # the printer's loop did not send it again
        rig.pilot.screenshot(tmp_path / "counter-print-question-ar.png")
        rig.pilot.tap("print_not_out")
        state = rig.pilot.wait_until(lambda s: not s["print_question"]["shown"]
                                     and not s["busy"], timeout_s=20)
        assert lic["number"] in state["notice"]["text"]
        assert len(rig.wait_printed(1)) == 1  # the original, once
        office = rig.office()
        try:
            rows = office.store.all("SELECT actor, data FROM audit WHERE action = "
                                    "'print.answered'")
            assert [(r["actor"], json.loads(r["data"])["came_out"]) for r in rows] == \
                [(CLERK[0], "no")]
            assert office.printing.get(lic["print_job"]["id"])["state"] == "done"
        finally:
            office.close()
