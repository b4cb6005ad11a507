"""The durable print queue: jobs wait in the store until the printer has taken them."""
import pytest

from core.errors import InvalidState, NotFound, ValidationError


def test_jobs_resolve_the_numbers_people_read(office, issued, till):
    ticket = office.queue.take_ticket("R")
    lic = issued()
    receipt = office.store.one("SELECT receipt_number FROM payments")["receipt_number"]
    jobs = [office.printing.enqueue("ticket", ticket["number"]),
            office.printing.enqueue("receipt", receipt),
            office.printing.enqueue("licence", lic["number"]),
            office.printing.enqueue("z_report", str(till.shift["number"]))]
    assert [j["ref_id"] for j in jobs] == [ticket["id"], office.payments.get(receipt)["id"],
                                           lic["id"], till.shift["id"]]
    assert [j["seq"] for j in jobs] == [1, 2, 3, 4]
    assert all(j["state"] == "pending" and j["lang"] == "ar" for j in jobs)


def test_jobs_print_in_order_and_tickets_expire(office, clock, issued):
    ticket = office.queue.take_ticket("R")
    t_job = office.printing.enqueue("ticket", ticket["id"], "en")
    l_job = office.printing.enqueue("licence", issued()["id"])
    assert office.printing.next_job()["id"] == t_job["id"]
    clock.advance(minutes=office.settings.printer.ticket_expiry_minutes + 1)
    assert office.printing.next_job()["id"] == l_job["id"]  # the ticket expired
    assert office.printing.get(t_job["id"])["state"] == "expired"
    clock.advance(days=30)
    assert office.printing.next_job()["id"] == l_job["id"]  # a licence never expires


def test_a_failed_send_goes_back_to_pending_and_keeps_its_error(office, issued):
    job = office.printing.enqueue("licence", issued()["id"])
    office.printing.mark_printing(job["id"])
    office.printing.mark_retry(job["id"], "printer offline")
    again = office.printing.next_job()
    assert again["id"] == job["id"] and again["state"] == "pending"
    assert again["attempts"] == 1 and again["last_error"] == "printer offline"
    office.printing.mark_printing(job["id"])
    office.printing.mark_done(job["id"], 1234)
    done = office.printing.get(job["id"])
    assert (done["state"], done["attempts"], done["bytes"]) == ("done", 2, 1234)
    assert office.printing.next_job() is None
    with pytest.raises(InvalidState):
        office.printing.mark_printing(job["id"])


def test_a_job_left_printing_by_a_crash_is_taken_again(office, issued):
    job = office.printing.enqueue("licence", issued()["id"])
    office.printing.mark_printing(job["id"])
    assert office.printing.next_job()["id"] == job["id"]


def test_reprint_is_a_counted_audited_copy_with_the_same_number(office, issued):
    lic = issued()
    audit_before = office.verify_audit()["entries"]
    copy = office.printing.reprint_licence(lic["number"], "paper jam")
    job = copy["print_job"]
    assert job["copy"] == 1 and job["ref_id"] == lic["id"]
    assert copy["reprint_count"] == office.licences.get(lic["id"])["reprint_count"] == 1
    assert office.licences.get(lic["id"])["number"] == lic["number"]
    assert office.verify_audit()["entries"] == audit_before + 1
    event = office.store.one("SELECT type FROM outbox ORDER BY seq DESC LIMIT 1")
    assert event["type"] == "licence.reprinted"


def test_issue_and_print_are_one_transaction(office, submit_valid, till, db_state):
    app = submit_valid()
    office.payments.take(app["number"], "cash", till.clerk, tendered_minor=app["fee_minor"])
    lic = office.printing.issue_licence(app["number"], "en", printer="counter-2")
    job = lic["print_job"]
    assert (job["kind"], job["ref_id"], job["lang"], job["printer"], job["copy"]) == \
        ("licence", lic["id"], "en", "counter-2", 0)
    assert office.applications.get(app["number"])["state"] == "issued"
    # A licence that cannot be issued queues nothing either.
    before = db_state()
    with pytest.raises(InvalidState):
        office.printing.issue_licence(app["number"], "en")
    assert db_state() == before


def test_a_print_job_that_cannot_be_queued_issues_no_licence(office, submit_valid, till,
                                                               db_state):
    app = submit_valid()
    office.payments.take(app["number"], "cash", till.clerk, tendered_minor=app["fee_minor"])
    before = db_state()
    with pytest.raises(ValidationError):
        office.printing.issue_licence(app["number"], "fr")  # no such paper language
    assert db_state() == before


def test_reprint_without_a_reason_changes_nothing(office, issued, db_state):
    lic = issued()
    before = db_state()
    with pytest.raises(ValidationError):
        office.printing.reprint_licence(lic["id"], "  ")
    assert db_state() == before


@pytest.mark.parametrize("kind, ref, error", [
    ("fax", "x", ValidationError), ("ticket", "R999", NotFound),
    ("licence", "MUH-2026-D01-999999", NotFound), ("receipt", "nope", NotFound),
])
def test_bad_jobs_are_refused_and_nothing_is_queued(office, kind, ref, error):
    with pytest.raises(error):
        office.printing.enqueue(kind, ref)
    assert office.printing.jobs() == []


def test_issue_and_queue_in_one_transaction(office, submit_valid, till, monkeypatch):
    """If queueing the print fails, the licence is not issued either (nothing half-done)."""
    app = submit_valid("residence-certificate")
    office.payments.take(app["id"], "cash", till.clerk, tendered_minor=1000)
    with pytest.raises(ValidationError):
        with office.store.atomic():
            lic = office.licences.issue(app["id"])
            office.printing.enqueue("licence", lic["id"], lang="fr")
    assert office.store.one("SELECT COUNT(*) AS n FROM licences")["n"] == 0
    with office.store.atomic():
        lic = office.licences.issue(app["id"])
        office.printing.enqueue("licence", lic["id"])
    assert office.printing.next_job()["ref_id"] == lic["id"]


def test_a_licence_has_one_original_on_paper(office, issued, db_state):
    """Asked again while the original waits: the same job. Once it has printed: refused
    (another print is a counted COPY). A failed original may be queued again."""
    lic = issued()
    first = office.printing.enqueue("licence", lic["number"])
    assert office.printing.enqueue("licence", lic["id"])["id"] == first["id"]
    office.printing.mark_printing(first["id"])
    assert office.printing.enqueue("licence", lic["id"])["id"] == first["id"]
    office.printing.mark_done(first["id"], 100)
    before = db_state()
    with pytest.raises(InvalidState, match="was printed as the original") as refused:
        office.printing.enqueue("licence", lic["number"])
    assert refused.value.details["reason"] == "original_printed"
    assert db_state() == before
    copy = office.printing.reprint_licence(lic["number"], "paper jam")["print_job"]
    assert copy["copy"] == 1
    other = issued()
    failed = office.printing.enqueue("licence", other["id"])
    office.printing.mark_printing(failed["id"])
    office.printing.mark_failed(failed["id"], "cannot draw")
    assert office.printing.enqueue("licence", other["id"])["id"] != failed["id"]
