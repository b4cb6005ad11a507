"""Golden screenshots: every kiosk screen in Arabic and English, as a resident sees it.

The goldens in docs/screenshots/kiosk/ were looked at by a person before they were committed.
A run compares each screen with its golden and fails on a visible change; after a deliberate
change, look at the new images and refresh them with
    NAFITHA_UPDATE_SCREENSHOTS=1 pytest tests/ui/test_kiosk_screenshots.py
"""
from __future__ import annotations

import pytest

from core import documents

from goldens import check_goldens
from kiosk_rig import PERSON, KioskRig

pytestmark = pytest.mark.ui


def journey(rig, shoot):
    """Walk through every screen once, calling shoot(name) on each."""
    p = rig.pilot
    person = PERSON[rig.lang]
    shoot("home")
    p.tap("home:ticket")
    rig.wait_screen("services")
    shoot("services")
    p.tap("service:residence-certificate")
    rig.wait_screen("priority")
    shoot("priority")
    p.tap("ticket:pregnant")
    rig.wait_screen("ticket")
    shoot("ticket")
    p.tap("done")
    rig.wait_screen("home")
    p.tap("home:apply")
    rig.wait_screen("services")
    p.tap("service:address-form")
    rig.wait_screen("service")
    shoot("service")
    p.tap("start_form")
    rig.fill_form([person["full_name"]])
    p.type("12345")
    p.tap("next")
    shoot("form-error")
    for _ in range(5):
        p.tap("key:backspace")
    rig.fill_form([person["national_id"], person["phone"]])
    shoot("form-choice")
    rig.fill_form(["change", "208", "2811", "1234"])
    rig.wait_screen("review")
    shoot("review")
    rig.terminal.script("timeout")  # the terminal waits for a card
    p.tap("pay_now")
    rig.pilot.wait_until(lambda s: s["visit"]["payment_state"] == "waiting")
    shoot("payment-waiting")
    p.tap("cancel_payment")
    rig.pilot.wait_until(lambda s: s["visit"]["payment_state"] == "cancelled" and
                         not s["busy"], timeout_s=20)
    shoot("payment-cancelled")
    p.tap("pay_counter")
    rig.wait_screen("result")
    shoot("result-slip")
    number = rig.state()["texts"]["number"]
    p.tap("done")
    rig.wait_screen("home")
    p.tap("home:apply")
    rig.wait_screen("services")
    p.tap("service:residence-certificate")
    rig.wait_screen("service")
    p.tap("start_form")
    rig.fill_form([person["full_name"], person["national_id"], person["phone"], "208",
                   "2811", "1234"])
    rig.wait_screen("review")
    p.tap("pay_now")
    rig.wait_screen("result", timeout_s=30)
    shoot("result-certificate")
    licence = rig.office().licences.get(rig.state()["texts"]["number"])
    p.tap("done")
    rig.wait_screen("home")
    rig.show_qr(licence["signed_payload"])
    p.tap("home:verify")
    rig.wait_screen("verified", timeout_s=30)
    shoot("verified-genuine")
    rig.show_qr("NF1:NOT-A-LICENCE")
    p.tap("verify_again")
    rig.wait_screen("verified", timeout_s=30)
    shoot("verified-not-genuine")
    rig.show_scene()  # no code in front of the camera: the live picture and what to do
    p.tap("verify_again")
    rig.wait_screen("verify")
    shoot("verify")
    p.tap("home")
    rig.wait_screen("home")
    p.tap("home:status")
    rig.wait_screen("status")
    p.type(str(int(number.rsplit("-", 1)[1])))
    shoot("status")
    p.tap("find")
    rig.wait_screen("status_result")
    shoot("status-result")
    p.advance(61)
    shoot("idle")
    p.advance(10)
    rig.wait_screen("home")
    for _ in range(5):
        p.tap("admin_corner")
    shoot("admin")
    p.tap("admin_cancel")
    collect_journey(rig, shoot)


def permit_paid_elsewhere(rig, pay: bool) -> tuple[dict, dict]:
    """A building permit the back office approved, paid through a payment network or not:
    (application, bill)."""
    person = PERSON[rig.lang]
    office = rig.office()
    try:
        app = office.applications.submit("building-permit-small", {
            "full_name": person["full_name"], "national_id": person["national_id"],
            "phone": person["phone"], "parcel": "7781", "block": "208", "road": "2811",
            "building": "12", "area_m2": "32.5"})
        office.applications.approve(app["id"])
        bill = office.bills.for_application(app["id"])
        if pay:
            office.bills.apply_payment({
                "number": bill["number"], "application_id": app["id"],
                "transaction_id": f"SDD-{app['number']}", "network": "sadad",
                "amount_minor": bill["amount_minor"], "currency": bill["currency"],
                "paid_at": "2026-11-24T07:00:00Z"})
        return app, bill
    finally:
        office.close()


def collect_journey(rig, shoot):
    """Collecting a licence paid elsewhere: typed and refused (not paid: the bill to pay
    with), then found by its slip, approved and paid, and printed."""
    p = rig.pilot
    rig.wait_screen("home")
    _, unpaid_bill = permit_paid_elsewhere(rig, pay=False)
    paid, _ = permit_paid_elsewhere(rig, pay=True)
    p.tap("home:collect")
    rig.wait_screen("collect")
    p.tap("collect_field:national_id")
    p.type(PERSON[rig.lang]["national_id"])
    p.tap("collect_field:bill")
    p.type(unpaid_bill["number"].lower())
    shoot("collect")  # the letter keyboard of the bill number
    p.tap("collect")
    rig.pilot.wait_until(lambda s: s["visit"]["collect_problem"] == "not_paid" and
                         not s["busy"])
    shoot("collect-refused")
    p.tap("back")
    rig.wait_screen("home")
    rig.show_qr(printed_slip_code(rig, paid["number"]))
    p.tap("home:status")
    rig.wait_screen("status_result", timeout_s=30)
    rig.show_scene()
    shoot("status-result-paid")
    p.tap("print_licence")
    rig.wait_screen("collected", timeout_s=30)
    shoot("collected")
    p.tap("done")
    rig.wait_screen("home")


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_every_screen_matches_its_golden(lang, xvfb_display, tmp_path):
    shots = tmp_path / "shots"
    names = []
    broken = []
    # Before anything is put in front of the camera: it shows an empty scene.
    with KioskRig(tmp_path / "rig", lang=lang) as rig:

        def shoot(name):
            names.append(name)
            rig.pilot.screenshot(shots / f"{name}-{lang}.png")
            # A golden must not bake a defect in (testing/layout_check.py).
            broken.extend(f"{name}: {p['kind']} {p['widget']}: {p['detail']}"
                          for p in rig.pilot.layout())

        journey(rig, shoot)
    assert not broken, "\n".join(broken)
    problems = check_goldens("kiosk", shots, names, lang)
    assert not problems, "\n".join(problems)


def printed_slip_code(rig, number: str) -> str:
    """The QR the application's slip carries (with its collect token, core/documents.py)."""
    office = rig.office()
    try:
        return documents.slip_code(office, number)
    finally:
        office.close()
