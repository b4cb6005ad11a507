"""Local accounts: PINs kept only as scrypt hashes; 5 wrong PINs lock an account for 5 minutes.

A PIN is short, so its hash is what an offline search of a stolen device attacks: the hash
is made slow and memory-hard, supervisors (who authorise voids and overrides) need longer
PINs, and only devices that sign clerks in hold hashes at all (docs/privacy.md states the
cost that leaves; bench/pins.py measures it)."""
from __future__ import annotations

import collections
import contextlib
import contextvars
import hashlib
import hmac
import logging
import os
import re
import threading
from datetime import UTC, timedelta

from . import audit
from .clock import iso, parse_iso
from .errors import InvalidState, NotFound, PermissionDenied, ValidationError

log = logging.getLogger(__name__)

ROLES = ("clerk", "supervisor")
# One name at one device: 5 wrong PINs lock that name there (not elsewhere) for 5 minutes.
MAX_FAILURES = 5
LOCK_MINUTES = 5
# One device, whatever names it tries: 10 wrong PINs within 15 minutes stop every PIN check
# from it for 1 minute, doubling at each further block up to 30 minutes.
DEVICE_FAILURES, DEVICE_WINDOW_S = 10, 15 * 60
DEVICE_BLOCK_S, DEVICE_BLOCK_MAX_S = 60, 30 * 60
WRONG = "wrong user name or PIN"  # one answer: whether a name exists is not told
# What the audit says of a name's wrong PINs; a right PIN or a new PIN starts the count again.
HISTORY = ("user.pin_failed", "user.locked", "user.unlocked", "user.pin_reset")
STAFF_EXIT = "staff-exit"  # the kiosk's staff exit counts its wrong PINs under this name
# Where the PIN being checked was typed: "local" (this device), or "device:<id>" for a
# device paired with this hub (set by the hub around each call, PinGuard.at).
_SOURCE: contextvars.ContextVar[str] = contextvars.ContextVar("pin_source", default="local")
# How many digits a PIN has, by role: a supervisor's authorises voids and overrides.
PIN_DIGITS = {"clerk": (4, 8), "supervisor": (6, 8)}
# scrypt at N=2^16, r=8 costs 64 MiB and ~0.2 s of one core per guess here: once per sign-in
# for a clerk, 10^4 of them for a thief's search of the weakest clerk PIN.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 16, 8, 1
# Hashes made before (2^14) still verify; a stored hash asking for more than this is refused
# rather than allowed to take the device's memory.
SCRYPT_MAX_N = 2 ** 17
_SCRYPT_MAXMEM = 2 * 128 * SCRYPT_MAX_N * SCRYPT_R


def pin_problem(pin, role: str) -> str | None:
    """None for a PIN the role allows; else what is wrong, in words."""
    low, high = PIN_DIGITS[role]
    if not isinstance(pin, str) or not re.fullmatch(r"[0-9]+", pin) or \
            not low <= len(pin) <= high:
        return f"pin: {low} to {high} digits for a {role}"
    return None


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            dklen=32, maxmem=_SCRYPT_MAXMEM)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def pin_matches(pin: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        n, r, p, salt = int(n), int(r), int(p), bytes.fromhex(salt)
    except (AttributeError, ValueError):
        return False
    if not (2 <= n <= SCRYPT_MAX_N and 1 <= r <= SCRYPT_R and p == 1):
        return False
    candidate = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, dklen=32,
                               maxmem=_SCRYPT_MAXMEM)
    return hmac.compare_digest(candidate.hex(), digest)


