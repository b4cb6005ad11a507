"""Reference data central sent (table reference): services, accounts, decisions, roots and
revocation lists as they arrived, one row per kind and key. sync/reference.py applies a
bundle through here; the office reads central's catalogue from it."""
from __future__ import annotations

import json

from .canonical import canonical_json


def put(store, change: dict, now: str, note: str | None) -> None:
    """Keep one change as applied (inside the bundle's transaction)."""
    store.conn.execute(
        "INSERT INTO reference(kind, key, version, body, applied_at, note) "
        "VALUES (?,?,?,?,?,?) ON CONFLICT(kind, key) DO UPDATE SET "
        "version = excluded.version, body = excluded.body, "
        "applied_at = excluded.applied_at, note = excluded.note",
        (change["kind"], change["key"], change["version"], canonical_json(change["body"]),
         now, note))


def clear(store) -> None:
    """A full resync: central's snapshot replaces everything it sent before."""
    store.conn.execute("DELETE FROM reference")


def rows(store, kind: str) -> list[dict]:
    """Every row of one kind, by key, with its body parsed."""
    return [{**r, "body": json.loads(r["body"])} for r in store.all(
        "SELECT kind, key, version, body, applied_at, note FROM reference WHERE kind = ? "
        "ORDER BY key", (kind,))]


def one(store, kind: str, key: str) -> dict | None:
    """One row by kind and key, with its body parsed; None when central sent none."""
    row = store.one("SELECT kind, key, version, body, applied_at, note FROM reference "
                    "WHERE kind = ? AND key = ?", (kind, key))
    return None if row is None else {**row, "body": json.loads(row["body"])}


def rows_between(store, kind: str, field: str, low: str, high: str) -> list[dict]:
    """The rows of one kind whose body's text `field` is in [low, high), in that field's
    order (e.g. bookings by their slot's start: UTC ISO text sorts as time)."""
    path = f"$.{field}"
    return [{**r, "body": json.loads(r["body"])} for r in store.all(
        "SELECT kind, key, version, body, applied_at, note FROM reference WHERE kind = ? "
        "AND json_extract(body, ?) >= ? AND json_extract(body, ?) < ? "
        "ORDER BY json_extract(body, ?), key", (kind, path, low, path, high, path))]


def trust_list(store) -> dict | None:
    """The trust list the office holds (kind "trust_list": central's NTL1 envelope, checked by
    sync/reference.py before it was kept), as its row with the body parsed; None before the
    first. The hub serves its body at /verify/trust-list.json."""
    row = store.one("SELECT kind, key, version, body, applied_at, note FROM reference "
                    "WHERE kind = 'trust_list' AND key = 'list'")
    return None if row is None else {**row, "body": json.loads(row["body"])}
