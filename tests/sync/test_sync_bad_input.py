"""Every bad input the sync issue lists: a clear refusal, and nothing changes at central
(or, for a bad bundle, at the office). Run against central over real HTTP."""
from __future__ import annotations

import gzip
import json
from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa

from central.db import devices
from core.credentials import base45, cbor, cose, keys
from core.credentials import licence as licence_code
from core.credentials.licence import PREFIX
from core.audit import audit_hash
from core.canonical import canonical_json
from sync import protocol
from sync.agent import SyncAgent, SyncError, read_enrolment

from store_rows import all_rows
from test_roundtrip import issue_one


@pytest.fixture
def setup(make_central, serve, make_office, central_db):
    central = make_central(central_db)
    server = serve(central)
    office = make_office(central, server.url)
    other = make_office(central, server.url, office="MUH", device="D02", seed=12)
    return central, server, office, other


def token_of(office) -> str:
    return read_enrolment(office.settings.data_dir)["token"]


def bodies(office) -> list[dict]:
    return [json.loads(r["body"]) for r in office.store.all(
        "SELECT body FROM outbox WHERE sent_at IS NULL ORDER BY seq")]


def post(url, token, batch, raw: bytes | None = None, encoding="gzip"):
    data = raw if raw is not None else json.dumps(batch).encode()
    if encoding == "gzip" and raw is None:
        data = gzip.compress(data)
    headers = {"Content-Type": "application/json"}
    if encoding:
        headers["Content-Encoding"] = encoding
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.post(url + "/v1/events", data=data, headers=headers, timeout=10)


def batch_of(office, events) -> dict:
    """As the device's agent sends it: with the resident keys of the applications named."""
    return {"device": office.settings.device.id, "office": office.settings.office.code,
            "sent_at": office.store.now(), "events": events,
            "keys": office.sealer.keys_for(protocol.applications_named(
                e for e in events if isinstance(e, dict) and isinstance(e.get("data"), dict)
                and isinstance(e.get("type"), str)))}


def central_state(central):
    with central.engine.connect() as conn:
        held = conn.execute(sa.text("SELECT id, body_hash FROM events ORDER BY id")).all()
        devs = conn.execute(sa.select(devices.c.key, devices.c.last_seq, devices.c.received)
                            .order_by(devices.c.key)).all()
    return central.counts(), held, devs


def refused(central, response, status: int, words: str, before) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert words in body["message"], body
    assert central_state(central) == before
    if status != 401:  # a refused token never reaches ingest, so there is nothing to log
        assert central.rejections()[0]["status"] == status


def test_tokens_wrong_expired_missing_or_another_devices(setup, clock):
    central, server, office, other = setup
    office.queue.take_ticket("residence-certificate")
    batch = batch_of(office, bodies(office))
    before = central_state(central)
    refused(central, post(server.url, None, batch), 401, "device token", before)
    refused(central, post(server.url, "not-a-token", batch), 401, "not known", before)
    # D02's token, D01's events: the batch claims to be another device.
    refused(central, post(server.url, token_of(other), batch), 403, "belongs to MUH/D02",
            before)
    clock.advance(days=366)
    refused(central, post(server.url, token_of(office), batch), 401, "expired", before)


def test_an_event_claiming_another_device(setup):
    central, server, office, other = setup
    office.queue.take_ticket("residence-certificate")
    events = bodies(office)
    events[0]["device"] = "D02"
    before = central_state(central)
    refused(central, post(server.url, token_of(office), batch_of(office, events)), 403,
            "claims device MUH/D02", before)


def test_malformed_json_bad_gzip_and_unknown_encoding(setup):
    central, server, office, _ = setup
    before = central_state(central)
    token = token_of(office)
    refused(central, post(server.url, token, None, raw=gzip.compress(b'{"events": [')), 400,
            "not valid JSON", before)
    refused(central, post(server.url, token, None, raw=b"\x1f\x8b not gzip"), 400,
            "not valid gzip", before)
    refused(central, post(server.url, token, None, raw=gzip.compress(b"{}")[:-6]), 400,
            "truncated", before)
    refused(central, post(server.url, token, None, raw=b"{}", encoding="br"), 415,
            "Content-Encoding", before)
    refused(central, post(server.url, token, {"events": "all of them"}), 422,
            "'events' list", before)


