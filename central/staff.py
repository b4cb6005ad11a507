"""The console's people: staff accounts (argon2 passwords, lockout, TOTP), their sessions,
named API keys, the console audit log and municipalities (docs/console.md).

All SQL on staff, console_sessions, api_keys, console_audit and municipalities lives here.
Every method takes the clock from the Central it serves, so tests freeze and advance time."""
from __future__ import annotations

import hashlib
import json
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

import core.totp as totp
from core.clock import iso, parse_iso

from .db import (api_keys, applications, console_audit, console_sessions, licences,
                 municipalities, offices, staff)
from .service import CODE_RE, USERNAME_RE, Central, CentralError

ROLES = ("officer", "operations", "finance", "admin", "auditor")
LANGUAGES = ("ar", "en")
# Who may do what beyond reading (every role reads). admin may do everything: a superuser,
# which is why an admin must have a second factor. The table docs/console.md shows.
PERMISSIONS = {
    "read": ROLES,
    "decide": ("officer",),
    "revoke_licence": ("officer",),
    "offices": ("operations",),  # enrolment codes, revoking a device
    "fees": ("finance",),
    # the reports' CSV / XLSX (every role reads the pages) and the monthly open data
    # (central/console/reports.py, docs/console/reports.md, docs/open-data.md)
    "reports_export": ("operations", "finance", "auditor"),
    "open_data": ("operations",),
    "catalogue": (), "staff": (), "municipalities": (), "api_keys": (), "erase": (),
}
MIN_PASSWORD = 12
MAX_PASSWORD = 256
MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
IDLE_FOR = timedelta(minutes=30)
KEY_USE_RESOLUTION = timedelta(minutes=1)  # how exactly api_keys.last_used_at is kept
SESSION_AT_MOST = timedelta(hours=12)
COOKIE = "nafitha_console"
# Text that would let a name rewrite the line it is shown in: C0/C1 controls and the
# bidirectional overrides, embeddings and isolates (U+202A-202E, U+2066-2069).
_SPOOFING = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Person:
    """Who is asking: a signed-in member of staff (via "session") or an API key ("key")."""
    username: str
    full_name: str
    role: str
    municipality: str | None  # None: national staff, who see every municipality
    language: str = "ar"
    csrf_token: str = ""
    via: str = "session"

    def can(self, permission: str) -> bool:
        if permission not in PERMISSIONS:
            raise ValueError(f"unknown permission {permission!r}")
        return self.role == "admin" or self.role in PERMISSIONS[permission]

    def sees(self, municipality: str | None) -> bool:
        """Whether this person may see what belongs to `municipality` (None: an office not
        yet given to any municipality, seen by national staff only)."""
        return self.municipality is None or self.municipality == municipality

    @property
    def actor(self) -> str:
        return self.username  # a key's person is already named "key:<name>"


def scope_offices(person: Person, office_column=None):
    """A SQLAlchemy clause limiting a query to the offices `person` sees. Without
    office_column it filters offices itself (on offices.municipality); given a column holding
    an office code (applications.c.office, licences.c.office, ...) it is
    `column IN (offices of the person's municipality)`."""
    if person.municipality is None:
        return sa.true()
    if office_column is None:
        return offices.c.municipality == person.municipality
    return office_column.in_(sa.select(offices.c.code).where(
        offices.c.municipality == person.municipality))


def _refuse(status: int, code: str, message: str, **details):
    raise CentralError(status, code, message, **details)


def check_name(full_name: str) -> str:
    name = unicodedata.normalize("NFC", (full_name or "").strip())
    if not 1 <= len(name) <= 100:
        _refuse(422, "invalid_full_name", "full name: 1 to 100 characters")
    if _SPOOFING.search(name):
        _refuse(422, "invalid_full_name", "full name: no control or text-direction characters")
    return name


def password_problem(password: str, username: str) -> str | None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        return f"a password needs at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"a password has at most {MAX_PASSWORD} characters"
    if password.strip().lower() == (username or "").lower():
        return "a password must not be the username"
    return None


