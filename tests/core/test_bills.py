"""Bills (core/bills.py): made with the application's fee, kept when the fee changes, expired
after bills.valid_days, cancelled with the application; a network's payment applied once,
never counted in the clerk's Z report, flagged for refund when the counter was paid too; the
application slip prints the bill and its QR."""
from __future__ import annotations

import dataclasses

import pytest

from core import bill_numbers, documents
from core.catalog import catalog_of
from core.errors import NotFound, ValidationError

RC = "residence-certificate"  # instant, 1.000 BHD
BP = "building-permit-small"  # review


def payment(bill: dict, transaction_id: str = "SDD-0001", **overrides) -> dict:
    body = {"number": bill["number"], "application_id": bill["application_id"],
            "transaction_id": transaction_id, "network": "sadad",
            "amount_minor": bill["amount_minor"], "currency": bill["currency"],
            "paid_at": "2026-11-25T09:00:00Z"}
    body.update(overrides)
    return body


def outbox_types(office) -> list[str]:
    return [r["type"] for r in office.store.all("SELECT type FROM outbox ORDER BY seq")]


def test_a_bill_is_made_at_submission_with_the_fee(office, submit_valid):
    app = submit_valid(RC)
    bill = office.bills.for_application(app["id"])
    assert bill_numbers.parse(bill["number"]) == ("MUH", "D01", 1)
    assert (bill["amount_minor"], bill["currency"], bill["state"]) == (1000, "BHD", "open")
    assert bill["application_number"] == app["number"]
    assert bill["due_at"].startswith("2026-12-24")  # 30 days after 2026-11-24
    assert outbox_types(office)[-2:] == ["application.submitted", "bill.issued"]
    event = office.store.one("SELECT body FROM outbox ORDER BY seq DESC LIMIT 1")["body"]
    assert bill["number"] in event and '"office":"MUH"' in event.replace(" ", "")
    assert office.bills.get(bill["number"])["application_id"] == app["id"]


def test_the_amount_is_kept_after_a_fee_change_in_the_catalogue(office, submit_valid):
    app = submit_valid(RC)
    office.catalog = catalog_of([dataclasses.replace(s, fee_minor=5000) if s.code == RC
                                 else s for s in office.catalog])
    assert office.catalog.get(RC).fee_minor == 5000
    assert office.bills.for_application(app["id"])["amount_minor"] == 1000
    assert office.bills.for_application(submit_valid(RC)["id"])["amount_minor"] == 5000


def test_a_bill_expires_after_valid_days(office, submit_valid, clock):
    office.settings.bills.valid_days = 3
    app = submit_valid(RC)
    clock.advance(days=3)
    assert office.bills.for_application(app["id"])["state"] == "open"
    clock.advance(seconds=1)
    bill = office.bills.for_application(app["id"])
    assert bill["state"] == "expired"
    assert documents.build(office, "application", app["id"])["bill"] is None


def test_approved_after_its_bill_expired_gets_a_new_bill(office, submit_valid, clock):
    app = submit_valid(BP)
    first = office.bills.for_application(app["id"])
    office.applications.approve(app["id"])  # still open: no new bill
    assert office.bills.for_application(app["id"])["number"] == first["number"]
    assert outbox_types(office)[-1] == "application.approved"
    office.applications.reject(app["id"], "wrong parcel")
    again = submit_valid(BP)
    old = office.bills.for_application(again["id"])
    clock.advance(days=31)
    office.applications.approve(again["id"])
    new = office.bills.for_application(again["id"])
    assert new["number"] != old["number"] and new["state"] == "open"
    assert new["amount_minor"] == old["amount_minor"]
    assert outbox_types(office)[-3:] == ["application.approved", "bill.cancelled",
                                         "bill.issued"]
    assert office.bills.get(old["number"])["state"] == "cancelled"


@pytest.mark.parametrize("how", ["withdraw", "reject"])
def test_the_bill_is_cancelled_with_the_application(office, submit_valid, how):
    app = submit_valid(BP)
    if how == "withdraw":
        office.applications.withdraw(app["id"])
    else:
        office.applications.reject(app["id"], "incomplete plan")
    bill = office.bills.for_application(app["id"])
    assert bill["state"] == "cancelled"
    assert outbox_types(office)[-1] == "bill.cancelled"
    row = office.store.one("SELECT cancel_reason FROM bills WHERE number = ?",
                           (bill["number"],))
    assert row["cancel_reason"] == {"withdraw": "withdrawn", "reject": "rejected"}[how]


def test_no_bill_for_an_application_with_no_fee(office, valid_fields):
    svc = office.catalog.get(RC)
    office.catalog = catalog_of([dataclasses.replace(s, fee_minor=0) if s.code == RC else s
                                 for s in office.catalog])
    app = office.applications.submit(svc.code, valid_fields(RC))
    assert office.bills.for_application(app["id"]) is None


