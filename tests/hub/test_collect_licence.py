"""Collecting a licence at the kiosk (KioskFace.collect_licence, docs/bills.md "At the
kiosk"), in-process and through a hub: an approved permit paid through a network is issued
and its original queued on this kiosk's printer, by the slip's code alone (its token shows the
slip was scanned) or by its bill number, or an application's code without that token, with
the applicant's national ID; every refusal says why and changes nothing."""
from __future__ import annotations

import pytest

from core import bill_numbers, codes, documents
from core.errors import InvalidState, NotFound, ValidationError
from core.faces.kiosk import LOOKUPS_PER_MINUTE

BP = "building-permit-small"  # reviewed by the back office, fee 20.000 BHD


def network_payment(bill: dict, transaction_id: str = "SDD-0001") -> dict:
    """The bill_payment body central relays after a network paid the bill."""
    return {"number": bill["number"], "application_id": bill["application_id"],
            "transaction_id": transaction_id, "network": "sadad",
            "amount_minor": bill["amount_minor"], "currency": bill["currency"],
            "paid_at": "2026-11-25T09:00:00Z"}


@pytest.fixture
def permit(office, valid_fields, valid_nid):
    """permit(approve=True, pay=True) -> (application row, its bill, the applicant's ID)."""
    def make(approve: bool = True, pay: bool = True, n: int = 1):
        national_id = valid_nid(n)
        app = office.applications.submit(BP, valid_fields(BP, national_id=national_id))
        bill = office.bills.for_application(app["id"])
        if approve:
            office.applications.approve(app["id"])
        if pay:
            assert office.bills.apply_payment(network_payment(bill, f"SDD-{n:04d}")
                                              )["outcome"] == "applied"
        return office.applications.row(app["id"]), bill, national_id
    return make


def slip(office, app: dict) -> str:
    """What the application's slip printed when it was submitted: its code with the token
    (NFA:office:number:token; a rejected or issued application has no slip to print now)."""
    return documents.slip_code(office, app["number"])


def licences(office) -> int:
    return office.store.one("SELECT COUNT(*) AS n FROM licences")["n"]


def licence_jobs(office) -> int:
    return office.store.one("SELECT COUNT(*) AS n FROM print_jobs WHERE kind = 'licence'")["n"]


def test_collect_by_scanning_the_slip(kiosk, office, permit):
    app, _, _ = permit()
    assert app["state"] == "approved" and app["paid_at"]
    assert slip(office, app) == documents.application(office, app["id"])["qr_text"]
    assert codes.token_of(slip(office, app))
    got = kiosk.collect_licence(slip(office, app), "ar")
    licence = office.store.one("SELECT * FROM licences")
    assert licences(office) == 1 and licence["application_id"] == app["id"]
    assert got["number"] == licence["number"] and got["application_number"] == app["number"]
    assert set(got) == {"number", "application_number", "service_code", "print_job"}
    job = kiosk.print_jobs().get(got["print_job"]["id"])
    assert (job["kind"], job["ref_id"], job["printer"], job["state"]) == \
        ("licence", licence["id"], kiosk.printer, "pending")
    assert office.applications.row(app["id"])["state"] == "issued"
    # Audited under the kiosk's cashier: the account and, at a hub, the device.
    actor = office.store.one("SELECT actor FROM audit WHERE action = 'licence.issued'")
    account = office.settings.kiosk.account
    assert actor["actor"] == (account if kiosk.printer == "main"
                              else f"{account}:{kiosk.printer}")
    # Once: a second scan is refused and nothing more prints.
    with pytest.raises(InvalidState) as refused:
        kiosk.collect_licence(slip(office, app), "ar")
    assert refused.value.details["reason"] == "already_issued"
    assert licences(office) == 1 and licence_jobs(office) == 1


def test_collect_by_typing_the_bill_number_and_national_id(kiosk, office, permit):
    app, bill, national_id = permit()
    got = kiosk.collect_licence(bill["number"].lower(), "en", national_id)
    assert got["application_number"] == app["number"]
    assert licences(office) == 1 and licence_jobs(office) == 1
    assert kiosk.print_jobs().get(got["print_job"]["id"])["lang"] == "en"


