"""Card approvals the kiosk cannot invent: at record time the terminal's reference must have
the terminal's shape and be new, and the amount is the fee; at the end of the day the shift's
card payments are reconciled against the terminal's own batch report, every difference
flagged (marked, audited, in the Z report and the supervisor's disputes)."""
import pytest

from core.errors import InvalidState, NotFound, ValidationError
from core.faces.kiosk import KioskFace

TID = "T0000001"


def ref(stan: int, auth: str = "A1B2C3", tid: str = TID) -> str:
    return f"{tid}-{stan:06d}-{auth}"


def entry(terminal_ref: str, amount_minor: int = 1000, currency: str = "BHD") -> dict:
    return {"terminal_ref": terminal_ref, "amount_minor": amount_minor, "currency": currency,
            "sale_ref": "K-1", "at": "101500"}


def report(*entries, terminal_id: str = TID) -> dict:
    return {"terminal_id": terminal_id, "entries": list(entries)}


@pytest.fixture
def kiosk(office):
    return KioskFace(office)


def last_audit(office) -> dict:
    return office.store.one("SELECT actor, action, entity_type FROM audit ORDER BY seq DESC "
                            "LIMIT 1")


# --- at record time ----------------------------------------------------------------------

def test_an_approval_is_recorded_for_the_fee_on_the_kiosk_shift(office, kiosk, submit_valid):
    app = submit_valid("building-permit-small")  # 20.000 BHD
    p = kiosk.record_card_payment(app["number"], ref(42))
    assert (p["method"], p["amount_minor"], p["reference"], p["clerk"]) == \
        ("card", 20_000, ref(42), "kiosk")
    assert office.payments.open_shift_of("kiosk")["id"] == p["shift_id"]


@pytest.mark.parametrize("bad", ["NOT-A-REAL-APPROVAL", "000001", "t0000001-000042-A1B2C3",
                                 "T0000001-42-A1B2C3", "T0000001-000042-A1B2C3-X",
                                 "T000001-000042-A1B2C3", "T0000001-000042-A1B2C", "",
                                 " T0000001-000042-A1B2C3", 42, None])
def test_a_reference_without_the_terminal_shape_is_refused(kiosk, submit_valid, db_state,
                                                           bad):
    app = submit_valid()
    before = db_state()
    with pytest.raises(ValidationError) as info:
        kiosk.record_card_payment(app["number"], bad)
    assert info.value.field == "terminal_ref" and "T0000001-000042-A1B2C3" in str(info.value)
    assert db_state() == before  # not even the kiosk's shift was opened


def test_a_replayed_reference_is_refused(office, kiosk, submit_valid, till, db_state):
    first, second = submit_valid(), submit_valid()
    paid = kiosk.record_card_payment(first["number"], ref(7))
    before = db_state()
    with pytest.raises(InvalidState) as info:
        kiosk.record_card_payment(second["number"], ref(7))
    assert info.value.details["reason"] == "reference_used"
    assert paid["receipt_number"] in str(info.value)
    # the counter's card payments too, and even after the first payment was voided
    with pytest.raises(InvalidState, match="already used"):
        office.payments.take(second["id"], "card", till.clerk, reference=ref(7))
    office.payments.void(paid["id"], till.supervisor, till.supervisor_pin, "wrong service")
    before = db_state()
    with pytest.raises(InvalidState, match="already used"):
        kiosk.record_card_payment(second["number"], ref(7))
    assert db_state() == before


def test_the_same_approval_for_the_same_application_is_already_paid(kiosk, submit_valid):
    app = submit_valid()
    paid = kiosk.record_card_payment(app["number"], ref(8))
    with pytest.raises(InvalidState) as info:  # the kiosk flow takes this as recorded
        kiosk.record_card_payment(app["number"], ref(8))
    assert info.value.details == {"receipt": paid["receipt_number"], "reason": "already_paid"}


# --- reconciliation ----------------------------------------------------------------------

