"""The outbox: every operation writes exactly one outbox event and one audit entry, in the
same transaction as its domain rows; the sequence has no gaps, even around failed
(rolled-back) operations."""
import json
import re
from pathlib import Path

import pytest

from core import outbox
from core.errors import InvalidState, NafithaError, PermissionDenied, ValidationError

EVENTS_DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def counts(office):
    conn = office.store.conn
    return (conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0],
            conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])


class Recorder:
    """Runs operations and checks each wrote one audit entry and one matching event."""

    def __init__(self, office):
        self.office = office
        self.types = []

    def one(self, event_type, operation, *args, **kwargs):
        audit_before, outbox_before = counts(self.office)
        result = operation(*args, **kwargs)
        assert counts(self.office) == (audit_before + 1, outbox_before + 1), event_type
        self.check_last(event_type)
        self.types.append(event_type)
        return result

    def several(self, event_types, operation, *args, **kwargs):
        """An operation that writes one event per step, in this order (an application
        submitted and its bill issued)."""
        audit_before, outbox_before = counts(self.office)
        result = operation(*args, **kwargs)
        n = len(event_types)
        assert counts(self.office) == (audit_before + n, outbox_before + n), event_types
        rows = self.office.store.all("SELECT type FROM outbox ORDER BY seq DESC LIMIT ?", (n,))
        assert [r["type"] for r in reversed(rows)] == list(event_types)
        self.check_last(event_types[-1])
        self.types.extend(event_types)
        return result

    def refused(self, error, operation, *args, **kwargs):
        before = counts(self.office)
        with pytest.raises(error):
            operation(*args, **kwargs)
        assert counts(self.office) == before

    def check_last(self, event_type):
        store = self.office.store
        row = store.one("SELECT * FROM outbox ORDER BY seq DESC LIMIT 1")
        audit = store.one("SELECT * FROM audit ORDER BY seq DESC LIMIT 1")
        event = json.loads(row["body"])
        assert event["type"] == row["type"] == audit["action"] == event_type
        assert (event["id"], event["seq"], event["at"]) == (row["id"], row["seq"], row["at"])
        assert (event["audit_seq"], event["audit_hash"]) == (audit["seq"], audit["hash"])
        assert (event["device"], event["office"]) == ("D01", "MUH")
        assert event["actor"] == audit["actor"]
        assert json.loads(audit["data"]) == event["data"]
        assert row["entity_id"] == audit["entity_id"]
        assert row["sent_at"] is None


