"""The browser verifier's trust list at central (central/trust_list.py, docs/verify.md): signed
by the root over the payload's bytes, carrying central's roots and the revocation list
core.credentials accepts, its version raised by every new revocation list and never reused,
and sent to every office in the reference stream."""
from __future__ import annotations

import base64
import json

import pytest
from cryptography.exceptions import InvalidSignature
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from central import trust_list
from central.app import create_app
from central.db import meta, reference
from central.service import Central
from core.credentials import keys
from core.credentials.licence import verify
from core.credentials.trust import TrustStore
from sync import protocol
from sync.agent import SyncAgent

from central_offices import nid, working_office
from central_servers import ServerThread


@pytest.fixture
def world(tmp_path, clock, central_db):
    """Central on loopback and office MUH/D01 with a licence issued and pushed."""
    central, _ = Central.init_root(tmp_path / "central", central_db, clock=clock)
    server = ServerThread(create_app(central)).start()
    office = working_office(tmp_path, server.url, central, "MUH", "D01", clock, seed=1)
    app = office.applications.submit("residence-certificate", {
        "phone": "33334444", "block": "204", "road": "15", "building": "12",
        "full_name": "Instant Person", "national_id": nid(10)})
    office.payments.take(app["id"], "cash", "sara", tendered_minor=1000)
    licence = office.licences.issue(app["id"])
    SyncAgent(office).once()
    yield central, office, licence
    office.close()
    server.stop()
    central.close()


def payload_of(envelope: dict) -> dict:
    return json.loads(base64.b64decode(envelope["payload"]))


def test_the_signature_verifies_over_the_payload_bytes_with_the_root_key(world):
    central, _office, _licence = world
    envelope = trust_list.latest(central)
    assert set(envelope) == {"format", "payload", "kid", "signature"}
    assert envelope["format"] == "NTL1"
    data = base64.b64decode(envelope["payload"])
    # plain `cryptography`, no code of ours: what any other system would do
    Ed25519PublicKey.from_public_bytes(central.root_public).verify(
        base64.b64decode(envelope["signature"]), data)
    payload = json.loads(data)
    assert payload["format"] == "NTL1" and payload["version"] == 1
    assert payload["roots"] == [{"kid": keys.key_id(central.root_public).hex(),
                                 "public_key": central.root_public.hex()}]
    assert envelope["kid"] == payload["roots"][0]["kid"]
    assert payload["revocation_list"] is None  # nothing revoked yet
    flipped = bytearray(data)
    flipped[10] ^= 1
    with pytest.raises(InvalidSignature):  # one byte changed
        Ed25519PublicKey.from_public_bytes(central.root_public).verify(
            base64.b64decode(envelope["signature"]), bytes(flipped))


def test_a_revocation_raises_the_version_and_the_list_inside_is_one_core_accepts(world,
                                                                                   clock):
    central, _office, licence = world
    before = payload_of(trust_list.latest(central))
    clock.advance(hours=1)
    central.revoke_licence(licence["number"], "issued in error")
    after = payload_of(trust_list.latest(central))
    assert after["version"] == before["version"] + 1
    assert after["issued_at"] == int(clock.now().timestamp())
    trust = TrustStore({keys.key_id(central.root_public): central.root_public})
    listed = trust.check_revocations(base64.b64decode(after["revocation_list"]))
    assert listed.licences == frozenset({licence["number"]}) and listed.number == 1
    trust.revocations = listed
    assert verify(licence["signed_payload"], trust,
                  int(clock.now().timestamp())).reason == "revoked"
    central.revoke_device("MUH", "D01")
    third = payload_of(trust_list.latest(central))
    assert third["version"] == after["version"] + 1
    assert trust.check_revocations(base64.b64decode(third["revocation_list"])).devices


def test_a_stale_writer_cannot_publish_a_version_twice(world, monkeypatch):
    central, _office, licence = world
    central.revoke_licence(licence["number"], "issued in error")  # version 2
    held = trust_list.latest(central)
    real = trust_list._version
    monkeypatch.setattr(trust_list, "_version", lambda conn: real(conn) - 1)  # read 1, late
    with pytest.raises(trust_list.VersionRace):
        with central.engine.begin() as conn:
            trust_list.publish(central, conn)
    monkeypatch.undo()
    assert trust_list.latest(central) == held  # rolled back: nothing published
    assert payload_of(held)["version"] == 2


def test_a_database_from_before_gets_its_first_list_when_opened(world, clock):
    central, _office, _licence = world
    with central.engine.begin() as conn:
        conn.execute(sa.delete(meta).where(meta.c.key == trust_list.VERSION_KEY))
        conn.execute(sa.delete(reference).where(reference.c.kind == "trust_list"))
    url = central.engine.url.render_as_string(hide_password=False)
    again = Central.open(central.home, None if url.startswith("sqlite") else url, clock)
    try:
        envelope = trust_list.latest(again)
        assert payload_of(envelope)["version"] == 1
        assert protocol.open_trust_list(envelope, again.trust.roots)["version"] == 1
        Central.open(central.home, None if url.startswith("sqlite") else url, clock).close()
        with again.engine.connect() as conn:  # opened again: still one list
            assert conn.execute(sa.select(sa.func.count()).select_from(reference).where(
                reference.c.kind == "trust_list")).scalar() == 1
    finally:
        again.close()


def test_compaction_keeps_the_newest_list(world, clock):
    central, _office, licence = world
    central.revoke_licence(licence["number"], "issued in error")
    newest = trust_list.latest(central)
    central.compact()
    assert trust_list.latest(central) == newest
    assert payload_of(newest)["version"] == 2


def test_the_newest_list_reaches_the_office_after_a_pull(world, clock):
    central, office, licence = world
    from core import reference as office_reference
    held = office_reference.trust_list(office.store)
    assert payload_of(held["body"])["version"] == 1  # from its first pull
    central.revoke_licence(licence["number"], "issued in error")
    SyncAgent(office).once()
    held = office_reference.trust_list(office.store)
    assert held["body"] == trust_list.latest(central)
    assert payload_of(held["body"])["version"] == 2
