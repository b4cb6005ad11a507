"""The hash-chained audit log (tables audit and audit_head): written with every operation,
verified on demand.

Each entry's hash covers its fields and the previous entry's hash, so an edited entry breaks
its own hash, a removed or reordered one breaks the chain (and the sequence), and a removed
tail no longer matches the head record written with every entry.

The head is signed with the device's key at the end of every transaction that chained
entries, so a log rewritten end to end (every hash recomputed to the head) no longer
verifies without that key. A transaction signs only if the head it chained from carried a
good signature (or there was none yet): an unsigned or tampered head is never laundered by
the next ticket. `seal` signs a head after checking the whole chain, when a key is new or
the store was upgraded from unsigned heads (docs/audit.md)."""
from __future__ import annotations

import hashlib
import json

from .canonical import canonical_json
from .credentials import keys
from .errors import InvalidState

GENESIS = "0" * 64
HEAD_CONTEXT = "nafitha.audit-head.v1"
NO_HEAD: dict = {}  # what a transaction chained from when the log was empty


def audit_hash(entry: dict) -> str:
    fields = {k: entry[k] for k in ("seq", "at", "actor", "action", "entity_type", "entity_id",
                                    "data", "prev_hash")}
    return hashlib.sha256(canonical_json(fields).encode("utf-8")).hexdigest()


def head(store) -> dict:
    """The head record (seq, hash, and from schema 10 signature, signer), or NO_HEAD."""
    return store.one("SELECT * FROM audit_head WHERE id = 1") or NO_HEAD


def head_message(store, seq: int, digest: str) -> bytes:
    """What the device key signs: the head, bound to this office and device."""
    return canonical_json({"context": HEAD_CONTEXT,
                           "device": f"{store.office_code}/{store.device_id}",
                           "seq": seq, "hash": digest}).encode("utf-8")


def append(store, at: str, actor: str, action: str, entity_type: str, entity_id: str,
           data: dict) -> tuple[dict, dict]:
    """Chain one entry after the head (inside the operation's transaction); the entry with
    its hash, and the head it followed. The head's signature is written again at commit
    (Store.atomic -> sign_after)."""
    previous = head(store)
    seq, prev_hash = (previous["seq"] + 1, previous["hash"]) if previous else (1, GENESIS)
    entry = {"seq": seq, "at": at, "actor": actor, "action": action,
             "entity_type": entity_type, "entity_id": entity_id, "data": data,
             "prev_hash": prev_hash}
    digest = audit_hash(entry)
    store.insert("audit", {**entry, "data": canonical_json(data), "hash": digest})
    store.conn.execute("INSERT INTO audit_head(id, seq, hash) VALUES (1, ?, ?) "
                       "ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
                       (seq, digest))
    return {**entry, "hash": digest}, previous


def adopt(store, entry: dict) -> None:
    """Chain an entry this device wrote before its store was restored from a backup, as
    central holds it (core/backup.py): it must follow the head and hash to what it says,
    else InvalidState and nothing is written (inside the restore's transaction)."""
    previous = head(store)
    seq, prev_hash = (previous["seq"] + 1, previous["hash"]) if previous else (1, GENESIS)
    if entry["seq"] != seq or entry["prev_hash"] != prev_hash:
        raise InvalidState(f"central's audit entry {entry['seq']} does not follow this "
                           f"store's head (entry {seq - 1})")
    fields = {k: entry[k] for k in ("seq", "at", "actor", "action", "entity_type",
                                    "entity_id", "data", "prev_hash")}
    if audit_hash(fields) != entry["hash"]:
        raise InvalidState(f"central's audit entry {entry['seq']} does not match its hash")
    store.insert("audit", {**fields, "data": canonical_json(entry["data"]),
                           "hash": entry["hash"]})
    store.conn.execute("INSERT INTO audit_head(id, seq, hash) VALUES (1, ?, ?) "
                       "ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
                       (seq, entry["hash"]))


