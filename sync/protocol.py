"""What crosses the wire between a device and central: outbox events (docs/events.md).

Central checks every event's audit link on arrival: the event carries its audit entry, so
the entry's hash can be recomputed and chained to the device's previous one. Pure functions,
shared by the agent and central."""
from __future__ import annotations

from core.store import audit_hash

ENVELOPE = ("id", "seq", "device", "office", "type", "at", "actor", "entity_type", "entity_id",
            "audit_seq", "audit_prev_hash", "audit_hash", "data")
GENESIS = "0" * 64


class ProtocolError(ValueError):
    """An event or batch that cannot be accepted, with the reason."""


def check_envelope(event) -> None:
    if not isinstance(event, dict):
        raise ProtocolError("an event is a JSON object")
    missing = [k for k in ENVELOPE if k not in event]
    if missing:
        raise ProtocolError(f"event {event.get('id')!r}: missing {', '.join(missing)}")
    extra = sorted(set(event) - set(ENVELOPE))
    if extra:
        raise ProtocolError(f"event {event['id']!r}: unknown fields {', '.join(extra)}")
    for key in ("seq", "audit_seq"):
        if isinstance(event[key], bool) or not isinstance(event[key], int) or event[key] < 1:
            raise ProtocolError(f"event {event['id']!r}: {key} must be a positive integer")
    if not isinstance(event["data"], dict):
        raise ProtocolError(f"event {event['id']!r}: data must be an object")


def audit_entry_hash(event: dict) -> str:
    """The hash of the audit entry the event carries, recomputed."""
    return audit_hash({"seq": event["audit_seq"], "at": event["at"], "actor": event["actor"],
                       "action": event["type"], "entity_type": event["entity_type"],
                       "entity_id": event["entity_id"], "data": event["data"],
                       "prev_hash": event["audit_prev_hash"]})


def check_audit_chain(events: list[dict], previous: tuple[int, str] | None = None) -> None:
    """Each event's audit entry hashes to its audit_hash and follows the one before it.
    previous: (audit_seq, audit_hash) central already holds for this device, if any."""
    last_seq, last_hash = previous if previous else (0, GENESIS)
    for event in sorted(events, key=lambda e: e["audit_seq"]):
        check_envelope(event)
        if audit_entry_hash(event) != event["audit_hash"]:
            raise ProtocolError(f"event {event['id']}: its audit entry was altered "
                                f"(hash mismatch at audit entry {event['audit_seq']})")
        if event["audit_seq"] != last_seq + 1:
            raise ProtocolError(f"event {event['id']}: audit entry {last_seq + 1} is missing "
                                f"before entry {event['audit_seq']} (chain broken)")
        if event["audit_prev_hash"] != last_hash:
            raise ProtocolError(f"event {event['id']}: audit entry {event['audit_seq']} does "
                                f"not follow entry {last_seq} (chain broken)")
        last_seq, last_hash = event["audit_seq"], event["audit_hash"]
