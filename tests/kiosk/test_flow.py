"""The kiosk's flow without a window: each step on the real core, devices faked (they
record what they were asked to do)."""
from __future__ import annotations

import pytest

from devices.payment.terminal import PaymentOutcome
from core.errors import ValidationError
from core.faces.kiosk import KioskFace
from kiosk.devices import PrintResult
from kiosk.flow import KioskFlow


class FakeDevices:
    """A printer that always prints and a terminal that follows `outcomes`; `held` plays the
    terminal's memory of earlier references (lookup)."""

    def __init__(self):
        self.printed: list[tuple[str, str, str]] = []
        self.outcomes: list[str] = []
        self.held: dict[str, PaymentOutcome] = {}
        self.charged: list[tuple[str, int]] = []
        self.can_pay = True

    def print_document(self, kind, ref, lang):
        self.printed.append((kind, ref, lang))
        return PrintResult(True, f"job-{len(self.printed)}")

    def print_job(self, job):
        """A job queued with what it prints (an issued licence)."""
        self.printed.append((job["kind"], job["ref_id"], job["lang"]))
        return PrintResult(True, job["id"])

    def next_reference(self, number):
        attempt = 1
        while f"{number}-{attempt}" in self.held:
            seen = self.held[f"{number}-{attempt}"]
            if seen.approved or seen.pending:
                return seen.reference, seen
            attempt += 1
        return f"{number}-{attempt}", None

    def charge(self, reference, amount, currency, on_progress=None):
        status = self.outcomes.pop(0) if self.outcomes else "approved"
        stan = len(self.held) + 1  # each approval its own trace number, as a terminal's
        outcome = PaymentOutcome(status, reference, amount, currency,
                                 terminal_ref=f"T0000001-{stan:06d}-A1B2C3"
                                 if status == "approved" else None)
        self.held[reference] = outcome
        if outcome.approved:
            self.charged.append((reference, amount))
        return outcome

    def cancel_payment(self, reference):
        pass

    def card_batch_report(self):
        """The terminal's batch: every approval it made (None: it cannot be asked)."""
        if self.batch_offline:
            return None
        return {"terminal_id": "T0000001", "entries": [
            {"terminal_ref": o.terminal_ref, "amount_minor": o.amount_minor,
             "currency": o.currency} for o in self.held.values() if o.approved]}

    def settle_card_batch(self):
        self.settled += 1

    batch_offline, settled = False, 0


@pytest.fixture
def flow(office):
    return KioskFlow(KioskFace(office), FakeDevices(), "ar")


def fill(flow, values: dict) -> None:
    for field in flow.fields():
        if flow.screen != "form":
            break
        flow.type_into_field(values.get(field.key, ""))
        flow.next_step()


def start_apply(flow, service="residence-certificate"):
    flow.start("apply")
    flow.choose_service(service)
    flow.begin_form()


def test_a_bad_value_stays_on_its_step_with_the_problem_and_stores_nothing(flow, office,
                                                                          valid_fields):
    start_apply(flow)
    flow.type_into_field("Fatima")
    flow.next_step()
    flow.type_into_field("123")
    flow.next_step()
    assert flow.screen == "form" and flow.visit.step == 1
    assert flow.visit.error.problem == "national_id_format"
    assert office.store.one("SELECT COUNT(*) AS n FROM applications")["n"] == 0


def test_edit_from_the_review_comes_back_to_the_review(flow, valid_fields):
    start_apply(flow)
    fill(flow, valid_fields())
    assert flow.screen == "review"
    flow.edit("phone")
    assert flow.screen == "form" and flow.current_field().key == "phone"
    flow.type_into_field("39998877")
    flow.next_step()
    assert flow.screen == "review" and flow.visit.values["phone"] == "39998877"


def test_back_walks_the_steps_and_never_past_the_start(flow, valid_fields):
    start_apply(flow)
    fill(flow, valid_fields())
    flow.back()
    assert flow.screen == "form" and flow.visit.step == len(flow.fields()) - 1
    for _ in range(len(flow.fields())):
        flow.back()
    assert flow.screen == "service"
    for _ in range(5):
        flow.back()
    assert flow.screen == "home"


def test_declined_then_approved_charges_once_and_issues_once(flow, office, valid_fields):
    start_apply(flow)
    fill(flow, valid_fields())
    flow.devices.outcomes = ["declined"]
    flow.submit(pay_now=True)
    flow.pay()
    app = office.applications.get(flow.visit.application["id"])
    assert flow.visit.payment_state == "declined" and app["state"] == "submitted"
    flow.pay()
    assert flow.screen == "result" and flow.visit.licence
    assert len(flow.devices.charged) == 1
    assert flow.devices.charged[0][0].endswith("-2")  # a declined reference is never reused
    # the licence, then the payment's receipt (once: the declined try has none)
    assert [k for k, *_ in flow.devices.printed] == ["licence", "receipt"]


def test_an_approval_the_store_missed_is_recorded_not_charged_again(flow, office, valid_fields):
    """The kiosk died between the terminal's approval and recording it: the next attempt
    finds the approval at the terminal and records that one."""
    start_apply(flow)
    fill(flow, valid_fields())
    flow.submit(pay_now=True)
    number = flow.visit.application["number"]
    flow.devices.held[f"{number}-1"] = PaymentOutcome("approved", f"{number}-1", 1000, "BHD",
                                                      terminal_ref="T0000001-000123-OLD123")
    flow.pay()
    assert flow.devices.charged == []
    payment = office.store.one("SELECT * FROM payments")
    assert payment["reference"] == "T0000001-000123-OLD123"
    assert flow.screen == "result"


