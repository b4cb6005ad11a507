"""The issue's "done when": two offices and a central on one machine. The offices work
offline, then reconnect; central holds everything exactly once; a revocation made centrally
is refused at the other office; back-office decisions, clerk accounts and fees reach the
offices; a full resync keeps unsent local work."""
from __future__ import annotations

import json

import pytest
import requests
import sqlalchemy as sa

from central.db import events as central_events
from core.errors import PermissionDenied
from sync.agent import SyncAgent, SyncError

from central_servers import ServerThread
from central.app import create_app
from test_roundtrip import FORM, issue_one, nid

PERMIT = {**FORM, "parcel": "02-1234", "area_m2": "45"}


def outbox_ids(office) -> set[str]:
    return {r["id"] for r in office.store.all("SELECT id FROM outbox")}


def central_ids(central, key: str) -> list[str]:
    with central.engine.connect() as conn:
        return conn.execute(sa.select(central_events.c.id).where(
            central_events.c.device_key == key)).scalars().all()


def work(office, n: int, start: int) -> list[dict]:
    """A morning at the office: tickets, a paid review application, instant licences."""
    licences = []
    for i in range(n):
        office.queue.take_ticket("residence-certificate")
        licences.append(issue_one(office, start + i))
    return licences


@pytest.fixture
def world(two_offices):
    return two_offices(("MUH", "D01"), ("RIF", "K01"))


def test_offline_offices_reconnect_and_central_holds_everything_once(world, clock):
    central, server, north, south = world
    # Both offices pull once while online (the catalogue, the root), then the link drops.
    for office in (north, south):
        SyncAgent(office).once()
    server.stop()
    north_licences = work(north, 5, 0)
    south_licences = work(south, 4, 100)
    permit = north.applications.submit("building-permit-small",
                                       {**PERMIT, "national_id": nid(50)})
    north.payments.take(permit["id"], "cash", "sara", tendered_minor=20_000)
    for office in (north, south):
        clock.advance(hours=30)
        with pytest.raises(SyncError) as failed:
            SyncAgent(office).once()
        assert failed.value.kind == "offline"
        status = office.sync_status()
        assert status["online"] is False and status["pending"] > 0
        assert "offline" in status["last_error"]
    # The link returns (same port).
    server = ServerThread(create_app(central), port=server.port).start()
    try:
        for office in (north, south):
            result = SyncAgent(office).once()
            assert result["status"]["pending"] == 0 and result["status"]["online"] is True
        for office, key in ((north, "MUH/D01"), (south, "RIF/K01")):
            held = central_ids(central, key)
            assert len(held) == len(set(held)) == len(outbox_ids(office))
            assert set(held) == outbox_ids(office)
            device = next(d for o in central.offices() for d in o["devices"]
                          if f"{o['office']}/{d['device_id']}" == key)
            assert device["gaps"] == [] and device["last_seq"] == device["received"] == len(held)
        counts = central.counts()
        assert counts["licences"] == len(north_licences) + len(south_licences)
        assert counts["payments"] == len(north_licences) + len(south_licences) + 1

        # A licence issued in the north, revoked centrally, is refused in the south.
        victim = north_licences[2]
        assert south.verify_licence(victim["signed_payload"]).valid
        revoked = requests.post(f"{server.url}/v1/admin/licences/{victim['number']}/revoke",
                                json={"reason": "issued on a forged lease"},
                                headers={"Authorization": f"Bearer {central.admin_token}"})
        assert revoked.status_code == 200, revoked.text
        assert central.licence_status(victim["number"])["status"] == "revoked"
        assert south.verify_licence(victim["signed_payload"]).valid  # not pulled yet
        pulled = SyncAgent(south).once()["pulled"]
        assert pulled["revocation_list"] is not None
        verdict = south.verify_licence(victim["signed_payload"])
        assert not verdict.valid and verdict.reason == "revoked"
        assert south.verify_licence(north_licences[1]["signed_payload"]).valid
        online = requests.get(f"{server.url}/v1/licences/{victim['number']}").json()
        assert online["status"] == "revoked" and "holder" not in json.dumps(online)

        # The back office approves the permit; the north applies it on its next pull.
        decided = requests.post(
            f"{server.url}/v1/admin/applications/{permit['number']}/decision",
            json={"decision": "approved", "conditions": "العمل من ٧ صباحاً حتى ٥ مساءً"},
            headers={"Authorization": f"Bearer {central.admin_token}"})
        assert decided.status_code == 200, decided.text
        assert north.applications.get(permit["id"])["state"] == "paid"
        assert SyncAgent(north).once()["pulled"]["decisions"] == 1
        local = north.applications.get(permit["id"])
        assert local["state"] == "approved" and local["conditions"].startswith("العمل")
        assert local["decided_by"] == "central"
        licence = north.licences.issue(permit["id"])
        assert north.verify_licence(licence["signed_payload"]).claims["conditions"] == \
            local["conditions"]
        SyncAgent(north).once()
        assert central.licence_status(licence["number"])["status"] == "valid"
        with central.engine.connect() as conn:
            state = conn.execute(sa.text("SELECT state FROM applications WHERE id = :i"),
                                 {"i": permit["id"]}).scalar()
        assert state == "issued"
        # Pulling again changes nothing (the decision is applied once).
        assert SyncAgent(north).once()["pulled"]["decisions"] == 0
    finally:
        server.stop()