def refused(kiosk, db_state, error, reference, national_id=None) -> dict:
    """Refused with `error`, nothing changed (no licence, no print job, no audit): its
    details."""
    before = db_state()
    with pytest.raises(error) as caught:
        kiosk.collect_licence(reference, "ar", national_id)
    assert db_state() == before
    return caught.value.details


def test_an_unknown_bill_and_a_wrong_national_id_get_the_same_answer(kiosk, office, permit,
                                                                      db_state, valid_nid):
    _, bill, national_id = permit()
    unknown_bill = bill_numbers.make("MUH", "D01", 999)
    wrong = refused(kiosk, db_state, NotFound, bill["number"], valid_nid(2))
    missing = refused(kiosk, db_state, NotFound, unknown_bill, national_id)
    assert wrong == missing and wrong["reason"] == "unknown"
    # No such application: by a code with its token, and by one without it and an ID.
    no_app = refused(kiosk, db_state, NotFound, documents.slip_code(office, "A2026-999999"))
    assert no_app == wrong
    no_app = refused(kiosk, db_state, NotFound, codes.application_code("MUH", "A2026-999999"),
                     national_id)
    assert no_app == wrong
    ticket = refused(kiosk, db_state, NotFound, codes.ticket_code("MUH", "01ABC"))
    assert ticket["reason"] == "unknown"
    assert licences(office) == 0 and licence_jobs(office) == 0


def forged_codes(office, app: dict, other: dict) -> dict[str, str]:
    """Codes naming `app` that are not its slip's: what anyone can make from a number."""
    token = codes.token_of(slip(office, app))
    other_token = codes.token_of(slip(office, other))
    changed = ("B" if token[0] == "A" else "A") + token[1:]
    return {"no token": codes.application_code("MUH", app["number"]),
            "wrong token": codes.application_code("MUH", app["number"], changed),
            "another's token": codes.application_code("MUH", app["number"], other_token),
            "another office's secret": codes.application_code(
                "MUH", app["number"], codes.collect_token(bytes(32), app["number"]))}


def test_a_forged_slip_code_needs_the_national_id(kiosk, office, permit, db_state):
    """Application numbers are sequential: a code made from one (no token, a wrong one,
    another application's, another secret's) does not hand out the licence without the
    applicant's ID; neither does the receipt's code (it has no token)."""
    app, _, _ = permit()
    other, _, _ = permit(n=2)
    payment = office.payments.live_for(app["id"])
    receipt = documents.receipt(office, payment["id"])["qr_text"]
    for what, forged in {**forged_codes(office, app, other), "receipt": receipt}.items():
        assert codes.parse(forged) == ("application", "MUH", app["number"]), what
        details = refused(kiosk, db_state, ValidationError, forged)
        assert (details["reason"], details["field"]) == ("national_id_required",
                                                         "national_id"), what
        # The status look-up still reads it, and shows nothing personal.
        shown = kiosk.application(forged)
        assert shown["number"] == app["number"] and "fields" not in shown
    assert licences(office) == 0 and licence_jobs(office) == 0


def test_a_forged_slip_code_with_the_national_id(kiosk, office, permit, db_state,
                                                 valid_nid):
    """With a wrong ID: the answer of an unknown bill, word for word; with the applicant's
    own ID it prints, as a bill number would."""
    app, bill, national_id = permit()
    other, _, _ = permit(n=2)
    unknown = refused(kiosk, db_state, NotFound, bill["number"], valid_nid(9))
    forged = forged_codes(office, app, other)
    for what, code in forged.items():
        assert refused(kiosk, db_state, NotFound, code, valid_nid(9)) == unknown, what
        assert refused(kiosk, db_state, NotFound, code, valid_nid(2)) == unknown, what
    assert licences(office) == 0 and licence_jobs(office) == 0
    got = kiosk.collect_licence(forged["another's token"], "en", f" {national_id} ")
    assert got["application_number"] == app["number"]
    assert licences(office) == 1 and licence_jobs(office) == 1
    assert office.store.one("SELECT application_id FROM licences")["application_id"] == \
        app["id"]