def test_every_operation_writes_one_event_and_one_audit_entry(office, valid_fields,
                                                              submit_valid, clock, valid_nid):
    rec = Recorder(office)
    q, apps, pay, lic, users = (office.queue, office.applications, office.payments,
                                office.licences, office.users)
    rec.one("user.created", users.create, "sara", "clerk", "1234")
    rec.one("user.created", users.create, "huda", "supervisor", "987654")
    rec.one("shift.opened", pay.open_shift, "sara", 10_000)

    t1 = rec.one("ticket.taken", q.take_ticket, "R")
    t2 = rec.one("ticket.taken", q.take_ticket, "R", "elderly")
    t3 = rec.one("ticket.taken", q.take_ticket, "B")
    t4 = rec.one("ticket.taken", q.take_ticket, "E")
    assert rec.one("ticket.called", q.call_next, "1", ["R"])["id"] == t2["id"]
    rec.one("ticket.recalled", q.recall, t2["id"])
    rec.one("ticket.serving", q.start_serving, t2["id"])
    rec.one("ticket.parked", q.park, t2["id"])
    rec.refused(InvalidState, q.park, t2["id"])
    rec.one("ticket.resumed", q.resume, t2["id"], "3")
    rec.refused(InvalidState, q.resume, t2["id"])
    rec.one("ticket.transferred", q.transfer, t2["id"], "A")
    rec.one("ticket.called", q.call_next, "2", ["A"])
    rec.one("ticket.finished", q.finish, t2["id"])
    rec.one("ticket.called", q.call_next, "1", ["R"])
    rec.one("ticket.no_show", q.no_show, t1["id"])
    rec.one("ticket.cancelled", q.cancel, t3["id"])
    rec.one("ticket.postponed", q.postpone, t4["id"], 3)  # "more time" from a phone, once
    rec.refused(InvalidState, q.postpone, t4["id"], 3)
    rec.refused(InvalidState, q.finish, t4["id"])

    draft = rec.one("application.drafted", apps.save_draft, "R", {"full_name": "Ali"})
    submitted = ("application.submitted", "bill.issued")  # a fee due: its bill (core/bills)
    rec.several(submitted, apps.submit_draft, draft["id"], valid_fields("R", full_name=None))
    a_review = rec.several(submitted, apps.submit, "B", valid_fields("B"))
    a_reject = submit_valid("E")
    a_withdraw = submit_valid("W")
    docs, jpeg = office.attachments, b"\xff\xd8\xff\xe0" + bytes(200)
    rec.one("application.document_added", docs.add_page, a_review["id"], "title_deed", jpeg,
            "image/jpeg", "camera", "sara")
    rec.refused(ValidationError, docs.add_page, a_review["id"], "passport", jpeg,
                "image/jpeg", "camera", "sara")
    rec.one("application.document_removed", docs.remove_page, a_review["id"], "title_deed",
            1, "sara")
    rec.one("application.approved", apps.approve, a_review["id"])
    rec.several(("application.rejected", "bill.cancelled"), apps.reject, a_reject["id"],
                "incomplete plan")
    rec.several(("application.withdrawn", "bill.cancelled"), apps.withdraw, a_withdraw["id"])
    a_network = submit_valid("R")
    bill = office.bills.for_application(a_network["id"])
    rec.refused(ValidationError, office.bills.apply_payment, {"number": bill["number"]})
    rec.one("bill.paid", office.bills.apply_payment, {
        "number": bill["number"], "application_id": a_network["id"], "transaction_id": "TX1",
        "network": "sadad", "amount_minor": bill["amount_minor"],
        "currency": bill["currency"], "paid_at": "2026-03-01T10:00:00Z"})

    p1 = rec.one("payment.taken", pay.take, draft["id"], "cash", "sara", tendered_minor=1000)
    rec.one("payment.voided", pay.void, p1["id"], "huda", "987654", "wrong receipt")
    rec.one("payment.taken", pay.take, draft["id"], "card", "sara", reference="T")
    rec.one("payment.taken", pay.take, a_review["id"], "online", "sara", reference="G")
    licence = rec.one("licence.issued", lic.issue, draft["id"])
    rec.one("licence.reprinted", lic.record_reprint, licence["id"], "jam")
    rec.one("licence.revoked", lic.revoke, licence["id"], "wrong holder")
    job = office.printing.enqueue("licence", licence["id"])
    office.printing.mark_printing(job["id"])
    assert office.printing.recover()[0]["id"] == job["id"]  # the process died mid-job
    rec.refused(ValidationError, office.printing.answer, job["id"], "maybe")
    rec.one("print.answered", office.printing.answer, job["id"], "no")
    rec.refused(InvalidState, office.printing.answer, job["id"], "yes")  # nothing to answer
    z = rec.one("shift.closed", pay.close_shift, "sara", 10_000)
    rec.one("shift.reconciled", pay.reconcile_cards, z["shift_id"],
            {"terminal_id": "T0000001", "entries": []}, "huda")

    for _ in range(4):
        audit_before, outbox_before = counts(office)
        with pytest.raises(PermissionDenied):
            users.authenticate("huda", "0000")
        assert counts(office) == (audit_before + 1, outbox_before + 1)
        rec.check_last("user.pin_failed")
    rec.types.append("user.pin_failed")
    with pytest.raises(PermissionDenied):
        rec.one("user.locked", users.authenticate, "huda", "0000")
    rec.check_last("user.locked")
    rec.types.append("user.locked")
    clock.advance(minutes=6)
    rec.one("user.unlocked", users.authenticate, "huda", "987654")
    # a successful login with nothing to reset is not an event
    before = counts(office)
    assert users.authenticate("huda", "987654") == {"username": "huda", "role": "supervisor"}
    assert counts(office) == before
    # An operator disables a leaver, lets them back and gives a new PIN (core/users.py).
    rec.one("user.disabled", users.disable, "sara")
    rec.refused(InvalidState, users.disable, "sara")
    rec.one("user.enabled", users.enable, "sara")
    rec.one("user.pin_reset", users.reset_pin, "sara", "1234")

    # A hub pairs and revokes devices.
    from core.pairing import Devices
    devices = Devices(office)
    code = devices.create_pairing("kiosk", "kiosk-1")["code"]
    _, token = rec.one("device.paired", devices.redeem, code)
    rec.one("device.token_renewed", devices.renew, token)
    rec.one("device.revoked", devices.revoke, "kiosk-1")
    # Central refused an event: the operator retries it, then a supervisor voids it.
    refused_id = office.store.one("SELECT id FROM outbox ORDER BY seq LIMIT 1")["id"]
    outbox.hold(office.store, [{"id": refused_id, "code": "foreign_object", "reason": "x"}],
                office.store.now())
    rec.one("outbox.retried", office.retry_held_event, refused_id, "sara")
    outbox.hold(office.store, [{"id": refused_id, "code": "foreign_object", "reason": "x"}],
                office.store.now())
    rec.refused(PermissionDenied, office.void_held_event, refused_id, "sara", "1234", "x")
    rec.one("outbox.voided", office.void_held_event, refused_id, "huda", "987654", "test")
    rec.one("queue.bulk_cancelled", office.cancel_tickets_taken_by, "kiosk-9", "huda",
            "987654", "a script took the numbers")
    with office.acting_as("sara"):  # a counter opens and goes on a break
        rec.one("counter.state_changed", office.counter_states.set, "9", "open")
        rec.one("counter.state_changed", office.counter_states.set, "9", "break", "prayer")
        rec.refused(ValidationError, office.counter_states.set, "9", "break", "nap")
    # A resident rates a served visit on the counter's screen, once (core/ratings.py).
    office.queue.take_ticket("R")
    served = office.queue.call_next("8")
    office.queue.finish(served["id"])
    rec.refused(ValidationError, office.ratings.rate, served["id"], 6)
    rec.one("ticket.rated", office.ratings.rate, served["id"], 4)
    rec.refused(InvalidState, office.ratings.rate, served["id"], 5)
    # A resident agrees to messages on a phone, follows a ticket, then withdraws
    # (core/messages.py); a number in a wrong format changes nothing.
    office.settings.messages.gateway = "simulated"
    rec.refused(ValidationError, office.messages.give_consent, "12", "kiosk")
    rec.one("message.consent_given", office.messages.give_consent, "36001234", "kiosk")
    rec.one("message.subscribed", office.messages.subscribe_ticket,
            office.queue.take_ticket("R")["id"], "36001234", "ar")
    rec.one("message.consent_withdrawn", office.messages.withdraw_consent, "36001234")
    # Appointments booked at central (core/appointments.py): one missed, one checked in
    # (its ticket and the check-in in one transaction), a wrong national ID refused.
    from datetime import timedelta

    from core import booking_codes, reference
    from core.clock import iso
    now = clock.now()
    for n, (start, nid) in enumerate(((now - timedelta(minutes=20), "missed"),
                                      (now + timedelta(minutes=10), valid_nid(7)))):
        ref = booking_codes.make_reference(lambda k, n=n: bytes([n + 1] * k))
        body = {"reference": ref, "office": "MUH", "service_code": "residence-certificate",
                "slot_start": iso(start), "slot_end": iso(start + timedelta(minutes=15)),
                "national_id_hash": booking_codes.hash_national_id(nid), "state": "booked"}
        with office.store.atomic():
            reference.put(office.store, {"kind": "appointment", "key": ref, "version": n + 1,
                                         "body": body}, office.store.now(), None)
    rec.one("appointment.no_show", office.appointments.mark_no_shows)
    rec.refused(PermissionDenied, office.appointments.check_in, ref, valid_nid(8))
    rec.several(("ticket.taken", "appointment.checked_in"), office.appointments.check_in, ref,
                valid_nid(7))

    assert outbox.check_sequence(office.store) == []
    assert office.verify_audit()["ok"]
    # every event type documented for the sync agent was produced above, and every type
    # the wire protocol knows is documented
    from sync.protocol import EVENT_TYPES
    documented = set(re.findall(r"^## `([a-z_]+\.[a-z_]+)`", EVENTS_DOC.read_text(), re.M))
    documented |= set(re.findall(r"^## `[a-z_]+\.[a-z_]+`, `([a-z_]+\.[a-z_]+)`",
                                 EVENTS_DOC.read_text(), re.M))
    assert documented == set(rec.types) == set(EVENT_TYPES)


