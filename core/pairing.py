"""Paired devices and the clerks signed in at counters (tables hub_devices, hub_pairings,
hub_sessions): what a service centre's hub keeps about who may talk to it.

A device (kiosk, counter, board, or a rating screen facing one counter) is announced on the
hub with `nafitha hub pair`, which shows a one-time code; the device trades the code for its
own token (`nafitha hub join`, or the board's or the rating screen's pairing form). Tokens and codes are stored as SHA-256 hashes. A kiosk's token can
only do kiosk work; a clerk signs in on top of a counter's token and gets a session token
for the clerk's own operations. `nafitha hub revoke NAME` ends a device and its sessions.

Over the LAN a device pairs with a proof instead of the code (core/tls.py): the proof names
the hub's TLS certificate, so a man-in-the-middle cannot pair, and the device pins the
certificate. Device tokens expire (hub.token_days) and renew themselves in use: past half
their life a call to /api/v1/renew trades the token for a new one, and the old one keeps
working for RENEW_GRACE_S so calls already under way on other threads still land."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from datetime import timedelta

from . import tls
from .clock import iso, parse_iso
from .errors import NotFound, PermissionDenied, ValidationError

ROLES = ("kiosk", "counter", "board", "rating")
NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,20}$")
# No 0/O, 1/I/L: a code read off a screen and typed on a TV remote must not be misread.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
TOKEN_PREFIX = "nfh_"
SESSION_PREFIX = "nfs_"
# Wrong pairing codes: after this many within WRONG_WINDOW_S from one source (the network
# address a request came from), that source waits out the window; other sources pair on.
# A 40-bit code that expires in minutes cannot be guessed that slowly, even by many sources
# (a thousand addresses at 10 a minute for 10 minutes try 10^5 of 10^12 codes).
MAX_WRONG_CODES = 10
WRONG_WINDOW_S = 60.0
SEEN_EVERY_S = 60.0  # last_seen_at is written at most this often per device
# A clerk's session ends after the counter's idle lock (counter.lock_after_s) without a call,
# and after a working day whatever happens: a stolen session token soon stops working.
SESSION_MAX_HOURS = 12
RENEW_GRACE_S = 600
HUB_PRINTER = "main"  # the hub's own print queue (the CLI's); no device may take its name
RENEW_HEADER = "X-Nafitha-Renew"  # on an answer: "due", the token is past half its life
TLS_SCHEMA = 14  # migration m014: pairing proofs and token expiry
RATING_SCHEMA = 22  # migration m022: rating screens, each facing one counter
NONCE_RE = re.compile(r"^[0-9a-f]{32,64}$")
PROOF_RE = re.compile(r"^[0-9a-f]{64}$")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def normalise_code(code: str) -> str:
    return re.sub(r"[\s-]", "", str(code or "")).upper()


def _device(row: dict) -> dict:
    device = {"id": row["id"], "name": row["name"], "role": row["role"],
              "services": json.loads(row["services"]), "created_at": row["created_at"],
              "paired_at": row["paired_at"], "last_seen_at": row["last_seen_at"],
              "revoked_at": row["revoked_at"], "token_expires_at": row.get("token_expires_at")}
    if row.get("counter") is not None:  # a rating screen: the counter it faces
        device["counter"] = row["counter"]
    return device


class Devices:
    def __init__(self, office, monotonic=time.monotonic):
        self.office = office
        self.store = office.store
        self.settings = office.settings
        self.monotonic = monotonic
        self.tls = self.store.has_schema(TLS_SCHEMA)
        self._certificate: tls.HubCertificate | None = None
        self._wrong: dict[str, list[float]] = {}  # source -> times of its wrong codes
        self._seen: dict[str, float] = {}
        self._used: dict[str, float] = {}  # session token hash -> last call (epoch seconds)
        self._lock = threading.Lock()

    @property
    def certificate(self) -> tls.HubCertificate:
        """The hub's TLS certificate (made on first use in the data directory's keys/)."""
        if self._certificate is None:
            self._certificate = tls.HubCertificate.ensure(self.settings.data_dir,
                                                          self.settings.office.code)
        return self._certificate

    # --- the hub's side: announce, list, revoke ------------------------------------------------
    def create_pairing(self, role: str, name: str, services: list[str] | None = None,
                       counter: str | None = None) -> dict:
        """A device waiting to be paired, and its one-time code (shown once, stored hashed).
        Pairing a name again (say, a replaced kiosk) gives a new code; the old token keeps
        working until the new one is redeemed. counter: the counter a rating screen faces
        (a rating screen needs one; no other device has one)."""
        if role not in ROLES:
            raise ValidationError(f"role must be one of {', '.join(ROLES)}", field="role")
        name = str(name or "").strip()
        if not NAME_RE.match(name):
            raise ValidationError("name: 1-20 letters, digits, '-' or '_' (a counter's name "
                                  "is what the board shows)", field="name")
        if name.lower() == HUB_PRINTER:  # a device's print queue is named after it
            raise ValidationError(f"{name!r} is the hub's own printer; choose another name",
                                  field="name")
        services = [self.office.catalog.get(s).code for s in services or ()]
        if services and role != "counter":
            raise ValidationError("only a counter serves chosen services", field="services")
        counter = self._rating_counter(role, counter)
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        now = self.store.clock.now()
        expires = now + timedelta(minutes=self.settings.hub.pairing_minutes)
        with self.store.atomic(actor="hub"):
            row = self.store.one("SELECT * FROM hub_devices WHERE name = ? AND revoked_at IS "
                                 "NULL", (name,))
            if row is not None and row["role"] != role:
                raise ValidationError(f"{name} is already paired as a {row['role']}; revoke it "
                                      f"first", field="name")
            if row is None:
                device_id = self.store.ids.new()
                self.store.insert("hub_devices", {
                    "id": device_id, "name": name, "role": role,
                    "services": json.dumps(services), "token_hash": None,
                    "created_at": iso(now), "paired_at": None, "last_seen_at": None,
                    "revoked_at": None, **({"counter": counter} if counter else {})})
            else:
                device_id = row["id"]
                self.store.update("hub_devices", "id", device_id,
                                  {"services": json.dumps(services),
                                   **({"counter": counter} if counter else {})})
            pairing = {"code_hash": _hash(code), "device_id": device_id,
                       "created_at": iso(now), "expires_at": iso(expires), "used_at": None}
            if self.tls:  # what a device's proof must match (core/tls.py)
                pairing["proof_key"] = tls.pairing_key(code, self.certificate.fingerprint).hex()
            self.store.insert("hub_pairings", pairing)
        return {"code": f"{code[:4]}-{code[4:]}", "expires_at": iso(expires),
                "device": self.get(name)}

    def _rating_counter(self, role: str, counter: str | None) -> str | None:
        if role != "rating":
            if counter:
                raise ValidationError("only a rating screen faces a counter", field="counter")
            return None
        if not self.store.has_schema(RATING_SCHEMA):
            raise ValidationError("this hub's store predates rating screens", field="role")
        counter = str(counter or "").strip()
        if not NAME_RE.match(counter):
            raise ValidationError("a rating screen needs its counter's name (1-20 letters, "
                                  "digits, '-' or '_')", field="counter")
        return counter

    def list(self, include_revoked: bool = False) -> list[dict]:
        sql = "SELECT * FROM hub_devices" + ("" if include_revoked else
                                              " WHERE revoked_at IS NULL") + " ORDER BY name, created_at"
        return [_device(r) for r in self.store.all(sql)]

    def get(self, name: str) -> dict:
        row = self.store.one("SELECT * FROM hub_devices WHERE name = ? AND revoked_at IS NULL",
                             (name,))
        if row is None:
            raise NotFound(f"no paired device named {name!r}", device=name)
        return _device(row)

    def revoke(self, name: str) -> dict:
        """The device's token stops working at once, and so do its clerks' sessions."""
        device = self.get(name)
        with self.store.atomic(actor="hub"):
            now = self.store.now()
            self.store.update("hub_devices", "id", device["id"], {"revoked_at": now})
            self.store.conn.execute("UPDATE hub_sessions SET ended_at = ? WHERE device_id = ? "
                                    "AND ended_at IS NULL", (now, device["id"]))
            self.store.conn.execute("UPDATE hub_pairings SET used_at = ? WHERE device_id = ? "
                                    "AND used_at IS NULL", (now, device["id"]))
            self.store.record("device.revoked", "device", device["id"],
                              {"name": device["name"], "role": device["role"]})
        return {**device, "revoked_at": now}

    # --- the device's side: redeem a code, prove who it is ------------------------------------
    def redeem(self, code: str, source: str = "local") -> tuple[dict, str]:
        """(device, token) for a valid code typed where the page cannot prove it (the
        board's form); PermissionDenied otherwise (nothing changes). source: where the
        request came from (the hub passes the client's address)."""
        self._check_source(source)
        code = normalise_code(code)
        if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
            self._wrong_code(source)
            raise PermissionDenied("that is not a pairing code", reason="pairing_code")
        with self.store.atomic(actor="hub"):
            pairing = self.store.one("SELECT * FROM hub_pairings WHERE code_hash = ?",
                                     (_hash(code),))
            return self._pair(pairing, source)

    def redeem_proof(self, nonce: str, proof: str, source: str = "local") -> tuple[dict, str, str]:
        """(device, token, the hub's proof) for a device's proof of a code it was shown
        (core/tls.py); PermissionDenied otherwise, counted as a wrong code from source."""
        self._check_source(source)
        if not (NONCE_RE.match(str(nonce or "")) and PROOF_RE.match(str(proof or ""))):
            self._wrong_code(source)
            raise PermissionDenied("that is not a pairing proof", reason="pairing_code")
        with self.store.atomic(actor="hub"):
            # Unused codes, the recently expired too: their proof is told "expired".
            since = iso(self.store.clock.now() - timedelta(days=1))
            for pairing in self.store.all(
                    "SELECT * FROM hub_pairings WHERE used_at IS NULL AND expires_at > ? "
                    "AND proof_key IS NOT NULL", (since,)):
                key = bytes.fromhex(pairing["proof_key"])
                if hmac.compare_digest(tls.device_proof(key, nonce), proof):
                    device, token = self._pair(pairing, source)
                    return device, token, tls.hub_proof(key, nonce, token)
            self._wrong_code(source)
            raise PermissionDenied("unknown or used pairing code (or this device reached "
                                   "another server than the hub that showed it)",
                                   reason="pairing_code")

    def _check_source(self, source: str) -> None:
        with self._lock:
            now_m = self.monotonic()
            self._wrong = {s: kept for s, times in self._wrong.items()
                           if (kept := [t for t in times if now_m - t < WRONG_WINDOW_S])}
            if len(self._wrong.get(source, ())) >= MAX_WRONG_CODES:
                raise PermissionDenied("too many wrong pairing codes from here; wait a minute",
                                       reason="too_many_attempts")

    def _pair(self, pairing: dict | None, source: str) -> tuple[dict, str]:
        """Spend a pairing and give its device a new token (inside the caller's transaction)."""
        if pairing is None or pairing["used_at"] is not None:
            self._wrong_code(source)
            raise PermissionDenied("unknown or used pairing code", reason="pairing_code")
        if pairing["expires_at"] <= self.store.now():
            raise PermissionDenied("this pairing code has expired; show a new one on the "
                                   "hub", reason="pairing_expired")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self.store.now()
        self.store.update("hub_pairings", "code_hash", pairing["code_hash"], {"used_at": now})
        changes = {"token_hash": _hash(token), "paired_at": now}
        if self.tls:
            changes.update(token_expires_at=self._token_expiry(), previous_token_hash=None,
                           previous_token_until=None)
        self.store.update("hub_devices", "id", pairing["device_id"], changes)
        row = self.store.one("SELECT * FROM hub_devices WHERE id = ?", (pairing["device_id"],))
        # Sessions of the token being replaced end with it.
        self.store.conn.execute("UPDATE hub_sessions SET ended_at = ? WHERE device_id = ? "
                                "AND ended_at IS NULL", (now, row["id"]))
        self.store.record("device.paired", "device", row["id"],
                          {"name": row["name"], "role": row["role"]})
        return _device(row), token

    def _token_expiry(self) -> str:
        return iso(self.store.clock.now() + timedelta(days=self.settings.hub.token_days))

    def _wrong_code(self, source: str) -> None:
        with self._lock:
            self._wrong.setdefault(source, []).append(self.monotonic())

    def authenticate(self, token: str | None, roles: tuple[str, ...] = ROLES) -> dict:
        """The device a token belongs to. PermissionDenied (reason: token_missing,
        token_wrong, token_revoked or role) otherwise."""
        if not token:
            raise PermissionDenied("this needs a device token (pair the device with the hub)",
                                   reason="token_missing")
        row = self._row_of(token)
        if row["revoked_at"] is not None:
            raise PermissionDenied(f"device {row['name']} was revoked on the hub",
                                   reason="token_revoked", device=row["name"])
        if row["role"] not in roles:
            raise PermissionDenied(f"a {row['role']} cannot do this (needs a "
                                   f"{' or '.join(roles)})", reason="role", role=row["role"])
        self._saw(row["id"])
        return _device(row)

    def _row_of(self, token: str) -> dict:
        """The device row a token opens: its current token before its expiry, or the token
        it renewed from during the grace after the renewal."""
        token_hash = _hash(token)
        row = self.store.one("SELECT * FROM hub_devices WHERE token_hash = ?", (token_hash,))
        if row is None and self.tls:
            row = self.store.one("SELECT * FROM hub_devices WHERE previous_token_hash = ? AND "
                                 "previous_token_until > ?", (token_hash, self.store.now()))
        if row is None:
            raise PermissionDenied("unknown device token", reason="token_wrong")
        expires = row.get("token_expires_at")
        if expires is not None and expires <= self.store.now():
            raise PermissionDenied(f"the token of {row['name']} expired; pair the device "
                                   f"again", reason="token_expired", device=row["name"])
        return row

    def renew_due(self, device: dict) -> bool:
        """Whether a device's token is past half its life (it should renew now)."""
        expires = device.get("token_expires_at")
        if expires is None:
            return False
        left = (parse_iso(expires) - self.store.clock.now()).total_seconds()
        return left < self.settings.hub.token_days * 86400 / 2

    def renew(self, token: str | None) -> tuple[dict, str]:
        """A device trades its current token for a new one (it renews itself past half its
        life). The old one keeps working for RENEW_GRACE_S."""
        if not self.tls:
            raise PermissionDenied("this hub's store predates token renewal", reason="role")
        device = self.authenticate(token)
        new = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.store.atomic(actor="hub"):
            # The token presented stays usable for the grace: if this answer is lost, the
            # device still holds a working token and renews again with it.
            until = iso(self.store.clock.now() + timedelta(seconds=RENEW_GRACE_S))
            self.store.update("hub_devices", "id", device["id"], {
                "token_hash": _hash(new), "token_expires_at": self._token_expiry(),
                "previous_token_hash": _hash(token), "previous_token_until": until})
            row = self.store.one("SELECT * FROM hub_devices WHERE id = ?", (device["id"],))
            self.store.record("device.token_renewed", "device", row["id"],
                              {"name": row["name"], "role": row["role"]})
        return _device(row), new

    def _saw(self, device_id: str) -> None:
        now_m = self.monotonic()
        with self._lock:
            if now_m - self._seen.get(device_id, -SEEN_EVERY_S) < SEEN_EVERY_S:
                return
            self._seen[device_id] = now_m
        with self.store.atomic(actor="hub"):
            self.store.update("hub_devices", "id", device_id, {"last_seen_at": self.store.now()})

    # --- clerks at counters -------------------------------------------------------------------
    def start_session(self, device: dict, username: str) -> str:
        session = SESSION_PREFIX + secrets.token_urlsafe(32)
        with self.store.atomic(actor=username):
            self.store.insert("hub_sessions", {"token_hash": _hash(session),
                                               "device_id": device["id"], "username": username,
                                               "started_at": self.store.now(),
                                               "ended_at": None})
        return session

    def session_user(self, device: dict, session: str | None) -> str:
        """The clerk signed in with this session at this counter."""
        if not session:
            raise PermissionDenied("sign in first", reason="not_signed_in")
        row = self.store.one("SELECT * FROM hub_sessions WHERE token_hash = ?", (_hash(session),))
        if row is None or row["device_id"] != device["id"]:
            raise PermissionDenied("sign in first", reason="not_signed_in")
        if row["ended_at"] is not None:
            raise PermissionDenied("signed out; sign in again", reason="signed_out")
        if not self.office.users.is_active(row["username"]):
            # Ended for good: enabling the account again does not revive an old session.
            self.end_session(session)
            raise PermissionDenied("this account is disabled", reason="disabled")
        now = self.store.clock.now().timestamp()
        started = parse_iso(row["started_at"]).timestamp()
        # After a restart the hub knows no last call: the session counts from its start.
        idle = now - self._used.get(row["token_hash"], started)
        if idle > self.office.settings.counter.lock_after_s or \
                now - started > SESSION_MAX_HOURS * 3600:
            self.end_session(session)
            raise PermissionDenied("the session ended after the counter's idle time; sign "
                                   "in again", reason="signed_out")
        self._used[row["token_hash"]] = now
        return row["username"]

    def end_session(self, session: str | None) -> None:
        if not session:
            return
        self._used.pop(_hash(session), None)
        with self.store.atomic():
            self.store.conn.execute("UPDATE hub_sessions SET ended_at = ? WHERE token_hash = ? "
                                    "AND ended_at IS NULL", (self.store.now(), _hash(session)))
