"""Collecting a licence at the real kiosk, by touch, in Arabic and in English: a building
permit approved by the back office and paid through a payment network (the bill_payment
central relays: office.bills.apply_payment) is collected by scanning its slip (its QR's token
shows the slip itself is there), or by typing its bill number and the applicant's national
ID; a code made from the application's number alone asks for the ID like a bill's QR. The
licence prints on the kiosk's printer. Every bad input is refused with its reason in the
resident's language and changes nothing (no licence, no print job)."""
from __future__ import annotations

import re

import pytest

from core import bill_numbers, codes, documents

from kiosk_rig import PERSON, KioskRig

pytestmark = pytest.mark.ui

ARABIC = re.compile("[\u0600-\u06ff]")
BP = "building-permit-small"


@pytest.fixture(scope="module", params=["ar", "en"])
def rig(request, xvfb_display, tmp_path_factory):
    with KioskRig(tmp_path_factory.mktemp(f"collect-{request.param}"),
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
def permit(rig, office):
    """permit(approve, pay) -> (application row, its bill): submitted by the resident of
    this language, decided by the back office, paid (or not) through a network."""
    made = [0]

    def make(approve: bool = True, pay: bool = True):
        made[0] += 1
        person = PERSON[rig.lang]
        app = office.applications.submit(BP, {
            "full_name": person["full_name"], "national_id": person["national_id"],
            "phone": person["phone"], "parcel": "7781", "block": "208", "road": "2811",
            "building": "12", "area_m2": "32.5"})
        bill = office.bills.for_application(app["id"])
        if approve:
            office.applications.approve(app["id"])
        if pay:
            outcome = office.bills.apply_payment({
                "number": bill["number"], "application_id": app["id"],
                "transaction_id": f"SDD-{app['number']}", "network": "sadad",
                "amount_minor": bill["amount_minor"], "currency": bill["currency"],
                "paid_at": "2026-11-24T07:00:00Z"})
            assert outcome["outcome"] == "applied"
        return office.applications.row(app["id"]), bill
    return make


def slip(office, app: dict) -> str:
    """The QR the application's slip printed when it was submitted (code and token)."""
    return documents.slip_code(office, app["number"])


def in_language(rig, text: str) -> None:
    assert text.strip()
    assert bool(ARABIC.search(text)) == (rig.lang == "ar"), text


def counts(office) -> tuple[int, int]:
    """(licences, licence print jobs)."""
    return (office.store.one("SELECT COUNT(*) AS n FROM licences")["n"],
            office.store.one("SELECT COUNT(*) AS n FROM print_jobs "
                             "WHERE kind = 'licence'")["n"])


def type_bill_and_id(rig, bill: str, national_id: str) -> dict:
    p = rig.pilot
    p.tap("home:collect")
    state = rig.wait_screen("collect")
    in_language(rig, state["texts"]["instructions"])
    assert state["flags"]["can_collect"] is False
    p.tap("collect_field:bill")
    p.type(bill.lower())
    p.tap("collect_field:national_id")
    p.type(national_id)
    state = rig.state()
    assert state["texts"]["bill"] == bill.upper()
    assert state["texts"]["national_id"] == national_id
    p.tap("collect")
    return rig.pilot.wait_until(
        lambda s: not s["busy"] and (s["screen"] == "collected" or
                                     s["visit"]["collect_problem"]), timeout_s=30)


def assert_printed(rig, office, app, jobs_before: int) -> None:
    state = rig.wait_screen("collected")
    licence = office.store.one("SELECT * FROM licences WHERE application_id = ?",
                               (app["id"],))
    assert state["texts"]["number"] == licence["number"]
    assert state["flags"]["printed"] is True
    in_language(rig, state["texts"]["title"])
    assert len(rig.printer.jobs) == jobs_before + 1
    # The licence came out, with a QR that verifies as this licence.
    genuine = [office.verify_licence(t) for t in rig.printed_qr_texts()[-1:]]
    assert genuine and genuine[0].valid and genuine[0].claims["number"] == licence["number"]
    job = office.store.one("SELECT * FROM print_jobs WHERE kind = 'licence' AND ref_id = ?",
                           (licence["id"],))
    assert (job["state"], job["lang"]) == ("done", rig.lang)


def test_collect_a_network_paid_permit_by_scanning_the_slip(rig, office, permit):
    app, _ = permit()
    before, jobs = counts(office), len(rig.printer.jobs)
    assert slip(office, app) == documents.application(office, app["id"])["qr_text"]
    rig.show_qr(slip(office, app))
    rig.pilot.tap("home:collect")
    assert_printed(rig, office, app, jobs)
    assert counts(office) == (before[0] + 1, before[1] + 1)


def test_collect_by_typing_the_bill_number_and_national_id(rig, office, permit):
    app, bill = permit()
    before, jobs = counts(office), len(rig.printer.jobs)
    type_bill_and_id(rig, bill["number"], PERSON[rig.lang]["national_id"])
    assert_printed(rig, office, app, jobs)
    assert counts(office) == (before[0] + 1, before[1] + 1)


def test_print_my_licence_from_the_status_screen(rig, office, permit):
    app, bill = permit()
    jobs = len(rig.printer.jobs)
    rig.show_qr(slip(office, app))
    rig.pilot.tap("home:status")
    state = rig.wait_screen("status_result", timeout_s=30)
    assert state["flags"]["can_collect"] is True
    assert state["texts"]["bill_number"] == bill["number"]
    in_language(rig, state["texts"]["bill_state"])
    rig.show_scene()
    rig.pilot.tap("print_licence")
    assert_printed(rig, office, app, jobs)


def refused(rig, office, reason: str, typed=None, scanned=None) -> dict:
    """The collect screen says why, in the resident's language, and nothing changed."""
    before, jobs = counts(office), len(rig.printer.jobs)
    if typed:
        state = type_bill_and_id(rig, *typed)
    else:
        rig.show_qr(scanned)
        rig.pilot.tap("home:collect")
        state = rig.pilot.wait_until(
            lambda s: not s["busy"] and s["visit"]["collect_problem"], timeout_s=30)
        rig.show_scene()
    assert state["screen"] == "collect" and state["visit"]["collect_problem"] == reason
    in_language(rig, state["texts"]["problem"])
    assert counts(office) == before and len(rig.printer.jobs) == jobs
    rig.pilot.tap("back")
    rig.wait_screen("home")
    return state


def test_each_refusal_says_why_and_changes_nothing(rig, office, permit):
    """Every refusal once, the two languages sharing them out (each refusal's words in both
    languages: tests/kiosk/test_translations.py; not paid in both: the goldens)."""
    {"ar": bad_bill_numbers_and_a_wrong_id_are_refused,
     "en": not_paid_not_approved_issued_cancelled_and_another_office}[rig.lang](
        rig, office, permit)


def bad_bill_numbers_and_a_wrong_id_are_refused(rig, office, permit):
    _, bill = permit()
    nid = PERSON[rig.lang]["national_id"]
    other_nid = PERSON["en" if rig.lang == "ar" else "ar"]["national_id"]
    unknown = refused(rig, office, "unknown",
                      typed=(bill_numbers.make("MUH", "D01", 99999), nid))
    # A wrong national ID: word for word what an unknown bill gets.
    wrong_id = refused(rig, office, "unknown", typed=(bill["number"], other_nid))
    assert wrong_id["texts"]["problem"] == unknown["texts"]["problem"]
    number = bill["number"]
    swapped = number[:-2] + number[-1] + number[-2] if number[-1] != number[-2] \
        else number[:-1] + str((int(number[-1]) + 1) % 10)
    refused(rig, office, "bad_check_digit", typed=(swapped, nid))


def not_paid_not_approved_issued_cancelled_and_another_office(rig, office, permit):
    unpaid, bill = permit(pay=False)
    state = refused(rig, office, "not_paid",
                    typed=(bill["number"], PERSON[rig.lang]["national_id"]))
    assert state["texts"]["problem_bill"] == bill["number"]  # what to pay with
    waiting, _ = permit(approve=False)
    refused(rig, office, "not_approved", scanned=slip(office, waiting))
    issued, _ = permit()
    office.licences.issue(issued["id"])  # at the counter
    refused(rig, office, "already_issued", scanned=slip(office, issued))
    withdrawn, cancelled_bill = permit(approve=False, pay=False)
    office.applications.withdraw(withdrawn["id"], "changed my mind")
    assert office.bills.get(cancelled_bill["number"])["state"] == "cancelled"
    refused(rig, office, "cancelled",
            typed=(cancelled_bill["number"], PERSON[rig.lang]["national_id"]))
    refused(rig, office, "other_office",
            scanned=codes.application_code("ZZZ", unpaid["number"]))


def test_a_code_made_from_the_number_asks_for_the_national_id(rig, office, permit):
    """The application's number alone (no token: what anyone can put in a QR on a phone)
    fills in the code and asks for the ID, in the resident's language; nothing prints until
    the applicant's own ID is typed."""
    app, _ = permit()
    before, jobs = counts(office), len(rig.printer.jobs)
    code = codes.application_code("MUH", app["number"])
    rig.show_qr(code)
    rig.pilot.tap("home:collect")
    state = rig.pilot.wait_until(
        lambda s: not s["busy"] and s["visit"]["collect_problem"], timeout_s=30)
    rig.show_scene()
    assert state["screen"] == "collect"
    assert state["visit"]["collect_problem"] == "slip_needs_national_id"
    in_language(rig, state["texts"]["problem"])
    assert (state["texts"]["bill"], state["flags"]["field"]) == (code, "national_id")
    assert state["flags"]["can_collect"] is False
    assert counts(office) == before and len(rig.printer.jobs) == jobs
    rig.pilot.screenshot(rig.tmp / f"collect-slip-needs-id-{rig.lang}.png")
    rig.pilot.type(PERSON[rig.lang]["national_id"])
    rig.pilot.tap("collect")
    assert_printed(rig, office, app, jobs)
    assert counts(office) == (before[0] + 1, before[1] + 1)