def test_batches_over_the_limits(setup):
    central, server, office, _ = setup
    before = central_state(central)
    token = token_of(office)
    too_many = batch_of(office, [{}] * (protocol.MAX_BATCH_EVENTS + 1))
    refused(central, post(server.url, token, too_many), 413, "limit is 1000", before)
    bomb = gzip.compress(b" " * (protocol.MAX_BATCH_BYTES + 10))  # 16 MB of spaces, 16 KB
    refused(central, post(server.url, token, None, raw=bomb), 413, "uncompressed", before)
    huge = b"x" * (protocol.MAX_BATCH_COMPRESSED + 1)
    refused(central, post(server.url, token, None, raw=huge), 413, "limit", before)


@pytest.mark.parametrize("change, words", [
    (lambda e: e.update(type="ticket.stolen"), "unknown event type"),
    (lambda e: e.pop("audit_hash"), "missing audit_hash"),
    (lambda e: e["data"].pop("number"), "data is missing number"),
    (lambda e: e.update(surprise=1), "unknown fields surprise"),
    (lambda e: e.update(seq=0), "seq must be a positive integer"),
    (lambda e: e.update(data=[]), "data must be an object"),
])
def test_events_of_unknown_type_or_missing_fields(setup, change, words):
    central, server, office, _ = setup
    office.queue.take_ticket("residence-certificate")
    events = bodies(office)
    change(events[0])
    before = central_state(central)
    refused(central, post(server.url, token_of(office), batch_of(office, events)), 422, words,
            before)


def test_a_tampered_audit_chain(setup):
    central, server, office, _ = setup
    for _ in range(3):
        office.queue.take_ticket("residence-certificate")
    events = bodies(office)
    before = central_state(central)
    token = token_of(office)
    altered = json.loads(json.dumps(events))
    altered[1]["data"]["number"] = "R999"  # the data changed, the hash did not
    refused(central, post(server.url, token, batch_of(office, altered)), 422,
            "audit entry was altered", before)
    # Rehashed to hide it: now entry 3 no longer follows entry 2.
    rehashed = json.loads(json.dumps(altered))
    e = rehashed[1]
    e["audit_hash"] = audit_hash({"seq": e["audit_seq"], "at": e["at"], "actor": e["actor"],
                                  "action": e["type"], "entity_type": e["entity_type"],
                                  "entity_id": e["entity_id"], "data": e["data"],
                                  "prev_hash": e["audit_prev_hash"]})
    refused(central, post(server.url, token, batch_of(office, rehashed)), 422,
            "chain broken", before)
    # A batch lost in transit leaves a gap: accepted and reported. A forged entry sent to
    # fill the gap does not link to the entry after it, and is refused.
    first_and_third = post(server.url, token, batch_of(office, [events[0], events[2]]))
    assert first_and_third.status_code == 200 and first_and_third.json()["gaps"] == [[2, 2]]
    middle = central_state(central)
    refused(central, post(server.url, token, batch_of(office, [rehashed[1]])), 422,
            "chain broken", middle)
    filled = post(server.url, token, batch_of(office, [events[1]]))
    assert filled.status_code == 200 and filled.json()["gaps"] == []
    assert central.offices()[0]["devices"][0]["gaps"] == []


def test_an_entry_differing_from_one_already_held_is_refused(setup):
    central, server, office, _ = setup
    office.queue.take_ticket("residence-certificate")
    SyncAgent(office).once()
    event = bodies_all(office)[0]
    event["id"] = "01ZZZZZZZZZZZZZZZZZZZZZZZZ"  # same seq and audit entry, new id
    before = central_state(central)
    refused(central, post(server.url, token_of(office), batch_of(office, [event])), 422,
            "already held", before)


