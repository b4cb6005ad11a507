"""Least privilege for a kiosk's token (issue 18), over real HTTPS with the token a paired
kiosk holds: a kiosk sees of an application only what the resident in front of it is shown,
prints only what its own current journey produced, never a licence's original but as it
issues it (once), reads no other printer's jobs, no other receipt and no Z report. Each
attack is refused with its reason and changes nothing; a resident's journeys still work."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from kivy_env import kivy_ready

from core import codes
from core.applications import RESIDENT_VIEW
from core.errors import InvalidState, PermissionDenied
from core.faces import operations_of
from core.faces.kiosk import JOURNEY_MINUTES, LOOKUPS_PER_MINUTE, KioskFace
from core.faces.printing import PrintJobs
from kiosk.flow import KioskFlow
from ui.i18n import Translations

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "kiosk"))
from test_flow import FakeDevices, fill, start_apply

RES = "residence-certificate"        # issued on the spot once paid
PERMIT = "building-permit-small"     # reviewed first: a card payment prints a receipt
NAME = "Fatima Ali Hasan"            # tests/conftest.py's holder
PHONE = "33334444"


class Kiosk:
    """Raw requests with one kiosk's token, as anything holding it could send them."""

    def __init__(self, hub, name: str):
        self.hub, self.name = hub, name
        self.http = hub.client(hub.token("kiosk", name))

    def post(self, op: str, **body):
        return self.http.post(f"{self.hub.url}/api/v1/{op}", json=body, timeout=10)

    def ok(self, op: str, **body) -> dict:
        reply = self.post(op, **body)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def refused(self, op: str, status: int, why: str | None = None, **body) -> dict:
        """The request is refused with this status and (for a permission) this reason."""
        reply = self.post(op, **body)
        assert reply.status_code == status, (op, body, reply.text)
        if why is not None:
            assert reply.json()["reason"] == why, reply.text
        return reply.json()

    def pay_by_card(self, application: str, trace: int) -> dict:
        return self.ok("kiosk/record-card-payment", application=application,
                       terminal_ref=f"T0000001-{trace:06d}-AB12CD")


def count(office, table: str, where: str = "1=1") -> int:
    return office.store.one(f"SELECT COUNT(*) AS n FROM {table} WHERE {where}")["n"]


def personal(fields: dict) -> list[str]:
    """The resident's values a kiosk must never be sent back."""
    return [fields["full_name"], fields["national_id"], fields["phone"]] + \
        [v for k, v in fields.items() if k in ("block", "road", "building")]


@pytest.fixture
def kiosks(hub):
    return Kiosk(hub, "kiosk-1"), Kiosk(hub, "kiosk-2")


# --- what a kiosk sees of an application -----------------------------------------------------
def test_a_kiosk_sees_only_what_the_resident_is_shown(hub, kiosks, office, till, valid_fields,
                                                      tmp_path):
    kiosk, _ = kiosks
    fields = valid_fields()
    app = office.applications.submit(RES, fields)  # another resident's, at a counter
    slip = codes.application_code(office.settings.office.code, app["number"])
    for op, body in (("kiosk/application", {"reference": app["number"]}),
                     ("kiosk/application", {"reference": slip}),
                     ("kiosk/find-application", {"typed": "1"}),     # one digit
                     ("kiosk/find-application", {"typed": "000001"}),
                     ("kiosk/find-application", {"typed": app["number"]})):
        reply = kiosk.post(op, **body)
        assert reply.status_code == 200, (op, body)
        assert sorted(reply.json()) == sorted(RESIDENT_VIEW)
        assert reply.json()["number"] == app["number"] and reply.json()["fee_minor"] == 1000
        for value in personal(fields):
            assert value not in reply.text, (op, body, value)
    # What the kiosk submits comes back the same way: it has the values it sent.
    mine = kiosk.ok("kiosk/submit", service=RES, fields=valid_fields(phone="36667777"))
    assert sorted(mine) == sorted(RESIDENT_VIEW) and "36667777" not in str(mine)
    # A rejection's reason is what the status screen says; another decision's is not shown.
    permit = office.applications.submit(PERMIT, valid_fields(PERMIT))
    office.applications.approve(permit["id"], reason="checked by Eng. Salman at home")
    assert kiosk.ok("kiosk/application", reference=permit["number"])["reason"] is None
    refused = office.applications.submit(PERMIT, valid_fields(PERMIT))
    office.applications.reject(refused["id"], "the drawings are not stamped")
    assert kiosk.ok("kiosk/application", reference=refused["number"])["reason"] == \
        "the drawings are not stamped"
    # The field office's kiosk (in-process) is held to the same view; a clerk sees it all.
    assert sorted(KioskFace(office).application(app["number"])) == sorted(RESIDENT_VIEW)
    counter = hub.counter(tmp_path, "3")
    counter.sign_in(till.clerk, till.clerk_pin)
    assert counter.application(app["number"])["fields"]["national_id"] == \
        fields["national_id"]