class PinGuard:
    """Wrong PINs by where they were typed (one per process; docs/hub.md, "PINs").

    A name is locked only at the device that failed it, so no device can hold a supervisor
    out everywhere; a device that keeps failing, with any names, is slowed down for all
    of them. Unknown names count like known ones and get the same answers."""

    MAX_NAMES = 10_000  # (name, device) pairs remembered; the oldest are forgotten first

    def __init__(self, clock):
        self.clock = clock
        self._lock = threading.Lock()
        self._names: collections.OrderedDict = collections.OrderedDict()  # -> [count, until]
        self._devices: dict[str, dict] = {}  # -> {"times": deque, "until", "blocks"}
        self._restored: set = set()  # (name, place) pairs read back from the audit

    @staticmethod
    @contextlib.contextmanager
    def at(source: str):
        """`with PinGuard.at("device:K01"):` PIN checks inside were typed there."""
        token = _SOURCE.set(source)
        try:
            yield
        finally:
            _SOURCE.reset(token)

    def _now(self) -> float:
        return self.clock.now().timestamp()

    def check(self, username: str, source: str) -> None:
        """PermissionDenied while this device is slowed down or this name is locked here."""
        now = self._now()
        with self._lock:
            device = self._devices.get(source)
            if device and device["until"] > now:
                wait = int(device["until"] - now) + 1
                raise PermissionDenied(f"too many wrong PINs from this device; try again in "
                                       f"{wait} s", reason="throttled", retry_after_s=wait)
            count, until = self._names.get((username, source), (0, 0.0))
            if until > now:
                raise PermissionDenied(f"{WRONG}: locked here after {MAX_FAILURES} wrong PINs "
                                       f"until {iso(self._at(until))}", reason="locked",
                                       locked_until=iso(self._at(until)))

    def _at(self, epoch: float):
        return self.clock.now() + timedelta(seconds=epoch - self._now())

    def failed(self, username: str, source: str) -> dict:
        """Count a wrong PIN: what to answer (attempts left here, or the lock)."""
        now = self._now()
        with self._lock:
            key = (username, source)
            count, until = self._names.pop(key, (0, 0.0))
            count = 0 if until and until <= now else count
            count += 1
            locked = count >= MAX_FAILURES
            self._names[key] = (0 if locked else count,
                                now + LOCK_MINUTES * 60 if locked else 0.0)
            while len(self._names) > self.MAX_NAMES:
                self._names.popitem(last=False)
            device = self._devices.setdefault(source, {"times": collections.deque(),
                                                       "until": 0.0, "blocks": 0})
            times = device["times"]
            times.append(now)
            while times and now - times[0] > DEVICE_WINDOW_S:
                times.popleft()
            if len(times) >= DEVICE_FAILURES:
                block = min(DEVICE_BLOCK_S * 2 ** device["blocks"], DEVICE_BLOCK_MAX_S)
                device.update(until=now + block, blocks=device["blocks"] + 1)
                times.clear()
                # An alert for the operator; names are not logged (they may be anything).
                log.warning("PIN guessing from %s: %d wrong PINs within %d minutes; its PIN "
                            "checks are refused for %d s", source, DEVICE_FAILURES,
                            DEVICE_WINDOW_S // 60, block)
            return {"locked": locked, "attempts_left": MAX_FAILURES - count,
                    "locked_until": iso(self._at(now + LOCK_MINUTES * 60)) if locked else None}

    def succeeded(self, username: str, source: str) -> None:
        with self._lock:
            self._names.pop((username, source), None)

    def forget(self, username: str) -> None:
        """A new PIN: the name's wrong PINs and locks at every place start again here."""
        with self._lock:
            for key in [k for k in self._names if k[0] == username]:
                del self._names[key]

    def needs_history(self, username: str, source: str) -> bool:
        """True the first time this process checks a name at a place: what happened there
        before (another CLI run, the app before a restart) is then read back (restore)."""
        with self._lock:
            if (username, source) in self._restored:
                return False
            self._restored.add((username, source))
            return True

    def restore(self, username: str, source: str, failures: int, locked_at) -> None:
        """Wrong PINs at this place since the last success, and the time of a lock there."""
        until = 0.0
        if locked_at is not None:
            until = locked_at.timestamp() + LOCK_MINUTES * 60
        with self._lock:
            key = (username, source)
            count, known_until = self._names.get(key, (0, 0.0))
            self._names[key] = (max(count, failures), max(known_until, until))


# What a PIN is checked against when the name is unknown: the same work as a real check.
_DECOY = f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${'00' * 16}${'00' * 32}"


class Users:
    def __init__(self, office):
        self.office = office
        self.store = office.store
        self.guard = PinGuard(self.store.clock)

    def create(self, username: str, role: str, pin: str) -> dict:
        if not isinstance(username, str) or not re.fullmatch(r"[a-z][a-z0-9._-]{1,31}", username):
            raise ValidationError("username: 2-32 lower-case letters, digits, '.', '_' or '-', "
                                  "starting with a letter", field="username")
        if role not in ROLES:
            raise ValidationError(f"role must be one of {', '.join(ROLES)}", field="role")
        problem = pin_problem(pin, role)
        if problem:
            raise ValidationError(problem, field="pin")
        pin_hash = hash_pin(pin)
        with self.store.atomic():
            if self.store.one("SELECT 1 FROM users WHERE username = ?", (username,)):
                raise ValidationError(f"user {username!r} already exists", field="username")
            row = {"username": username, "role": role, "pin_hash": pin_hash,
                   "created_at": self.store.now(), "failed_attempts": 0, "locked_until": None}
            self.store.insert("users", row)
            self.store.record("user.created", "user", username, {"username": username,
                                                                 "role": role})
            return {"username": username, "role": role}

    def authenticate(self, username: str, pin: str, role: str | None = None) -> dict:
        """Check a PIN (and optionally the role): the one path every PIN takes, the kiosk's
        staff exit included. An unknown name and a wrong PIN get the same answer after the
        same work; failures are counted per name and device (PinGuard) and, for a real
        account, durably with an audit entry under it."""
        source = _SOURCE.get()
        username = username if isinstance(username, str) else ""
        if username and self.guard.needs_history(username, source):
            self._read_history(username, source)
        self.guard.check(username, source)
        row = self.store.one("SELECT * FROM users WHERE username = ?", (username,))
        right = isinstance(pin, str) and pin_matches(pin, row["pin_hash"] if row else _DECOY)
        if row is None or not right:
            self._failed(username, row, source)
        self.guard.succeeded(username, source)
        if row.get("disabled_at"):
            raise PermissionDenied(f"{username}'s account was disabled on "
                                   f"{self._local_day(row['disabled_at'])}", reason="disabled")
        if row["failed_attempts"] or row["locked_until"]:
            with self.store.atomic(actor=username):
                self.store.update("users", "username", username,
                                  {"failed_attempts": 0, "locked_until": None})
                self.store.record("user.unlocked", "user", username, {"username": username})
        if role and row["role"] != role:
            raise PermissionDenied(f"{username} is a {row['role']}; this needs a {role}",
                                   reason="role", needed=role)
        return {"username": username, "role": row["role"]}

    def _read_history(self, username: str, source: str) -> None:
        """Give the guard what the audit says of this name at this place, so a lock and its
        count outlive the process (each CLI run is one; a restarted hub or app another):
        the wrong PINs there since the last success, or a lock there still running."""
        failures, locked_at = 0, None
        for entry in audit.latest(self.store, "user", username, HISTORY, 4 * MAX_FAILURES):
            if entry["action"] in ("user.unlocked", "user.pin_reset"):
                break  # a right PIN or a new one (anywhere) reset the account's count
            if entry["data"].get("at") != source:
                continue
            if entry["action"] == "user.locked":
                locked_at = parse_iso(entry["at"])
                break  # the count started again after the lock
            failures += 1
        if failures or locked_at is not None:
            self.guard.restore(username, source, failures, locked_at)

    def _failed(self, username: str, row: dict | None, source: str):
        """Count a wrong PIN and raise the answer: the same for a name that does not exist."""
        verdict = self.guard.failed(username, source)
        if row is not None:
            with self.store.atomic(actor=username):
                # Re-read under the write lock: two wrong PINs at once must count twice.
                failures = self.store.one("SELECT failed_attempts FROM users WHERE username = ?",
                                          (username,))["failed_attempts"] + 1
                self.store.update("users", "username", username, {
                    "failed_attempts": failures,
                    "locked_until": verdict["locked_until"] or row["locked_until"]})
                self.store.record("user.locked" if verdict["locked"] else "user.pin_failed",
                                  "user", username, {"username": username,
                                                     "failures": failures, "at": source})
        if verdict["locked"]:
            raise PermissionDenied(f"{WRONG}; locked here for {LOCK_MINUTES} minutes",
                                   reason="locked_now", locked_until=verdict["locked_until"])
        raise PermissionDenied(WRONG, reason="wrong_pin", attempts_left=verdict["attempts_left"])

    def is_active(self, username: str, role: str | None = None) -> bool:
        """The account exists, is not disabled and (if `role` is given) has that role."""
        row = self.store.one("SELECT role, disabled_at FROM users WHERE username = ?",
                             (username,))
        return row is not None and row["disabled_at"] is None and \
            (role is None or row["role"] == role)

    def staff_exit_pin_matches(self, pin: str, configured_hash: str | None) -> bool:
        """The kiosk's staff exit: the configured hash (kiosk.admin_pin_hash) if there is
        one, else the PIN of any active supervisor not locked at this device. Wrong PINs are
        counted like a sign-in's, under the name "staff-exit" (PinGuard): a kiosk cannot
        guess a supervisor's PIN faster than a counter could."""
        source = _SOURCE.get()
        self.guard.check(STAFF_EXIT, source)
        if isinstance(pin, str) and pin.isdigit() and 4 <= len(pin) <= 8:
            if configured_hash:
                right = pin_matches(pin, configured_hash)
            else:
                right = False
                for r in self.store.all("SELECT username, pin_hash FROM users WHERE "
                                        "role = 'supervisor' AND disabled_at IS NULL"):
                    try:
                        self.guard.check(r["username"], source)
                    except PermissionDenied:
                        continue  # locked here: its PIN does not open the kiosk either
                    right = right or pin_matches(pin, r["pin_hash"])
            if right:
                self.guard.succeeded(STAFF_EXIT, source)
                return True
        if self.guard.failed(STAFF_EXIT, source)["locked"]:
            log.warning("the kiosk's staff exit at %s is locked for %d minutes after %d wrong "
                        "PINs", source, LOCK_MINUTES, MAX_FAILURES)
        return False

    # --- an operator's changes to a local account (nafitha user disable/enable/reset-pin) ---
    # Each is one transaction with one audit entry and event naming the account, never its
    # PIN; bad input changes nothing. Accounts central sends are changed at central (its
    # next pull would undo a change made here).
    def disable(self, username: str) -> dict:
        """A leaver: the account can no longer sign in anywhere (every PIN check, counter
        and manager sessions at their next request, the kiosk's staff exit). Refused: an
        unknown name (NotFound), central's account (reason central_account), one already
        disabled (reason already_disabled), the last active supervisor (reason
        last_supervisor: voids, revocations and the kiosk's staff exit need one)."""
        with self.store.atomic():
            row = self._local_account(username)
            if row["disabled_at"]:
                raise InvalidState(f"{row['username']} is already disabled (since "
                                   f"{self._local_day(row['disabled_at'])})",
                                   reason="already_disabled", username=row["username"])
            if row["role"] == "supervisor" and not self.store.one(
                    "SELECT 1 AS x FROM users WHERE role = 'supervisor' AND disabled_at IS NULL "
                    "AND username != ?", (row["username"],)):
                raise InvalidState(f"{row['username']} is the last active supervisor: voids, "
                                   f"revocations and the kiosk's staff exit need one; add "
                                   f"another supervisor first (nafitha user add NAME --role "
                                   f"supervisor)", reason="last_supervisor",
                                   username=row["username"])
            self.store.update("users", "username", row["username"],
                              {"disabled_at": self.store.now()})
            self.store.record("user.disabled", "user", row["username"],
                              {"username": row["username"], "role": row["role"]})
            return self.account(row["username"])

    def enable(self, username: str) -> dict:
        """A disabled account may sign in again, with the PIN it had (reset-pin gives a new
        one). Refused: an unknown name, central's account, one that is active (reason
        already_active)."""
        with self.store.atomic():
            row = self._local_account(username)
            if not row["disabled_at"]:
                raise InvalidState(f"{row['username']} is already active",
                                   reason="already_active", username=row["username"])
            self.store.update("users", "username", row["username"], {"disabled_at": None})
            self.store.record("user.enabled", "user", row["username"],
                              {"username": row["username"], "role": row["role"]})
            return self.account(row["username"])

    def reset_pin(self, username: str, pin: str) -> dict:
        """A new PIN, under the same rules as a new account's (by role); the wrong PINs
        counted and any lock end with it (a lock held in another running process, a hub's,
        runs out its minutes there). Allowed on a disabled account (before enabling it)."""
        role = self._local_account(username)["role"]
        problem = pin_problem(pin, role)
        if problem:
            raise ValidationError(problem, field="pin")
        pin_hash = hash_pin(pin)  # slow: outside the write lock
        with self.store.atomic():
            row = self._local_account(username)
            if row["role"] != role:  # changed meanwhile: the PIN rules may differ
                raise InvalidState(f"{row['username']}'s role changed; try again",
                                   reason="role_changed")
            self.store.update("users", "username", row["username"], {
                "pin_hash": pin_hash, "failed_attempts": 0, "locked_until": None})
            self.store.record("user.pin_reset", "user", row["username"],
                              {"username": row["username"]})
        self.guard.forget(row["username"])
        return self.account(row["username"])

    def account(self, username: str) -> dict:
        """One account as list() shows it; NotFound (field username) for an unknown name."""
        name = username.strip().lower() if isinstance(username, str) else ""
        row = self.store.one("SELECT username, role, created_at, locked_until, source, "
                             "disabled_at FROM users WHERE username = ?", (name,))
        if row is None:
            raise NotFound(f"no user {str(username)[:40]!r}", field="username")
        return row

    def _local_account(self, username: str) -> dict:
        row = self.account(username)
        if row["source"] == "central":
            raise InvalidState(f"{row['username']} is an account central sends: change it at "
                               f"central (nafitha central user ...); its next pull would undo "
                               f"a change made here", reason="central_account",
                               username=row["username"])
        return row

    def _local_day(self, stored: str) -> str:
        """A stored UTC time's date in the office's time zone (what people read)."""
        moment = parse_iso(stored)
        if moment.tzinfo is None:  # a bare date written by hand: read as UTC
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(self.office.settings.tz).date().isoformat()

    # --- accounts central sends (sync/reference.py, inside the bundle's transaction) ---------
    def put_from_central(self, body: dict, now: str) -> None:
        """Create or update an account as central describes it (PIN hash, role, active)."""
        values = {"role": body["role"], "pin_hash": body["pin_hash"], "source": "central",
                  "disabled_at": None if body.get("active", True) else now}
        if self.store.one("SELECT 1 AS x FROM users WHERE username = ?", (body["username"],)):
            self.store.update("users", "username", body["username"], values)
        else:
            self.store.insert("users", {"username": body["username"], "created_at": now,
                                        "failed_attempts": 0, "locked_until": None, **values})

    def disable_central_except(self, present: set[str], now: str) -> None:
        """A full resync: central's accounts it no longer lists are disabled (local ones
        stay)."""
        for row in self.store.all("SELECT username FROM users WHERE source = 'central' "
                                  "AND disabled_at IS NULL"):
            if row["username"] not in present:
                self.store.update("users", "username", row["username"], {"disabled_at": now})

    def list(self) -> list[dict]:
        return self.store.all("SELECT username, role, created_at, locked_until, source, "
                              "disabled_at FROM users ORDER BY username")
