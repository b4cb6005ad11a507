"""Following a ticket on a resident's phone (docs/phone.md): the follow token and what a
phone may do with it.

The ticket's slip prints a QR of the follow link, `<hub.public_url>/q/<token>`, where

    token = <office code> "." <ticket id> "." <mac>
    mac   = the first MAC_LENGTH characters of base32(HMAC-SHA256(secret, "<office>.<id>"))

and `secret` is this office's follow secret (table follow_secrets, 32 random bytes, made on
first use; its SQL lives here). The token is the only credential: whoever holds the slip may
watch that one ticket, ask once for more time, or leave the queue, nothing else. It carries
no personal data (a ticket has none). A token of another office's ticket, a forged or
mangled one, or one whose ticket this store does not hold is refused (PermissionDenied
reason other_office / forged, NotFound reason no_such_ticket), before anything is read or
written.

What a phone shows (`view`): the number, the service, the state, people ahead and the wait
estimate while it waits, the counter once called, and whether "more time" was used."""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from .errors import InvalidState, NotFound, PermissionDenied
from .queue import FOLLOW_SCHEMA

SECRET_BYTES = 32
# 80 bits of the HMAC: far beyond guessing over a centre's Wi-Fi.
MAC_LENGTH = 16
PHONE_ACTOR = "phone"  # who the audit names for what a phone did
_TOKEN = re.compile(rf"^([A-Z0-9]{{1,8}})\.([A-Za-z0-9_-]{{1,64}})\.([A-Z2-7]{{{MAC_LENGTH}}})$")
# What a phone is told of its ticket (hub/phone.py sends these keys, plus the office's).
VIEW_KEYS = ("number", "service_code", "state", "counter", "call_count", "people_ahead",
             "estimated_wait_minutes", "postponed", "can_have_more_time")


class Follow:
    def __init__(self, office):
        self.office = office
        self.store = office.store
        self._secret: bytes | None = None

    # --- the token --------------------------------------------------------------------------
    def secret(self) -> bytes:
        """This office's follow secret, made on first use (every process on the store gets
        the same one: the first insert wins)."""
        if self._secret is None:
            if not self.store.has_schema(FOLLOW_SCHEMA):
                raise InvalidState("this store predates following tickets (schema 24); "
                                   "upgrade it", reason="no_follow")
            code = self.office.settings.office.code
            with self.store.atomic():
                self.store.conn.execute(
                    "INSERT OR IGNORE INTO follow_secrets(office, secret, created_at) "
                    "VALUES (?, ?, ?)", (code, secrets.token_bytes(SECRET_BYTES),
                                          self.store.now()))
            row = self.store.one("SELECT secret FROM follow_secrets WHERE office = ?", (code,))
            self._secret = bytes(row["secret"])
        return self._secret

    def _mac(self, office: str, ticket_id: str) -> str:
        digest = hmac.new(self.secret(), f"{office}.{ticket_id}".encode(),
                          hashlib.sha256).digest()
        return base64.b32encode(digest).decode("ascii")[:MAC_LENGTH]

    def token(self, ticket_id: str) -> str:
        """The follow token of a ticket of this office (its id)."""
        office = self.office.settings.office.code
        return f"{office}.{ticket_id}.{self._mac(office, ticket_id)}"

    def url(self, ticket_id: str) -> str | None:
        """The link its slip's QR carries, or None when the office has no hub.public_url."""
        base = self.office.settings.hub.public_url.rstrip("/")
        return f"{base}/q/{self.token(ticket_id)}" if base else None

    def ticket_of(self, token) -> str:
        """The ticket id a token names, once its office and mac are checked and the ticket is
        known here; refused otherwise (nothing is read before the mac holds)."""
        m = _TOKEN.match(token) if isinstance(token, str) else None
        if m is None:
            raise PermissionDenied("this is not a ticket's follow link", reason="forged")
        office, ticket_id, mac = m.groups()
        if office != self.office.settings.office.code:
            raise PermissionDenied(f"this ticket was taken at another service centre "
                                   f"({office})", reason="other_office", office=office)
        if not hmac.compare_digest(mac, self._mac(office, ticket_id)):
            raise PermissionDenied("this follow link is not one this centre printed",
                                   reason="forged")
        if not self.office.queue.exists(ticket_id):
            raise NotFound("this centre holds no such ticket (any more)",
                           reason="no_such_ticket")
        return ticket_id

    # --- what a phone sees and does ---------------------------------------------------------
    def view(self, ticket_id: str, followed: dict[str, dict] | None = None) -> dict:
        """What the phone shows of a ticket. followed: Queue.followed() read once for many
        phones (hub/phone.py); without it (or for a ticket of another day) a fresh read."""
        t = (followed or {}).get(ticket_id)
        if t is None:
            t = self.office.queue.followed_one(ticket_id)
        waiting = t["state"] == "waiting"
        return {"number": t["number"], "service_code": t["service_code"],
                "state": t["state"], "counter": None if waiting else t["counter"],
                "call_count": t["call_count"],
                "people_ahead": t.get("people_ahead") if waiting else None,
                "estimated_wait_minutes": t.get("estimated_wait_minutes") if waiting else None,
                "postponed": bool(t.get("postponed_at")),
                "can_have_more_time": waiting and not t.get("postponed_at")}

    def more_time(self, token: str) -> dict:
        """"I need more time": the ticket moves back queue.more_time_places places, once."""
        ticket_id = self.ticket_of(token)
        with self.office.acting_as(PHONE_ACTOR):
            moved = self.office.queue.postpone(ticket_id,
                                               self.office.settings.queue.more_time_places)
        return {**self.view(ticket_id), "moved_places": moved["moved_places"]}

    def leave(self, token: str) -> dict:
        """"Leave the queue": the ticket is cancelled (waiting, called or parked)."""
        ticket_id = self.ticket_of(token)
        with self.office.acting_as(PHONE_ACTOR):
            self.office.queue.cancel(ticket_id)
        return self.view(ticket_id)