def test_typed_digits_name_one_application_and_a_walk_is_cut_short(hub, kiosks, office, clock,
                                                                   submit_valid):
    start = clock.now()
    first = submit_valid()
    clock.set("2027-01-10T08:00:00+00:00")
    next_year = submit_valid()  # its number ends in 000001 too
    clock.set(start)
    kiosk, other = kiosks
    assert first["number"][-7:] == next_year["number"][-7:] == "-000001"
    # Digits that name two applications name none: the whole number or the slip does.
    assert kiosk.refused("kiosk/find-application", 404, typed="1")["error"] == "not_found"
    assert kiosk.ok("kiosk/find-application", typed=first["number"])["id"] == first["id"]
    # Walking the numbers: LOOKUPS_PER_MINUTE a minute from one kiosk, then 429 ...
    for n in range(2, LOOKUPS_PER_MINUTE):
        kiosk.refused("kiosk/find-application", 404, typed=str(n))
    walked = kiosk.refused("kiosk/find-application", 429, typed=str(LOOKUPS_PER_MINUTE))
    assert walked["error"] == "too_many_requests" and walked["retry_after_s"] >= 1
    # ... for that kiosk only: the resident at the other one follows theirs.
    assert other.ok("kiosk/find-application", typed=first["number"])["id"] == first["id"]


# --- what a kiosk prints --------------------------------------------------------------------
def test_a_kiosk_prints_only_the_tickets_and_slips_of_its_own_journey(hub, kiosks, office,
                                                                      clock, valid_fields):
    kiosk, other = kiosks
    ticket = kiosk.ok("kiosk/take-ticket", service=RES)
    theirs = office.queue.take_ticket(RES)  # taken elsewhere
    app = kiosk.ok("kiosk/submit", service=RES, fields=valid_fields())
    elsewhere = office.applications.submit(RES, valid_fields())
    other.ok("kiosk/application", reference=app["number"])  # looked up there: not its slip
    kiosk.ok("kiosk/application", reference=elsewhere["number"])  # a slip with a name on it
    jobs = count(office, "print_jobs")
    for who, kind, ref in ((other, "ticket", ticket["id"]), (other, "ticket", ticket["number"]),
                           (kiosk, "ticket", theirs["id"]), (other, "application", app["id"]),
                           (kiosk, "application", elsewhere["number"]),
                           (kiosk, "ticket", "R999"), (kiosk, "application", "A2026-999999"),
                           (kiosk, "receipt", "no-such-receipt")):
        # An unknown reference gets the same answer: no way to learn what exists.
        who.refused("kiosk/enqueue-print", 403, "not_your_journey", kind=kind, ref=ref,
                    lang="ar")
    assert count(office, "print_jobs") == jobs
    for kind, ref in (("ticket", ticket["number"]), ("application", app["number"])):
        assert kiosk.ok("kiosk/enqueue-print", kind=kind, ref=ref, lang="en")["printer"] == \
            "kiosk-1"
    # The journey is over JOURNEY_MINUTES later: nothing of it is the kiosk's to print.
    clock.advance(minutes=JOURNEY_MINUTES + 1)
    for kind, ref in (("ticket", ticket["id"]), ("application", app["id"])):
        kiosk.refused("kiosk/enqueue-print", 403, "not_your_journey", kind=kind, ref=ref,
                      lang="ar")
    assert count(office, "print_jobs") == jobs + 2


