"""Payments: cash with change, card and online references, integer minor units, receipt
numbers, and voids that need a supervisor's PIN and a reason."""
import pytest

from core import money
from core.errors import InvalidState, NotFound, PermissionDenied, ValidationError


def rows(office, table):
    return office.store.one(f"SELECT COUNT(*) AS n FROM {table}")["n"]


def test_cash_tendered_and_change(office, submit_valid, till):
    app = submit_valid("residence-certificate")           # 1.000 BHD
    tendered = money.parse_amount("5", "BHD")
    p = office.payments.take(app["id"], "cash", till.clerk, tendered_minor=tendered)
    assert (p["amount_minor"], p["tendered_minor"], p["change_minor"]) == (1000, 5000, 4000)
    assert (p["method"], p["currency"], p["reference"]) == ("cash", "BHD", None)
    assert p["shift_id"] == till.shift["id"] and p["clerk"] == "sara"
    assert p["receipt_number"] == "MUH-D01-R0000001"
    stored = office.payments.get(p["receipt_number"])
    for key in ("amount_minor", "tendered_minor", "change_minor"):
        assert type(stored[key]) is int


def test_exact_cash_gives_no_change(office, submit_valid, till):
    app = submit_valid("building-land-tax", assessed_amount="12.345")
    p = office.payments.take(app["id"], "cash", till.clerk,
                             tendered_minor=money.parse_amount("12.345", "BHD"))
    assert (p["amount_minor"], p["change_minor"]) == (12_345, 0)


def test_cash_below_the_fee_is_refused(office, submit_valid, till, db_state):
    app = submit_valid("building-permit-small")           # 20.000 BHD
    before = db_state()
    with pytest.raises(ValidationError) as info:
        office.payments.take(app["id"], "cash", till.clerk, tendered_minor=19_999)
    assert info.value.field == "tendered"
    assert "19.999 BHD" in str(info.value) and "20.000 BHD" in str(info.value)
    assert db_state() == before


def test_card_needs_the_terminal_reference(office, submit_valid, till):
    app = submit_valid()
    with pytest.raises(ValidationError) as info:
        office.payments.take(app["id"], "card", till.clerk)
    assert info.value.field == "reference" and "terminal reference" in str(info.value)
    with pytest.raises(ValidationError):
        office.payments.take(app["id"], "card", till.clerk, tendered_minor=1000,
                             reference="X")
    p = office.payments.take(app["id"], "card", till.clerk, reference="  AUTH-123456 ")
    assert (p["reference"], p["tendered_minor"], p["change_minor"]) == ("AUTH-123456", None,
                                                                        None)


def test_online_needs_the_gateway_reference(office, submit_valid, till):
    app = submit_valid()
    with pytest.raises(ValidationError, match="gateway reference"):
        office.payments.take(app["id"], "online", till.clerk, reference="")
    p = office.payments.take(app["id"], "online", till.clerk, reference="BENEFIT-9f8e")
    assert (p["method"], p["reference"]) == ("online", "BENEFIT-9f8e")


def test_cash_takes_no_reference_and_unknown_method(office, submit_valid, till):
    app = submit_valid()
    with pytest.raises(ValidationError, match="no reference"):
        office.payments.take(app["id"], "cash", till.clerk, tendered_minor=1000, reference="r")
    with pytest.raises(ValidationError) as info:
        office.payments.take(app["id"], "cheque", till.clerk)
    assert info.value.field == "method"
    assert rows(office, "payments") == 0


@pytest.mark.parametrize("tendered", [1.5, "1000", 1000.0, True])
def test_amounts_are_integer_minor_units_only(office, submit_valid, till, tendered):
    app = submit_valid()
    with pytest.raises(ValidationError):
        office.payments.take(app["id"], "cash", till.clerk, tendered_minor=tendered)
    assert rows(office, "payments") == 0


def test_receipts_are_numbered_in_order_without_gaps(office, submit_valid, till):
    apps = [submit_valid() for _ in range(3)]
    first = office.payments.take(apps[0]["id"], "cash", till.clerk, tendered_minor=1000)
    with pytest.raises(ValidationError):  # refused: no receipt number is used up
        office.payments.take(apps[1]["id"], "cash", till.clerk, tendered_minor=999)
    second = office.payments.take(apps[1]["id"], "card", till.clerk, reference="A")
    third = office.payments.take(apps[2]["id"], "online", till.clerk, reference="B")
    assert [p["receipt_number"] for p in (first, second, third)] == \
        ["MUH-D01-R0000001", "MUH-D01-R0000002", "MUH-D01-R0000003"]


def test_a_clerk_without_an_open_shift_cannot_take_money(office, submit_valid):
    app = submit_valid()
    with pytest.raises(InvalidState, match="no open shift"):
        office.payments.take(app["id"], "cash", "nadia", tendered_minor=1000)
    assert office.applications.get(app["id"])["state"] == "submitted"