@pytest.fixture
def day(office, kiosk, submit_valid, till, clock):
    """A kiosk's day: matched, invented (never approved), amount differs, voided but
    charged; an earlier shift's approval; closed with its report still to come."""
    apps = {k: submit_valid() for k in ("matched", "invented", "differs", "voided", "later")}
    pay = {k: kiosk.record_card_payment(apps[k]["number"], ref(n))
           for n, k in enumerate(("matched", "invented", "differs", "voided"), 1)}
    licence = office.licences.issue(apps["invented"]["id"])  # issued at once (instant)
    office.payments.void(pay["voided"]["id"], till.supervisor, till.supervisor_pin, "mistake")
    office.payments.close_shift("kiosk", 0)
    shift = office.payments.get(pay["matched"]["id"])["shift_id"]
    # the clerk's own shift took a card payment the terminal lists in the same batch
    clerk_card = office.payments.take(apps["later"]["id"], "card", till.clerk,
                                      reference=ref(9))
    terminal = report(entry(ref(1)), entry(ref(3), 100), entry(ref(4)), entry(ref(9)),
                      entry(ref(99, "ZZ9999"), 2500))
    return dict(apps=apps, pay=pay, licence=licence, shift=shift, report=terminal,
                clerk_card=clerk_card)


def test_reconciliation_flags_each_kind_of_difference(office, day):
    result = office.payments.reconcile_cards(day["shift"], day["report"], "huda")
    pay = day["pay"]
    assert result["matched"] == [pay["matched"]["receipt_number"]]
    [missing] = result["missing_from_terminal"]
    assert (missing["receipt"], missing["terminal_ref"], missing["licence"]) == \
        (pay["invented"]["receipt_number"], ref(2), day["licence"]["number"])
    [differs] = result["amount_differs"]
    assert (differs["amount_minor"], differs["terminal_amount_minor"]) == (1000, 100)
    assert [e["terminal_ref"] for e in result["missing_from_office"]] == [ref(99, "ZZ9999")]
    assert [e["receipt"] for e in result["charged_but_voided"]] == \
        [pay["voided"]["receipt_number"]]
    assert (result["other_shifts"], result["differences"]) == (1, 4)
    # each payment is marked
    marks = {k: office.payments.get(p["id"])["card_check"] for k, p in pay.items()}
    assert marks == {"matched": "matched", "invented": "unconfirmed",
                     "differs": "amount_differs", "voided": None}
    assert office.payments.get(day["clerk_card"]["id"])["card_check"] is None
    # audited, shown in the Z report and to a supervisor
    assert last_audit(office) == {"actor": "huda", "action": "shift.reconciled",
                                  "entity_type": "shift"}
    z = office.payments.z_report(day["shift"])["card_check"]
    assert (z["matched"], z["differences"], z["missing_from_terminal"],
            z["missing_from_office"]) == (1, 4, [pay["invented"]["receipt_number"]],
                                          [ref(99, "ZZ9999")])
    disputes = office.payments.disputes()
    assert [(d["receipt"], d["card_check"], d["licence"]) for d in disputes["payments"]] == [
        (pay["invented"]["receipt_number"], "unconfirmed", day["licence"]["number"]),
        (pay["differs"]["receipt_number"], "amount_differs", None)]
    assert [(u["terminal_ref"], u["kind"]) for u in disputes["unrecorded_approvals"]] == \
        [(ref(99, "ZZ9999"), "missing_from_office"), (ref(4), "charged_but_voided")]
    assert office.verify_audit()["ok"]


def test_no_licence_is_issued_on_an_unconfirmed_payment(office, day):
    office.payments.reconcile_cards(day["shift"], day["report"], "huda")
    with pytest.raises(InvalidState) as info:
        office.licences.issue(day["apps"]["differs"]["id"])
    assert info.value.details["reason"] == "payment_unconfirmed"
    office.licences.issue(day["apps"]["matched"]["id"])  # a confirmed one is issued


def test_reconciling_twice(office, day, db_state):
    first = office.payments.reconcile_cards(day["shift"], day["report"], "huda")
    before = db_state()
    assert office.payments.reconcile_cards(day["shift"], day["report"], "huda") == first
    assert db_state() == before  # the same report again: the same answer, nothing written
    other = report(entry(ref(1)), entry(ref(2)), entry(ref(3)))
    with pytest.raises(InvalidState) as info:
        office.payments.reconcile_cards(day["shift"], other, "huda")
    assert info.value.details["reason"] == "already_reconciled"
    assert db_state() == before


