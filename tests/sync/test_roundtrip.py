"""An office and central over real HTTP: push, pull, resend, decisions and revocations."""
from __future__ import annotations

from core.text import with_check_digit
from sync.agent import SyncAgent


def nid(n=0):
    return with_check_digit(f"{85010000 + n:08d}", "luhn")


FORM = {"full_name": "فاطمة علي", "phone": "33334444", "block": "204", "road": "15",
        "building": "12"}


def issue_one(office, n=0):
    app = office.applications.submit("residence-certificate", {**FORM, "national_id": nid(n)})
    if not office.store.one("SELECT 1 FROM users WHERE username = 'sara'"):
        office.users.create("sara", "clerk", "1234")
    if not office.store.one("SELECT 1 FROM shifts WHERE clerk = 'sara' AND closed_at IS NULL"):
        office.payments.open_shift("sara", 20_000)
    office.payments.take(app["id"], "cash", "sara", tendered_minor=1000)
    return office.licences.issue(app["id"])


def test_push_then_everything_is_at_central_once(make_central, serve, make_office):
    central = make_central()
    server = serve(central)
    office = make_office(central, server.url)
    licence = issue_one(office)
    office.queue.take_ticket("residence-certificate")
    agent = SyncAgent(office)
    result = agent.once()
    total = office.store.one("SELECT COUNT(*) AS n FROM outbox")["n"]
    assert result["sent"] == total and result["status"]["pending"] == 0
    counts = central.counts()
    assert counts["events"] == total and counts["audit"] == total
    assert counts["licences"] == 1 and counts["payments"] == 1 and counts["applications"] == 1
    assert central.licence_status(licence["number"])["status"] == "valid"
    # A second cycle sends nothing; resending everything stores nothing new.
    assert agent.once()["sent"] == 0
    office.store.conn.execute("UPDATE outbox SET sent_at = NULL")
    assert agent.once()["sent"] == total
    assert central.counts()["events"] == total
