"""The outbox (table outbox): every operation's event, kept until central confirms it.

Operations append (through Store.record, in their own transaction); the sync agent reads
what is unsent and marks rows sent only after central's reply names them; the status bars
and `nafitha outbox status` read the counts.

An event central refuses (it touches what is not this office's) is *held*: set aside with
central's reason, not sent again by itself, so the events behind it go on. The operator
sees it (`nafitha outbox list --held`, the counter's status bar) and either retries it once
the cause is fixed, or, with a supervisor and a reason, voids it: both are audited."""
from __future__ import annotations

import json
from datetime import datetime

from .canonical import canonical_json
from .errors import InvalidState, NotFound

# Waiting to be sent: neither sent, nor held, nor voided.
WAITING = "sent_at IS NULL AND held_at IS NULL AND voided_at IS NULL"


def append(store, event: dict) -> None:
    """Keep one event (inside the operation's transaction). event["seq"] comes from the
    store's gap-free "outbox" sequence."""
    store.insert("outbox", {"seq": event["seq"], "id": event["id"], "type": event["type"],
                            "at": event["at"], "entity_id": event["entity_id"],
                            "body": canonical_json(event), "sent_at": None})


def status(store) -> dict:
    row = store.one(f"SELECT COUNT(*) AS pending, MIN(at) AS oldest FROM outbox "
                    f"WHERE {WAITING}")
    total = store.one("SELECT COUNT(*) AS n, COALESCE(MAX(seq), 0) AS last_seq, "
                      "MAX(sent_at) AS last_sent FROM outbox")
    by_type = {r["type"]: r["n"] for r in store.all(
        f"SELECT type, COUNT(*) AS n FROM outbox WHERE {WAITING} GROUP BY type")}
    held = store.one("SELECT COUNT(*) AS n, MAX(held_reason) AS reason FROM outbox "
                     "WHERE held_at IS NOT NULL AND voided_at IS NULL")
    age = None
    if row["oldest"]:
        age = round((store.clock.now() - datetime.fromisoformat(row["oldest"])).total_seconds())
    return {"pending": row["pending"], "total": total["n"], "last_seq": total["last_seq"],
            "oldest_pending_at": row["oldest"], "backlog_age_seconds": age,
            "last_sent_at": total["last_sent"], "pending_by_type": by_type,
            "held": held["n"], "voided": store.one(
                "SELECT COUNT(*) AS n FROM outbox WHERE voided_at IS NOT NULL")["n"]}


def pending(store, limit: int = 500, after_seq: int = 0) -> list[dict]:
    """Events waiting to be sent, oldest first, as dicts."""
    return [json.loads(r["body"]) for r in store.all(
        f"SELECT body FROM outbox WHERE {WAITING} AND seq > ? ORDER BY seq LIMIT ?",
        (after_seq, limit))]


def unsent_rows(store, limit: int) -> list[dict]:
    """The next batch to send: seq, id and the body as stored (canonical JSON, sent as is)."""
    return store.all(f"SELECT seq, id, body FROM outbox WHERE {WAITING} ORDER BY seq "
                     f"LIMIT ?", (limit,))


def unconfirmed_entities(store) -> set[str]:
    """The objects with an event central has not confirmed (waiting, held or voided)."""
    return {r["entity_id"] for r in store.all(
        "SELECT DISTINCT entity_id FROM outbox WHERE sent_at IS NULL")}


def pending_count(store) -> int:
    return store.one(f"SELECT COUNT(*) AS n FROM outbox WHERE {WAITING}")["n"]


def has_unsent(store) -> bool:
    """Something is waiting to be sent (held events are not: they wait for the operator)."""
    return store.one(f"SELECT 1 AS x FROM outbox WHERE {WAITING} LIMIT 1") is not None


def hold(store, refused: list[dict], at: str) -> int:
    """Central refused these events ({"id", "code", "reason"}): set them aside. How many
    were newly held."""
    with store.atomic():
        held = 0
        for r in refused:
            held += store.conn.execute(
                "UPDATE outbox SET held_at = ?, held_code = ?, held_reason = ? WHERE id = ? "
                "AND sent_at IS NULL AND voided_at IS NULL",
                (at, str(r.get("code") or "refused")[:64], str(r.get("reason") or "")[:500],
                 r["id"])).rowcount
        return held


def held(store, limit: int = 200) -> list[dict]:
    """The held events, oldest first: what they are and why central refused them."""
    return store.all("SELECT seq, id, type, at, entity_id, held_at, held_code, held_reason "
                     "FROM outbox WHERE held_at IS NOT NULL AND voided_at IS NULL "
                     "ORDER BY seq LIMIT ?", (limit,))


def _held_row(store, event: str) -> dict:
    row = store.one("SELECT seq, id, type, entity_id, held_code, held_reason, voided_at "
                    "FROM outbox WHERE id = ? AND held_at IS NOT NULL", (event,))
    if row is None:
        raise NotFound(f"no held event {event!r} (nafitha outbox list --held)", event=event)
    if row["voided_at"]:
        raise InvalidState(f"event {event} was voided on {row['voided_at'][:10]}",
                           reason="voided")
    return row


def release(store, event: str) -> dict:
    """The operator retries a held event: it is sent again (and judged again) next time.
    Audited (outbox.retried)."""
    with store.atomic():
        row = _held_row(store, event)
        store.conn.execute("UPDATE outbox SET held_at = NULL, held_code = NULL, "
                           "held_reason = NULL WHERE id = ?", (event,))
        store.record("outbox.retried", "event", row["id"],
                     {"event_id": row["id"], "type": row["type"], "code": row["held_code"]})
        return row


def void(store, event: str, reason: str) -> dict:
    """The operator gives a held event up for good: never sent again (central keeps it as
    refused). Audited (outbox.voided) under the supervisor who authorised it."""
    with store.atomic():
        row = _held_row(store, event)
        store.conn.execute("UPDATE outbox SET voided_at = ? WHERE id = ?",
                           (store.now(), event))
        store.record("outbox.voided", "event", row["id"],
                     {"event_id": row["id"], "type": row["type"], "code": row["held_code"],
                      "reason": reason})
        return {**row, "voided_at": store.now()}


def mark_sent(store, seqs: list[int], sent_at: str) -> None:
    """Central named these events in its reply: they are sent (a second mark is harmless)."""
    with store.atomic():
        store.conn.executemany("UPDATE outbox SET sent_at = ? WHERE seq = ? AND sent_at IS NULL",
                               [(sent_at, seq) for seq in seqs])


def check_sequence(store) -> list[int]:
    """Missing sequence numbers (there must be none)."""
    seqs = [r[0] for r in store.conn.execute("SELECT seq FROM outbox ORDER BY seq")]
    missing = []
    expected = 1
    for s in seqs:
        while expected < s:
            missing.append(expected)
            expected += 1
        expected = s + 1
    return missing
