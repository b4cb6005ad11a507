"""Applications: draft -> submitted -> paid -> approved -> issued, or rejected / withdrawn;
fields checked against the catalogue; the fee fixed when submitted."""
import dataclasses

import pytest

from core.catalog import Catalog
from core.errors import InvalidState, NotFound, ValidationError


def test_submit_validates_and_stores_clean_fields(office, valid_fields, valid_nid):
    app = office.applications.submit("residence-certificate", valid_fields(
        full_name="  فاطمة علي  ", phone="3333 4444", block="0204"))
    assert app["state"] == "submitted"
    assert app["number"] == "MUH-D01-A2026-000001"
    assert app["fields"]["full_name"] == "فاطمة علي"
    assert app["fields"]["phone"] == "33334444"
    assert app["fields"]["block"] == "204"
    assert app["fields"]["national_id"] == valid_nid()
    assert (app["fee_minor"], app["currency"]) == (1000, "BHD")
    assert (app["licence_type"], app["validity_days"], app["issue_mode"]) == ("RES", 90,
                                                                           "instant")
    assert app["submitted_at"] == "2026-11-24T08:00:00.000+00:00"
    stored = office.store.one("SELECT * FROM applications WHERE id = ?", (app["id"],))
    assert stored["fields"].startswith("nfs1:") and "فاطمة" not in stored["fields"]
    assert office.applications.fields_of(stored) == app["fields"]
    assert office.applications.get(app["number"]) == app


@pytest.mark.parametrize("service", ["residence-certificate", "address-form",
                                     "building-permit-small", "excavation-permit",
                                     "road-works-permit", "drawings-amendment-permit",
                                     "building-completion-certificate", "building-land-tax"])
def test_every_default_service_accepts_a_valid_form(submit_valid, service):
    app = submit_valid(service)
    assert app["service_code"] == service and app["state"] == "submitted"
    assert app["fee_minor"] > 0


def test_fee_from_a_money_field(submit_valid):
    app = submit_valid("building-land-tax", assessed_amount="123.450")
    assert app["fee_minor"] == 123_450
    assert app["fields"]["assessed_amount"] == "123450"


def test_numbers_are_unique_and_carry_office_device_and_local_year(office, submit_valid,
                                                                   clock):
    numbers = [submit_valid()["number"] for _ in range(3)]
    numbers.append(office.applications.save_draft("R", {"full_name": "x"})["number"])
    assert numbers == [f"MUH-D01-A2026-{n:06d}" for n in range(1, 5)]
    clock.set("2026-12-31T21:30:00+00:00")  # already 2027 in Bahrain
    assert submit_valid()["number"] == "MUH-D01-A2027-000001"


def test_another_device_numbers_differently(tmp_path, clock, ids, valid_fields):
    from core.office import Office
    from core.settings import load_settings
    s = load_settings(tmp_path / "k2", environ={"NAFITHA_DEVICE__ID": "K2"})
    other = Office.open(s, clock=clock, ids=ids)
    try:
        app = other.applications.submit("R", valid_fields("R"))
        assert app["number"] == "MUH-K2-A2026-000001"
    finally:
        other.close()


def test_fee_is_fixed_at_submission(office, submit_valid, till):
    app = submit_valid("building-permit-small")
    assert app["fee_minor"] == 20_000
    # central publishes a new fee afterwards
    dearer = [dataclasses.replace(s, fee_minor=s.fee_minor * 3) for s in office.catalog]
    office.catalog = Catalog(dearer)
    assert office.applications.get(app["id"])["fee_minor"] == 20_000
    paid = office.payments.take(app["id"], "card", till.clerk, reference="T-1")
    assert paid["amount_minor"] == 20_000
    # a new application pays the new fee
    assert submit_valid("building-permit-small")["fee_minor"] == 60_000