def test_clerks_and_fees_from_central(world):
    central, server, north, south = world
    central.add_user("MUH", "sara", "clerk", "2468")
    central.add_user("MUH", "huda", "supervisor", "135791")
    central.set_fee("residence-certificate", 1500)
    SyncAgent(north).once()
    SyncAgent(south).once()
    assert north.users.authenticate("sara", "2468")["role"] == "clerk"
    assert north.users.authenticate("huda", "135791", role="supervisor")
    assert not south.store.one("SELECT 1 FROM users WHERE username = 'sara'")  # MUH only
    for office in (north, south):
        assert office.catalog.get("residence-certificate").fee_minor == 1500
    app = south.applications.submit("residence-certificate", {**FORM, "national_id": nid(7)})
    assert app["fee_minor"] == 1500
    central.disable_user("MUH", "sara")
    SyncAgent(north).once()
    with pytest.raises(PermissionDenied, match="disabled"):
        north.users.authenticate("sara", "2468")


def test_full_resync_keeps_unsent_local_work(world, clock):
    central, server, north, _ = world
    central.add_user("MUH", "sara", "clerk", "2468")
    central.add_user("MUH", "old", "clerk", "1111")
    SyncAgent(north).once()
    cursor = north.sync_status()["cursor"]
    work(north, 2, 0)
    pending = north.sync_status()["pending"]
    unsent = outbox_ids(north)
    # Central drops superseded history; it also forgets "old". The north's cursor is now
    # older than what central keeps: the next pull is a full snapshot.
    central.disable_user("MUH", "old")
    central.add_user("MUH", "nadia", "clerk", "2222")
    central.compact()
    agent = SyncAgent(north)
    pulled = agent.pull()
    assert pulled["full"] is True and north.sync_status()["cursor"] > cursor
    assert north.sync_status()["pending"] == pending  # nothing unsent was dropped
    assert outbox_ids(north) == unsent
    assert north.users.authenticate("nadia", "2222")
    with pytest.raises(PermissionDenied, match="disabled"):
        north.users.authenticate("old", "1111")
    assert agent.push() == pending


def test_a_cursor_from_another_central_gets_a_full_snapshot(world):
    central, server, north, _ = world
    SyncAgent(north).once()
    from core import sync_state
    sync_state.put(north.store, cursor=10_000)  # ahead of central: central was restored
    assert SyncAgent(north).pull()["full"] is True
    assert north.sync_status()["cursor"] < 10_000


def test_a_decision_the_office_cannot_take_leaves_nothing_half_done(world):
    central, server, north, _ = world
    permit = north.applications.submit("building-permit-small",
                                       {**PERMIT, "national_id": nid(60)})
    SyncAgent(north).once()
    # Central accepts the reason; the office's input policy refuses its bidi override, after
    # the conditions were already written: the savepoint must undo them.
    central.decide(permit["number"], "approved", reason="ok \u202e", conditions="7am-5pm")
    pulled = SyncAgent(north).once()["pulled"]
    assert pulled["decisions"] == 0
    local = north.applications.get(permit["id"])
    assert local["state"] == "submitted" and local["conditions"] == ""
    note = north.store.one("SELECT note FROM reference WHERE kind = 'decision'")["note"]
    assert note.startswith("not applied:")
    assert north.sync_status()["pending"] == 0  # no event was written for it


def test_back_office_conditions_must_fit_the_narrowest_paper(world):
    """Central refuses conditions that would make the licence's QR code too large for 58 mm
    paper (it does not know each office's printers) before the office numbers anything;
    conditions that fit are applied at the office, and the licence prints on 58 mm."""
    from central.service import CentralError
    from core.credentials import qr_fit
    from devices.printing import render

    central, server, north, _ = world
    permit = north.applications.submit("building-permit-small",
                                       {**PERMIT, "national_id": nid(70)})
    SyncAgent(north).once()
    too_long = "العمل مسموح من السابعة صباحا حتى الخامسة مساء فقط " * 3
    with pytest.raises(CentralError) as refused:
        central.decide(permit["number"], "approved", conditions=too_long)
    assert (refused.value.status, refused.value.code) == (422, "conditions_too_long")
    assert "58 mm paper (384 dots) holds 734" in refused.value.message
    assert SyncAgent(north).once()["pulled"]["decisions"] == 0  # nothing was published
    central.decide(permit["number"], "approved", conditions="من ٧ صباحا حتى ٥ مساء")
    assert SyncAgent(north).once()["pulled"]["decisions"] == 1
    north.users.create("sara", "clerk", "1234")
    north.payments.open_shift("sara", 0)
    north.payments.take(permit["id"], "cash", "sara", tendered_minor=20_000)
    licence = north.licences.issue(permit["id"])
    assert len(licence["signed_payload"]) <= qr_fit.capacity(384)
    data = north.job_document({"kind": "licence", "ref_id": licence["id"], "copy": 0})
    assert render.render("licence", data, "ar", 384).width == 384
