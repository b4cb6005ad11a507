"""The wire events carry their audit entries: central can check each device's chain."""
import copy
import json

import pytest

from sync.protocol import ENVELOPE, ProtocolError, check_audit_chain, check_envelope


def outbox_events(office) -> list[dict]:
    return [json.loads(r["body"]) for r in office.store.all("SELECT body FROM outbox ORDER BY seq")]


@pytest.fixture
def events(office, issued):
    office.queue.take_ticket("R")
    issued()
    return outbox_events(office)


def test_every_event_has_the_documented_envelope(events):
    assert events and all(tuple(sorted(e)) == tuple(sorted(ENVELOPE)) for e in events)
    for e in events:
        check_envelope(e)


def test_the_chain_checks_out_whole_and_in_batches(events):
    check_audit_chain(events)
    half = len(events) // 2
    check_audit_chain(events[:half])
    last = events[half - 1]
    check_audit_chain(events[half:], previous=(last["audit_seq"], last["audit_hash"]))


def test_an_edited_event_is_caught(events):
    tampered = copy.deepcopy(events)
    tampered[2]["actor"] = "mallory"  # the entry changed, its hash did not
    with pytest.raises(ProtocolError, match="altered"):
        check_audit_chain(tampered)


def test_a_removed_or_reordered_event_is_caught(events):
    with pytest.raises(ProtocolError, match="chain broken"):
        check_audit_chain(events[:1] + events[2:])
    swapped = copy.deepcopy(events)
    swapped[1]["audit_seq"], swapped[2]["audit_seq"] = swapped[2]["audit_seq"], \
        swapped[1]["audit_seq"]
    with pytest.raises(ProtocolError, match="altered"):
        check_audit_chain(swapped)


def test_a_batch_that_does_not_follow_what_central_holds_is_caught(events):
    with pytest.raises(ProtocolError, match="chain broken"):
        check_audit_chain(events[3:], previous=(3, "f" * 64))


@pytest.mark.parametrize("change, message", [
    (lambda e: e.pop("audit_hash"), "missing audit_hash"),
    (lambda e: e.update(extra=1), "unknown fields extra"),
    (lambda e: e.update(seq=0), "seq must be a positive integer"),
    (lambda e: e.update(data=[]), "data must be an object"),
])
def test_malformed_envelopes_are_refused(events, change, message):
    event = copy.deepcopy(events[0])
    change(event)
    with pytest.raises(ProtocolError, match=message):
        check_envelope(event)