def test_draft_then_submit(office, valid_fields, clock):
    draft = office.applications.save_draft("building-permit-small",
                                           {"full_name": "Ali", "area_m2": "30"})
    assert (draft["state"], draft["fee_minor"], draft["submitted_at"]) == ("draft", 0, None)
    with pytest.raises(ValidationError) as info:
        office.applications.submit_draft(draft["id"])  # still incomplete
    assert office.applications.get(draft["id"])["state"] == "draft"
    clock.advance(minutes=3)
    rest = valid_fields("building-permit-small", full_name=None, area_m2=None)
    app = office.applications.submit_draft(draft["number"], rest)
    assert app["state"] == "submitted"
    assert app["fields"]["full_name"] == "Ali" and app["fields"]["area_m2"] == "30"
    assert app["fee_minor"] == 20_000
    assert app["submitted_at"] == "2026-11-24T08:03:00.000+00:00"
    assert app["number"] == draft["number"]
    assert info.value.field in {f.key for f in office.catalog.get("B").fields}
    with pytest.raises(InvalidState):
        office.applications.submit_draft(draft["id"])


def test_a_draft_still_refuses_bad_values(office):
    with pytest.raises(ValidationError) as info:
        office.applications.save_draft("R", {"national_id": "123456789"})
    assert info.value.field == "national_id"
    assert office.store.one("SELECT COUNT(*) AS n FROM applications")["n"] == 0


def test_review_service_paid_then_approved(office, submit_valid, till):
    app = submit_valid("excavation-permit")
    paid = office.payments.take(app["id"], "cash", till.clerk, tendered_minor=15_000)
    assert paid["application_state"] == "paid"
    with office.acting_as("huda"):
        approved = office.applications.approve(app["id"], reason="site plan checked")
    assert approved["state"] == "approved"
    assert (approved["decided_by"], approved["reason"]) == ("huda", "site plan checked")
    assert approved["paid_at"] is not None


def test_review_service_approved_then_paid(office, submit_valid, till):
    app = submit_valid("road-works-permit")
    assert office.applications.approve(app["id"])["state"] == "approved"
    paid = office.payments.take(app["id"], "online", till.clerk, reference="GW-77")
    assert paid["application_state"] == "approved"
    assert office.applications.get(app["id"])["paid_at"] == paid["taken_at"]


def test_instant_service_is_approved_by_paying(office, submit_valid, till):
    app = submit_valid("residence-certificate")
    office.payments.take(app["id"], "cash", till.clerk, tendered_minor=1000)
    got = office.applications.get(app["id"])
    assert (got["state"], got["decided_by"]) == ("approved", "auto")


def test_reject_needs_a_reason_and_ends_the_application(office, submit_valid):
    app = submit_valid("building-permit-small")
    with pytest.raises(ValidationError) as info:
        office.applications.reject(app["id"], "   ")
    assert info.value.field == "reason"
    assert office.applications.get(app["id"])["state"] == "submitted"
    rejected = office.applications.reject(app["id"], "area outside the plan")
    assert (rejected["state"], rejected["reason"]) == ("rejected", "area outside the plan")
    for action in (office.applications.approve, office.applications.withdraw):
        with pytest.raises(InvalidState):
            action(app["id"])


def test_withdraw_only_before_payment(office, submit_valid, till):
    app = submit_valid()
    assert office.applications.withdraw(app["id"])["state"] == "withdrawn"
    paid = submit_valid()
    office.payments.take(paid["id"], "cash", till.clerk, tendered_minor=1000)
    with pytest.raises(InvalidState):
        office.applications.withdraw(paid["id"])
    draft = office.applications.save_draft("R", {})
    assert office.applications.withdraw(draft["id"])["state"] == "withdrawn"


@pytest.mark.parametrize("state_from", ["draft", "withdrawn", "rejected"])
def test_approve_is_refused_outside_submitted_or_paid(office, submit_valid, state_from):
    if state_from == "draft":
        app = office.applications.save_draft("B", {})
    else:
        app = submit_valid("B")
        if state_from == "withdrawn":
            office.applications.withdraw(app["id"])
        else:
            office.applications.reject(app["id"], "no")
    audit = office.store.one("SELECT COUNT(*) AS n FROM audit")["n"]
    with pytest.raises(InvalidState) as info:
        office.applications.approve(app["id"])
    assert state_from in str(info.value)
    assert office.store.one("SELECT COUNT(*) AS n FROM audit")["n"] == audit