def test_outbox_and_domain_rows_share_the_transaction(office, submit_valid, monkeypatch,
                                                      db_state):
    app = submit_valid()
    before = db_state()
    real_insert = office.store.insert

    def failing_insert(table, row):
        if table == "outbox":
            raise OSError("disk full")
        return real_insert(table, row)

    monkeypatch.setattr(office.store, "insert", failing_insert)
    with pytest.raises(OSError):
        office.queue.take_ticket("R")
    with pytest.raises(OSError):
        office.applications.withdraw(app["id"])
    assert db_state() == before  # no ticket, no state change, no audit entry


def test_sequence_is_gap_free_around_failed_operations(office, submit_valid, till,
                                                       monkeypatch):
    ok = [submit_valid()]
    failures = 0
    # validation refusals (before any write) ...
    for bad in ({"national_id": "123"}, {"area_m2": "50"}):
        with pytest.raises(ValidationError):
            submit_valid("B", **bad)
        failures += 1
    # ... refusals inside the transaction ...
    with pytest.raises(InvalidState):
        office.licences.issue(ok[0]["id"])
    failures += 1
    # ... and a failure after the event was already written
    real_record = office.store.record

    def record_then_crash(*args, **kwargs):
        real_record(*args, **kwargs)
        raise RuntimeError("crash after the outbox insert")

    monkeypatch.setattr(office.store, "record", record_then_crash)
    with pytest.raises(RuntimeError):
        office.queue.take_ticket("R")
    with pytest.raises(RuntimeError):
        office.payments.take(ok[0]["id"], "cash", till.clerk, tendered_minor=1000)
    monkeypatch.undo()
    ok.append(office.queue.take_ticket("R"))
    ok.append(office.payments.take(ok[0]["id"], "cash", till.clerk, tendered_minor=1000))

    seqs = [r[0] for r in office.store.conn.execute("SELECT seq FROM outbox ORDER BY seq")]
    assert seqs == list(range(1, len(seqs) + 1))
    audit_seqs = [r[0] for r in office.store.conn.execute("SELECT seq FROM audit ORDER BY seq")]
    assert audit_seqs == seqs
    assert outbox.check_sequence(office.store) == []
    assert office.verify_audit()["ok"]
    # the ticket and the receipt took the numbers the failed attempts had held
    assert ok[1]["number"] == "R001"
    assert ok[2]["receipt_number"] == "MUH-D01-R0000001"


