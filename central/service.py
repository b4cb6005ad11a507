"""Central's logic, independent of HTTP: enrolment, ingest, the reference stream, back office.

FastAPI (central/app.py) and the CLI (central/cli.py) both call this. Every method runs in one
database transaction; a refused request changes nothing (a refusal is logged separately)."""
from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import tomllib
from datetime import timedelta
from functools import cached_property
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from core.catalog import DEFAULT_CATALOG_DIR, check_groups, fee_text, parse_service
from core.clock import Clock, SystemClock, iso, parse_iso
from core.credentials import ceremony, keys, qr_fit, revocation
from core.credentials.licence import device_key, epoch, verify, worst_case_code
from core.credentials.trust import TrustStore
from core.errors import CatalogError, NafithaError
from core.private_files import ensure_private, write_private
from core.sealing import DataKey, SealingError, is_sealed, unseal
from core.users import ROLES, hash_pin, pin_problem
from sync import protocol
from sync.protocol import ProtocolError, canonical_json

from . import authority, backoffice, db, trust_list
from .db import (applications, audit, decisions, devices, enrol_codes, events, licences, meta,
                 offices, payments, reference, rejections, resident_keys, revocation_lists)

ENTITY_TABLES = {"applications": applications, "payments": payments, "licences": licences}

CODE_RE = re.compile(r"^[A-Z0-9]{1,8}$")
USERNAME_RE = re.compile(r"^[a-z][a-z0-9._-]{1,31}$")
ENROL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
TOKEN_DAYS = 365
# What an enrolled device is; PIN hashes reach only those that sign clerks in.
DEVICE_ROLES = ("hub", "counter", "kiosk", "board")
SIGNS_PEOPLE_IN = ("hub", "counter")
NARROWEST_PAPER_DOTS = 384  # 58 mm: the narrowest paper an office may print licences on
SKEW_WARN_S = 300
INT64_MAX = 2 ** 63 - 1  # BigInteger columns, on SQLite and PostgreSQL alike
INT32_MAX = 2 ** 31 - 1  # Integer columns (clock_skew_s)
MAX_DEPTH = 32  # nesting of a batch; a device's events are a few levels deep
# A page added to or removed from an application (central/documents.py records them).
DOCUMENT_EVENTS = ("application.document_added", "application.document_removed")
# A bill issued, cancelled or paid at an office (central/bills.py records them).
BILL_EVENTS = ("bill.issued", "bill.cancelled", "bill.paid")
# A booking checked in, or missed, at its office (central/appointments.py records them).
APPOINTMENT_EVENTS = ("appointment.checked_in", "appointment.no_show")


class CentralError(NafithaError):
    """A refusal with its HTTP status; `code` is stable, `message` says what to do."""

    def __init__(self, status: int, code: str, message: str, **details):
        super().__init__(message, **details)
        self.status, self.code = status, code


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _norm_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").upper()


# What in a batch's JSON text could make a text value unstorable: a NUL or surrogate escape,
# or raw UTF-8 surrogates (json.loads lets them through). Numbers wider than 64 bits are
# refused while parsing (sync.protocol).
_SUSPICIOUS_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def _unstorable(batch, text: bytes | None = None) -> str | None:
    """Why a decoded batch cannot be stored (None: it can). PostgreSQL refuses text with NUL
    characters, BIGINT ends at 2**63-1, and deep nesting exhausts the JSON encoder's recursion.
    Given the batch's JSON text, scalars are only inspected when the text holds something
    suspicious; containers are always walked for their depth (a few per event)."""
    scalars = text is None or b"\xed" in text or _SUSPICIOUS_ESCAPE.search(text) is not None
    if scalars:
        stack = [(batch, 1)]
    else:  # the envelope holds only checked scalars: walk the containers inside `data`
        stack = [(value, 5) for event in batch["events"] for value in event["data"].values()
                 if isinstance(value, (dict, list))]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"it is nested more than {MAX_DEPTH} levels deep"
        if isinstance(value, dict):
            if scalars and not all(_storable_text(k) for k in value):
                return "a field name contains a NUL character or a lone surrogate"
            children = value.values()
        else:
            children = value
        for child in children:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
            elif not scalars:
                continue
            elif isinstance(child, str) and not _storable_text(child):
                return "a text value contains a NUL character or a lone surrogate"
            elif isinstance(child, int) and not -INT64_MAX - 1 <= child <= INT64_MAX:
                return "a number is out of range (more than 64 bits)"
    return None


def _storable_text(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\ud800" in the JSON)
        return False
    return True


def _printable(text) -> str | None:
    """Text that can be stored and sent back: NUL and lone surrogates escaped (None: not text)."""
    if not isinstance(text, str):
        return None
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _utc(text) -> str | None:
    """A device's time as UTC ISO text (sorts as text); None when it is not a time."""
    try:
        return iso(parse_iso(text)) if isinstance(text, str) else None
    except (ValueError, OverflowError):
        return None


def _as_judged(event: dict) -> dict:
    """The event as central/authority.py judges it: a document event touches its application
    (named by data.application_id), which must be the device's office's."""
    if event["type"] not in DOCUMENT_EVENTS:
        return event
    return {**event, "data": {"id": event["data"]["application_id"]}}


def _among(conn, column, values: list) -> list:
    """`column IN values` as few clauses as it takes: one array parameter on PostgreSQL (a
    500-item IN list costs more to plan than to run), chunks within SQLite's limits."""
    if conn.dialect.name == "postgresql":
        return [column == sa.any_(sa.bindparam(None, list(values),
                                               type_=postgresql.ARRAY(column.type)))]
    return [column.in_(values[i:i + 900]) for i in range(0, len(values), 900)]


# Statements of the ingest path, built once per dialect: building a select() and its cache key
# for every call cost more than running it (SQLAlchemy memoizes both on the statement).
_PREPARED: dict = {}


def _prepared(conn, name: str, build):
    """The statement `build(among)` makes, built on the first call for this dialect; `among(
    column, param)` is `column IN :param` in the dialect's form (see `_select_among`)."""
    dialect = conn.dialect.name
    stmt = _PREPARED.get((dialect, name))
    if stmt is None:
        stmt = _PREPARED[(dialect, name)] = build(
            lambda column, param: _among_param(dialect, column, param))
    return stmt


def _among_param(dialect: str, column, param: str):
    if dialect == "postgresql":
        return column == sa.any_(sa.bindparam(param, type_=postgresql.ARRAY(column.type)))
    return column.in_(sa.bindparam(param, expanding=True))


def _chunks(conn, values: list) -> list:
    """The lists `_among` would make its clauses of: one on PostgreSQL, 900 at most on SQLite."""
    if conn.dialect.name == "postgresql":
        return [list(values)]
    return [values[i:i + 900] for i in range(0, len(values), 900)]


def _select_among(conn, name: str, build, values: list, **params):
    """The rows of the prepared statement `build(among)` for every chunk of values (bound to
    :among), as `_among` would query them."""
    stmt = _prepared(conn, name, build)
    for chunk in _chunks(conn, values):
        yield from conn.execute(stmt, {"among": chunk, **params})


def _insert_many(conn, table, columns: tuple, rows: list[tuple]) -> None:
    """Bulk insert: COPY on PostgreSQL (one INSERT per row otherwise: the main cost of a
    batch there), executemany on SQLite."""
    if conn.dialect.name == "postgresql":
        with conn.connection.driver_connection.cursor() as cursor:
            with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})",
                         rows)


