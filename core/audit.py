"""The hash-chained audit log (tables audit and audit_head): written with every operation,
verified on demand.

Each entry's hash covers its fields and the previous entry's hash, so an edited entry breaks
its own hash, a removed or reordered one breaks the chain (and the sequence), and a removed
tail no longer matches the head record written with every entry."""
from __future__ import annotations

import hashlib
import json

from .canonical import canonical_json

GENESIS = "0" * 64


def audit_hash(entry: dict) -> str:
    fields = {k: entry[k] for k in ("seq", "at", "actor", "action", "entity_type", "entity_id",
                                    "data", "prev_hash")}
    return hashlib.sha256(canonical_json(fields).encode("utf-8")).hexdigest()


def append(store, at: str, actor: str, action: str, entity_type: str, entity_id: str,
           data: dict) -> dict:
    """Chain one entry after the head (inside the operation's transaction); the entry with
    its hash."""
    head = store.conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
    seq, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS)
    entry = {"seq": seq, "at": at, "actor": actor, "action": action,
             "entity_type": entity_type, "entity_id": entity_id, "data": data,
             "prev_hash": prev_hash}
    digest = audit_hash(entry)
    store.insert("audit", {**entry, "data": canonical_json(data), "hash": digest})
    store.conn.execute("INSERT INTO audit_head(id, seq, hash) VALUES (1, ?, ?) "
                       "ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
                       (seq, digest))
    return {**entry, "hash": digest}


def verify_chain(store) -> dict:
    problems: list[str] = []
    prev_hash = GENESIS
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