def test_a_network_payment_pays_the_application_and_not_the_clerk_s_z_report(
        office, submit_valid, till):
    app = submit_valid(RC)
    bill = office.bills.for_application(app["id"])
    result = office.bills.apply_payment(payment(bill))
    assert result["outcome"] == "applied" and result["refund"] is None
    assert office.applications.get(app["id"])["state"] == "approved"  # instant: paying approves
    live = office.payments.live_for(app["id"])
    assert (live["method"], live["shift_id"], live["reference"]) == ("network", None,
                                                                      "SDD-0001")
    assert office.bills.for_application(app["id"])["state"] == "paid"
    z = office.payments.z_report(till.shift["id"])
    assert (z["total_minor"], z["payments"], z["receipts"]) == (0, 0, [])
    assert outbox_types(office)[-1] == "bill.paid"
    assert office.licences.issue(app["id"])["application_id"] == app["id"]


def test_the_same_transaction_twice_counts_once(office, submit_valid):
    app = submit_valid(RC)
    bill = office.bills.for_application(app["id"])
    first = office.bills.apply_payment(payment(bill))
    events = len(outbox_types(office))
    again = office.bills.apply_payment(payment(bill))
    assert again["outcome"] == "already_applied" and again["receipt"] == first["receipt"]
    assert len(outbox_types(office)) == events
    assert office.store.one("SELECT COUNT(*) AS n FROM payments")["n"] == 1


def test_paid_at_the_counter_too_is_flagged_for_refund_and_counted_once(
        office, submit_valid, till):
    app = submit_valid(RC)
    bill = office.bills.for_application(app["id"])
    counter = office.payments.take(app["id"], "cash", till.clerk, tendered_minor=1000)
    result = office.bills.apply_payment(payment(bill))
    assert (result["outcome"], result["refund"]) == ("double_payment", "double_payment")
    assert office.payments.live_for(app["id"])["receipt_number"] == counter["receipt_number"]
    refunds = office.payments.refunds_due()
    assert [(r["reference"], r["refund"], r["shift_id"]) for r in refunds] == \
        [("SDD-0001", "double_payment", None)]
    z = office.payments.z_report(till.shift["id"])
    assert (z["total_minor"], z["payments"]) == (1000, 1)
    # the office's revenue: what is not flagged for refund, once
    revenue = office.store.one("SELECT SUM(amount_minor) AS s FROM payments WHERE voided_at "
                               "IS NULL AND refund IS NULL")["s"]
    assert revenue == 1000
    assert office.bills.apply_payment(payment(bill))["outcome"] == "already_applied"


def test_a_payment_for_an_unknown_bill_changes_nothing(office, submit_valid, db_state):
    app = submit_valid(RC)
    bill = office.bills.for_application(app["id"])
    other = bill_numbers.make("MUH", "D01", 999)
    before = db_state()
    with pytest.raises(NotFound) as err:
        office.bills.apply_payment(payment(bill, number=other))
    assert err.value.details["reason"] == "unknown_bill"
    with pytest.raises(NotFound):  # a real bill, another application
        office.bills.apply_payment(payment(bill, application_id="01NOTTHISONE"))
    assert db_state() == before


@pytest.mark.parametrize("change", [
    {"number": "MUH-D01-B000001-00"},  # check digits fail
    {"number": "not a bill"},
    {"amount_minor": -1000}, {"amount_minor": 10.5}, {"amount_minor": True},
    {"currency": "XXX"}, {"paid_at": "yesterday"}, {"transaction_id": ""},
    {"network": 7}, {"extra": 1},
])
def test_a_malformed_payment_is_refused_and_nothing_changes(office, submit_valid, db_state,
                                                            change):
    app = submit_valid(RC)
    bill = office.bills.for_application(app["id"])
    before = db_state()
    with pytest.raises(ValidationError):
        office.bills.apply_payment(payment(bill, **change))
    assert db_state() == before


def test_a_bad_bill_number_is_refused_on_look_up(office):
    with pytest.raises(ValidationError) as err:
        office.bills.get("MUH-D01-B000001-00")
    assert err.value.details["reason"] == "bad_check_digit"
    with pytest.raises(NotFound):
        office.bills.get(bill_numbers.make("MUH", "D01", 5))


def test_faces_show_the_bill(office, submit_valid):
    from core.faces.counter import CounterFace
    from core.faces.kiosk import KioskFace
    app = submit_valid(RC)
    bill = office.bills.for_application(app["id"])
    shown = KioskFace(office).application(app["number"])["bill"]
    assert shown == {k: bill[k] for k in ("number", "amount_minor", "currency", "due_at",
                                          "state")}
    assert CounterFace(office, "3").application(app["number"])["bill"] == bill

@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_slip_prints_the_bill_and_its_qr_decodes_to_the_bill_number(office,
                                                                      submit_valid, lang):
    from devices.printing.render import render
    from devices.scanning.decoders import DecoderChain
    import numpy as np
    app = submit_valid(RC)
    bill = office.bills.for_application(app["id"])
    data = documents.build(office, "application", app["id"])
    assert data["bill"] == {k: bill[k] for k in ("number", "amount_minor", "currency",
                                                 "due_at")}
    image = render("application", data, lang, 576)
    found = {d.text for d in DecoderChain(formats="qr").decode(
        np.asarray(image.convert("L")))}
    assert found == {bill["number"], data["qr_text"]}
    office.bills.apply_payment(payment(bill))
    assert documents.build(office, "application", app["id"])["bill"] is None
