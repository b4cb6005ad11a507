"""Reference kind "bill_payment" (sync/reference.py -> office.bills.apply_payment): a bill paid
at a network reaches the office on its pull and pays the application, once; a body of the
wrong shape refuses the whole bundle (nothing applied, the cursor kept); a payment for a bill
the office never made is noted, not applied, and the rest of the bundle goes on."""
from __future__ import annotations

import pytest

from core import bill_numbers, reference, sync_state
from sync.protocol import REFERENCE_KINDS, ProtocolError
from sync.reference import apply_bundle

RC = "residence-certificate"


def bundle(office, *bodies) -> dict:
    cursor = int(sync_state.get(office.store, "cursor", 0))
    return {"office": "MUH", "device": "D01", "full": False, "from": cursor,
            "cursor": cursor + len(bodies), "more": False, "issued_at": office.store.now(),
            "changes": [{"version": cursor + n, "kind": "bill_payment",
                         "key": f"tx-{cursor + n}", "body": b}
                        for n, b in enumerate(bodies, start=1)]}


def paid(bill: dict, tx: str = "EF-1", **overrides) -> dict:
    return {"number": bill["number"], "application_id": bill["application_id"],
            "transaction_id": tx, "network": "efawateercom",
            "amount_minor": bill["amount_minor"], "currency": bill["currency"],
            "paid_at": "2026-11-25T09:00:00Z", **overrides}


@pytest.fixture
def billed(office, submit_valid):
    app = submit_valid(RC)
    return app, office.bills.for_application(app["id"])


def test_the_kind_is_part_of_the_protocol():
    assert "bill_payment" in REFERENCE_KINDS


def test_a_paid_bill_pays_the_application_on_the_pull_once(office, billed):
    app, bill = billed
    summary = apply_bundle(office, bundle(office, paid(bill)))
    assert summary["bill_payments"] == 1
    assert office.applications.get(app["id"])["state"] == "approved"
    assert office.payments.live_for(app["id"])["method"] == "network"
    assert reference.rows(office.store, "bill_payment")[0]["note"] == "applied"
    again = apply_bundle(office, bundle(office, paid(bill)))  # central sent it twice
    assert again.get("bill_payments", 0) == 0
    assert office.store.one("SELECT COUNT(*) AS n FROM payments")["n"] == 1


def test_a_payment_for_an_unknown_bill_is_noted_not_applied(office, billed):
    app, bill = billed
    unknown = paid(bill, "EF-2", number=bill_numbers.make("MUH", "D01", 777))
    summary = apply_bundle(office, bundle(office, unknown, paid(bill, "EF-3")))
    notes = {r["key"]: r["note"] for r in reference.rows(office.store, "bill_payment")}
    assert notes["tx-1"].startswith("not applied") and notes["tx-2"] == "applied"
    assert summary["bill_payments"] == 1
    assert office.payments.live_for(app["id"])["reference"] == "EF-3"
    assert int(sync_state.get(office.store, "cursor")) == 2


@pytest.mark.parametrize("change", [
    {"number": "MUH-D01-B000001-00"}, {"amount_minor": -5}, {"amount_minor": 1.5},
    {"transaction_id": None}, {"paid_at": "soon"}, {"currency": "EUR1"},
])
def test_a_bill_payment_of_the_wrong_shape_refuses_the_whole_bundle(office, billed, db_state,
                                                                    change):
    app, bill = billed
    before = db_state()
    with pytest.raises(ProtocolError) as refused:
        apply_bundle(office, bundle(office, paid(bill, "EF-1"), paid(bill, "EF-2", **change)))
    assert "nothing applied" in refused.value.message
    assert db_state() == before
    assert office.applications.get(app["id"])["state"] == "submitted"


def test_a_body_that_is_not_an_object_refuses_the_bundle(office, billed, db_state):
    before = db_state()
    with pytest.raises(ProtocolError):
        apply_bundle(office, bundle(office, "paid"))
    assert db_state() == before
