"""Names, national IDs and phone numbers never reach a log: a day at two offices and central
(real HTTP), with a refused event, a held event retried, a print job that fails and a
licence verified, is run with every logger at DEBUG, and none of a resident's details appears
in what was logged (docs/privacy.md)."""
import logging

from devices.printing.fakes import RecordingTransport
from devices.printing.worker import PrintWorker
from core.faces.printing import PrintJobs
from sync.agent import SyncAgent

from test_roundtrip import FORM, nid

RESIDENT = {**FORM, "full_name": "Zainab Qasim Al-Mahroos", "phone": "39871234"}


def test_a_day_logs_no_residents_details(two_offices, caplog):
    caplog.set_level(logging.DEBUG)
    central, server, muh, sit = two_offices(("MUH", "D01"), ("SIT", "D01"))
    details = {RESIDENT["full_name"], RESIDENT["phone"], nid(77), nid(78), "زينب قاسم"}
    muh.users.create("sara", "clerk", "1234")
    muh.payments.open_shift("sara", 0)
    app = muh.applications.submit("residence-certificate", {**RESIDENT, "national_id": nid(77)})
    muh.payments.take(app["id"], "cash", "sara", tendered_minor=1000)
    licence = muh.licences.issue(app["id"])
    arabic = muh.applications.submit("residence-certificate",
                                     {**RESIDENT, "full_name": "زينب قاسم", "national_id": nid(78)})
    muh.applications.withdraw(arabic["id"], "changed her mind")
    # a forged event from SIT naming MUH's licence: refused, held, logged as refused
    with sit.acting_as("mallory"):
        sit.store.record("licence.revoked", "licence", licence["id"],
                         {"id": licence["id"], "number": licence["number"],
                          "revoked_at": sit.store.now(), "revoke_reason": "forged"})
    for office in (muh, sit, muh):
        SyncAgent(office).once()
    sit.retry_held_event("all", "sara")
    SyncAgent(sit).once()
    # a print job that fails (a printer narrower than the document asks) and one that prints
    muh.settings.printer.width_dots = 384
    transport = RecordingTransport()
    worker = PrintWorker(PrintJobs(muh), transport)
    job = muh.printing.enqueue("licence", licence["id"])
    muh.store.conn.execute("UPDATE licences SET signed_payload = signed_payload || ? "
                           "WHERE id = ?", ("A" * 900, licence["id"]))
    assert worker.print_next() == "failed"
    muh.store.conn.execute("UPDATE licences SET signed_payload = ? WHERE id = ?",
                           (licence["signed_payload"], licence["id"]))
    muh.printing.enqueue("application", app["id"])
    assert worker.print_next() == "printed"
    assert muh.verify_licence(licence["signed_payload"]).valid
    assert central.rejections() and muh.printing.get(job["id"])["state"] == "failed"

    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}"
                       for r in caplog.records)
    assert "refused" in logged  # the day was logged ...
    assert [d for d in details if d in logged] == []  # ... without a resident's details