MALFORMED = [
    None, [], "report", {"terminal_id": TID}, {"entries": []},
    {"terminal_id": TID, "entries": [], "extra": 1},
    report(terminal_id="bad id"), report(terminal_id=7),
    {"terminal_id": TID, "entries": "nope"},
    report("not an entry"),
    report({"terminal_ref": ref(1), "amount_minor": 1000}),             # no currency
    report({**entry(ref(1)), "mac": "x"}),                               # unknown key
    report(entry("NOT-A-REAL-APPROVAL")),
    report(entry(ref(1, tid="T0000002"))),                               # another terminal
    report(entry(ref(1)), entry(ref(1))),                                # listed twice
    report(entry(ref(1), 0)), report(entry(ref(1), -5)), report(entry(ref(1), True)),
    report(entry(ref(1), 1.5)), report(entry(ref(1), 10 ** 13)),
    report(entry(ref(1), currency="XXX")),
    report({**entry(ref(1)), "at": "x" * 41}), report({**entry(ref(1)), "sale_ref": 5}),
]


@pytest.mark.parametrize("bad", MALFORMED)
def test_a_malformed_report_changes_nothing(office, day, db_state, bad):
    before = db_state()
    with pytest.raises(ValidationError) as info:
        office.payments.reconcile_cards(day["shift"], bad, "huda")
    assert info.value.field == "report" and "malformed" in str(info.value)
    assert db_state() == before


def test_an_unknown_or_open_shift_is_refused(office, day, till, db_state):
    before = db_state()
    with pytest.raises(NotFound):
        office.payments.reconcile_cards("424242", day["report"], "huda")
    with pytest.raises(InvalidState) as info:
        office.payments.reconcile_cards(till.shift["id"], day["report"], "huda")
    assert info.value.details["reason"] == "shift_open"
    assert db_state() == before


def test_the_kiosk_closes_its_day_with_the_terminal_report(office, kiosk, submit_valid,
                                                          db_state):
    assert kiosk.close_day(report()) is None  # no shift open: nothing to close
    app = submit_valid()
    paid = kiosk.record_card_payment(app["number"], ref(5))
    before = db_state()
    with pytest.raises(ValidationError):  # a malformed report: the shift stays open
        kiosk.close_day(report(entry("NOT-A-REAL-APPROVAL")))
    assert db_state() == before
    z = kiosk.close_day(report(entry(ref(5))))
    assert z["closed_at"] and z["card_check"]["matched"] == 1
    assert z["card_check"]["differences"] == 0
    assert office.payments.get(paid["id"])["card_check"] == "matched"
    assert office.payments.open_shift_of("kiosk") is None


def test_the_operators_report_supersedes_one_a_kiosk_relayed(office, kiosk, submit_valid,
                                                            db_state):
    """A stolen kiosk token can invent an approval and, at close_day, a report that lists
    it: the acquirer's settlement file (or the terminal read by the operator) then judges
    the shift afresh, once, and the invented payment is flagged."""
    real, invented = submit_valid(), submit_valid()
    kiosk.record_card_payment(real["number"], ref(1))
    fake = kiosk.record_card_payment(invented["number"], ref(2))
    z = kiosk.close_day(report(entry(ref(1)), entry(ref(2))))  # the kiosk's word for both
    assert z["card_check"]["matched"] == 2
    shift = z["shift_id"]
    acquirer = report(entry(ref(1)))
    result = office.payments.reconcile_cards(shift, acquirer, "huda")
    assert result["relayed"] is False and result["supersedes"]["reconciled_by"] == "kiosk"
    assert [f["receipt"] for f in result["missing_from_terminal"]] == [fake["receipt_number"]]
    assert office.payments.get(fake["id"])["card_check"] == "unconfirmed"
    assert fake["receipt_number"] in [d["receipt"] for d in
                                      office.payments.disputes()["payments"]]
    # the operator's judgement is final: neither another report nor the kiosk's again
    before = db_state()
    assert office.payments.reconcile_cards(shift, acquirer, "huda") == result
    for other in (report(entry(ref(1)), entry(ref(2))), report()):
        with pytest.raises(InvalidState) as info:
            office.payments.reconcile_cards(shift, other, "huda")
        assert info.value.details["reason"] == "already_reconciled"
    assert db_state() == before


