"""The outbox (table outbox): every operation's event, kept until central confirms it.

Operations append (through Store.record, in their own transaction); the sync agent reads
what is unsent and marks rows sent only after central's reply names them; the status bars
and `nafitha outbox status` read the counts."""
from __future__ import annotations

import json
from datetime import datetime

from .canonical import canonical_json


def append(store, event: dict) -> None:
    """Keep one event (inside the operation's transaction). event["seq"] comes from the
    store's gap-free "outbox" sequence."""
    store.insert("outbox", {"seq": event["seq"], "id": event["id"], "type": event["type"],
                            "at": event["at"], "entity_id": event["entity_id"],
                            "body": canonical_json(event), "sent_at": None})


def status(store) -> dict:
    row = store.one("SELECT COUNT(*) AS pending, MIN(at) AS oldest FROM outbox "
                    "WHERE sent_at IS NULL")
    total = store.one("SELECT COUNT(*) AS n, COALESCE(MAX(seq), 0) AS last_seq, "
                      "MAX(sent_at) AS last_sent FROM outbox")
    by_type = {r["type"]: r["n"] for r in store.all(
        "SELECT type, COUNT(*) AS n FROM outbox WHERE sent_at IS NULL GROUP BY type")}
    age = None
    if row["oldest"]:
        age = round((store.clock.now() - datetime.fromisoformat(row["oldest"])).total_seconds())
    return {"pending": row["pending"], "total": total["n"], "last_seq": total["last_seq"],
            "oldest_pending_at": row["oldest"], "backlog_age_seconds": age,
            "last_sent_at": total["last_sent"], "pending_by_type": by_type}


def pending(store, limit: int = 500, after_seq: int = 0) -> list[dict]:
    """Unsent events, oldest first, as dicts."""
    return [json.loads(r["body"]) for r in store.all(
        "SELECT body FROM outbox WHERE sent_at IS NULL AND seq > ? ORDER BY seq LIMIT ?",
        (after_seq, limit))]


def unsent_rows(store, limit: int) -> list[dict]:
    """The next batch to send: seq, id and the body as stored (canonical JSON, sent as is)."""
    return store.all("SELECT seq, id, body FROM outbox WHERE sent_at IS NULL ORDER BY seq "
                     "LIMIT ?", (limit,))


def pending_count(store) -> int:
    return store.one("SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL")["n"]


def has_unsent(store) -> bool:
    return store.one("SELECT 1 AS x FROM outbox WHERE sent_at IS NULL LIMIT 1") is not None


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