def test_a_kiosk_prints_no_licence_z_report_nor_anyone_elses_receipt(hub, kiosks, office, till,
                                                                     issued):
    kiosk, _ = kiosks
    licence = issued()  # paid in cash at a counter, then issued there
    app = office.applications.get(licence["application_id"])
    kiosk.ok("kiosk/application", reference=app["number"])
    receipt = office.payments.live_for(app["id"])
    jobs = count(office, "print_jobs")
    for kind, ref in (("licence", licence["id"]), ("licence", licence["number"]),
                      ("z_report", till.shift["id"]), ("test", "page")):
        kiosk.refused("kiosk/enqueue-print", 403, "not_for_kiosk", kind=kind, ref=ref,
                      lang="ar")
    for ref in (receipt["id"], receipt["receipt_number"]):
        kiosk.refused("kiosk/enqueue-print", 403, "not_your_journey", kind="receipt", ref=ref,
                      lang="ar")
    # The counter's own reads stay closed to a kiosk's token.
    for op, body in (("counter/z-report", {"shift": till.shift["id"]}),
                     ("counter/application", {"number": app["number"]}),
                     ("counter/enqueue-print", {"kind": "licence", "ref": licence["id"],
                                                "lang": "ar"})):
        kiosk.refused(op, 403, "role", **body)
    assert count(office, "print_jobs") == jobs and licence["reprint_count"] == 0


def test_a_kiosk_issues_a_licence_only_for_a_payment_made_there(hub, kiosks, office, till,
                                                                clock, valid_fields):
    kiosk, other = kiosks
    # Paid in cash at a counter (approved by the payment), not yet issued.
    at_counter = office.applications.submit(RES, valid_fields())
    office.payments.take(at_counter["id"], "cash", till.clerk, tendered_minor=1000)
    kiosk.ok("kiosk/application", reference=at_counter["number"])
    for ref in (at_counter["number"], "A2026-999999"):
        kiosk.refused("kiosk/issue-licence", 403, "not_your_journey", application=ref,
                      lang="ar")
    assert count(office, "licences") == 0
    # The resident's own journey: submitted and paid by card at this kiosk. The other
    # kiosk looked it up too, before the payment and after it: the payment names the kiosk
    # that recorded it (its cashier), and that is not the other.
    app = kiosk.ok("kiosk/submit", service=RES, fields=valid_fields())
    other.ok("kiosk/application", reference=app["number"])
    clock.advance(seconds=5)
    assert kiosk.pay_by_card(app["id"], 101)["clerk"] == "kiosk:kiosk-1"
    other.refused("kiosk/issue-licence", 403, "not_your_journey", application=app["id"],
                  lang="ar")
    clock.advance(seconds=5)
    other.ok("kiosk/application", reference=app["number"])
    other.refused("kiosk/issue-licence", 403, "not_your_journey", application=app["id"],
                  lang="ar")
    assert count(office, "licences") == 0
    licence = kiosk.ok("kiosk/issue-licence", application=app["id"], lang="ar")
    assert licence["print_job"]["printer"] == "kiosk-1" and licence["print_job"]["copy"] == 0
    assert kiosk.refused("kiosk/issue-licence", 409, application=app["id"],
                         lang="ar")["licence"] == licence["number"]  # issued once
    kiosk.refused("kiosk/enqueue-print", 403, "not_for_kiosk", kind="licence",
                  ref=licence["id"], lang="ar")
    assert count(office, "licences") == 1
    assert count(office, "print_jobs", "kind = 'licence'") == 1
    # A resident back with the slip: followed here, paid here, issued here.
    slip = office.applications.submit(RES, valid_fields())
    kiosk.ok("kiosk/find-application", typed=slip["number"][-6:])
    kiosk.pay_by_card(slip["id"], 102)
    assert kiosk.ok("kiosk/issue-licence", application=slip["id"], lang="en")["number"]
    # A service reviewed first: the receipt of the payment made here, at this kiosk only.
    permit = kiosk.ok("kiosk/submit", service=PERMIT, fields=valid_fields(PERMIT))
    other.ok("kiosk/find-application", typed=permit["number"])  # before the payment
    clock.advance(seconds=5)
    payment = kiosk.pay_by_card(permit["id"], 103)
    other.refused("kiosk/enqueue-print", 403, "not_your_journey", kind="receipt",
                  ref=payment["id"], lang="ar")
    job = kiosk.ok("kiosk/enqueue-print", kind="receipt", ref=payment["receipt_number"],
                   lang="ar")
    assert job["printer"] == "kiosk-1" and job["kind"] == "receipt"


