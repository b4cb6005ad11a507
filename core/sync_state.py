"""What the sync agent keeps in the store (table sync_state) and what the UIs show of it.

The agent writes; the kiosk, the counter and `nafitha sync status` read. Kept in core so a UI
can show the sync state without importing the agent."""
from __future__ import annotations

from datetime import datetime

from . import outbox

KEYS = ("cursor", "last_attempt_at", "last_success_at", "last_error", "last_error_at",
        "last_pull_at", "central_url", "clock_skew_s", "central_gaps")


def get(store, key: str, default=None):
    row = store.one("SELECT value FROM sync_state WHERE key = ?", (key,))
    return default if row is None or row["value"] is None else row["value"]


def put(store, **values) -> None:
    with store.atomic():
        for key, value in values.items():
            assert key in KEYS, key
            store.conn.execute("INSERT INTO sync_state(key, value) VALUES (?, ?) ON CONFLICT(key) "
                               "DO UPDATE SET value = excluded.value",
                               (key, None if value is None else str(value)))


def status(store) -> dict:
    """Pending count, backlog age, last success and last error, and whether the last
    attempt reached central (online)."""
    state = {r["key"]: r["value"] for r in store.all("SELECT key, value FROM sync_state")}
    out = outbox.status(store)
    last_ok, last_err = state.get("last_success_at"), state.get("last_error_at")
    online = None
    if last_ok or last_err:
        online = bool(last_ok) and (not last_err or last_ok >= last_err)
    since = None
    if last_ok:
        since = round((store.clock.now() - datetime.fromisoformat(last_ok)).total_seconds())
    return {"online": online, "pending": out["pending"],
            "backlog_age_seconds": out["backlog_age_seconds"],
            "oldest_pending_at": out["oldest_pending_at"],
            "last_success_at": last_ok, "seconds_since_success": since,
            "last_error": state.get("last_error") if not online else None,
            "last_error_at": last_err, "last_attempt_at": state.get("last_attempt_at"),
            "cursor": int(state.get("cursor") or 0), "central_url": state.get("central_url"),
            "clock_skew_s": int(state["clock_skew_s"]) if state.get("clock_skew_s") else None,
            "sent_total": out["total"] - out["pending"] - out["held"] - out["voided"],
            "held": out["held"]}
