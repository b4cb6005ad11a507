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


def test_a_receipt_left_printing_by_a_crash_is_taken_again(office, issued):
    issued()
    receipt = office.store.one("SELECT receipt_number FROM payments")["receipt_number"]
    job = office.printing.enqueue("receipt", receipt)
    office.printing.mark_printing(job["id"])
    assert office.printing.next_job()["id"] == job["id"]  # better twice than never
    assert office.printing.recover() == []


def test_a_licence_left_printing_by_a_crash_is_not_sent_again_but_asked(office, issued):
    lic = issued()
    job = office.printing.enqueue("licence", lic["id"])
    office.printing.mark_printing(job["id"])
    later = office.printing.enqueue("licence", issued()["id"])
    # The worker's next look skips it: it may have come out.
    assert office.printing.next_job()["id"] == later["id"]
    asked = office.printing.recover()
    assert [(j["id"], j["state"], j["licence_number"]) for j in asked] == \
        [(job["id"], "uncertain", lic["number"])]
    assert office.printing.recover(printer="counter-2") == []  # another printer's own
    with pytest.raises(InvalidState):
        office.printing.mark_printing(job["id"])
    with pytest.raises(InvalidState, match="may have come out") as refused:
        office.printing.enqueue("licence", lic["number"])
    assert refused.value.details["reason"] == "print_uncertain"


@pytest.mark.parametrize("came_out, state, prints_again", [
    ("yes", "done", False), ("no", "pending", True), ("unsure", "unknown", False)])
def test_the_answer_decides_and_is_audited_with_who_answered(office, issued, came_out, state,
                                                             prints_again):
    lic = issued()
    job = office.printing.enqueue("licence", lic["id"])
    office.printing.mark_printing(job["id"])
    office.printing.recover()
    with office.acting_as("sara"):
        answered = office.printing.answer(str(job["seq"]), came_out)
    assert answered["state"] == state and "sara" in answered["last_error"]
    assert (answered["printed_at"] is not None) == (came_out == "yes")
    entry = office.store.one("SELECT * FROM audit ORDER BY seq DESC LIMIT 1")
    assert (entry["action"], entry["actor"], entry["entity_id"]) == \
        ("print.answered", "sara", lic["id"])
    assert f'"came_out":"{came_out}"' in entry["data"].replace(" ", "")
    assert office.printing.recover() == []
    next_job = office.printing.next_job()
    assert (next_job is not None and next_job["id"] == job["id"]) == prints_again
    if not prints_again:  # it came out, or may have: another print is a COPY
        with pytest.raises(InvalidState) as refused:
            office.printing.enqueue("licence", lic["id"])
        assert refused.value.details["reason"] == "original_printed"
        copy = office.printing.reprint_licence(lic["id"], "not sure it came out")
        assert copy["print_job"]["copy"] == 1 and copy["reprint_count"] == 1


def test_someone_who_finds_out_may_answer_an_unknown_job(office, issued):
    job = office.printing.enqueue("licence", issued()["id"])
    office.printing.mark_printing(job["id"])
    office.printing.recover()
    office.printing.answer(job["id"], "unsure")
    with pytest.raises(InvalidState):
        office.printing.answer(job["id"], "unsure")  # asked once already
    assert office.printing.answer(job["id"], "no")["state"] == "pending"


def test_bad_answers_change_nothing(office, issued, db_state):
    lic = issued()
    done = office.printing.enqueue("licence", lic["id"])
    office.printing.mark_printing(done["id"])
    office.printing.mark_done(done["id"], 10)
    job = office.printing.enqueue("licence", issued()["id"])
    office.printing.mark_printing(job["id"])
    office.printing.recover()
    before = db_state()
    for args, error in [((job["id"], "maybe"), ValidationError),
                        ((job["id"], None), ValidationError),
                        (("no-such-job", "yes"), NotFound), (("999", "yes"), NotFound),
                        ((done["id"], "no"), InvalidState),  # printed: nothing to answer
                        ((job["id"], "yes", "kiosk-7"), NotFound)]:  # another printer's
        with pytest.raises(error):
            office.printing.answer(*args)
    assert db_state() == before


def test_a_licence_copy_is_only_a_counted_reprint(office, issued, db_state):
    lic = issued()
    before = db_state()
    with pytest.raises(InvalidState) as refused:
        office.printing.enqueue("licence", lic["id"], copy=True)  # uncounted: refused
    assert refused.value.details["reason"] == "reprint_needed"
    assert db_state() == before


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