def bodies_all(office):
    return [json.loads(r["body"]) for r in office.store.all("SELECT body FROM outbox "
                                                             "ORDER BY seq")]


def test_same_id_with_a_different_body_is_refused_and_logged(setup):
    central, server, office, _ = setup
    office.queue.take_ticket("residence-certificate")
    SyncAgent(office).once()
    event = bodies_all(office)[0]
    event["actor"] = "mallory"
    before = central_state(central)
    response = post(server.url, token_of(office), batch_of(office, [event]))
    refused(central, response, 422, "different body", before)
    logged = central.rejections()[0]
    assert logged["event_id"] == event["id"] and logged["device_key"] == "MUH/D01"


def forge_signature(events, other):
    """The licence re-signed by a key that is not the device's, carrying the device's
    genuine certificate; the audit hashes are recomputed, so only the signature check can
    catch it."""
    issued = next(e for e in events if e["type"] == "licence.issued")
    sign1 = licence_code.decode(issued["data"]["signed_payload"][len(PREFIX):])
    forged = cose.sign(sign1.payload, keys.generate(), sign1.kid, sign1.unprotected)
    issued["data"]["signed_payload"] = PREFIX + base45.encode(cbor.dumps(forged.to_cbor()))
    return "does not verify (bad_signature"


def not_a_licence(events, other):
    next(e for e in events if e["type"] == "licence.issued")["data"]["signed_payload"] = \
        "NF1:NOT-A-LICENCE"
    return "does not verify (malformed"


def another_devices_licence(events, other):
    theirs = issue_one(other)
    next(e for e in events if e["type"] == "licence.issued")["data"]["signed_payload"] = \
        theirs["signed_payload"]
    return f"the signed number {theirs['number']} is not"


def another_devices_number_too(events, other):
    theirs = issue_one(other)
    issued = next(e for e in events if e["type"] == "licence.issued")
    issued["data"]["signed_payload"] = theirs["signed_payload"]
    issued["data"]["number"] = theirs["number"]  # and D02's number too: still not D01's
    return "is not a number of MUH/D01"


@pytest.mark.parametrize("forge", [forge_signature, not_a_licence, another_devices_licence,
                                   another_devices_number_too])
def test_a_licence_whose_signature_does_not_verify_is_refused_alone(setup, forge):
    """The licence event is held unapplied with its reason; the events before it (ticket,
    application, payment) are applied; the device's audit chain stays whole at central."""
    central, server, office, other = setup
    issue_one(office)
    events = bodies(office)
    data = next(e for e in events if e["type"] == "licence.issued")["data"]
    opened = office.sealer.open(data["application_id"], data["signed_payload"])
    data["signed_payload"] = opened  # the forger works on the code, then seals it again
    words = forge(events, other)
    data["signed_payload"] = office.sealer.seal(data["application_id"], data["signed_payload"])
    rechain(events)
    response = post(server.url, token_of(office), batch_of(office, events))
    assert response.status_code == 200, response.text
    reply = response.json()
    issued = next(e for e in events if e["type"] == "licence.issued")
    assert [r["id"] for r in reply["refused"]] == [issued["id"]]
    assert words in reply["refused"][0]["reason"], reply
    assert sorted(reply["acknowledged"]) == sorted(e["id"] for e in events
                                                   if e is not issued)
    counts = central.counts()
    assert counts["licences"] == 0 and counts["applications"] == 1 and counts["payments"] == 1
    assert counts["events"] == counts["audit"] == len(events)  # the chain is whole
    logged = central.rejections()[0]
    assert logged["event_id"] == issued["id"] and words in logged["reason"]
    # Sent again unchanged, it is refused again (and stored once).
    again = post(server.url, token_of(office), batch_of(office, [issued])).json()
    assert [r["id"] for r in again["refused"]] == [issued["id"]]
    assert central.counts() == counts


