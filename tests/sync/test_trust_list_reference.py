"""The trust list as reference data (sync/reference.py, docs/verify.md): the office keeps the
newest list central sent once it verifies under the office's roots; a list that does not
verify refuses the whole bundle (nothing applied, the held list kept), and an older one is
ignored with a note."""
from __future__ import annotations

import base64
import json

import pytest

from core import reference, sync_state
from core.credentials import keys, revocation
from sync import protocol
from sync.agent import SyncAgent
from sync.protocol import ProtocolError
from sync.reference import apply_bundle


@pytest.fixture
def pulled(make_central, serve, make_office):
    """An office that pulled central's first trust list."""
    central = make_central()
    office = make_office(central, serve(central).url)
    SyncAgent(office).once()
    return central, office


def version_of(envelope: dict) -> int:
    return json.loads(base64.b64decode(envelope["payload"]))["version"]


def bundle(office, *envelopes) -> dict:
    """A bundle continuing from the office's cursor, as central would send it."""
    cursor = int(sync_state.get(office.store, "cursor", 0))
    return {"office": "MUH", "device": "D01", "full": False, "from": cursor,
            "cursor": cursor + len(envelopes), "more": False, "issued_at": office.store.now(),
            "changes": [{"version": cursor + n, "kind": "trust_list", "key": "list",
                         "body": e} for n, e in enumerate(envelopes, start=1)]}


def listed(central, version: int, signer=None, revoked=("MUH-2026-D01-000001",)) -> dict:
    rl = revocation.make(central.root_key, version, 1_800_000_000, list(revoked), {})
    return protocol.sign_trust_list(version, 1_800_000_000, [central.root_public],
                                    rl.to_bytes(), signer or central.root_key)


def held(office) -> dict:
    row = reference.trust_list(office.store)
    return {"body": row["body"], "note": row["note"]}


def state(office) -> tuple:
    return held(office), sync_state.get(office.store, "cursor")


def test_the_first_pull_keeps_central_s_list_and_a_newer_one_replaces_it(pulled):
    central, office = pulled
    first = held(office)
    assert version_of(first["body"]) == 1 and first["note"] is None
    newer = listed(central, 7)
    summary = apply_bundle(office, bundle(office, newer))
    assert summary["trust_list"] == {"installed": 7}
    assert held(office)["body"] == newer


def test_an_older_list_is_ignored_with_a_note_and_the_held_one_kept(pulled):
    central, office = pulled
    apply_bundle(office, bundle(office, listed(central, 5)))
    kept = held(office)["body"]
    cursor = sync_state.get(office.store, "cursor")
    summary = apply_bundle(office, bundle(office, listed(central, 4)))
    assert summary["trust_list"] == {"kept": 5, "ignored": 4}
    after = held(office)
    assert after["body"] == kept and "version 4 offered is not newer" in after["note"]
    assert int(sync_state.get(office.store, "cursor")) == int(cursor) + 1  # the rest applied
    # the same version again is not newer either
    assert apply_bundle(office, bundle(office, listed(central, 5)))["trust_list"] == \
        {"kept": 5, "ignored": 5}


def test_a_full_resync_with_an_older_list_keeps_the_held_one(pulled):
    central, office = pulled
    apply_bundle(office, bundle(office, listed(central, 9)))
    kept = held(office)["body"]
    full = {**bundle(office, listed(central, 2)), "full": True, "from": 0}
    apply_bundle(office, full)
    assert held(office)["body"] == kept


def test_of_several_in_one_bundle_the_newest_is_kept(pulled):
    central, office = pulled
    apply_bundle(office, bundle(office, listed(central, 2), listed(central, 3)))
    assert version_of(held(office)["body"]) == 3


def forged_signature(central) -> dict:
    good = listed(central, 8)
    other = listed(central, 8, revoked=())  # another payload's signature
    return {**good, "signature": other["signature"]}


def other_root(central) -> dict:
    stranger = keys.generate()
    rl = revocation.make(stranger, 8, 1_800_000_000, [], {})
    return protocol.sign_trust_list(8, 1_800_000_000, [keys.public_bytes(stranger)],
                                    rl.to_bytes(), stranger)


def flipped_payload(central) -> dict:
    good = listed(central, 8)
    data = bytearray(base64.b64decode(good["payload"]))
    data[-3] ^= 1
    return {**good, "payload": base64.b64encode(bytes(data)).decode()}


def foreign_revocations(central) -> dict:
    """Signed by central's root, but the revocation list inside by another key."""
    stranger = keys.generate()
    rl = revocation.make(stranger, 8, 1_800_000_000, [], {})
    return protocol.sign_trust_list(8, 1_800_000_000, [central.root_public], rl.to_bytes(),
                                    central.root_key)


def not_base64(central) -> dict:
    return {**listed(central, 8), "payload": "not base64 !"}


@pytest.mark.parametrize("make, code", [
    (forged_signature, "bad_signature"), (flipped_payload, "bad_signature"),
    (other_root, "unknown_root"), (not_base64, "malformed"),
    (foreign_revocations, "its revocation list"),
])
def test_a_list_that_does_not_verify_refuses_the_bundle_and_the_held_one_stays(pulled, make,
                                                                               code):
    central, office = pulled
    before = state(office)
    with pytest.raises(ProtocolError) as refused:
        apply_bundle(office, bundle(office, make(central)))
    assert code in refused.value.message and "nothing applied" in refused.value.message
    assert state(office) == before


@pytest.mark.parametrize("body", [
    "text", {"payload": 1, "kid": "00", "signature": "x"}, {"format": "NTL1"},
])
def test_a_body_of_the_wrong_shape_refuses_the_bundle(pulled, body):
    _central, office = pulled
    before = state(office)
    with pytest.raises(ProtocolError):
        apply_bundle(office, bundle(office, body))
    assert state(office) == before


def test_a_revocation_at_central_reaches_the_office_s_list_after_a_pull(
        make_central, serve, make_office):
    central = make_central()
    url = serve(central).url
    office = make_office(central, url)
    make_office(central, url, office="SIT", device="D01", seed=2)
    SyncAgent(office).once()
    before = version_of(held(office)["body"])
    central.revoke_device("SIT", "D01")  # a new revocation list, so a new trust list
    assert version_of(held(office)["body"]) == before  # not yet pulled
    SyncAgent(office).once()
    body = held(office)["body"]
    assert version_of(body) == before + 1
    payload = protocol.open_trust_list(body, office.trust().roots)
    rl = revocation.parse_bytes(base64.b64decode(payload["revocation_list"]))
    assert rl.devices.keys() == {"SIT/D01"} and rl.number == office.trust().revocations.number
