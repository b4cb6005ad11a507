"""One contract, two implementations: every test here runs against the in-process core
(a field office) and against the hub's HTTP client (a service centre) over a real hub on
loopback. Same calls, same answers, same errors, and bad input changes nothing in either."""
from __future__ import annotations

import dataclasses
import re

import pytest

from core import codes
from core.errors import InvalidState, NotFound, PermissionDenied, ValidationError
from core.faces.counter import CounterFace

RES = "residence-certificate"
PERMIT = "building-permit-small"


@pytest.fixture
def narrow_counter(request, office, tmp_path, till, counter):
    """A counter that serves the residence certificate only."""
    if isinstance(counter, CounterFace):
        return CounterFace(office, "4", [RES])
    return request.getfixturevalue("hub").counter(tmp_path, "4", [RES])


def rows(office, table: str) -> int:
    return office.store.one(f"SELECT COUNT(*) AS n FROM {table}")["n"]


def seq(number: str) -> int:
    return int(re.sub(r"\D", "", number))


# --- kiosk ----------------------------------------------------------------------------------
def test_catalogue_is_the_offices(kiosk, office):
    assert [s.code for s in kiosk.services()] == [s.code for s in office.catalog]
    service = kiosk.service(RES)
    assert service == dataclasses.replace(office.catalog.get(RES), source=service.source)
    with pytest.raises(ValidationError) as info:
        kiosk.service("no-such-service")
    assert info.value.field == "service"


def test_tickets_are_consecutive_with_an_estimate(kiosk):
    first = kiosk.take_ticket(RES, None)
    second = kiosk.take_ticket(RES, "elderly")
    assert seq(second["number"]) == seq(first["number"]) + 1
    assert first["state"] == "waiting" and first["people_ahead"] == 0
    assert second["priority"] == "elderly" and "estimated_wait_minutes" in second


def test_bad_ticket_requests_change_nothing(kiosk, office, db_state):
    before = db_state()
    with pytest.raises(ValidationError) as info:
        kiosk.take_ticket("no-such-service", None)
    assert info.value.field == "service"
    with pytest.raises(ValidationError) as info:
        kiosk.take_ticket(RES, "vip")
    assert info.value.field == "priority"
    assert db_state() == before


def test_field_check_cleans_or_names_the_field(kiosk, valid_nid):
    assert kiosk.check_field(RES, "national_id", f" {valid_nid()} ") == valid_nid()
    with pytest.raises(ValidationError) as info:
        kiosk.check_field(RES, "national_id", "12345678")
    assert info.value.field == "national_id" and info.value.problem


def test_submit_find_and_pay_by_card_then_issue(kiosk, office, valid_fields):
    app = kiosk.submit(RES, valid_fields())
    assert app["state"] == "submitted" and app["fee_minor"] == 1000
    assert kiosk.application(app["number"])["id"] == app["id"]
    slip = codes.application_code(office.settings.office.code, app["number"])
    assert kiosk.application(slip)["id"] == app["id"]
    assert kiosk.find_application(str(seq(app["number"].split("-")[-1])))["id"] == app["id"]
    payment = kiosk.record_card_payment(app["number"], "T0000001-000001-000001")
    assert payment["method"] == "card" and payment["amount_minor"] == 1000
    with pytest.raises(InvalidState):
        kiosk.record_card_payment(app["number"], "T0000001-000002-000002")  # never twice
    assert rows(office, "payments") == 1
    licence = kiosk.issue_licence(app["number"], "ar")
    assert licence["print_job"]["ref_id"] == licence["id"]  # queued in the same step
    assert kiosk.print_jobs().get(licence["print_job"]["id"])["state"] == "pending"
    result = kiosk.verify_licence(licence["signed_payload"])
    assert result.valid and result.claims["number"] == licence["number"]
    bad = kiosk.verify_licence("NF1:not-a-licence")
    assert not bad.valid and bad.reason


def test_bad_applications_change_nothing(kiosk, office, valid_fields, db_state):
    before = db_state()
    with pytest.raises(ValidationError) as info:
        kiosk.submit(RES, valid_fields(national_id="123"))
    assert info.value.field == "national_id"
    with pytest.raises(NotFound):
        kiosk.application("A2026-999999")
    with pytest.raises(NotFound) as info:
        kiosk.application(codes.application_code("ZZZ", "A2026-000001"))
    assert info.value.details["other_office"] == "ZZZ"
    assert db_state() == before


