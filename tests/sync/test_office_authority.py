"""Central trusts each office with its own affairs only (docs/sync.md): attacks by a device
that is genuinely enrolled (a stolen or misused office box), each refused per event with its
reason while the rest of the batch goes on; and a sync that cannot get stuck: a refused event
is held for the operator, who retries or voids it."""
from __future__ import annotations

import random

import pytest

from core.clock import UlidFactory
from core.credentials import ceremony, keys
from core.errors import InvalidState, NotFound, PermissionDenied, ValidationError
from core.office import Office
from core.settings import load_settings
from sync.agent import SyncAgent, enrol

from store_rows import all_rows
from test_roundtrip import issue_one


@pytest.fixture
def world(two_offices):
    """Two offices whose devices are both called D01 (ids repeat across offices)."""
    return two_offices(("MUH", "D01"), ("SIT", "D01"))


def forge(office, event_type: str, entity: str, entity_id: str, data: dict) -> dict:
    """What a misused box can do with its own store: append a correctly chained event."""
    with office.acting_as("mallory"):
        return office.store.record(event_type, entity, entity_id, data)


def held(office) -> list[dict]:
    from core import outbox
    return outbox.held(office.store)


def test_an_office_cannot_revoke_another_offices_licence(world):
    central, _, muh, sit = world
    genuine = issue_one(muh)
    SyncAgent(muh).once()
    lists_before = central.counts()
    forged = forge(sit, "licence.revoked", "licence", genuine["id"],
                   {"id": genuine["id"], "number": genuine["number"],
                    "revoked_at": sit.store.now(), "revoke_reason": "forged"})
    sit_agent = SyncAgent(sit)
    sit_agent.once()
    assert [h["id"] for h in held(sit)] == [forged["id"]]
    assert held(sit)[0]["held_code"] == "id_taken"
    assert central.licence_status(genuine["number"])["status"] == "valid"
    assert central.counts()["licences"] == lists_before["licences"]
    # No revocation list names it: after its next pull MUH still says genuine.
    SyncAgent(muh).once()
    assert muh.verify_licence(genuine["signed_payload"]).valid
    # Sent before MUH's licence reached central, the number alone gives it away.
    other = issue_one(muh, 1)
    early = forge(sit, "licence.revoked", "licence", other["id"],
                  {"id": other["id"], "number": other["number"],
                   "revoked_at": sit.store.now(), "revoke_reason": "forged"})
    sit_agent.once()
    assert {h["id"]: h["held_code"] for h in held(sit)}[early["id"]] == "foreign_object"
    SyncAgent(muh).once()
    assert central.licence_status(other["number"])["status"] == "valid"


def test_a_number_squatted_by_another_office_does_not_block_its_owner(world):
    central, _, muh, sit = world
    issue_one(muh)  # MUH-D01-A2026-000001
    squatted = "MUH-D01-A2026-000002"  # MUH's next, predictable
    application = sit.applications.submit("residence-certificate", {
        "full_name": "Squatter", "national_id": muh.applications.get(
            "MUH-D01-A2026-000001")["fields"]["national_id"], "phone": "33334444",
        "block": "204", "road": "15", "building": "12"})
    data = {**application, "number": squatted}
    forged = forge(sit, "application.submitted", "application", "01SQUATSQUATSQUATSQUAT0000",
                   {**data, "id": "01SQUATSQUATSQUATSQUAT0000"})
    SyncAgent(sit).once()
    assert {h["id"]: h["held_code"] for h in held(sit)} == {forged["id"]: "foreign_number"}
    assert SyncAgent(sit).once()["status"]["pending"] == 0  # the rest went on
    issue_one(muh, 1)  # MUH's real MUH-D01-A2026-000002
    result = SyncAgent(muh).once()
    assert result["status"]["pending"] == 0 and held(muh) == []
    muh_view = next(o for o in central.offices() if o["office"] == "MUH")
    assert muh_view["backlog"] == 0 and muh_view["missing_events"] == 0
    assert any(r["event_id"] == forged["id"] and "foreign_number" in r["reason"]
               for r in central.rejections())


def test_an_object_of_an_office_that_does_not_exist_is_refused(world):
    """A number for office NOPE, which central has never heard of: refused per event, no
    office NOPE appears at central, and the rest of the batch goes on."""
    central, _, _, sit = world
    application = sit.applications.submit("residence-certificate", {
        "full_name": "Nobody", "national_id": sit.applications.get(issue_one(sit)[
            "application_id"])["fields"]["national_id"], "phone": "33334444",
        "block": "204", "road": "15", "building": "12"})
    ghost = "01GHOSTGHOSTGHOSTGHOSTGH00"
    forged = forge(sit, "application.submitted", "application", ghost,
                   {**application, "id": ghost, "number": "NOPE-D01-A2026-000001"})
    sit.queue.take_ticket("R")  # an ordinary event after it
    result = SyncAgent(sit).once()
    assert {h["id"]: h["held_code"] for h in held(sit)} == {forged["id"]: "foreign_number"}
    assert result["status"]["pending"] == 0
    assert "NOPE" not in {o["office"] for o in central.offices()}
    assert any(r["event_id"] == forged["id"] and "NOPE-D01-A2026-000001" in r["reason"]
               for r in central.rejections())