def rechain(events):
    """Recompute audit hashes after an edit, as a forger with the device's store would."""
    prev = events[0]["audit_prev_hash"]
    for e in events:
        e["audit_prev_hash"] = prev
        e["audit_hash"] = audit_hash({"seq": e["audit_seq"], "at": e["at"], "actor": e["actor"],
                                      "action": e["type"], "entity_type": e["entity_type"],
                                      "entity_id": e["entity_id"], "data": e["data"],
                                      "prev_hash": prev})
        prev = e["audit_hash"]


def test_a_reference_bundle_with_a_bad_signature_applies_nothing(setup):
    central, server, office, _ = setup
    agent = SyncAgent(office)
    envelope = requests.get(server.url + "/v1/reference", params={"cursor": 0},
                            headers={"Authorization": f"Bearer {token_of(office)}"}).json()
    payload = json.loads(envelope["payload"])
    payload["changes"].append({"version": 999, "kind": "user", "key": "MUH/eve",
                               "body": {"username": "eve", "role": "supervisor",
                                        "pin_hash": "x", "active": True}})
    tampered = {**envelope, "payload": canonical_json(payload)}
    other_key = keys.generate()
    resigned = protocol.sign_bundle(payload, other_key)

    class Replay(requests.Session):
        def __init__(self, reply):
            super().__init__()
            self.reply = reply

        def request(self, method, url, **kw):
            if "/v1/reference" in url:
                response = requests.Response()
                response.status_code, response._content = 200, json.dumps(self.reply).encode()
                return response
            return super().request(method, url, **kw)

    before = all_rows(office.store)
    trust_before = sorted(p.name for p in (office.settings.data_dir / "trust").rglob("*"))
    for reply, words in ((tampered, "signature does not verify"),
                         (resigned, "does not trust")):
        with pytest.raises(SyncError, match=words):
            SyncAgent(office, session=Replay(reply)).pull()
        after = all_rows(office.store)
        assert after == before
        assert sorted(p.name for p in (office.settings.data_dir / "trust").rglob("*")) == \
            trust_before
    assert agent.pull()["changes"] > 0  # the genuine bundle applies


def test_a_bundle_for_another_device_or_replayed_applies_nothing(setup):
    central, server, office, other = setup
    SyncAgent(office).once()
    before = all_rows(office.store)
    # D02's genuine bundle from version 0 (signed by the root) replayed to D01.
    theirs = requests.get(server.url + "/v1/reference", params={"cursor": 0},
                          headers={"Authorization": f"Bearer {token_of(other)}"}).json()
    ours_old = requests.get(server.url + "/v1/reference", params={"cursor": 0},
                            headers={"Authorization": f"Bearer {token_of(office)}"}).json()
    central.add_user("MUH", "nadia", "clerk", "4321")  # so central has moved on
    from sync.protocol import ProtocolError, open_bundle
    from sync.reference import check_addressed
    roots = office.trust().roots
    cursor = office.sync_status()["cursor"]
    with pytest.raises(ProtocolError, match="not MUH/D01"):
        check_addressed(open_bundle(theirs, roots), office, cursor)
    with pytest.raises(ProtocolError, match="continues from version 0"):
        check_addressed(open_bundle(ours_old, roots), office, cursor)
    assert all_rows(office.store) == before


def test_clock_skew_of_days_is_recorded_not_trusted(setup, clock):
    central, server, office, _ = setup
    office.queue.take_ticket("residence-certificate")
    # The device's clock runs 3 days fast: central's clock is separate here.
    central.clock = type(clock)(clock.now() - timedelta(days=3))
    result = SyncAgent(office).once()
    assert result["status"]["pending"] == 0
    assert result["status"]["clock_skew_s"] == 3 * 86400
    device = central.offices()[0]["devices"][0]
    assert device["clock_skew_s"] == 3 * 86400
    # Central's own time is what it records as contact, not the device's.
    assert device["last_contact_at"].startswith(central.now()[:10])
    assert device["last_contact_at"][:10] != office.store.now()[:10]