def test_a_kiosk_reads_only_its_own_print_jobs_and_an_original_prints_once(hub, kiosks, office,
                                                                           till, valid_fields):
    kiosk, _ = kiosks
    z_report = office.printing.enqueue("z_report", till.shift["id"], printer="3")  # a counter's
    for op, extra in (("print/get", {}), ("print/document", {}), ("print/mark-printing", {}),
                      ("print/mark-done", {"size": 10}), ("print/mark-retry", {"error": "x"}),
                      ("print/mark-failed", {"error": "x"}), ("kiosk/abandon-print",
                                                              {"reason": "x"})):
        kiosk.refused(op, 403, "not_yours", job_id=z_report["id"], **extra)
    assert office.printing.get(z_report["id"])["state"] == "pending"
    # Its own licence, printed: it does not print again as an original.
    app = kiosk.ok("kiosk/submit", service=RES, fields=valid_fields())
    kiosk.pay_by_card(app["id"], 201)
    licence = kiosk.ok("kiosk/issue-licence", application=app["id"], lang="ar")
    job = licence["print_job"]
    assert kiosk.ok("print/document", job_id=job["id"])["number"] == licence["number"]
    kiosk.ok("print/mark-printing", job_id=job["id"])
    kiosk.ok("print/mark-done", job_id=job["id"], size=2048)
    for op in ("print/mark-retry", "print/mark-failed"):
        kiosk.refused(op, 409, "printed", job_id=job["id"], error="print it again please")
    assert kiosk.refused("print/mark-printing", 409, job_id=job["id"])["error"] == \
        "invalid_state"
    assert kiosk.ok("kiosk/abandon-print", job_id=job["id"], reason="x")["state"] == "done"
    assert kiosk.http.get(f"{hub.url}/api/v1/print/next-job", timeout=10).json() is None
    assert office.printing.get(job["id"])["state"] == "done"
    assert count(office, "print_jobs", "kind = 'licence'") == 1


# --- declared with each operation ------------------------------------------------------------
def test_each_routes_scope_is_declared_and_published(hub):
    paths = hub.http.get(f"{hub.url}/openapi.json", timeout=10).json()["paths"]

    def declared(path: str) -> dict:
        return next(iter(paths[path].values()))["x-nafitha"]

    for op in ("application", "find-application"):
        meta = declared(f"/api/v1/kiosk/{op}")
        assert (meta["roles"], meta["who"], meta["retry"]) == (["kiosk"], "device", "safe")
        assert meta["per_minute"] == LOOKUPS_PER_MINUTE and meta["scope"] == "resident_view"
    assert declared("/api/v1/kiosk/submit")["scope"] == "resident_view"
    for op in ("enqueue-print", "issue-licence"):
        assert declared(f"/api/v1/kiosk/{op}")["scope"] == "own_journey"
    assert declared("/api/v1/kiosk/abandon-print")["scope"] == "own_printer"
    for op in ("next-job", "get", "document", "mark-printing", "mark-done", "mark-retry",
               "mark-failed"):
        assert declared(f"/api/v1/print/{op}")["scope"] == "own_printer"
        assert declared(f"/api/v1/print/{op}")["roles"] == ["kiosk", "counter"]
    # Every kiosk answer about an application is the resident's view; a clerk reads it whole
    # only when signed in at a counter.
    kiosk_ops = operations_of(KioskFace)
    assert {n for n, op in kiosk_ops.items() if op.scope == "resident_view"} == \
        {"submit", "application", "find_application"}
    assert {n for n, op in kiosk_ops.items() if op.scope == "own_journey"} == \
        {"enqueue_print", "issue_licence", "add_document_page"}
    assert declared("/api/v1/counter/application")["roles"] == ["counter"]
    assert declared("/api/v1/counter/application")["who"] == "session"
    assert "scope" not in declared("/api/v1/counter/application")
    assert operations_of(PrintJobs)["document"].scope == "own_printer"