class Central:
    def __init__(self, home: Path, engine: sa.Engine, clock: Clock | None = None):
        self.home = Path(home)
        self.engine = engine
        self.clock = clock or SystemClock()
        key_path = self.home / "root.key"
        if not key_path.exists():
            raise CentralError(500, "no_root", f"{key_path} does not exist: run "
                                               f"`nafitha central init-root` first")
        self.root_key = keys.read_private(key_path)
        self.root_public = keys.public_bytes(self.root_key)
        self.trust = TrustStore({keys.key_id(self.root_public): self.root_public})
        # Wraps the residents' keys (docs/privacy.md); a file beside root.key, never a table.
        self.data_key = DataKey(self.home / "data.key")
        # Keys the back office's blind search index (central/backoffice.py); beside data.key.
        self.search_key = DataKey(self.home / "search.key")
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    # --- set-up ------------------------------------------------------------------------------
    @classmethod
    def open(cls, home: Path, url: str | None = None, clock: Clock | None = None,
             pool_size: int = 10) -> "Central":
        home = Path(home)
        if not url and home.is_dir():  # its SQLite file: 0600 whatever the directory was
            ensure_private(home / db.SQLITE_FILE)
        engine = db.make_engine(db.url_for(home, url), pool_size=pool_size)
        db.migrate(engine)
        central = cls(home, engine, clock)
        backoffice.backfill(central)  # once: applications from before the search index
        trust_list.ensure(central)  # once: the browser verifier's first trust list
        return central

    @classmethod
    def init_root(cls, home: Path, url: str | None = None, clock: Clock | None = None,
                  catalog_dir: Path | None = None) -> tuple["Central", str]:
        """Make the root key, the schema, the admin token and the first reference data
        (catalogue, root key). Refuses to overwrite an existing root key."""
        home = Path(home)
        if (home / "root.key").exists():
            raise CentralError(409, "root_exists", f"{home / 'root.key'} already exists; "
                                                   f"a second root would orphan every device")
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        ceremony.init_root(home)
        central = cls.open(home, url, clock)
        admin_token = secrets.token_urlsafe(32)
        services = load_raw_catalog(catalog_dir or DEFAULT_CATALOG_DIR)
        with central.engine.begin() as conn:
            central._add_change(conn, "root", keys.key_id(central.root_public).hex(), None,
                                {"public_key": central.root_public.hex()})
            for raw in services:
                central._add_change(conn, "service", raw["code"], None, raw)
        # The first API key (docs/console.md): named "root", a national admin, whose secret
        # is what admin.token holds.
        from .staff import Staff
        Staff(central).add_key("init-root", "root", "admin", None, secret=admin_token)
        write_private(home / "admin.token", (admin_token + "\n").encode())
        return central, admin_token

    def now(self) -> str:
        return iso(self.clock.now())

    @cached_property
    def documents(self):
        """Supporting documents: pages, files, uploads, requests (central/documents.py)."""
        from .documents import Documents
        return Documents(self)

    @cached_property
    def bills(self):
        """Central as the biller: bills, payment notifications, settlement (central/bills.py)."""
        from .bills import Bills
        return Bills(self)

    def close(self) -> None:
        self.engine.dispose()

    # --- enrolment -----------------------------------------------------------------------------
    def enrol_code(self, office: str, licence_types: list[str] | None = None,
                   ttl_hours: int = 72, *, role: str) -> dict:
        """role: what the device is (DEVICE_ROLES); only a hub or a counter, which sign
        clerks in, will receive the office's PIN hashes (docs/privacy.md)."""
        if not isinstance(office, str) or not CODE_RE.match(office):
            raise CentralError(422, "invalid_office",
                               "office: 1-8 capital letters or digits (e.g. MUH)")
        if role not in DEVICE_ROLES:
            raise CentralError(422, "invalid_role",
                               f"role: one of {', '.join(DEVICE_ROLES)} (what the device is)")
        if not 1 <= ttl_hours <= 24 * 30:
            raise CentralError(422, "invalid_ttl", "ttl: 1 hour to 30 days")
        known = sorted({s["licence_type"] for s in self.services()})
        types = sorted(set(licence_types or known))
        unknown = [t for t in types if t not in known]
        if unknown:
            raise CentralError(422, "invalid_licence_type",
                               f"unknown licence type(s) {', '.join(unknown)} "
                               f"(known: {', '.join(known)})")
        code = "".join(secrets.choice(ENROL_ALPHABET) for _ in range(12))
        code = f"{code[:4]}-{code[4:8]}-{code[8:]}"
        now = self.clock.now()
        with self.engine.begin() as conn:
            self._ensure_office(conn, office)
            conn.execute(sa.insert(enrol_codes).values(
                code_hash=_sha256(_norm_code(code)), office=office,
                licence_types=json.dumps(types), created_at=iso(now), role=role,
                expires_at=iso(now + timedelta(hours=ttl_hours))))
        return {"code": code, "office": office, "licence_types": types, "role": role,
                "expires_at": iso(now + timedelta(hours=ttl_hours))}

    def _ensure_office(self, conn, office: str) -> None:
        if conn.execute(sa.select(offices.c.code).where(offices.c.code == office)).first() is None:
            conn.execute(sa.insert(offices).values(code=office, created_at=self.now()))

    def enrol(self, code: str, office: str, device_id: str, public_key: str) -> dict:
        """One-time code -> device id, token (only its hash is kept), certificate, root key."""
        if not isinstance(device_id, str) or not CODE_RE.match(device_id):
            raise CentralError(422, "invalid_device", "device_id: 1-8 capital letters or digits")
        if not isinstance(office, str) or not CODE_RE.match(office):
            raise CentralError(422, "invalid_office", "office: 1-8 capital letters or digits")
        try:
            public = bytes.fromhex(public_key)
            assert len(public) == 32
            keys.public_from_bytes(public)
        except (ValueError, TypeError, AssertionError):
            raise CentralError(422, "invalid_public_key",
                               "public_key: the device's Ed25519 public key, 64 hex digits")
        now = self.clock.now()
        token = secrets.token_urlsafe(32)
        key = f"{office}/{device_id}"
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(enrol_codes).where(
                enrol_codes.c.code_hash == _sha256(_norm_code(code)))).mappings().first()
            if row is None:
                raise CentralError(404, "unknown_code", "this enrolment code is not known; "
                                                        "check it or ask for a new one")
            if row["used_at"]:
                raise CentralError(410, "code_used", f"this enrolment code was already used "
                                                     f"(by {row['used_by']})")
            if parse_iso(row["expires_at"]) <= now:
                raise CentralError(410, "code_expired", "this enrolment code has expired; "
                                                        "ask for a new one")
            if row["office"] != office:
                raise CentralError(422, "wrong_office",
                                   f"this code is for office {row['office']}, but the device "
                                   f"is set up for office {office} (settings office.code)")
            existing = conn.execute(sa.select(devices.c.key).where(
                devices.c.key == key, devices.c.revoked_at.is_(None))).first()
            if existing:
                raise CentralError(409, "device_enrolled",
                                   f"device {device_id} of office {office} is already enrolled; "
                                   f"choose another device.id or revoke the old device first")
            # Certificate serials never repeat: one per enrolment ever made.
            serial = conn.execute(sa.select(sa.func.count()).select_from(enrol_codes).where(
                enrol_codes.c.used_at.is_not(None))).scalar() + 1
            req = {"device_id": device_id, "office": office, "public_key": public}
            cert = ceremony.certify(self.root_key, req, json.loads(row["licence_types"]),
                                    int(now.timestamp()), serial=serial)
            cert_b64 = base64.b64encode(cert.to_bytes()).decode("ascii")
            expires = iso(now + timedelta(days=TOKEN_DAYS))
            conn.execute(sa.delete(devices).where(devices.c.key == key))  # a revoked one
            conn.execute(sa.insert(devices).values(
                key=key, office=office, device_id=device_id, public_key=public_key,
                certificate=cert_b64, token_hash=_sha256(token), token_expires_at=expires,
                enrolled_at=iso(now), last_seq=0, received=0, role=row["role"]))
            conn.execute(sa.update(enrol_codes).where(enrol_codes.c.code_hash == row["code_hash"])
                         .values(used_at=iso(now), used_by=key))
            self._add_change(conn, "device", key, None,
                             {"device_id": device_id, "office": office,
                              "certificate": cert_b64, "revoked_at": None})
        return {"device_id": device_id, "office": office, "token": token, "role": row["role"],
                "token_expires_at": expires, "certificate": cert_b64,
                "root_public_key": self.root_public.hex(),
                "licence_types": list(cert.licence_types)}

    def authenticate(self, authorization: str | None) -> dict:
        """The device a bearer token belongs to (401 when missing, wrong or expired)."""
        token = (authorization or "").removeprefix("Bearer ").strip()
        if not token or not authorization.startswith("Bearer "):
            raise CentralError(401, "no_token", "send the device token: Authorization: Bearer ...")
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(devices).where(
                devices.c.token_hash == _sha256(token))).mappings().first()
        if row is None:
            raise CentralError(401, "bad_token", "this token is not known; re-enrol the device")
        if row["revoked_at"]:
            raise CentralError(401, "device_revoked", f"device {row['key']} was revoked on "
                                                      f"{row['revoked_at'][:10]}")
        if parse_iso(row["token_expires_at"]) <= self.clock.now():
            raise CentralError(401, "token_expired", "this device's token has expired; "
                                                     "re-enrol the device")
        # Every request a device makes is a contact, whatever becomes of it (the offices
        # page must not say "never" of a device whose batches are refused).
        now = self.now()
        with self.engine.begin() as conn:
            conn.execute(sa.update(devices).where(devices.c.key == row["key"])
                         .values(last_contact_at=now))
        return {**dict(row), "last_contact_at": now}

    # --- ingest ----------------------------------------------------------------------------------
    def ingest(self, device: dict, body: bytes, content_encoding: str | None) -> dict:
        """Store a batch. Each event is judged by what it touches (central/authority.py):
        accepted ones are applied, refused ones held unapplied with their reason (in the reply
        and in `rejections`), resends acknowledged. A batch that cannot be read, is not this
        device's, or breaks its audit chain is refused whole (4xx) and stores nothing."""
        try:
            try:
                batch, text = protocol.decode_batch(body, content_encoding, with_text=True)
            except RecursionError:
                raise ProtocolError("the batch is nested too deeply", status=400)
            problem = _unstorable(batch, text)
            if problem:
                raise ProtocolError(f"the batch cannot be stored: {problem}")
            return self._ingest(device, batch)
        except ProtocolError as exc:
            # A malformed event's id may be anything ({} or a list), and the message may quote
            # a field name: keep and echo only printable text.
            event_id, message = _printable(exc.event_id), _printable(exc.message)
            self._log_rejection(device["key"], event_id, exc.status, message, body)
            raise CentralError(exc.status, "rejected", message, event_id=event_id)
        except CentralError as exc:
            self._log_rejection(device["key"], exc.details.get("event_id"), exc.status,
                                exc.message, body)
            raise

    def _log_rejection(self, device_key, event_id, status, reason, body: bytes) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.insert(rejections).values(
                at=self.now(), device_key=device_key, event_id=_printable(event_id),
                status=status, reason=_printable(reason[:2000]),
                body=f"sha256:{hashlib.sha256(body).hexdigest()}:{len(body)}" if body
                else None))

    def _ingest(self, device: dict, batch: dict) -> dict:
        key = device["key"]
        if batch["device"] != device["device_id"] or batch["office"] != device["office"]:
            raise CentralError(403, "wrong_device", f"this token belongs to {key}; the batch "
                                                    f"says {batch['office']}/{batch['device']}")
        by_id: dict[str, dict] = {}
        for event in batch["events"]:
            if event["device"] != device["device_id"] or event["office"] != device["office"]:
                raise CentralError(403, "wrong_device",
                                   f"event {event['id']} claims device {event['office']}/"
                                   f"{event['device']}; this token belongs to {key}",
                                   event_id=event["id"])
            text = canonical_json(event)
            seen = by_id.get(event["id"])
            if seen is not None and seen["_text"] != text:
                raise ProtocolError(f"event {event['id']} appears twice with different bodies",
                                    event["id"])
            by_id[event["id"]] = {**event, "_text": text}
        now = self.now()
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # one ingest per device at a time
                conn.execute(_prepared(conn, "lock_device", lambda among: sa.select(
                    devices.c.key).where(devices.c.key == sa.bindparam("key"))
                    .with_for_update()), {"key": key})
            ids = list(by_id)
            held = {r.id: r for r in _select_among(
                conn, "held_events", lambda among: sa.select(
                    events.c.id, events.c.body_hash, events.c.refused,
                    events.c.refused_reason).where(among(events.c.id, "among")), ids)}
            new, again = [], []
            for eid, event in by_id.items():
                digest = hashlib.sha256(event["_text"].encode("utf-8")).hexdigest()
                event["_hash"] = digest
                if eid not in held:
                    new.append(event)
                elif held[eid].body_hash != digest:
                    raise ProtocolError(f"event {eid} was already received with a "
                                        f"different body; refused", eid)
                elif held[eid].refused:
                    again.append(event)  # refused before: judged afresh (the operator retried)
            new.sort(key=lambda e: e["seq"])
            if new:
                self._check_new(conn, key, new)
            judged = sorted(new + again, key=lambda e: e["seq"])
            batch_keys = batch["keys"]
            resident = self._resident_rows(conn, judged) if judged else {}
            viewed = [_as_judged(e) for e in judged]
            refused = authority.judge(device, viewed, authority.lookups(
                conn, key, ENTITY_TABLES, events, decisions, viewed, _select_among),
                lambda e: self._content_problem(conn, key, e, batch_keys, resident)) \
                if judged else {}
            self._keep_keys(conn, device, [e for e in judged if e["id"] not in refused],
                            batch_keys, now)
            if new:
                self._store(conn, device, new, now, refused)
            self._judged_again(conn, device, again, refused)
            if refused:
                conn.execute(sa.insert(rejections), [
                    {"at": now, "device_key": key, "event_id": eid, "status": 422,
                     "reason": _printable(f"{code}: {reason}"[:2000]), "body": None}
                    for eid, (code, reason) in refused.items()])
            row = conn.execute(_prepared(conn, "device_seqs", lambda among: sa.select(
                devices.c.last_seq, devices.c.received).where(
                devices.c.key == sa.bindparam("key"))), {"key": key}).first()
            skew = self._skew(batch["sent_at"])
            updates = {"last_contact_at": now}
            newest = max((e["seq"] for e in batch["events"]), default=0) >= row.last_seq
            if newest:
                # Only the device's latest batch says how far behind it is and what its clock
                # reads: a delayed resend of an old batch would report a stale backlog.
                updates.update(clock_skew_s=skew, last_device_time=batch["sent_at"][:40])
                if batch.get("pending") is not None:
                    updates["backlog"] = max(0, batch["pending"] - len(ids))
                if batch.get("app_version") is not None:  # a device that says (docs/sync.md)
                    updates.update(app_version=batch["app_version"],
                                   oldest_pending_at=batch.get("oldest_pending_at"))
            conn.execute(_prepared(conn, f"device_contact:{','.join(updates)}",
                                   lambda among: sa.update(devices).where(
                                       devices.c.key == sa.bindparam("dev")).values(
                                       {c: sa.bindparam(f"v_{c}") for c in updates})),
                         {"dev": key, **{f"v_{c}": v for c, v in updates.items()}})
            missing = self._gaps(conn, key, row.last_seq, row.received)
        result = {"acknowledged": [i for i in ids if i not in refused],
                  "refused": [{"id": eid, "code": code, "reason": reason}
                              for eid, (code, reason) in refused.items()],
                  "stored": len(new), "duplicates": len(ids) - len(new),
                  "last_seq": row.last_seq, "gaps": missing, "server_time": now}
        if skew is not None and abs(skew) > SKEW_WARN_S:
            result["clock_skew_s"] = skew
        return result

    def _skew(self, sent_at: str) -> int | None:
        """Device clock minus ours. Recorded for the back office; never used for ordering."""
        try:
            skew = round((parse_iso(sent_at) - self.clock.now()).total_seconds())
        except (ValueError, TypeError, OverflowError):
            return None
        return max(-INT32_MAX, min(INT32_MAX, skew))  # a clock decades off: still shown

    def _check_new(self, conn, key: str, new: list[dict]) -> None:
        seqs = [e["seq"] for e in new]
        clash = None
        stmt = _prepared(conn, "seq_clash", lambda among: sa.select(
            events.c.id, events.c.seq).where(events.c.device_key == sa.bindparam("key"),
                                             among(events.c.seq, "among")))
        for chunk in _chunks(conn, seqs):
            clash = clash or conn.execute(stmt, {"key": key, "among": chunk}).first()
        if clash:
            raise ProtocolError(f"sequence {clash.seq} of {key} is already held by event "
                                f"{clash.id}; refused", next(e["id"] for e in new
                                                             if e["seq"] == clash.seq))
        if len(set(seqs)) != len(seqs):
            raise ProtocolError("two events in the batch share a sequence number")
        audit_seqs = {e["audit_seq"] for e in new}
        neighbours = sorted({s - 1 for s in audit_seqs} | {s + 1 for s in audit_seqs}
                            | audit_seqs)
        known = {}
        for r in _select_among(conn, "audit_neighbours", lambda among: sa.select(
                audit.c.seq, audit.c.prev_hash, audit.c.hash).where(
                audit.c.device_key == sa.bindparam("key"), among(audit.c.seq, "among")),
                neighbours, key=key):
            known[r.seq] = (r.prev_hash, r.hash)
        protocol.check_audit_links(new, known)

    # --- residents' keys (docs/privacy.md) ----------------------------------------------------
    def _resident_rows(self, conn, judged: list[dict]) -> dict:
        """{application id: its resident_keys row, None when none is held} for every
        application whose sealed values the judged events may open, in one query: judging
        writes no resident key, so each event's own query would read the same."""
        rows = {}
        for event in judged:
            kind, data = event["type"], event["data"]
            if kind == "licence.issued":
                application_id = data.get("application_id")
            elif kind.startswith("application."):
                application_id = data.get("id")
            else:
                continue
            if isinstance(application_id, str):
                rows[application_id] = None
        for r in _select_among(conn, "resident_rows", lambda among: sa.select(
                resident_keys.c.application_id, resident_keys.c.wrapped,
                resident_keys.c.erased_at).where(
                among(resident_keys.c.application_id, "among")), sorted(rows)):
            if r.application_id in rows:
                rows[r.application_id] = r
        return rows

    @staticmethod
    def _resident_row(conn, application_id, resident: dict | None):
        if resident is not None and isinstance(application_id, str) \
                and application_id in resident:
            return resident[application_id]
        return conn.execute(sa.select(resident_keys.c.wrapped, resident_keys.c.erased_at)
                            .where(resident_keys.c.application_id == application_id)).first()

    def _resident_key(self, conn, application_id: str, batch_keys: dict,
                      resident: dict | None = None) -> bytes | None:
        """An application's resident key: as held here (None once erased), else as the
        batch brought it. `resident`: rows read beforehand (_resident_rows)."""
        row = self._resident_row(conn, application_id, resident)
        if row is not None:
            return None if row.wrapped is None else self.data_key.unwrap(row.wrapped,
                                                                          application_id)
        return batch_keys.get(application_id)

    @classmethod
    def _erased(cls, conn, application_id: str, resident: dict | None = None) -> bool:
        row = cls._resident_row(conn, application_id, resident)
        return row is not None and row.erased_at is not None

    def _opened(self, conn, application_id: str, value, batch_keys: dict | None = None,
                resident: dict | None = None):
        """A sealed value in clear (a value sent in clear by an older device as it is);
        None when its key is not here."""
        if not is_sealed(value):
            return value
        key = self._resident_key(conn, application_id, batch_keys or {}, resident)
        return None if key is None else unseal(key, application_id, value)

    def _keep_keys(self, conn, device: dict, accepted: list[dict], batch_keys: dict,
                   now: str) -> None:
        """Hold the resident keys of the applications whose events were accepted: the first
        key of an application stays, and an erased one is never brought back."""
        wanted = protocol.applications_named(accepted) & set(batch_keys)
        if not wanted:
            return
        held = {r.application_id for r in _select_among(
            conn, "held_resident_keys", lambda among: sa.select(
                resident_keys.c.application_id).where(
                among(resident_keys.c.application_id, "among")), sorted(wanted))}
        rows = [{"application_id": a, "office": device["office"], "device_key": device["key"],
                 "wrapped": self.data_key.wrap(batch_keys[a], a), "received_at": now}
                for a in sorted(wanted - held)]
        if rows:
            conn.execute(sa.insert(resident_keys), rows)

    def _content_problem(self, conn, key: str, event: dict, batch_keys: dict,
                         resident: dict | None = None):
        """(code, detail) when an application's or licence's event cannot be read or does
        not hold; None when it does."""
        data = event["data"]
        if event["type"] in DOCUMENT_EVENTS:
            return None  # names a file by its hash; the upload checks the file
        if event["type"] == "licence.issued":
            application_id, sealed = data["application_id"], data["signed_payload"]
        elif event["type"].startswith("application."):
            application_id, sealed = data["id"], data["fields"]
        else:
            return None
        try:
            value = self._opened(conn, application_id, sealed, batch_keys, resident)
        except SealingError:
            return "key_missing", "its sealed values do not open with the key sent"
        if value is None:
            if event["type"] != "licence.issued" and \
                    self._erased(conn, application_id, resident):
                return None  # held sealed, readable by no one: the resident was erased
            return "key_missing", f"no resident key for application {application_id}"
        if event["type"] == "licence.issued":
            problem = self._licence_problem(key, data, value)
            return ("licence_invalid", problem) if problem else None
        return None

    def _licence_problem(self, key: str, data: dict, signed_payload: str) -> str | None:
        """Why a licence.issued event's signed code does not hold (None: it does): it must
        verify against the root as at its issue time, carry the event's number, and be
        signed by the posting device."""
        try:
            at = epoch(data["issued_at"])
        except (ValueError, TypeError):
            return "issued_at is not a time"
        result = verify(signed_payload, self.trust, at)
        if not result.valid:
            return f"does not verify ({result.reason}: {result.message} {result.detail})" \
                .replace(" )", ")")
        if result.claims.get("number") != data["number"]:
            return f"the signed number {result.claims.get('number')} is not {data['number']}"
        signer = f"{result.certificate['office']}/{result.certificate['device_id']}"
        if signer != key:
            return f"signed by {signer}, not by {key}"
        return None

    def _store(self, conn, device: dict, new: list[dict], now: str, refused: dict) -> None:
        """Hold every new event and its audit entry; apply the accepted ones."""
        key, office = device["key"], device["office"]
        verdicts = {e["id"]: refused.get(e["id"], (None, None)) for e in new}
        _insert_many(conn, events, ("id", "device_key", "seq", "type", "entity_id", "at",
                                    "received_at", "body_hash", "body", "refused",
                                    "refused_reason"),
                     [(e["id"], key, e["seq"], e["type"], e["entity_id"], e["at"], now,
                       e["_hash"], e["_text"], *verdicts[e["id"]]) for e in new])
        _insert_many(conn, audit, ("device_key", "seq", "at", "actor", "action", "entity_type",
                                   "entity_id", "prev_hash", "hash"),
                     [(key, e["audit_seq"], e["at"], e["actor"], e["type"], e["entity_type"],
                       e["entity_id"], e["audit_prev_hash"], e["audit_hash"]) for e in new])
        conn.execute(_prepared(conn, "device_received", lambda among: sa.update(devices).where(
            devices.c.key == sa.bindparam("dev")).values(
            last_seq=sa.func.max(devices.c.last_seq, sa.bindparam("newest", type_=sa.BigInteger))
            if conn.dialect.name == "sqlite" else
            sa.func.greatest(devices.c.last_seq, sa.bindparam("newest", type_=sa.BigInteger)),
            received=devices.c.received + sa.bindparam("count", type_=sa.BigInteger))),
            {"dev": key, "newest": new[-1]["seq"], "count": len(new)})
        accepted = [e for e in new if e["id"] not in refused]
        if accepted:
            self._apply(conn, key, office, accepted)

    def _judged_again(self, conn, device: dict, again: list[dict], refused: dict) -> None:
        """Resends of refused events: those now accepted are applied (a root the office
        used is trusted now, a decision central has since made); the rest keep a refusal."""
        accepted = [e for e in again if e["id"] not in refused]
        for event in again:
            code, reason = refused.get(event["id"], (None, None))
            conn.execute(_prepared(conn, "rejudged", lambda among: sa.update(events).where(
                events.c.id == sa.bindparam("event_id")).values(
                refused=sa.bindparam("v_refused"), refused_reason=sa.bindparam("v_reason"))),
                {"event_id": event["id"], "v_refused": code, "v_reason": reason})
        if accepted:
            self._apply(conn, device["key"], device["office"], accepted)

    # --- applying events to central's tables -------------------------------------------------
    def _upsert(self, conn, table, rows: list[dict], index: str) -> None:
        if not rows:
            return
        def build(among):
            stmt = self._insert(table)
            cols = {c: stmt.excluded[c] for c in rows[0] if c != index}
            return stmt.on_conflict_do_update(
                index_elements=[index], set_=cols,
                where=table.c.source_seq < stmt.excluded.source_seq)
        conn.execute(_prepared(conn, f"upsert:{table.name}:{index}:{','.join(rows[0])}", build),
                     rows)

    def _apply(self, conn, key: str, office: str, new: list[dict]) -> None:
        apps, pays, issued, states, licence_changes = {}, {}, {}, [], []
        revoked_any = False
        pages, bill_events, visits = [], [], []
        for e in new:  # in sequence order: the last snapshot of an entity wins
            t, d, seq = e["type"], e["data"], e["seq"]
            if t in DOCUMENT_EVENTS:
                pages.append(e)
            elif t in APPOINTMENT_EVENTS:
                visits.append(e)
            elif t in BILL_EVENTS:
                bill_events.append(e)
                if t == "bill.paid" and not d.get("refund") and \
                        isinstance(d.get("application_state"), str):
                    # Paid through the network: the office records no payment.taken for it
                    # (bill.paid carries the receipt), so this event moves the state.
                    states.append({"app_id": d["application_id"],
                                   "state": d["application_state"], "seq": seq})
            elif t.startswith("application."):
                apps[d["id"]] = {"id": d["id"], "number": d["number"], "office": office,
                                 "device_key": key, "service_code": d["service_code"],
                                 "state": d["state"], "issue_mode": d.get("issue_mode"),
                                 "fee_minor": d["fee_minor"], "currency": d["currency"],
                                 "body": canonical_json(d), "source_seq": seq,
                                 "submitted_at": _utc(d.get("submitted_at"))}
            elif t.startswith("payment."):
                pays[d["id"]] = {"id": d["id"], "receipt_number": d["receipt_number"],
                                 "application_id": d["application_id"], "office": office,
                                 "device_key": key, "method": d["method"],
                                 "amount_minor": d["amount_minor"], "currency": d["currency"],
                                 "voided_at": d["voided_at"], "body": canonical_json(d),
                                 "source_seq": seq}
                states.append({"app_id": d["application_id"], "state": d["application_state"],
                               "seq": seq})
            elif t == "licence.issued":
                issued[d["id"]] = {"id": d["id"], "number": d["number"],
                                   "application_id": d["application_id"], "office": office,
                                   "device_key": key, "licence_type": d["licence_type"],
                                   "issued_at": d["issued_at"], "valid_until": d["valid_until"],
                                   "reprint_count": d.get("reprint_count") or 0,
                                   "revoked_at": d.get("revoked_at"),
                                   "revoke_reason": d.get("revoke_reason"), "revoked_by": None,
                                   "signed_payload": d["signed_payload"], "source_seq": seq}
                states.append({"app_id": d["application_id"], "state": "issued", "seq": seq})
            elif t.startswith("licence."):
                licence_changes.append(e)
                revoked_any |= t == "licence.revoked"
        self._upsert(conn, applications, list(apps.values()), "id")
        self._upsert(conn, payments, list(pays.values()), "id")
        self._upsert(conn, licences, list(issued.values()), "id")
        if pages:
            self.documents.record(conn, key, office, pages)
        if bill_events:
            self.bills.record(conn, key, office, bill_events)
        if visits:
            from . import appointments  # it imports this module
            appointments.record(conn, office, visits)
        if states:
            conn.execute(_prepared(conn, "application_states", lambda among: sa.update(
                applications).where(
                applications.c.id == sa.bindparam("app_id"),
                applications.c.source_seq < sa.bindparam("seq")).values(
                state=sa.bindparam("state"), source_seq=sa.bindparam("seq"))), states)
        backoffice.index(self, conn, [{"id": a["id"], "body": a["body"]} for a in apps.values()])
        backoffice.refresh_awaiting(conn, [*apps, *(s["app_id"] for s in states)])
        if issued:
            # A reprint or revocation that reached us before its licence: apply it now.
            earlier = conn.execute(_prepared(conn, "earlier_licence_changes", lambda among:
                sa.select(events.c.body).where(
                events.c.device_key == sa.bindparam("dev"),
                events.c.type.in_(("licence.reprinted", "licence.revoked")),
                events.c.entity_id.in_(sa.bindparam("issued", expanding=True)),
                events.c.refused.is_(None))), {"dev": key, "issued": list(issued)}
            ).scalars().all()
            licence_changes = [json.loads(b) for b in earlier] + licence_changes
        for e in sorted(licence_changes, key=lambda e: e["seq"]):
            d = e["data"]
            values = {"reprint_count": d["reprint_count"]} if e["type"] == "licence.reprinted" \
                else {"revoked_at": d["revoked_at"], "revoke_reason": d["revoke_reason"],
                      "revoked_by": "office"}
            conn.execute(sa.update(licences).where(
                licences.c.id == d["id"], licences.c.source_seq < e["seq"]).values(
                source_seq=e["seq"], **values))
        if revoked_any:
            self._publish_revocations(conn)
        from . import reports  # the figures' facts (it imports this module)
        reports.project(conn, office, new)

    def _gaps(self, conn, key: str, last_seq: int, received: int) -> list[list[int]]:
        if received >= last_seq:
            return []
        seqs = conn.execute(sa.select(events.c.seq).where(events.c.device_key == key)
                            .order_by(events.c.seq)).scalars().all()
        return protocol.gaps(seqs, last_seq)

    # --- the reference stream --------------------------------------------------------------------
    def _add_change(self, conn, kind: str, key: str, office: str | None, body: dict) -> None:
        conn.execute(sa.insert(reference).values(kind=kind, key=key, office=office,
                                                 body=canonical_json(body), at=self.now()))

    def _floor(self, conn) -> int:
        value = conn.execute(sa.select(meta.c.value).where(
            meta.c.key == "reference_floor")).scalar()
        return int(value) if value else 0

    def bundle(self, device: dict, cursor: int, limit: int = 500) -> dict:
        """The changes after `cursor` this device may see, signed by the root key. A cursor
        older than the retained history (or from another central) gets a full snapshot."""
        if isinstance(cursor, bool) or not isinstance(cursor, int) or cursor < 0:
            raise CentralError(422, "invalid_cursor", "cursor: a version number, 0 or more")
        if not 1 <= limit <= 5000:
            raise CentralError(422, "invalid_limit", "limit: 1 to 5000")
        office = device["office"]
        visible = sa.or_(reference.c.office.is_(None), reference.c.office == office)
        if device.get("role", "hub") not in SIGNS_PEOPLE_IN:
            visible = sa.and_(visible, reference.c.kind != "user")  # no PIN hashes
        with self.engine.connect() as conn:
            head = conn.execute(sa.select(sa.func.max(reference.c.version))).scalar() or 0
            floor = self._floor(conn)
            full = cursor < floor or cursor > head
            if full:
                latest = sa.select(sa.func.max(reference.c.version)).where(visible).group_by(
                    reference.c.kind, reference.c.key)
                rows = conn.execute(sa.select(reference).where(
                    reference.c.version.in_(latest)).order_by(reference.c.version)).mappings().all()
                more, upto = False, head
            else:
                rows = conn.execute(sa.select(reference).where(
                    reference.c.version > cursor, visible).order_by(reference.c.version)
                    .limit(limit)).mappings().all()
                more = len(rows) == limit
                upto = rows[-1]["version"] if more else head
        payload = {"office": office, "device": device["device_id"], "full": full,
                   "from": 0 if full else cursor, "cursor": upto, "more": more,
                   "issued_at": self.now(),
                   "changes": [{"version": r["version"], "kind": r["kind"], "key": r["key"],
                                "body": json.loads(r["body"])} for r in rows]}
        return protocol.sign_bundle(payload, self.root_key)

    def compact(self, keep_after: int | None = None) -> dict:
        """Drop superseded changes up to `keep_after` (default: the head); devices whose
        cursor is older get a full snapshot next time."""
        with self.engine.begin() as conn:
            head = conn.execute(sa.select(sa.func.max(reference.c.version))).scalar() or 0
            horizon = head if keep_after is None else min(keep_after, head)
            survivors = sa.select(sa.func.max(reference.c.version)).group_by(
                reference.c.kind, reference.c.key)
            removed = conn.execute(sa.delete(reference).where(
                reference.c.version <= horizon,
                reference.c.version.not_in(survivors))).rowcount
            conn.execute(sa.delete(meta).where(meta.c.key == "reference_floor"))
            conn.execute(sa.insert(meta).values(key="reference_floor", value=str(horizon)))
        return {"removed": removed, "floor": horizon, "head": head}

    def services(self) -> list[dict]:
        from .catalogue import Catalogue  # the catalogue's owner (it imports this module)
        return Catalogue(self).services()

    # --- back office -----------------------------------------------------------------------------
    def set_fee(self, service: str, amount_minor: int, by: str = "cli") -> dict:
        """`nafitha central fee`: a fee in minor units, published as any catalogue change."""
        from .catalogue import Catalogue
        if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
            raise CentralError(422, "invalid_fee", "amount: whole minor units", field="fee")
        catalogue = Catalogue(self)
        currency = catalogue.service(service)["fee"]["currency"]
        return catalogue.change(service, by=by, fee=fee_text(amount_minor, currency))["service"]

    def add_user(self, office: str, username: str, role: str, pin: str) -> dict:
        if not CODE_RE.match(office or ""):
            raise CentralError(422, "invalid_office", "office: 1-8 capital letters or digits")
        if not isinstance(username, str) or not USERNAME_RE.match(username):
            raise CentralError(422, "invalid_username", "username: 2-32 lower-case letters, "
                                                        "digits, '.', '_' or '-'")
        if role not in ROLES:
            raise CentralError(422, "invalid_role", f"role: one of {', '.join(ROLES)}")
        problem = pin_problem(pin, role)
        if problem:
            raise CentralError(422, "invalid_pin", problem)
        body = {"username": username, "role": role, "pin_hash": hash_pin(pin), "active": True}
        with self.engine.begin() as conn:
            self._ensure_office(conn, office)
            self._add_change(conn, "user", f"{office}/{username}", office, body)
        return {"office": office, "username": username, "role": role}

    def disable_user(self, office: str, username: str) -> dict:
        with self.engine.begin() as conn:
            found = conn.execute(sa.select(reference.c.body).where(
                reference.c.kind == "user", reference.c.key == f"{office}/{username}")
                .order_by(reference.c.version.desc())).scalar()
            if found is None:
                raise CentralError(404, "unknown_user", f"no user {username} at {office}")
            body = {**json.loads(found), "active": False}
            self._add_change(conn, "user", f"{office}/{username}", office, body)
        return {"office": office, "username": username, "active": False}

    def _application(self, conn, number: str) -> dict:
        row = None if "\x00" in number else conn.execute(sa.select(applications).where(sa.or_(
            applications.c.number == number, applications.c.id == number))).mappings().first()
        if row is None:
            raise CentralError(404, "unknown_application",
                               f"no application {number!r} has reached central")
        return dict(row)

    def decide(self, number: str, decision: str, reason: str | None = None,
               conditions: str | None = None, by: str = "back-office") -> dict:
        """Approve or reject an application that needs review; the office applies it on its
        next pull and the counter shows it."""
        if decision not in ("approved", "rejected"):
            raise CentralError(422, "invalid_decision", "decision: approved or rejected")
        reason = (reason or "").strip() or None
        if decision == "rejected" and not reason:
            raise CentralError(422, "reason_required", "a rejection needs a reason (the "
                                                       "resident is told it)")
        for name, value, limit in (("reason", reason, 500), ("conditions", conditions, 300)):
            if value and (len(value) > limit or any(ord(c) < 32 for c in value)):
                raise CentralError(422, f"invalid_{name}",
                                   f"{name}: one line of at most {limit} characters")
        known_types = {s["licence_type"] for s in self.services()} if conditions else set()
        with self.engine.begin() as conn:
            app = self._application(conn, number)
            if app["issue_mode"] != "review":
                raise CentralError(409, "not_for_review", f"{app['number']} is an instant "
                                   f"service; paying approves it")
            if app["state"] not in ("submitted", "paid"):
                raise CentralError(409, "already_decided",
                                   f"{app['number']} is {app['state']}; it can no longer "
                                   f"be decided here")
            if decision == "approved" and conditions:
                self._check_licence_fits(conn, app, conditions, known_types)
            if conn.execute(sa.select(decisions.c.state).where(
                    decisions.c.application_id == app["id"])).first():
                raise CentralError(409, "already_decided", f"{app['number']} already has a "
                                                           f"decision waiting for the office")
            row = {"application_id": app["id"], "state": decision, "reason": reason,
                   "conditions": conditions or "", "decided_by": by, "decided_at": self.now()}
            conn.execute(sa.insert(decisions).values(**row))
            backoffice.refresh_awaiting(conn, [app["id"]])
            self._add_change(conn, "decision", app["id"], app["office"],
                             {**row, "number": app["number"]})
        return {**row, "number": app["number"], "office": app["office"]}

    def _check_licence_fits(self, conn, app: dict, conditions: str,
                            known_types: set[str]) -> None:
        """Conditions are signed into the licence's QR code: refuse those that would not fit
        58 mm paper, the narrowest any office may print on (central does not know each
        office's printers), before the office numbers or signs anything."""
        body = json.loads(app["body"])
        fields = self._opened(conn, app["id"], body.get("fields") or {})
        if fields is None:
            raise CentralError(409, "personal_data_erased",
                               f"{app['number']}: the resident's data was erased; a licence "
                               f"with conditions cannot be measured for it")
        fields = json.loads(fields) if isinstance(fields, str) else fields
        code = worst_case_code(app["office"], body["licence_type"], fields,
                               conditions, sorted(known_types))
        problem = qr_fit.misfit(len(code), NARROWEST_PAPER_DOTS)
        if problem:
            raise CentralError(422, "conditions_too_long",
                               f"these conditions do not fit on the licence: {problem}; "
                               f"shorten them by at least "
                               f"{qr_fit.excess_bytes(len(code), NARROWEST_PAPER_DOTS)} "
                               f"characters (an Arabic letter counts as two)")

    def erase_resident(self, numbers: list[str], reason: str, by: str = "back-office") -> dict:
        """Erase residents' personal data on request: each application's resident key is
        deleted here and, through the reference data, on every device of its office. Numbers,
        states, payments and every audit chain stay; the sealed values become unreadable.
        All named applications must have reached central, or nothing is erased."""
        reason = (reason or "").strip()
        if not reason or len(reason) > 500 or any(ord(c) < 32 for c in reason):
            raise CentralError(422, "reason_required", "an erasure needs a reason: one line "
                                                       "of up to 500 characters")
        if not numbers:
            raise CentralError(422, "nothing_to_erase", "name at least one application")
        now = self.now()
        with self.engine.begin() as conn:
            apps = [self._application(conn, n) for n in dict.fromkeys(numbers)]
            erased = []
            for app in apps:
                held = conn.execute(sa.select(resident_keys.c.erased_at).where(
                    resident_keys.c.application_id == app["id"])).first()
                values = {"wrapped": None, "erased_at": now, "erase_reason": reason,
                          "erased_by": by}
                if held is None:  # sent in clear by an older device, or before its key
                    conn.execute(sa.insert(resident_keys).values(
                        application_id=app["id"], office=app["office"],
                        device_key=app["device_key"], received_at=now, **values))
                elif held.erased_at is None:
                    conn.execute(sa.update(resident_keys).where(
                        resident_keys.c.application_id == app["id"]).values(**values))
                else:
                    continue  # already erased: said once
                self._add_change(conn, "erasure", app["id"], app["office"],
                                 {"application_id": app["id"], "number": app["number"]})
                erased.append(app["number"])
            backoffice.forget(conn, [a["id"] for a in apps])  # no longer found by name or ID
            # Their documents' pages show the resident too: the files go once this commits.
            files = self.documents.forget(conn, [a["id"] for a in apps])
        for path in files:
            path.unlink(missing_ok=True)
        return {"erased": erased, "already": [a["number"] for a in apps
                                              if a["number"] not in erased]}

    def revoke_licence(self, number: str, reason: str, by: str = "back-office") -> dict:
        reason = (reason or "").strip()
        if not reason or len(reason) > 500:
            raise CentralError(422, "reason_required", "a revocation needs a reason "
                                                       "(up to 500 characters)")
        if any(ord(c) < 32 for c in reason):
            raise CentralError(422, "invalid_reason", "reason: one line of at most 500 "
                                                      "characters")
        with self.engine.begin() as conn:
            row = None if "\x00" in number else conn.execute(sa.select(licences).where(
                licences.c.number == number)).mappings().first()
            if row is None:
                raise CentralError(404, "unknown_licence", f"no licence {number!r} has reached "
                                                           f"central")
            if row["revoked_at"]:
                raise CentralError(409, "already_revoked",
                                   f"{number} was revoked on {row['revoked_at'][:10]}")
            conn.execute(sa.update(licences).where(licences.c.id == row["id"]).values(
                revoked_at=self.now(), revoke_reason=reason, revoked_by=f"central:{by}"))
            listed = self._publish_revocations(conn)
        return {"number": number, "revoked": True, "reason": reason,
                "revocation_list": listed}

    def _publish_revocations(self, conn) -> int:
        """A new root-signed list of every revoked licence and device, into the stream."""
        numbers = conn.execute(sa.select(licences.c.number).where(
            licences.c.revoked_at.is_not(None))).scalars().all()
        device_rows = conn.execute(sa.select(devices.c.office, devices.c.device_id,
                                             devices.c.revoked_at).where(
            devices.c.revoked_at.is_not(None))).all()
        last = conn.execute(sa.select(sa.func.max(revocation_lists.c.number))).scalar() or 0
        now = self.clock.now()
        listed = revocation.make(self.root_key, last + 1, int(now.timestamp()), list(numbers),
                                 {device_key(r.office, r.device_id): epoch(r.revoked_at)
                                  for r in device_rows})
        encoded = base64.b64encode(listed.to_bytes()).decode("ascii")
        conn.execute(sa.insert(revocation_lists).values(number=last + 1, issued_at=iso(now),
                                                        list=encoded))
        self._add_change(conn, "revocations", "list", None,
                         {"number": last + 1, "list": encoded})
        trust_list.publish(self, conn)  # the browser verifier's list carries it too
        return last + 1

    def revoke_device(self, office: str, device_id: str) -> dict:
        """The device's token stops working and its licences from now on are refused."""
        key = f"{office}/{device_id}"
        with self.engine.begin() as conn:
            found = conn.execute(sa.update(devices).where(
                devices.c.key == key, devices.c.revoked_at.is_(None)).values(
                revoked_at=self.now())).rowcount
            if not found:
                raise CentralError(404, "unknown_device", f"no enrolled device {key}")
            number = self._publish_revocations(conn)
        return {"device": key, "revoked": True, "revocation_list": number}

    def licence_status(self, number: str) -> dict:
        """Online verification: no personal data, only what the QR already proves."""
        if "\x00" in number:  # no such number (and PostgreSQL refuses NUL in text)
            return {"number": number, "status": "unknown"}
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(licences).where(
                licences.c.number == number)).mappings().first()
        if row is None:
            return {"number": number, "status": "unknown"}
        valid_until = row["valid_until"]
        expired = parse_iso(valid_until) < self.clock.now()
        status = "revoked" if row["revoked_at"] else "expired" if expired else "valid"
        return {"number": number, "status": status, "licence_type": row["licence_type"],
                "office": row["office"], "issued_at": row["issued_at"],
                "valid_until": valid_until, "revoked_at": row["revoked_at"],
                "revoke_reason": row["revoke_reason"]}

    def offices(self) -> list[dict]:
        """Each office's devices: last contact, events held, gaps, clock skew."""
        with self.engine.connect() as conn:
            office_rows = conn.execute(sa.select(offices).order_by(offices.c.code)).mappings().all()
            device_rows = conn.execute(sa.select(devices).order_by(devices.c.key)).mappings().all()
            out = []
            for office in office_rows:
                mine = []
                for d in device_rows:
                    if d["office"] != office["code"]:
                        continue
                    mine.append({"device_id": d["device_id"], "enrolled_at": d["enrolled_at"],
                                 "revoked_at": d["revoked_at"],
                                 "last_contact_at": d["last_contact_at"],
                                 "last_seq": d["last_seq"], "received": d["received"],
                                 "missing": d["last_seq"] - d["received"],
                                 "gaps": self._gaps(conn, d["key"], d["last_seq"], d["received"]),
                                 "backlog": d["backlog"],
                                 "clock_skew_s": d["clock_skew_s"]})
                contacts = [d["last_contact_at"] for d in mine if d["last_contact_at"]]
                out.append({"office": office["code"], "devices": mine,
                            "last_contact_at": max(contacts) if contacts else None,
                            "missing_events": sum(d["missing"] for d in mine),
                            "backlog": sum(d["backlog"] or 0 for d in mine)})
        return out

    def rejections(self, limit: int = 100) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(rejections.c.id, rejections.c.at,
                                          rejections.c.device_key, rejections.c.event_id,
                                          rejections.c.status, rejections.c.reason)
                                .order_by(rejections.c.id.desc()).limit(limit)).mappings().all()
        return [dict(r) for r in rows]

    def counts(self) -> dict:
        with self.engine.connect() as conn:
            return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
                    for t in (events, audit, applications, payments, licences, devices)}


def load_raw_catalog(directory: Path) -> list[dict]:
    """The catalogue files as the dicts the reference stream carries (checked first: each
    service, and that the files agree on each sector's and category's words, as an office's
    own loader checks them)."""
    out, services = [], []
    for path in sorted(Path(directory).glob("*.toml")):
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        services.append(parse_service(raw, str(path)))
        out.append(raw)
    if not out:
        raise CentralError(500, "no_catalogue", f"{directory}: no service files (*.toml)")
    check_groups(services)
    return out


def check_service(raw: dict, setting: str = "service") -> None:
    """The catalogue loader's rules; the refusal's code and field name `setting`."""
    try:
        parse_service(raw, "central")
    except CatalogError as exc:
        raise CentralError(422, f"invalid_{setting}", exc.message, field=setting) from None