def test_printing_and_giving_a_job_up(kiosk, office):
    ticket = kiosk.take_ticket(RES, None)
    job = kiosk.enqueue_print("ticket", ticket["id"], "ar")
    assert kiosk.print_jobs().get(job["id"])["state"] == "pending"
    assert job["printer"] == kiosk.printer
    assert kiosk.abandon_print(job["id"], "kiosk gave up: paper out")["state"] == "failed"
    assert kiosk.print_jobs().get(job["id"])["state"] == "failed"
    with pytest.raises(ValidationError):
        kiosk.enqueue_print("poster", ticket["id"], "ar")


def test_staff_exit_pin(kiosk, till):
    assert kiosk.check_admin_pin(till.supervisor_pin) is True
    assert kiosk.check_admin_pin(till.clerk_pin) is False  # a clerk is not staff-exit
    assert kiosk.check_admin_pin("12") is False


# --- counter --------------------------------------------------------------------------------
def test_sign_in_and_its_refusals(counter, till):
    assert counter.sign_in(" Sara ", till.clerk_pin) == {"username": "sara", "role": "clerk"}
    with pytest.raises(PermissionDenied) as info:
        counter.sign_in("huda", "0000")
    assert info.value.details["reason"] == "wrong_pin"
    assert info.value.details["attempts_left"] == 4
    with pytest.raises(PermissionDenied) as info:
        counter.sign_in("kiosk", "1234")
    assert info.value.details["reason"] == "not_staff"
    with pytest.raises(ValidationError) as info:
        counter.sign_in("", "1234")
    assert info.value.field == "username"
    with pytest.raises(PermissionDenied) as info:  # the same answer as a wrong PIN
        counter.sign_in("nobody", "1234")
    assert info.value.details == {"reason": "wrong_pin", "attempts_left": 4}


def test_call_next_serve_and_finish(counter, office, till):
    counter.sign_in(till.clerk, till.clerk_pin)
    assert counter.call_next(till.clerk, None) is None  # nobody waits: nothing written
    taken = office.queue.take_ticket(RES)
    overview = {o["service"]: o for o in counter.queue_overview()}
    assert overview[RES]["waiting"] == 1 and overview[RES]["next"] == taken["number"]
    called = counter.call_next(till.clerk, None)
    assert called["number"] == taken["number"] and called["counter"] == "3"
    assert [t["number"] for t in counter.my_tickets()] == [taken["number"]]
    again = counter.ticket_step(till.clerk, "recall", called["id"])
    assert again["call_count"] == 2
    assert counter.ticket_step(till.clerk, "start_serving", called["id"])["state"] == "serving"
    assert counter.ticket_step(till.clerk, "finish", called["id"])["state"] == "done"
    assert counter.my_tickets() == []
    with pytest.raises(InvalidState):
        counter.ticket_step(till.clerk, "finish", called["id"])
    with pytest.raises(ValidationError):
        counter.ticket_step(till.clerk, "teleport", called["id"])
    events = [e["to_state"] for e in office.queue.events(called["id"])]
    assert events == ["waiting", "called", "called", "serving", "done"]
    assert {e["actor"] for e in office.store.all(
        "SELECT actor FROM ticket_events WHERE ticket_id = ? AND to_state != 'waiting'",
        (called["id"],))} == {"sara"}


def test_a_counter_calls_only_the_services_it_serves(narrow_counter, office, till,
                                                    db_state):
    narrow_counter.sign_in(till.clerk, till.clerk_pin)
    assert narrow_counter.counter_services == [RES]
    office.queue.take_ticket(PERMIT)
    assert narrow_counter.call_next(till.clerk, None) is None  # a permit waits elsewhere
    before = db_state()
    with pytest.raises(PermissionDenied) as info:
        narrow_counter.call_next(till.clerk, [PERMIT])
    assert info.value.details["reason"] == "service_not_served"
    assert db_state() == before
    office.queue.take_ticket(RES)
    assert narrow_counter.call_next(till.clerk, [RES])["service_code"] == RES


def test_walk_in_pay_cash_issue_reprint_and_revoke(counter, office, till, valid_fields):
    counter.sign_in(till.clerk, till.clerk_pin)
    app = counter.submit(till.clerk, RES, valid_fields(), None)
    assert app["payment"] is None and app["licence"] is None
    with pytest.raises(ValidationError):
        counter.take_payment(till.clerk, app["number"], "cash", None, None)
    paid = counter.take_payment(till.clerk, app["number"], "cash", 5000, None)
    assert paid["change_minor"] == 4000
    licence = counter.issue_licence(till.clerk, app["number"], "en")
    assert licence["print_job"]["copy"] == 0 and licence["print_job"]["lang"] == "en"
    assert counter.application(app["number"])["licence"]["number"] == licence["number"]
    copy = counter.reprint_licence(till.clerk, licence["id"], "paper jam", "ar")
    assert copy["reprint_count"] == 1 and copy["print_job"]["copy"] == 1
    with pytest.raises(PermissionDenied):  # a clerk cannot authorise a revocation
        counter.revoke_licence(till.clerk, till.clerk_pin, licence["id"], "fraud")
    revoked = counter.revoke_licence(till.supervisor, till.supervisor_pin, licence["id"],
                                     "issued in error")
    assert revoked["revoked_at"]
    assert not counter.verify_licence(licence["signed_payload"]).valid


