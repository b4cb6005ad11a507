"""Local accounts: PINs kept only as scrypt hashes; 5 wrong PINs lock an account for 5 minutes.

A PIN is short, so its hash is what an offline search of a stolen device attacks: the hash
is made slow and memory-hard, supervisors (who authorise voids and overrides) need longer
PINs, and only devices that sign clerks in hold hashes at all (docs/privacy.md states the
cost that leaves; bench/pins.py measures it)."""
from __future__ import annotations

import hashlib
import hmac
import os
import re
from datetime import datetime, timedelta

from .clock import iso
from .errors import NotFound, PermissionDenied, ValidationError

ROLES = ("clerk", "supervisor")
MAX_FAILURES = 5
LOCK_MINUTES = 5
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


class Users:
    def __init__(self, office):
        self.office = office
        self.store = office.store

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
        """Check a PIN (and optionally the role). Wrong PINs are counted durably even though
        the call then fails."""
        row = self.store.one("SELECT * FROM users WHERE username = ?", (username,))
        if row is None:
            raise NotFound(f"no user {username!r}", field="username")
        now = self.store.clock.now()
        if row.get("disabled_at"):
            raise PermissionDenied(f"{username}'s account was disabled on "
                                   f"{row['disabled_at'][:10]}", reason="disabled")
        if row["locked_until"] and datetime.fromisoformat(row["locked_until"]) > now:
            raise PermissionDenied(f"{username} is locked after {MAX_FAILURES} wrong PINs until "
                                   f"{row['locked_until']}", locked_until=row["locked_until"],
                                   reason="locked")
        if not isinstance(pin, str) or not pin_matches(pin, row["pin_hash"]):
            with self.store.atomic(actor=username):
                # Re-read under the write lock: two wrong PINs at once must count twice.
                failures = self.store.one("SELECT failed_attempts FROM users WHERE username = ?",
                                          (username,))["failed_attempts"] + 1
                locked = iso(now + timedelta(minutes=LOCK_MINUTES)) \
                    if failures >= MAX_FAILURES else None
                self.store.update("users", "username", username,
                                  {"failed_attempts": 0 if locked else failures,
                                   "locked_until": locked})
                self.store.record("user.locked" if locked else "user.pin_failed", "user",
                                  username, {"username": username, "failures": failures})
            raise PermissionDenied(f"wrong PIN for {username}" +
                                   (f"; locked for {LOCK_MINUTES} minutes" if locked else ""),
                                   reason="locked_now" if locked else "wrong_pin",
                                   attempts_left=0 if locked else MAX_FAILURES - failures)
        if row["failed_attempts"] or row["locked_until"]:
            with self.store.atomic(actor=username):
                self.store.update("users", "username", username,
                                  {"failed_attempts": 0, "locked_until": None})
                self.store.record("user.unlocked", "user", username, {"username": username})
        if role and row["role"] != role:
            raise PermissionDenied(f"{username} is a {row['role']}; this needs a {role}",
                                   reason="role", needed=role)
        return {"username": username, "role": row["role"]}

    def is_active(self, username: str) -> bool:
        """The account exists and is not disabled."""
        row = self.store.one("SELECT disabled_at FROM users WHERE username = ?", (username,))
        return row is not None and row["disabled_at"] is None

    def staff_exit_pin_matches(self, pin: str, configured_hash: str | None) -> bool:
        """The kiosk's staff exit: the configured hash (kiosk.admin_pin_hash) if there is
        one, else the PIN of any active supervisor."""
        if not isinstance(pin, str) or not pin.isdigit() or not 4 <= len(pin) <= 8:
            return False
        if configured_hash:
            return pin_matches(pin, configured_hash)
        rows = self.store.all("SELECT pin_hash FROM users WHERE role = 'supervisor' "
                              "AND disabled_at IS NULL")
        return any(pin_matches(pin, r["pin_hash"]) for r in rows)

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
