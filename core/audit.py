"""Verifying the hash-chained audit log.

Each entry's hash covers its fields and the previous entry's hash, so an edited entry breaks
its own hash, a removed or reordered one breaks the chain (and the sequence), and a removed
tail no longer matches the head record written with every entry."""
from __future__ import annotations

import json

from .store import audit_hash


def verify_chain(store) -> dict:
    problems: list[str] = []
    prev_hash = "0" * 64
    expected_seq = 1
    count = 0
    for row in store.conn.execute("SELECT seq, at, actor, action, entity_type, entity_id, data, "
                                  "prev_hash, hash FROM audit ORDER BY seq"):
        seq, at, actor, action, etype, eid, data, prev, digest = row
        count += 1
        if seq != expected_seq:
            problems.append(f"entry {expected_seq} is missing (next is {seq})")
            expected_seq = seq
        if prev != prev_hash:
            problems.append(f"entry {seq} does not follow entry {seq - 1} (chain broken)")
        try:
            parsed = json.loads(data)
        except ValueError:
            parsed = data
        entry = {"seq": seq, "at": at, "actor": actor, "action": action, "entity_type": etype,
                 "entity_id": eid, "data": parsed, "prev_hash": prev}
        if audit_hash(entry) != digest:
            problems.append(f"entry {seq} was altered (hash mismatch)")
        prev_hash = digest
        expected_seq += 1
        if len(problems) > 20:
            break
    head = store.conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
    if head and (head[0] != expected_seq - 1 or head[1] != prev_hash):
        problems.append(f"the log ends at entry {expected_seq - 1} but the head records entry "
                        f"{head[0]} (entries removed from the end)")
    if not head and count:
        problems.append("the head record is missing")
    return {"ok": not problems, "entries": count, "problems": problems,
            "head": head[1] if head else None}