def test_a_bill_number_that_does_not_read_or_has_no_id(kiosk, office, permit, db_state):
    _, bill, national_id = permit()
    swapped = bill["number"][:-2] + bill["number"][-1] + bill["number"][-2]
    assert swapped != bill["number"]
    details = refused(kiosk, db_state, ValidationError, swapped, national_id)
    assert (details["reason"], details["field"]) == ("bad_check_digit", "bill_number")
    details = refused(kiosk, db_state, ValidationError, "MUH-D01-42", national_id)
    assert details["reason"] == "malformed"
    details = refused(kiosk, db_state, ValidationError, bill["number"], None)
    assert (details["reason"], details["field"]) == ("national_id_required", "national_id")
    assert licences(office) == 0 and licence_jobs(office) == 0


def test_not_paid_names_the_bill_to_pay_with(kiosk, office, permit, db_state):
    app, bill, national_id = permit(pay=False)
    details = refused(kiosk, db_state, InvalidState, slip(office, app))
    assert (details["reason"], details["bill"]) == ("not_paid", bill["number"])
    details = refused(kiosk, db_state, InvalidState, bill["number"], national_id)
    assert details["reason"] == "not_paid"
    unapproved, _, _ = permit(approve=False, pay=False, n=3)  # neither
    assert refused(kiosk, db_state, InvalidState,
                   slip(office, unapproved))["reason"] == "not_paid"


def test_paid_but_still_with_the_back_office(kiosk, office, permit, db_state):
    app, bill, national_id = permit(approve=False)
    assert app["state"] == "paid"
    details = refused(kiosk, db_state, InvalidState, bill["number"], national_id)
    assert details["reason"] == "not_approved"


def test_already_issued_at_the_counter(kiosk, office, permit, db_state):
    app, _, _ = permit()
    office.licences.issue(app["id"])
    assert refused(kiosk, db_state, InvalidState,
                   slip(office, app))["reason"] == "already_issued"
    assert licence_jobs(office) == 0


def test_a_cancelled_bill_and_a_rejected_application(kiosk, office, permit, db_state):
    withdrawn, bill, national_id = permit(approve=False, pay=False)
    office.applications.withdraw(withdrawn["id"], "changed my mind")
    assert office.bills.get(bill["number"])["state"] == "cancelled"
    details = refused(kiosk, db_state, InvalidState, bill["number"], national_id)
    assert details["reason"] == "cancelled"
    rejected, _, _ = permit(approve=False, pay=False, n=4)
    office.applications.reject(rejected["id"], "wrong parcel")
    assert refused(kiosk, db_state, InvalidState,
                   slip(office, rejected))["reason"] == "rejected"
    assert licences(office) == 0


def test_another_offices_slip_or_bill(kiosk, office, permit, db_state, valid_nid):
    app, _, _ = permit()
    details = refused(kiosk, db_state, NotFound, codes.application_code("ZZZ", app["number"]))
    assert (details["reason"], details["other_office"]) == ("other_office", "ZZZ")
    other_bill = bill_numbers.make("RIF", "D01", 1)
    details = refused(kiosk, db_state, NotFound, other_bill, valid_nid(1))
    assert (details["reason"], details["other_office"]) == ("other_office", "RIF")
    assert licences(office) == 0


def test_guessing_national_ids_is_slowed_at_the_hub(hub, office, permit, db_state, valid_nid):
    """LOOKUPS_PER_MINUTE tries a minute from one kiosk, then 429 (checked before the
    operation runs, so nothing changes); another kiosk is not slowed by it."""
    _, bill, national_id = permit()
    now = [800.0]
    hub.app.state.rates["kiosk.collect_licence"].monotonic = lambda: now[0]
    greedy, other = hub.token("kiosk", "kiosk-1"), hub.token("kiosk", "kiosk-2")

    def attempt(token, nid):
        return hub.http.post(f"{hub.url}/api/v1/kiosk/collect-licence", timeout=10,
                             json={"reference": bill["number"], "lang": "ar",
                                   "national_id": nid},
                             headers={"Authorization": f"Bearer {token}"})

    for n in range(LOOKUPS_PER_MINUTE):
        answer = attempt(greedy, valid_nid(100 + n))
        assert answer.status_code == 404 and answer.json()["reason"] == "unknown"
    before = db_state()
    answer = attempt(greedy, national_id)  # even the right one waits
    assert answer.status_code == 429 and answer.json()["error"] == "too_many_requests"
    assert db_state() == before and licences(office) == 0
    assert attempt(other, national_id).status_code == 200
    assert licences(office) == 1
