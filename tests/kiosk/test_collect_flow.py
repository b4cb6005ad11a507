"""The kiosk's "collect my licence" steps without a window (kiosk/flow.py over the real
KioskFace, the printer faked): a scanned bill QR, or a slip's code without its token, asks
for the national ID and keeps the number; "Print my licence" on the status screen collects
the licence found by its slip (by a typed number it asks for the ID); a refusal lands on the
collect screen with its reason and changes nothing."""
from __future__ import annotations

import pytest

from core import codes, documents
from core.faces.kiosk import KioskFace
from kiosk.devices import PrintResult
from kiosk.flow import KioskFlow

BP = "building-permit-small"


class Printer:
    """A printer that prints every job it is given, and remembers them."""
    can_pay = False

    def __init__(self):
        self.jobs: list[dict] = []

    def print_job(self, job):
        self.jobs.append(job)
        return PrintResult(True, job["id"])


@pytest.fixture
def flow(office):
    return KioskFlow(KioskFace(office), Printer(), "ar")


@pytest.fixture
def permit(office, valid_fields, valid_nid):
    def make(approve: bool = True, pay: bool = True):
        app = office.applications.submit(BP, valid_fields(BP, national_id=valid_nid(1)))
        bill = office.bills.for_application(app["id"])
        if approve:
            office.applications.approve(app["id"])
        if pay:
            office.bills.apply_payment({
                "number": bill["number"], "application_id": app["id"],
                "transaction_id": f"SDD-{app['number']}", "network": "sadad",
                "amount_minor": bill["amount_minor"], "currency": bill["currency"],
                "paid_at": "2026-11-24T07:00:00Z"})
        return office.applications.row(app["id"]), bill
    return make


def licences(office) -> int:
    return office.store.one("SELECT COUNT(*) AS n FROM licences")["n"]


def test_a_scanned_bill_qr_asks_for_the_national_id_then_prints(flow, office, permit,
                                                                valid_nid):
    app, bill = permit()
    flow.start("collect")
    flow.collect(bill["number"])  # what the camera read off the slip's bill QR
    v = flow.visit
    assert (flow.screen, v.collect_problem) == ("collect", "national_id_required")
    assert (v.bill_typed, v.collect_field) == (bill["number"], "national_id")
    assert licences(office) == 0 and flow.devices.jobs == []
    flow.type_collect(valid_nid(1))
    assert v.collect_problem is None and v.national_id_typed == valid_nid(1)
    flow.collect()
    assert flow.screen == "collected" and v.print_ok is True
    assert licences(office) == 1
    assert [j["kind"] for j in flow.devices.jobs] == ["licence"]
    assert v.licence["application_number"] == app["number"]


def slip(office, app: dict) -> str:
    """The QR the application's slip prints (its code and token)."""
    return documents.application(office, app["id"])["qr_text"]


def test_print_my_licence_from_the_status_screen(flow, office, permit):
    app, _ = permit()
    flow.start("status")
    flow.find(slip(office, app))
    assert flow.screen == "status_result"
    flow.collect_found()
    assert flow.screen == "collected" and licences(office) == 1


@pytest.mark.parametrize("how", ["typed", "untokened", "forged"])
def test_print_my_licence_found_without_the_slip_asks_for_the_id(flow, office, permit,
                                                                  valid_nid, db_state, how):
    """Found by its typed number, or by a code anyone can make: the status shows, but the
    licence waits for the applicant's national ID on the collect screen."""
    app, _ = permit()
    code = codes.application_code("MUH", app["number"])
    flow.start("status")
    if how == "typed":
        flow.type_number(app["number"][-3:])
        flow.find()
    else:
        flow.find(code if how == "untokened" else code + ":ABCDEFGHIJKL")
    assert flow.screen == "status_result" and flow.visit.found["number"] == app["number"]
    before = db_state()
    flow.collect_found()
    v = flow.visit
    assert (flow.screen, v.collect_problem) == ("collect", "slip_needs_national_id")
    assert (v.bill_typed, v.collect_field) == (code, "national_id")
    assert db_state() == before and flow.devices.jobs == []
    flow.type_collect(valid_nid(2))  # not the applicant's
    flow.collect()
    assert v.collect_problem == "unknown" and db_state() == before
    flow.type_collect(valid_nid(1))
    flow.collect()
    assert flow.screen == "collected" and licences(office) == 1
    assert v.licence["application_number"] == app["number"]


def test_a_scanned_forged_slip_code_asks_for_the_id(flow, office, permit, valid_nid,
                                                     db_state):
    """Right number, no token or a wrong one or another application's: like a bill's QR."""
    app, _ = permit()
    other, _ = permit()
    code = codes.application_code("MUH", app["number"])
    for forged in (code, code + ":ABCDEFGHIJKL",
                   code + ":" + codes.token_of(slip(office, other))):
        flow.home()
        flow.start("collect")
        before = db_state()
        flow.collect(forged)
        v = flow.visit
        assert (flow.screen, v.collect_problem) == ("collect", "slip_needs_national_id")
        assert (v.bill_typed, v.collect_field) == (code, "national_id")
        assert db_state() == before and flow.devices.jobs == []
    flow.type_collect(valid_nid(1))
    flow.collect()
    assert flow.screen == "collected" and licences(office) == 1
    assert flow.visit.licence["application_number"] == app["number"]


def test_a_refusal_from_the_status_screen_is_said_on_the_collect_screen(flow, office,
                                                                       permit, db_state):
    app, bill = permit(pay=False)
    flow.start("status")
    flow.find(slip(office, app))
    before = db_state()
    flow.collect_found()
    assert (flow.screen, flow.visit.collect_problem) == ("collect", "not_paid")
    assert flow.visit.collect_bill == bill["number"]
    assert db_state() == before and flow.devices.jobs == []
    flow.back()
    assert flow.screen == "home"