def test_find_by_national_id_and_void_needs_a_supervisor(counter, office, till, valid_fields,
                                                        valid_nid, db_state):
    counter.sign_in(till.clerk, till.clerk_pin)
    app = counter.submit(till.clerk, RES, valid_fields(national_id=valid_nid(5)), None)
    found = counter.find(valid_nid(5))
    assert [a["number"] for a in found] == [app["number"]]
    with pytest.raises(ValidationError):
        counter.find("  ")
    with pytest.raises(NotFound):
        counter.find("A2026-999999")
    paid = counter.take_payment(till.clerk, app["number"], "cash", 1000, None)
    before = db_state()
    with pytest.raises(PermissionDenied):
        counter.void_payment(till.clerk, till.clerk_pin, paid["receipt_number"], "mistake")
    assert db_state() == before
    voided = counter.void_payment(till.supervisor, till.supervisor_pin,
                                  paid["receipt_number"], "wrong service")
    assert voided["voided_at"]


def test_find_by_the_holders_name_in_any_spelling(counter, office, till, valid_fields,
                                                 db_state):
    counter.sign_in(till.clerk, till.clerk_pin)
    app = counter.submit(till.clerk, RES, valid_fields(full_name="أحمد إبراهيم"), None)
    other = counter.submit(till.clerk, RES, valid_fields(full_name="Ahmad Hasan"), None)
    found = counter.find_by_name("احمد ابراهيم")
    assert [a["number"] for a in found] == [app["number"]]
    assert found[0]["payment"] is None and found[0]["fields"]["full_name"] == "أحمد إبراهيم"
    assert [a["number"] for a in counter.find_by_name("AHMAD")] == [other["number"]]
    before = db_state()
    with pytest.raises(ValidationError) as info:
        counter.find_by_name("ا")
    assert info.value.field == "name"
    with pytest.raises(NotFound):
        counter.find_by_name("زينب")
    assert db_state() == before


def test_decisions_need_a_supervisor(counter, office, till, valid_fields):
    counter.sign_in(till.clerk, till.clerk_pin)
    app = counter.submit(till.clerk, PERMIT, valid_fields(PERMIT), None)
    with pytest.raises(PermissionDenied):
        counter.decide(till.clerk, till.clerk_pin, "approve", app["number"], "ok")
    assert counter.application(app["number"])["state"] == "submitted"
    decided = counter.decide(till.supervisor, till.supervisor_pin, "approve", app["number"],
                             "drawings checked")
    assert decided["state"] == "approved"


def test_shift_open_close_and_z_report(counter, office, till, valid_fields):
    office.users.create("omar", "clerk", "5555")
    counter.sign_in("omar", "5555")
    assert counter.current_shift("omar") is None
    shift = counter.open_shift("omar", 10_000)
    with pytest.raises(InvalidState):
        counter.open_shift("omar", 10_000)
    app = counter.submit("omar", RES, valid_fields(), None)
    counter.take_payment("omar", app["number"], "cash", 1000, None)
    closed = counter.close_shift("omar", 11_500)
    assert closed["expected_cash_minor"] == 11_000
    assert counter.z_report(shift["id"]) == closed
    assert counter.current_shift("omar") is None
    with pytest.raises(ValidationError):
        counter.close_shift("omar", -1)
    assert counter.currency() == "BHD" and shift["clerk"] == "omar"


def test_guessing_the_staff_exit_pin_locks_only_that_kiosk(kiosk, counter, till):
    """A kiosk's wrong staff-exit PINs lock the exit at that kiosk (a refusal with its
    reason); the supervisor still signs in at a counter (issue 18: one PIN path)."""
    for _ in range(5):
        assert kiosk.check_admin_pin("000000") is False
    with pytest.raises(PermissionDenied) as info:
        kiosk.check_admin_pin(till.supervisor_pin)
    assert info.value.details["reason"] == "locked"
    assert counter.sign_in(till.supervisor, till.supervisor_pin)["role"] == "supervisor"
    with pytest.raises(PermissionDenied) as info:  # a name that does not exist: same answer
        counter.sign_in("nobody", "1234")
    assert info.value.details == {"reason": "wrong_pin", "attempts_left": 4}