def test_paying_twice_is_refused(office, submit_valid, till):
    app = submit_valid()
    first = office.payments.take(app["id"], "cash", till.clerk, tendered_minor=1000)
    with pytest.raises(InvalidState) as info:
        office.payments.take(app["id"], "card", till.clerk, reference="again")
    assert first["receipt_number"] in str(info.value)
    assert rows(office, "payments") == 1


def test_unpayable_states(office, submit_valid, till):
    withdrawn = submit_valid()
    office.applications.withdraw(withdrawn["id"])
    draft = office.applications.save_draft("R", {})
    for app in (withdrawn, draft):
        with pytest.raises(InvalidState):
            office.payments.take(app["id"], "cash", till.clerk, tendered_minor=1000)
    with pytest.raises(NotFound):
        office.payments.take("MUH-D01-A2026-424242", "cash", till.clerk, tendered_minor=1000)
    assert rows(office, "payments") == 0


# --- voids ----------------------------------------------------------------------------------

def test_void_with_supervisor_pin_and_reason(office, submit_valid, till, clock):
    app = submit_valid("residence-certificate")
    p = office.payments.take(app["id"], "cash", till.clerk, tendered_minor=1000)
    clock.advance(minutes=2)
    voided = office.payments.void(p["receipt_number"], till.supervisor, till.supervisor_pin,
                                  "wrong service chosen")
    assert voided["voided_at"] == "2026-11-24T08:02:00.000+00:00"
    assert (voided["voided_by"], voided["void_reason"]) == ("huda", "wrong service chosen")
    back = office.applications.get(app["id"])
    # the automatic approval goes with the payment
    assert (back["state"], back["paid_at"], back["decided_by"]) == ("submitted", None, None)
    audit = office.store.one("SELECT actor, action FROM audit ORDER BY seq DESC LIMIT 1")
    assert audit == {"actor": "huda", "action": "payment.voided"}
    # it can be paid again, under a new receipt
    again = office.payments.take(app["id"], "card", till.clerk, reference="X1")
    assert again["receipt_number"] == "MUH-D01-R0000002"


def test_void_keeps_a_review_approval(office, submit_valid, till):
    app = submit_valid("address-form")
    office.applications.approve(app["id"])
    p = office.payments.take(app["id"], "cash", till.clerk, tendered_minor=500)
    office.payments.void(p["id"], till.supervisor, till.supervisor_pin, "duplicate")
    back = office.applications.get(app["id"])
    assert (back["state"], back["paid_at"]) == ("approved", None)


def test_void_refused_with_a_clerk_pin(office, submit_valid, till):
    app = submit_valid()
    p = office.payments.take(app["id"], "cash", till.clerk, tendered_minor=1000)
    with pytest.raises(PermissionDenied) as info:
        office.payments.void(p["id"], till.clerk, till.clerk_pin, "mistake")
    assert "supervisor" in str(info.value)
    assert office.payments.get(p["id"])["voided_at"] is None
    assert office.applications.get(app["id"])["state"] == "approved"


def test_void_refused_with_a_wrong_pin(office, submit_valid, till):
    app = submit_valid()
    p = office.payments.take(app["id"], "cash", till.clerk, tendered_minor=1000)
    with pytest.raises(PermissionDenied, match="wrong user name or PIN"):
        office.payments.void(p["id"], till.supervisor, "0000", "mistake")
    assert office.payments.get(p["id"])["voided_at"] is None
    # the failed attempt is counted and audited, but nothing about the payment changed
    assert office.store.one("SELECT action FROM audit ORDER BY seq DESC LIMIT 1")["action"] \
        == "user.pin_failed"


def test_void_needs_a_reason_and_checks_it_before_the_pin(office, submit_valid, till):
    app = submit_valid()
    p = office.payments.take(app["id"], "cash", till.clerk, tendered_minor=1000)
    for reason in ("", "   ", None):
        with pytest.raises(ValidationError) as info:
            office.payments.void(p["id"], till.supervisor, "0000", reason)
        assert info.value.field == "reason"
    # the wrong PIN was never tried, so no failure was counted
    assert office.store.one("SELECT failed_attempts FROM users WHERE username = 'huda'"
                            )["failed_attempts"] == 0
    assert office.payments.get(p["id"])["voided_at"] is None


def test_void_twice_and_after_a_licence(office, submit_valid, till):
    app = submit_valid()
    p = office.payments.take(app["id"], "cash", till.clerk, tendered_minor=1000)
    office.payments.void(p["id"], till.supervisor, till.supervisor_pin, "mistake")
    with pytest.raises(InvalidState, match="already void"):
        office.payments.void(p["id"], till.supervisor, till.supervisor_pin, "mistake")
    app2 = submit_valid()
    p2 = office.payments.take(app2["id"], "cash", till.clerk, tendered_minor=1000)
    office.licences.issue(app2["id"])
    with pytest.raises(InvalidState, match="revoke the licence"):
        office.payments.void(p2["id"], till.supervisor, till.supervisor_pin, "mistake")
    assert office.payments.get(p2["id"])["voided_at"] is None


def test_void_unknown_payment(office, till):
    with pytest.raises(NotFound):
        office.payments.void("MUH-D01-R9999999", till.supervisor, till.supervisor_pin, "x")