def test_check_sequence_reports_a_gap(office):
    for _ in range(4):
        office.queue.take_ticket("R")
    office.store.conn.execute("DELETE FROM outbox WHERE seq = 2")
    assert outbox.check_sequence(office.store) == [2]


def test_event_ids_are_unique_ulids(office):
    for _ in range(20):
        office.queue.take_ticket("R")
    ids = [r[0] for r in office.store.conn.execute("SELECT id FROM outbox ORDER BY seq")]
    assert len(set(ids)) == 20 and ids == sorted(ids)
    assert all(re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", i) for i in ids)


def test_status_and_pending(office, clock):
    assert office.outbox_status()["pending"] == 0
    office.queue.take_ticket("R")
    clock.advance(seconds=90)
    office.queue.take_ticket("B")
    office.queue.call_next("1")
    status = office.outbox_status()
    assert (status["pending"], status["total"], status["last_seq"]) == (3, 3, 3)
    assert status["oldest_pending_at"] == "2026-11-24T08:00:00.000+00:00"
    assert status["backlog_age_seconds"] == 90
    assert status["pending_by_type"] == {"ticket.taken": 2, "ticket.called": 1}
    events = outbox.pending(office.store, limit=2)
    assert [e["seq"] for e in events] == [1, 2]
    assert [e["seq"] for e in outbox.pending(office.store, after_seq=2)] == [3]
    # the sync agent marks what central confirmed
    office.store.conn.execute("UPDATE outbox SET sent_at = ? WHERE seq <= 2",
                              (office.store.now(),))
    status = office.outbox_status()
    assert (status["pending"], status["total"]) == (1, 3)
    assert status["oldest_pending_at"] == "2026-11-24T08:01:30.000+00:00"
    assert [e["type"] for e in outbox.pending(office.store)] == ["ticket.called"]


def test_errors_carry_stable_codes(office):
    with pytest.raises(NafithaError) as info:
        office.queue.take_ticket("nope")
    assert info.value.to_dict()["error"] == "invalid_input"
    assert info.value.to_dict()["field"] == "service"


def test_sequence_continues_after_sent_rows_are_pruned(office):
    for _ in range(3):
        office.queue.take_ticket("R")
    office.store.conn.execute("DELETE FROM outbox")  # e.g. a future pruning of sent events
    office.queue.take_ticket("R")
    assert [r[0] for r in office.store.conn.execute("SELECT seq FROM outbox")] == [4]