def latest(store, entity_type: str, entity_id: str, actions: tuple[str, ...],
           limit: int) -> list[dict]:
    """The newest entries of these actions about one entity, newest first, data decoded."""
    marks = ", ".join("?" * len(actions))
    rows = store.all(f"SELECT at, action, data FROM audit WHERE entity_type = ? AND "
                     f"entity_id = ? AND action IN ({marks}) ORDER BY seq DESC LIMIT ?",
                     (entity_type, entity_id, *actions, limit))
    return [{**row, "data": json.loads(row["data"])} for row in rows]


def entries(store, batch: int = 5000):
    """Every entry, oldest first, data decoded ({seq, at, actor, action, data}), read in
    batches: what replaying the log needs (the KPI facts of an upgraded store, core/kpis.py)."""
    after = 0
    while True:
        rows = store.all("SELECT seq, at, actor, action, data FROM audit WHERE seq > ? "
                         "ORDER BY seq LIMIT ?", (after, batch))
        for row in rows:
            yield {**row, "data": json.loads(row["data"])}
        if len(rows) < batch:
            return
        after = rows[-1]["seq"]


def signed_by(store, record: dict, public: bytes) -> bool:
    """Whether a head record carries `public`'s good signature over its seq and hash."""
    if not record or not record.get("signature") or record.get("signer") != public.hex():
        return False
    try:
        signature = bytes.fromhex(record["signature"])
    except ValueError:
        return False
    return keys.signature_ok(public, signature,
                             head_message(store, record["seq"], record["hash"]))


def _sign(store, key, public: bytes, seq: int, digest: str) -> dict:
    signature = key.sign(head_message(store, seq, digest)).hex()
    store.conn.execute("UPDATE audit_head SET signature = ?, signer = ? WHERE id = 1",
                       (signature, public.hex()))
    return {"id": 1, "seq": seq, "hash": digest, "signature": signature,
            "signer": public.hex()}


def sign_after(store, chained_from: dict, last: dict, key_file, trusted: dict | None
               ) -> dict | None:
    """At the commit of a transaction that chained entries (`last`: the newest): sign the
    new head if the head it chained from was good (`trusted`: the head this process signed
    last, which needs no second check). Returns the head signed, or None when it is left
    unsigned (and the previous head's signature, which no longer matches, is cleared)."""
    key = key_file.private() if key_file else None
    if key is not None:
        public = key_file.public()
        if chained_from is NO_HEAD or chained_from == trusted \
                or signed_by(store, chained_from, public):
            return _sign(store, key, public, last["seq"], last["hash"])
    if chained_from.get("signature"):
        store.conn.execute("UPDATE audit_head SET signature = NULL, signer = NULL "
                           "WHERE id = 1")
    return None


def seal(store, key) -> dict:
    """Sign the head after checking the whole chain (a new key, an upgraded store). A
    broken chain is not sealed: it stays reported as broken."""
    public = keys.public_bytes(key)
    with store.atomic():
        result = verify_chain(store)
        if not result["ok"]:
            raise InvalidState("the audit log is not intact, so its head is not signed: "
                               + "; ".join(result["problems"][:3]))
        record = head(store)
        if record and not signed_by(store, record, public):
            _sign(store, key, public, record["seq"], record["hash"])
            return {"sealed": True, "entries": result["entries"]}
    return {"sealed": False, "entries": result["entries"]}


def verify_chain(store, public: bytes | None = None) -> dict:
    """Every entry's hash and link, the head against the last entry, and (with the
    device's public key) the head's signature."""
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
    record = head(store)
    if record and (record["seq"] != expected_seq - 1 or record["hash"] != prev_hash):
        problems.append(f"the log ends at entry {expected_seq - 1} but the head records entry "
                        f"{record['seq']} (entries removed from the end)")
    if not record and count:
        problems.append("the head record is missing")
    signed = bool(record and public and signed_by(store, record, public))
    if record and public and not signed:
        problems.append(_signature_problem(record, public))
    return {"ok": not problems, "entries": count, "problems": problems,
            "head": record["hash"] if record else None, "signed": signed}


def _signature_problem(record: dict, public: bytes) -> str:
    if not record.get("signature"):
        return ("the head is not signed by this device's key (a log rewritten end to end "
                "would look the same); if the key is new, `nafitha keys request` seals it")
    if record.get("signer") != public.hex():
        return "the head is signed by another key, not this device's"
    return "the head's signature does not match it (the log was rewritten)"
