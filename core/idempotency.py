"""Retries never double anything (docs/hub.md, "Retries"): the reply to a keyed write is kept
under the device and its idempotency key, in the same transaction as the write, so a retry
of a request whose answer was lost gets the first answer and changes nothing. The same key
with another request is refused. Replies are kept a day."""
from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

from .canonical import canonical_json
from .clock import iso
from .errors import InvalidState, ValidationError

KEY_RE = re.compile(r"^[A-Za-z0-9_-]{8,100}$")
KEEP_HOURS = 24


def check_key(key) -> str:
    if not isinstance(key, str) or not KEY_RE.fullmatch(key):
        # A client's fault, not a person's: no `problem` for the apps to put in words.
        raise ValidationError("Idempotency-Key: 8 to 100 letters, digits, '-' or '_'",
                              field="idempotency_key")
    return key


def fingerprint(operation: str, request: dict) -> str:
    """What the key stands for: the operation and everything it was asked."""
    return hashlib.sha256(canonical_json({"operation": operation, "request": request})
                          .encode("utf-8")).hexdigest()


class Replies:
    def __init__(self, store):
        self.store = store

    def replay(self, device_id: str, key: str, print_: str):
        """The reply kept for this key (inside the caller's transaction), or None."""
        row = self.store.one("SELECT fingerprint, reply FROM hub_replies WHERE device_id = ? "
                             "AND key = ?", (device_id, key))
        if row is None:
            return None
        if row["fingerprint"] != print_:
            raise InvalidState("this Idempotency-Key was used for another request; a new "
                               "request needs a new key", reason="idempotency_conflict")
        return json.loads(row["reply"])

    def keep(self, device_id: str, key: str, print_: str, reply) -> None:
        now = self.store.clock.now()
        self.store.insert("hub_replies", {"device_id": device_id, "key": key,
                                          "fingerprint": print_, "reply": json.dumps(reply),
                                          "created_at": iso(now)})
        self.store.conn.execute("DELETE FROM hub_replies WHERE created_at < ?",
                                (iso(now - timedelta(hours=KEEP_HOURS)),))
