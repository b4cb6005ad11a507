"""Reading the outbox: what waits to be sent to central (the sync agent marks rows sent)."""
from __future__ import annotations

import json
from datetime import datetime


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
    return [json.loads(r["body"]) for r in store.all(
        "SELECT body FROM outbox WHERE sent_at IS NULL AND seq > ? ORDER BY seq LIMIT ?",
        (after_seq, limit))]


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