def test_a_licence_numbered_for_another_office_is_refused(world):
    central, _, muh, sit = world
    genuine = issue_one(sit)  # signed with SIT's own genuine key and certificate
    row = {**sit.licences.get(genuine["id"]), "number": "MUH-2026-D01-000002"}
    payload = sit.signer(row)
    forged = forge(sit, "licence.issued", "licence", "01FORGEDFORGEDFORGEDFORGE0",
                   {**genuine, "id": "01FORGEDFORGEDFORGEDFORGE0",
                    "number": "MUH-2026-D01-000002", "signed_payload": payload})
    SyncAgent(sit).once()
    codes = {h["id"]: h["held_code"] for h in held(sit)}
    assert codes == {forged["id"]: "foreign_number"}
    assert central.licence_status("MUH-2026-D01-000002")["status"] == "unknown"
    assert central.licence_status(genuine["number"])["status"] == "valid"


def test_a_back_office_decision_central_did_not_make_is_refused(world):
    central, _, muh, _ = world
    app = muh.applications.submit("building-permit-small", {
        "full_name": "Ali", "national_id": muh.applications.get(
            issue_one(muh)["application_id"])["fields"]["national_id"],
        "phone": "33334444", "block": "204", "road": "15", "building": "12",
        "parcel": "02-1234", "area_m2": "45"})
    with muh.acting_as("central"):  # as if applied from a decision in the reference data
        muh.applications.approve(app["id"], reason="no one decided this")
    SyncAgent(muh).once()
    codes = [h["held_code"] for h in held(muh)]
    assert codes == ["not_central_decision"]
    assert central.counts()["applications"] == 2


def test_every_contact_is_recorded_even_when_everything_is_refused(world):
    central, _, _, sit = world
    before = {o["office"]: o["last_contact_at"] for o in central.offices()}
    forge(sit, "licence.revoked", "licence", "01NOSUCHLICENCENOSUCHLIC00",
          {"id": "01NOSUCHLICENCENOSUCHLIC00", "number": "MUH-2026-D01-000009",
           "revoked_at": sit.store.now(), "revoke_reason": "forged"})
    SyncAgent(sit).once()
    after = {o["office"]: o["last_contact_at"] for o in central.offices()}
    assert after["SIT"] is not None and before["SIT"] is None or after["SIT"] >= before["SIT"]
    assert after["SIT"] is not None


@pytest.fixture
def trial_office(make_central, central_db, tmp_path, clock, serve):
    """The README's path: a licence issued under a trial root (`nafitha keys demo`), then
    the office enrolled with central."""
    central = make_central(central_db)
    server = serve(central)
    data = tmp_path / "trial"
    settings = load_settings(data, environ={"NAFITHA_SYNC__PROBE_INTERVAL_S": "0.2"})
    demo = keys.generate()
    ceremony.setup_device(data, demo, settings.device.id, settings.office.code,
                          ["RES", "ADR", "BLD", "EXC", "RWK", "DRA", "BCC", "TAX"],
                          int(clock.now().timestamp()))
    office = Office.open(settings, clock=clock, ids=UlidFactory(clock, random.Random(5)))
    trial = issue_one(office)
    office.users.create("huda", "supervisor", "987654")
    enrol(settings, server.url, central.enrol_code(settings.office.code, role="hub")["code"])
    yield central, office, trial
    office.close()


def test_a_refused_event_is_held_and_the_rest_goes_on(trial_office):
    central, office, trial = trial_office
    agent = SyncAgent(office)
    result = agent.once()
    (stuck,) = held(office)
    assert stuck["type"] == "licence.issued" and stuck["held_code"] == "licence_invalid"
    assert "unknown_issuer" in stuck["held_reason"]
    status = result["status"]
    assert status["pending"] == 0 and status["held"] == 1
    # Nothing waits to be sent: the agent is not woken again and again by the held event.
    assert not agent._should_wake(False)
    office.queue.take_ticket("residence-certificate")
    assert agent._should_wake(False)  # new work still wakes it at once
    assert agent.once()["status"]["held"] == 1
    counts = central.counts()
    assert counts["licences"] == 0 and counts["applications"] == 1


