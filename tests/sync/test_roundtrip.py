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


def test_a_late_resend_of_an_old_batch_does_not_bring_back_a_backlog(make_central, serve,
                                                                      make_office):
    from sync import protocol
    central = make_central()
    server = serve(central)
    office = make_office(central, server.url, NAFITHA_SYNC__BATCH_SIZE="100")
    with office.store.atomic():
        for i in range(300):
            office.store.record("user.pin_failed", "user", "sara",
                                {"username": "sara", "failures": 1})
    first = [r["body"] for r in office.store.all("SELECT body FROM outbox ORDER BY seq LIMIT 100")]
    old_batch = protocol.encode_batch("D01", "MUH", office.store.now(), first, pending=300)
    assert SyncAgent(office).once()["sent"] == 300
    device = central.authenticate(f"Bearer {SyncAgent(office).token}")
    assert central.offices()[0]["devices"][0]["backlog"] == 0
    reply = central.ingest(device, old_batch, "gzip")  # the proxy delivered it late
    assert reply["duplicates"] == 100 and reply["stored"] == 0
    assert central.offices()[0]["devices"][0]["backlog"] == 0


def test_certificate_serials_never_repeat_across_re_enrolment(make_central):
    import base64

    from core.credentials import certificate, keys
    central = make_central()

    def enrol(device):
        code = central.enrol_code("MUH", role="hub")["code"]
        cert = central.enrol(code, "MUH", device, keys.public_bytes(keys.generate()).hex())
        return certificate.from_bytes(base64.b64decode(cert["certificate"])).serial

    first = enrol("D01")
    central.revoke_device("MUH", "D01")
    again = enrol("D01")  # the same device id, a new key after a revocation
    other = enrol("D02")
    assert len({first, again, other}) == 3