class Staff:
    def __init__(self, central: Central):
        self.central = central
        self.engine, self.clock = central.engine, central.clock
        self.hasher = PasswordHasher()
        # Unknown usernames are checked against this, so they cost what a wrong password does.
        self._decoy = self.hasher.hash(secrets.token_urlsafe(16))

    def now(self):
        return self.clock.now()

    # --- accounts ------------------------------------------------------------------------------
    def _row(self, conn, username: str):
        if not isinstance(username, str) or "\x00" in username:  # PostgreSQL refuses NUL
            return None
        return conn.execute(sa.select(staff).where(
            staff.c.username == username)).mappings().first()

    def _scoped_row(self, conn, by: Person, username: str):
        """The account `by` may manage: another municipality's is as good as absent."""
        row = self._row(conn, username)
        if row is None or not by.sees(row["municipality"]):
            _refuse(404, "unknown_staff", f"no member of staff {username!r}")
        return row

    def _check_municipality(self, conn, by: Person | None, municipality: str | None) -> None:
        if by is not None and by.municipality is not None and municipality != by.municipality:
            _refuse(403, "other_municipality", "you manage only your own municipality's staff "
                                               "and keys")
        if municipality is not None and (not CODE_RE.match(municipality) or conn.execute(
                sa.select(municipalities.c.code).where(
                    municipalities.c.code == municipality)).first() is None):
            _refuse(422, "unknown_municipality", f"no municipality {municipality!r}: add it "
                                                 f"first")

    def add(self, by: Person | str, username: str, full_name: str, role: str,
            municipality: str | None, password: str, language: str = "ar") -> dict:
        username = (username or "").strip().lower()
        if not USERNAME_RE.match(username):
            _refuse(422, "invalid_username", "username: 2-32 characters, a small letter first, "
                                             "then small letters, digits, '.', '_' or '-'")
        if role not in ROLES:
            _refuse(422, "invalid_role", f"role: one of {', '.join(ROLES)}")
        if language not in LANGUAGES:
            _refuse(422, "invalid_language", "language: ar or en")
        name = check_name(full_name)
        problem = password_problem(password, username)
        if problem:
            _refuse(422, "weak_password", problem)
        person = by if isinstance(by, Person) else None
        with self.engine.begin() as conn:
            self._check_municipality(conn, person, municipality or None)
            if self._row(conn, username) is not None:
                _refuse(409, "staff_exists", f"there is already a member of staff {username!r}")
            conn.execute(sa.insert(staff).values(
                username=username, full_name=name, role=role, municipality=municipality or None,
                language=language, password_hash=self.hasher.hash(password),
                created_at=iso(self.now()), created_by=_actor(by)))
            self.audit(by, "staff.add", "staff", username, municipality or None,
                       {"role": role}, conn=conn)
        return {"username": username, "role": role, "municipality": municipality or None}

    def list(self, by: Person | None = None) -> list[dict]:
        query = sa.select(staff.c.username, staff.c.full_name, staff.c.role,
                          staff.c.municipality, staff.c.language, staff.c.active,
                          staff.c.locked_until, staff.c.created_at,
                          (staff.c.totp_secret.is_not(None)).label("has_totp")
                          ).order_by(staff.c.username)
        if by is not None and by.municipality is not None:
            query = query.where(staff.c.municipality == by.municipality)
        with self.engine.connect() as conn:
            return [{**r, "active": bool(r["active"]), "has_totp": bool(r["has_totp"])}
                    for r in conn.execute(query).mappings()]

    def _change(self, by: Person | str, username: str, action: str, values: dict,
                detail: dict | None = None) -> dict:
        """Change an account and end its sessions (a disabled or reset account signs in
        again)."""
        person = by if isinstance(by, Person) else None
        with self.engine.begin() as conn:
            row = self._scoped_row(conn, person, username) if person else self._row(conn,
                                                                                    username)
            if row is None:
                _refuse(404, "unknown_staff", f"no member of staff {username!r}")
            conn.execute(sa.update(staff).where(staff.c.username == row["username"])
                         .values(**values))
            conn.execute(sa.delete(console_sessions).where(
                console_sessions.c.username == row["username"]))
            self.audit(by, action, "staff", row["username"], row["municipality"], detail or {},
                       conn=conn)
        return {"username": row["username"], "done": action}

    def disable(self, by: Person | str, username: str) -> dict:
        if isinstance(by, Person) and by.username == username:
            _refuse(409, "own_account", "you cannot disable your own account")
        return self._change(by, username, "staff.disable", {"active": 0})

    def reset_password(self, by: Person | str, username: str, password: str) -> dict:
        problem = password_problem(password, username)
        if problem:
            _refuse(422, "weak_password", problem)
        return self._change(by, username, "staff.reset_password",
                            {"password_hash": self.hasher.hash(password), "failed_count": 0,
                             "locked_until": None})

    def reset_totp(self, by: Person | str, username: str) -> dict:
        return self._change(by, username, "staff.reset_totp",
                            {"totp_secret": None, "totp_last_step": None})

    def change_password(self, person: Person, current: str, new: str) -> None:
        problem = password_problem(new, person.username)
        if problem:
            _refuse(422, "weak_password", problem)
        with self.engine.begin() as conn:
            row = self._row(conn, person.username)
            if row is None or not self._verify(row["password_hash"], current):
                _refuse(403, "wrong_password", "the current password is not right")
            conn.execute(sa.update(staff).where(staff.c.username == person.username)
                         .values(password_hash=self.hasher.hash(new)))
            # Other sessions end; this one stays.
            conn.execute(sa.delete(console_sessions).where(
                console_sessions.c.username == person.username,
                console_sessions.c.csrf_token != person.csrf_token))
            self.audit(person, "staff.change_own_password", "staff", person.username,
                       person.municipality, {}, conn=conn)

    def set_language(self, person: Person, language: str) -> None:
        if language not in LANGUAGES:
            _refuse(422, "invalid_language", "language: ar or en")
        with self.engine.begin() as conn:
            conn.execute(sa.update(staff).where(staff.c.username == person.username)
                         .values(language=language))
            self.audit(person, "staff.language", "staff", person.username, person.municipality,
                       {"language": language}, conn=conn)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password or "")
        except (VerificationError, InvalidHashError):
            return False

    # --- signing in ----------------------------------------------------------------------------
    def sign_in(self, username: str, password: str) -> str:
        """A new session's token (the cookie's value) for the right password; the session
        may still need the second factor (see `session`). Five failures in a row lock the
        account for 15 minutes; an unknown name and a wrong password get the same answer
        after the same work."""
        username = (username or "").strip().lower()[:64]
        now = self.now()
        with self.engine.begin() as conn:
            row = self._row(conn, username) if USERNAME_RE.match(username) else None
            if row is None or not row["active"]:
                self._verify(self._decoy, password)
                _refuse(401, "wrong_credentials", "the username or the password is not right")
            self._check_lock(row, now)
            refusal = None
            if not self._verify(row["password_hash"], password):
                refusal = self._count_failure(conn, row, now)
            else:
                values = {"failed_count": 0, "locked_until": None}
                if self.hasher.check_needs_rehash(row["password_hash"]):
                    values["password_hash"] = self.hasher.hash(password)
                conn.execute(sa.update(staff).where(staff.c.username == username)
                             .values(**values))
                needs_second = row["totp_secret"] is not None or row["role"] == "admin"
                token = secrets.token_urlsafe(32)
                conn.execute(sa.insert(console_sessions).values(
                    token_hash=_sha256(token), username=username,
                    csrf_token=secrets.token_urlsafe(32), second_factor=0 if needs_second else 1,
                    created_at=iso(now), last_seen_at=iso(now),
                    expires_at=iso(now + SESSION_AT_MOST)))
                self.audit(username, "session.sign_in", "staff", username, row["municipality"],
                           {}, conn=conn)
        if refusal:  # raised after the commit: the failure is counted
            raise refusal
        return token

    def _check_lock(self, row, now) -> None:
        if row["locked_until"] and parse_iso(row["locked_until"]) > now:
            _refuse(423, "locked", f"too many failed attempts: the account is locked until "
                                   f"{row['locked_until'][11:16]} UTC",
                    locked_until=row["locked_until"])

    def _count_failure(self, conn, row, now, code: str = "wrong_credentials") -> CentralError:
        """Count a failure in the caller's transaction (which then commits) and return the
        refusal to raise after it: the fifth in a row locks the account."""
        failures = row["failed_count"] + 1
        locked = iso(now + LOCK_FOR) if failures >= MAX_FAILURES else None
        conn.execute(sa.update(staff).where(staff.c.username == row["username"]).values(
            failed_count=0 if locked else failures, locked_until=locked))
        if locked:
            self.audit(row["username"], "staff.locked", "staff", row["username"],
                       row["municipality"], {"until": locked}, conn=conn)
            return CentralError(423, "locked", f"too many failed attempts: the account is "
                                               f"locked until {locked[11:16]} UTC",
                                locked_until=locked)
        if code == "wrong_code":
            return CentralError(401, code, "the code is not right, or was used already")
        return CentralError(401, code, "the username or the password is not right")

    def session(self, token: str | None, activity: bool = True) -> tuple[Person, str] | None:
        """The person behind a session cookie and what the session still needs: "ok",
        "totp" (enter a code) or "enrol" (an admin without a second factor sets one up).
        None when there is no such session or it expired (idle 30 minutes, or 12 hours
        after signing in); an expired session is deleted."""
        if not token or len(token) > 100:
            return None
        now = self.now()
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(console_sessions, staff).join(
                staff, staff.c.username == console_sessions.c.username).where(
                console_sessions.c.token_hash == _sha256(token))).mappings().first()
            if row is None:
                return None
            if parse_iso(row["expires_at"]) <= now or not row["active"] or \
                    parse_iso(row["last_seen_at"]) + IDLE_FOR <= now:
                conn.execute(sa.delete(console_sessions).where(
                    console_sessions.c.token_hash == row["token_hash"]))
                return None
            if activity:  # a page refreshing itself is not the person at work
                conn.execute(sa.update(console_sessions).where(
                    console_sessions.c.token_hash == row["token_hash"]).values(
                    last_seen_at=iso(now)))
        state = "ok" if row["second_factor"] else \
            "totp" if row["totp_secret"] is not None else "enrol"
        return Person(row["username"], row["full_name"], row["role"], row["municipality"],
                      row["language"], row["csrf_token"]), state

    def sign_out(self, token: str | None) -> None:
        if not token:
            return
        with self.engine.begin() as conn:
            username = conn.execute(sa.select(console_sessions.c.username).where(
                console_sessions.c.token_hash == _sha256(token))).scalar()
            conn.execute(sa.delete(console_sessions).where(
                console_sessions.c.token_hash == _sha256(token)))
            if username:
                self.audit(username, "session.sign_out", "staff", username, None, {}, conn=conn)

    # --- the second factor ---------------------------------------------------------------------
    def verify_totp(self, token: str, code: str) -> None:
        """Pass a half session's second factor with a code; a code works once, a wrong code
        counts towards the lockout."""
        now = self.now()
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(staff).join(
                console_sessions, staff.c.username == console_sessions.c.username).where(
                console_sessions.c.token_hash == _sha256(token))).mappings().first()
            if row is None or row["totp_secret"] is None:
                _refuse(409, "no_second_factor", "set up a second factor first")
            self._check_lock(row, now)
            step = totp.matches(row["totp_secret"], code, now.timestamp(),
                                row["totp_last_step"])
            refusal = None
            if step is None:
                refusal = self._count_failure(conn, row, now, "wrong_code")
            else:
                conn.execute(sa.update(staff).where(staff.c.username == row["username"])
                             .values(totp_last_step=step, failed_count=0, locked_until=None))
                conn.execute(sa.update(console_sessions).where(
                    console_sessions.c.token_hash == _sha256(token)).values(second_factor=1))
                self.audit(row["username"], "session.second_factor", "staff", row["username"],
                           row["municipality"], {}, conn=conn)
        if refusal:
            raise refusal

    def enrol_totp(self, token: str, secret: str, code: str) -> None:
        """Keep `secret` as the person's second factor once a code made from it matches;
        the session is then whole."""
        now = self.now()
        step = totp.matches(secret, code, now.timestamp(), None)
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(staff).join(
                console_sessions, staff.c.username == console_sessions.c.username).where(
                console_sessions.c.token_hash == _sha256(token))).mappings().first()
            if row is None:
                _refuse(401, "no_session", "sign in again")
            if row["totp_secret"] is not None:
                _refuse(409, "has_second_factor", "a second factor is already set up")
            if step is None:
                _refuse(401, "wrong_code", "the code is not right: check the phone's clock "
                                           "and enter the code shown now")
            conn.execute(sa.update(staff).where(staff.c.username == row["username"]).values(
                totp_secret=secret, totp_last_step=step))
            conn.execute(sa.update(console_sessions).where(
                console_sessions.c.token_hash == _sha256(token)).values(second_factor=1))
            self.audit(row["username"], "staff.enrol_totp", "staff", row["username"],
                       row["municipality"], {}, conn=conn)

    # --- API keys ------------------------------------------------------------------------------
    def add_key(self, by: Person | str, name: str, role: str, municipality: str | None,
                secret: str | None = None) -> str:
        """A named key; its secret is returned once and only its hash kept."""
        name = (name or "").strip()
        if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,39}", name):
            _refuse(422, "invalid_key_name", "key name: 1-40 small letters, digits, '.', '_' "
                                             "or '-'")
        if role not in ROLES:
            _refuse(422, "invalid_role", f"role: one of {', '.join(ROLES)}")
        secret = secret or secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            self._check_municipality(conn, by if isinstance(by, Person) else None,
                                     municipality or None)
            if conn.execute(sa.select(api_keys.c.name).where(
                    api_keys.c.name == name)).first() is not None:
                _refuse(409, "key_exists", f"there is already a key named {name!r}")
            conn.execute(sa.insert(api_keys).values(
                name=name, key_hash=_sha256(secret), role=role,
                municipality=municipality or None, created_at=iso(self.now()),
                created_by=_actor(by)))
            self.audit(by, "api_key.add", "api_key", name, municipality or None, {"role": role},
                       conn=conn)
        return secret

    def keys(self, by: Person | None = None) -> list[dict]:
        query = sa.select(api_keys.c.name, api_keys.c.role, api_keys.c.municipality,
                          api_keys.c.created_at, api_keys.c.created_by,
                          api_keys.c.last_used_at, api_keys.c.revoked_at
                          ).order_by(api_keys.c.name)
        if by is not None and by.municipality is not None:
            query = query.where(api_keys.c.municipality == by.municipality)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def revoke_key(self, by: Person | str, name: str) -> dict:
        person = by if isinstance(by, Person) else None
        with self.engine.begin() as conn:
            row = None if "\x00" in name else conn.execute(sa.select(api_keys).where(
                api_keys.c.name == name)).mappings().first()
            if row is None or (person and not person.sees(row["municipality"])):
                _refuse(404, "unknown_key", f"no API key named {name!r}")
            if row["revoked_at"]:
                _refuse(409, "key_revoked", f"the key {name!r} is already revoked")
            conn.execute(sa.update(api_keys).where(api_keys.c.name == name)
                         .values(revoked_at=iso(self.now())))
            self.audit(by, "api_key.revoke", "api_key", name, row["municipality"], {},
                       conn=conn)
        return {"name": name, "revoked": True}

    def authenticate_key(self, authorization: str | None) -> Person:
        """The person an `Authorization: Bearer <key>` header stands for (named "key:<name>");
        401 for no key, an unknown key or a revoked one."""
        token = (authorization or "").removeprefix("Bearer ").strip()
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(api_keys).where(
                api_keys.c.key_hash == _sha256(token))).mappings().first() if token else None
            if row is None or row["revoked_at"]:
                _refuse(401, "not_authenticated",
                        "this call needs a valid API key (Authorization: Bearer <key>); the "
                        "first one is in the central home's admin.token" if row is None
                        else f"the API key {row['name']!r} was revoked")
            # Once a minute at most: a key used by every request of a busy automation must not
            # become a row every request waits on (bench/national.py saw the lock waits).
            used = row["last_used_at"]
            if used is None or parse_iso(used) + KEY_USE_RESOLUTION <= self.now():
                conn.execute(sa.update(api_keys).where(api_keys.c.name == row["name"])
                             .values(last_used_at=iso(self.now())))
        return Person(f"key:{row['name']}", row["name"], row["role"], row["municipality"],
                      via="key")

    # --- municipalities ------------------------------------------------------------------------
    def add_municipality(self, by: Person | str, code: str, name_ar: str, name_en: str) -> dict:
        if not isinstance(code, str) or not CODE_RE.match(code):
            _refuse(422, "invalid_municipality", "municipality code: 1-8 capital letters or "
                                                 "digits (e.g. CAP)")
        if isinstance(by, Person) and by.municipality is not None:
            _refuse(403, "national_only", "only national staff add municipalities")
        names = {"name_ar": check_name(name_ar), "name_en": check_name(name_en)}
        with self.engine.begin() as conn:
            if conn.execute(sa.select(municipalities.c.code).where(
                    municipalities.c.code == code)).first() is not None:
                _refuse(409, "municipality_exists", f"there is already a municipality {code}")
            conn.execute(sa.insert(municipalities).values(code=code, created_at=iso(self.now()),
                                                          **names))
            self.audit(by, "municipality.add", "municipality", code, code, {}, conn=conn)
        return {"code": code, **names}

    def municipalities(self) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(municipalities).order_by(municipalities.c.code))
            office_rows = conn.execute(sa.select(offices.c.code, offices.c.municipality)
                                       .order_by(offices.c.code)).all()
            return [{**r, "offices": [o.code for o in office_rows if o.municipality == r["code"]]}
                    for r in rows.mappings()]

    def offices(self, person: Person | None = None) -> list[dict]:
        query = sa.select(offices.c.code, offices.c.municipality).order_by(offices.c.code)
        if person is not None:
            query = query.where(scope_offices(person))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def assign_office(self, by: Person | str, office: str, municipality: str) -> dict:
        """Give an office to a municipality (an office not yet known is added)."""
        if not isinstance(office, str) or not CODE_RE.match(office):
            _refuse(422, "invalid_office", "office: 1-8 capital letters or digits (e.g. MUH)")
        if isinstance(by, Person) and by.municipality is not None:
            _refuse(403, "national_only", "only national staff assign offices")
        with self.engine.begin() as conn:
            self._check_municipality(conn, None, municipality)
            if municipality is None:
                _refuse(422, "unknown_municipality", "name the municipality")
            before = conn.execute(sa.select(offices.c.municipality).where(
                offices.c.code == office)).first()
            if before is None:
                conn.execute(sa.insert(offices).values(code=office, created_at=iso(self.now()),
                                                       municipality=municipality))
            else:
                conn.execute(sa.update(offices).where(offices.c.code == office)
                             .values(municipality=municipality))
            self.audit(by, "office.assign", "office", office, municipality,
                       {"from": before.municipality if before else None}, conn=conn)
        return {"office": office, "municipality": municipality}

    def municipality_of(self, kind: str, number: str) -> tuple[bool, str | None]:
        """(found, its office's municipality) for an application or licence number."""
        table = {"application": applications, "licence": licences}[kind]
        if "\x00" in number:  # no such number (and PostgreSQL refuses NUL in text)
            return (False, None)
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(offices.c.municipality).select_from(table.outerjoin(
                offices, offices.c.code == table.c.office)).where(
                table.c.number == number)).first()
        return (row is not None, row.municipality if row else None)

    # --- the audit log -------------------------------------------------------------------------
    def audit(self, by: Person | str, action: str, entity_type: str, entity_id: str,
              municipality: str | None, detail: dict | None = None, conn=None) -> None:
        """One row of the console audit (no personal data in detail: codes, roles, states).
        Given conn, it is written in the caller's transaction: the action and its record
        commit together."""
        values = {"at": iso(self.now()), "actor": _actor(by), "action": action,
                  "entity_type": entity_type, "entity_id": str(entity_id),
                  "municipality": municipality,
                  "detail": json.dumps(detail or {}, ensure_ascii=False, sort_keys=True)}
        if conn is not None:
            conn.execute(sa.insert(console_audit).values(**values))
            return
        with self.engine.begin() as own:
            own.execute(sa.insert(console_audit).values(**values))

    def audit_log(self, person: Person, limit: int = 200, before: int | None = None) -> list[dict]:
        """Newest first; municipal staff see their municipality's rows."""
        query = sa.select(console_audit).order_by(console_audit.c.id.desc()).limit(limit)
        if person.municipality is not None:
            query = query.where(console_audit.c.municipality == person.municipality)
        if before is not None:
            query = query.where(console_audit.c.id < before)
        with self.engine.connect() as conn:
            return [{**r, "detail": json.loads(r["detail"])}
                    for r in conn.execute(query).mappings()]


def _actor(by: Person | str) -> str:
    return by.actor if isinstance(by, Person) else str(by)