def test_the_operator_retries_or_voids_a_held_event_with_a_supervisor(trial_office):
    central, office, trial = trial_office
    agent = SyncAgent(office)
    agent.once()
    (stuck,) = held(office)
    # Retried: sent again and judged again (still not trusted: held again, audited).
    office.retry_held_event(stuck["id"], "sara")
    assert held(office) == [] and office.outbox_status()["pending"] >= 1
    agent.once()
    assert [h["id"] for h in held(office)] == [stuck["id"]]
    # Voiding needs a supervisor, a right PIN and a reason; a refusal changes nothing.
    if not office.store.one("SELECT 1 AS x FROM users WHERE username = 'sara'"):
        office.users.create("sara", "clerk", "1234")
    for who, pin, reason, error in (("sara", "1234", "trial", PermissionDenied),
                                    ("huda", "0000", "trial", PermissionDenied),
                                    ("huda", "987654", "  ", ValidationError)):
        before = all_rows(office.store)
        with pytest.raises(error):
            office.void_held_event(stuck["id"], who, pin, reason)
        if pin != "0000":  # a wrong PIN is counted, as at sign-in; nothing else changes
            assert all_rows(office.store) == before
    with pytest.raises(NotFound):
        office.void_held_event("01NOTHELDNOTHELDNOTHELD000", "huda", "987654", "x")
    office.void_held_event(stuck["id"], "huda", "987654", "issued under the trial root")
    assert held(office) == [] and office.outbox_status()["voided"] == 1
    with pytest.raises(InvalidState):
        office.retry_held_event(stuck["id"], "sara")
    audit = office.store.all("SELECT action, actor FROM audit ORDER BY seq DESC LIMIT 2")
    assert audit[0] == {"action": "outbox.voided", "actor": "huda"}
    # The void goes to central like any event; nothing is held or pending after it.
    status = agent.once()["status"]
    assert status["pending"] == 0 and status["held"] == 0
    assert office.verify_audit()["ok"]


def test_retry_all_after_the_cause_is_fixed(trial_office):
    """Central trusts the trial root after all (it publishes it): a retry is accepted."""
    central, office, trial = trial_office
    agent = SyncAgent(office)
    agent.once()
    assert len(held(office)) == 1
    demo_root = office.trust()  # the device trusts both roots; central trusts only its own
    roots = [kid for kid in demo_root.roots if kid not in central.trust.roots]
    central.trust.roots[roots[0]] = demo_root.roots[roots[0]]
    assert office.retry_held_event("all", "sara")["retried"]
    agent.once()
    assert held(office) == [] and central.counts()["licences"] == 1
    assert central.licence_status(trial["number"])["status"] == "valid"


def test_an_office_cannot_make_or_pay_another_offices_bills(world):
    """A bill's number is its id: only its own office's device makes it (bill.issued), only
    that office changes it, and only for its own applications."""
    from core import bill_numbers

    central, _, muh, sit = world
    muh_app = issue_one(muh)
    SyncAgent(muh).once()
    before = central.counts()
    stolen = bill_numbers.make("MUH", "D01", 900)
    base = {"application_id": muh_app["application_id"], "application_number": "x",
            "amount_minor": 1, "currency": "BHD", "due_at": "2030-01-01T00:00:00+00:00",
            "office": "SIT"}
    own = bill_numbers.make("SIT", "D01", 901)
    forged = {
        "foreign_number": forge(sit, "bill.issued", "bill", stolen,
                                {**base, "number": stolen}),
        "foreign_object": forge(sit, "bill.paid", "bill", stolen, {
            "number": stolen, "application_id": muh_app["application_id"],
            "network": "sadad", "transaction_id": "T1", "amount_minor": 1,
            "paid_at": "2030-01-01T00:00:00+00:00", "receipt_number": "x",
            "application_state": "paid", "refund": None}),
        "own_bill_their_application": forge(sit, "bill.cancelled", "bill", own, {
            "number": own, "application_id": muh_app["application_id"], "reason": "x"}),
        "malformed": forge(sit, "bill.issued", "bill", "SIT-D01-B000001-00",
                           {**base, "number": "SIT-D01-B000001-00"}),
    }
    SyncAgent(sit).once()
    codes = {h["id"]: h["held_code"] for h in held(sit)}
    assert codes[forged["foreign_number"]["id"]] == "foreign_number"
    assert codes[forged["foreign_object"]["id"]] == "foreign_object"
    # MUH's application named by SIT's own bill: the application is not SIT's.
    assert codes[forged["own_bill_their_application"]["id"]] == "foreign_object"
    assert codes[forged["malformed"]["id"]] == "foreign_number"
    kept = ("events", "audit")  # the refused events are kept, marked, for the operator
    assert {k: v for k, v in central.counts().items() if k not in kept} == \
        {k: v for k, v in before.items() if k not in kept}
    import sqlalchemy as sa

    from central.db import bills
    with central.engine.connect() as conn:  # MUH's own bill alone, unpaid
        rows = conn.execute(sa.select(bills.c.number, bills.c.office_paid_at)).all()
    assert [(office_of, paid) for office_of, paid in
            ((r.number.split("-")[0], r.office_paid_at) for r in rows)] == [("MUH", None)]