def test_a_pending_earlier_attempt_blocks_a_new_charge(flow, office, valid_fields):
    start_apply(flow)
    fill(flow, valid_fields())
    flow.submit(pay_now=True)
    number = flow.visit.application["number"]
    flow.devices.held[f"{number}-1"] = PaymentOutcome("timeout", f"{number}-1", 1000, "BHD",
                                                      pending=True)
    flow.pay()
    assert flow.visit.payment_state == "pending" and flow.devices.charged == []
    assert office.store.one("SELECT COUNT(*) AS n FROM payments")["n"] == 0


def test_pay_at_the_counter_prints_the_slip_and_takes_no_money(flow, office, valid_fields):
    start_apply(flow, "building-permit-small")
    fill(flow, valid_fields("building-permit-small"))
    flow.submit(pay_now=False)
    assert flow.screen == "result" and flow.devices.charged == []
    assert flow.devices.printed == [("application", flow.visit.application["id"], "ar")]


def test_wipe_forgets_the_resident(flow, valid_fields):
    start_apply(flow)
    fill(flow, valid_fields())
    flow.toggle_language()
    flow.toggle_large_text()
    assert flow.has_personal_data
    flow.wipe()
    assert not flow.has_personal_data and flow.screen == "home"
    assert flow.lang == "ar" and flow.large_text is False


def test_status_by_last_digits_and_a_slip_from_another_office(flow, office, submit_valid):
    app = submit_valid()
    flow.start("status")
    flow.type_number(str(int(app["number"].rsplit("-", 1)[1])))
    flow.find()
    assert flow.screen == "status_result" and flow.visit.found["number"] == app["number"]
    flow.start("status")
    flow.find("NFA:RIF:RIF-D01-A2026-000001")
    assert flow.screen == "status" and flow.visit.status_problem == "other_office"
    flow.find("NFT:MUH:01ABC")
    assert flow.visit.status_problem == "not_found"


def test_pay_now_for_an_application_found_by_its_slip(flow, office, submit_valid):
    app = submit_valid()
    flow.start("status")
    flow.find(f"NFA:MUH:{app['number']}")
    flow.pay_found()
    assert flow.screen == "payment"
    flow.pay()
    assert flow.screen == "result" and flow.visit.licence
    assert office.applications.get(app["id"])["state"] == "issued"
    assert len(flow.devices.charged) == 1


@pytest.mark.parametrize("ending", ["timeout", "cancelled", "offline"])
def test_every_ending_without_money_leaves_the_application_unpaid(flow, office, valid_fields,
                                                                 ending):
    start_apply(flow)
    fill(flow, valid_fields())
    flow.submit(pay_now=True)
    flow.devices.outcomes = [ending]
    flow.pay()
    assert flow.visit.payment_state == ending and flow.screen == "payment"
    assert office.applications.get(flow.visit.application["id"])["state"] == "submitted"
    assert flow.devices.charged == [] and flow.devices.printed == []


def test_a_name_too_long_for_the_licence_sends_the_resident_back_to_it(flow, office,
                                                                       valid_fields):
    """Each answer passes on its own; the whole is refused at submission because the name
    would not fit the licence's QR code: back to the name, the reason in Arabic under it,
    nothing stored."""
    from ui.messages import field_error

    start_apply(flow)
    fill(flow, valid_fields(full_name="عبد" * 33))
    assert flow.screen == "review"
    with pytest.raises(ValidationError) as refused:
        flow.submit(pay_now=False)
    flow.failed(refused.value)  # what the app shell does with a step that raised
    assert flow.screen == "form" and flow.current_field().key == "full_name"
    assert flow.visit.error.problem == "too_long_for_licence"
    assert field_error(flow.visit.error, None, "ar") == \
        "هذا النص أطول من أن يطبع على الرخصة. يرجى كتابته بصيغة أقصر."
    assert office.store.one("SELECT COUNT(*) AS n FROM applications")["n"] == 0
    flow.type_into_field("عبدالرحمن محمد آل خليفة")
    flow.next_step()
    assert flow.screen == "review"
    flow.submit(pay_now=False)
    assert office.store.one("SELECT COUNT(*) AS n FROM applications")["n"] == 1


def test_the_day_closes_reconciled_against_the_terminal_report(flow, office, valid_fields):
    assert flow.close_day() is None and flow.devices.settled == 0  # no shift yet
    start_apply(flow)
    fill(flow, valid_fields())
    flow.submit(pay_now=True)
    flow.pay()
    z = flow.close_day()
    assert z["card_check"]["matched"] == 1 and z["card_check"]["differences"] == 0
    assert flow.devices.settled == 1  # the terminal's batch closed after the office held it
    assert office.payments.open_shift_of("kiosk") is None


def test_a_terminal_that_cannot_report_leaves_the_day_unreconciled(flow, office,
                                                                   valid_fields):
    start_apply(flow)
    fill(flow, valid_fields())
    flow.submit(pay_now=True)
    flow.pay()
    flow.devices.batch_offline = True
    z = flow.close_day()
    assert z["closed_at"] and z["card_check"] is None and flow.devices.settled == 0