# --- the resident's journeys still work -------------------------------------------------------
class HubPrinter(FakeDevices):
    """The flow's fake terminal, and a printer that queues each document on the hub as the
    kiosk's own does (KioskDevices.print_document): the hub's checks are on the way."""

    def __init__(self, backend):
        super().__init__()
        self.backend = backend

    def print_document(self, kind, ref, lang):
        return self.print_job(self.backend.enqueue_print(kind, ref, lang))


def test_a_residents_journeys_still_work_through_the_hub(hub, office, tmp_path, valid_fields):
    client = hub.kiosk(tmp_path, "kiosk-1")
    flow = KioskFlow(client, HubPrinter(client), "en")
    printed = flow.devices.printed
    # A ticket.
    flow.start("ticket")
    flow.choose_service(RES)
    flow.take_ticket(None)
    assert flow.screen == "ticket" and flow.visit.print_ok and printed[-1][0] == "ticket"
    # Apply and pay at the counter: the slip.
    flow.home()
    start_apply(flow)
    fill(flow, valid_fields())
    flow.submit(pay_now=False)
    assert flow.visit.print_ok and printed[-1][0] == "application"
    # Apply and pay by card: the certificate.
    flow.home()
    start_apply(flow)
    fill(flow, valid_fields())
    flow.submit(pay_now=True)
    flow.pay()
    # the certificate, then the card payment's receipt (the hub lets the kiosk print both)
    assert flow.screen == "result" and flow.visit.licence and flow.visit.print_ok
    assert [kind for kind, *_ in printed[-2:]] == ["licence", "receipt"]
    # Follow one by its last digits, pay it here: the certificate.
    theirs = office.applications.submit(RES, valid_fields())
    flow.home()
    flow.start("status")
    flow.type_number(str(int(theirs["number"][-6:])))
    flow.find()
    assert flow.screen == "status_result" and sorted(flow.visit.found) == sorted(RESIDENT_VIEW)
    flow.pay_found()
    flow.pay()
    assert flow.visit.licence and printed[-2] == ("licence", flow.visit.licence["id"], "en")
    assert printed[-1][0] == "receipt"
    # Follow one by its slip, the card declined, "pay at the counter": the slip is in the
    # resident's hand, nothing prints and nothing is wrong.
    unpaid = office.applications.submit(RES, valid_fields())
    flow.home()
    flow.start("status")
    flow.find(codes.application_code(office.settings.office.code, unpaid["number"]))
    flow.pay_found()
    flow.devices.outcomes.append("declined")
    flow.pay()
    assert flow.visit.payment_state == "declined"
    before = len(printed)
    flow.finish_unpaid()
    assert flow.screen == "result" and flow.visit.print_ok is None and flow.visit.fault is None
    assert len(printed) == before
    kivy_ready()
    from kiosk.screens.result import ResultViewModel
    result = ResultViewModel()
    result.refresh(flow, Translations.load("kiosk", "latin"))
    assert result.texts["printed"] == "" and not result.flags["printed"]  # no printer fault
    # the ticket, the slip, 2 certificates and their 2 receipts
    assert count(office, "licences") == 2 and count(office, "print_jobs") == 6


def test_the_field_offices_kiosk_keeps_the_same_rules(office, valid_fields, till):
    """In-process (one box), the kiosk's face checks the same journey."""
    kiosk = KioskFace(office)
    app = kiosk.submit(RES, valid_fields())
    assert sorted(app) == sorted(RESIDENT_VIEW)
    assert kiosk.enqueue_print("application", app["id"], "ar")["printer"] == "main"
    counters = office.applications.submit(RES, valid_fields())
    with pytest.raises(PermissionDenied) as info:
        kiosk.enqueue_print("application", counters["id"], "ar")
    assert info.value.details["reason"] == "not_your_journey"
    with pytest.raises(PermissionDenied) as info:
        kiosk.enqueue_print("z_report", till.shift["id"], "ar")
    assert info.value.details["reason"] == "not_for_kiosk"
    kiosk.record_card_payment(app["id"], "T0000001-000301-AB12CD")
    kiosk.issue_licence(app["id"], "ar")
    with pytest.raises(InvalidState):
        kiosk.issue_licence(app["id"], "ar")