def test_a_shift_closed_without_a_report_is_not_yet_reconciled(office, kiosk, submit_valid):
    kiosk.record_card_payment(submit_valid()["number"], ref(6))
    z = kiosk.close_day()  # the terminal could not be asked
    assert z["card_check"] is None
    later = office.payments.reconcile_cards(z["shift_id"], report(), "huda")
    assert later["differences"] == 1 and len(later["missing_from_terminal"]) == 1


# --- several kiosks, several terminals ------------------------------------------------------

def test_each_kiosk_has_its_own_shift_reconciled_against_its_own_terminal(office,
                                                                          submit_valid):
    """A centre's kiosks, each with its terminal: one kiosk's end of the day neither flags
    the other's payments nor closes its shift."""
    one, two = (KioskFace.for_device(office, {"name": n}) for n in ("kiosk-1", "kiosk-2"))
    assert (one.cashier, two.cashier, KioskFace(office).cashier) == \
        ("kiosk:kiosk-1", "kiosk:kiosk-2", "kiosk")  # the field office's kiosk: its account
    a, b, c = (submit_valid() for _ in range(3))
    pa = one.record_card_payment(a["number"], ref(1, tid="T0000001"))
    pb = two.record_card_payment(b["number"], ref(1, tid="T0000002"))
    assert (pa["clerk"], pb["clerk"]) == ("kiosk:kiosk-1", "kiosk:kiosk-2")
    assert pa["shift_id"] != pb["shift_id"]
    assert last_audit(office)["actor"] == "kiosk:kiosk-2"  # the audit names the kiosk
    z1 = one.close_day(report(entry(ref(1, tid="T0000001")), terminal_id="T0000001"))
    assert (z1["clerk"], z1["card_check"]["matched"], z1["card_check"]["differences"]) == \
        ("kiosk:kiosk-1", 1, 0)
    assert office.payments.open_shift_of("kiosk:kiosk-2")["id"] == pb["shift_id"]  # still open
    pc = two.record_card_payment(c["number"], ref(2, tid="T0000002"))
    z2 = two.close_day(report(entry(ref(1, tid="T0000002")), entry(ref(2, tid="T0000002")),
                              terminal_id="T0000002"))
    assert (z2["card_check"]["matched"], z2["card_check"]["differences"]) == (2, 0)
    assert {office.payments.get(p["id"])["card_check"] for p in (pa, pb, pc)} == {"matched"}
    assert office.payments.disputes() == {"payments": [], "unrecorded_approvals": []}


def test_a_payment_of_another_terminal_is_not_flagged_missing(office, kiosk, submit_valid):
    """A kiosk whose terminal was swapped mid-day: the new terminal's report does not list
    the old one's approval, which is counted apart and left for that terminal's report (a
    supervisor sees it in the disputes); a payment of this terminal it lacks is flagged."""
    old, new, invented = (submit_valid() for _ in range(3))
    before = kiosk.record_card_payment(old["number"], ref(9, tid="T0000001"))
    after = kiosk.record_card_payment(new["number"], ref(1, tid="T0000002"))
    fake = kiosk.record_card_payment(invented["number"], ref(2, tid="T0000002"))
    z = kiosk.close_day(report(entry(ref(1, tid="T0000002")), terminal_id="T0000002"))
    check = z["card_check"]
    assert (check["matched"], check["other_terminals"], check["differences"]) == (1, 1, 1)
    assert check["missing_from_terminal"] == [fake["receipt_number"]]
    assert office.payments.get(before["id"])["card_check"] is None  # not judged, not flagged
    assert office.payments.get(after["id"])["card_check"] == "matched"
    assert {(p["receipt"], p["card_check"]) for p in office.payments.disputes()["payments"]} \
        == {(before["receipt_number"], "other_terminal"), (fake["receipt_number"],
                                                           "unconfirmed")}
    office.payments.check_confirmed(old["id"])  # a licence may still be issued on it