def test_application_linked_to_a_ticket(office, valid_fields):
    ticket = office.queue.take_ticket("R")
    app = office.applications.submit("R", valid_fields(), ticket=ticket["number"])
    assert app["ticket_id"] == ticket["id"]
    with pytest.raises(NotFound):
        office.applications.submit("R", valid_fields(), ticket="R999")


def test_find_by_national_id_and_state(office, submit_valid, valid_nid):
    a = submit_valid(national_id=valid_nid(1))
    submit_valid(national_id=valid_nid(2))
    office.applications.withdraw(a["id"])
    found = office.applications.find(national_id=valid_nid(1))
    assert [f["id"] for f in found] == [a["id"]]
    assert len(office.applications.find(state="submitted")) == 1
    assert office.applications.find(national_id=valid_nid(3)) == []


def test_unknown_application(office):
    with pytest.raises(NotFound):
        office.applications.get("MUH-D01-A2026-999999")


# --- finding an application by its holder's name ------------------------------------------
NAMES = ["أحمد إبراهيم الأنصاري", "فاطمة علي حسن", "مُحَمَّد عيسى", "Mariam Al-Sayed",
         "سلمى مؤمن", "هيئة آل خليفة"]


@pytest.fixture
def named(office, submit_valid):
    """One application per name (the last submitted is the newest), by name."""
    made = {}
    for name in NAMES:
        made[name] = submit_valid(full_name=name)["number"]
        office.store.clock.advance(seconds=1)
    return made


@pytest.mark.parametrize("typed, holder", [
    ("احمد", "أحمد إبراهيم الأنصاري"),        # alef with hamza typed bare
    ("ابراهيم الانصاري", "أحمد إبراهيم الأنصاري"),  # hamza below, two words
    ("الانصاري احمد", "أحمد إبراهيم الأنصاري"),   # any order
    ("فاطمه", "فاطمة علي حسن"),                  # ta marbuta typed as ha
    ("على", "فاطمة علي حسن"),                    # alef maqsura for ya
    ("محمد", "مُحَمَّد عيسى"),                     # harakat in the stored name
    ("مـحـمـد", "مُحَمَّد عيسى"),                   # tatweel in the typed one
    ("عيسي", "مُحَمَّد عيسى"),                     # ya for alef maqsura
    ("مومن", "سلمى مؤمن"),                       # hamza on waw
    ("هيئه ال", "هيئة آل خليفة"),                 # ta marbuta as ha, alef madda bare
    ("mariam", "Mariam Al-Sayed"),              # case
    ("AL-SAYED", "Mariam Al-Sayed"),
])
def test_a_name_is_found_whatever_the_spelling_variant(office, named, typed, holder):
    assert office.applications.find_by_name(typed) == [named[holder]]


def test_several_holders_come_newest_first_and_at_most_the_limit(office, named, submit_valid):
    both = office.applications.find_by_name("لي")  # فاطمة علي and هيئة آل خليفة
    assert both == [named["هيئة آل خليفة"], named["فاطمة علي حسن"]]
    for _ in range(3):
        submit_valid(full_name="Sample Holder")
    assert len(office.applications.find_by_name("sample holder", limit=2)) == 2


@pytest.mark.parametrize("typed, problem", [
    ("", "required"), ("   ", "required"), ("ّ", "too_short"),  # a shadda alone: no letters
    ("ا", "too_short"), ("x" * 201, "too_long"), ("فا\nطمة", "control_character"),
    ("فا\u202eطمة", "direction_control"),
])
def test_a_name_search_refuses_what_cannot_be_a_name(office, named, db_state, typed,
                                                     problem):
    before = db_state()
    with pytest.raises(ValidationError) as info:
        office.applications.find_by_name(typed)
    assert info.value.problem == problem and info.value.field == "name"
    assert db_state() == before


def test_a_name_nobody_has_is_not_found_and_the_error_does_not_repeat_it(office, named):
    with pytest.raises(NotFound) as info:
        office.applications.find_by_name("زينب")
    assert "زينب" not in info.value.message  # errors reach logs: no personal data
