"""The durable local store: one SQLite file, opened through sqlite-utils.

WAL journal, synchronous=FULL (a commit is on disk before the call returns), foreign keys
on, a busy timeout so several processes can share the file, numbered migrations applied on
open, and `atomic()` around each whole operation. BEGIN IMMEDIATE takes the write lock at
the start, so two processes calling the next ticket are serialised by SQLite itself.
"""
from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import threading
import time
from pathlib import Path

import sqlite_utils

from . import audit, kpis, migrations, outbox
from .clock import Clock, UlidFactory, iso
from .errors import DiskFull, StoreError
from .private_files import ensure_private

SQLITE_HEADER = b"SQLite format 3\x00"
# SQLite's primary result codes for faults of the disk or the file, as the person at the
# device should read them.
STORE_FAULTS = {
    sqlite3.SQLITE_FULL: "the disk is full: {path} could not be written (free some space, "
                         "then try again)",
    sqlite3.SQLITE_IOERR: "the disk could not read or write {path} (check the disk)",
    sqlite3.SQLITE_READONLY: "{path} is read-only (check the disk and the file's owner)",
    sqlite3.SQLITE_CORRUPT: "{path} is damaged; restore it from a backup",
    sqlite3.SQLITE_NOTADB: "{path} is damaged; restore it from a backup",
    sqlite3.SQLITE_CANTOPEN: "{path} cannot be opened (check the disk)",
    sqlite3.SQLITE_BUSY: "{path} stayed locked by another program past the busy timeout "
                         "(try again)",
    sqlite3.SQLITE_LOCKED: "{path} stayed locked past the busy timeout (try again)",
}


class Store:
    def __init__(self, path: Path, conn: sqlite3.Connection, clock: Clock, ids: UlidFactory,
                 device_id: str, office_code: str):
        self.path = path
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self.clock = clock
        self.ids = ids
        self.device_id = device_id
        self.office_code = office_code
        self._depth = 0
        self._lock = threading.RLock()
        self._actor = "system"
        # The device key that signs the audit head at each commit (a KeyFile, set by the
        # Office; None: heads stay unsigned), the head this transaction chained from, and
        # the head this process signed last (trusted without a second check).
        self.head_key = None
        self._chained_from: dict | None = None
        self._last_entry: dict | None = None
        self._signed_head: dict | None = None
        self.schema_opened = 0  # the schema version found on open (migrations.apply)
        # True from an operation refused for a full disk until one commits again: what the
        # health report and the kiosk's "out of service" read (docs/operations/support.md).
        self.disk_full = False
        # The office's time zone, set by the Office: each event's KPI facts are written in
        # its transaction (core/kpis.py); None (a bare store): no facts.
        self.kpi_tz = None
        self._has_facts: bool | None = None

    # --- opening ---------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, clock: Clock, ids: UlidFactory, device_id: str = "D01",
             office_code: str = "MUH", busy_timeout_ms: int = 10_000) -> "Store":
        path = Path(path)
        directory = path.parent
        if not directory.exists():
            try:
                directory.mkdir(parents=True, mode=0o700, exist_ok=True)  # racing openers
            except OSError as exc:
                _raise_if_disk_full(exc, directory)
                raise StoreError(f"cannot create the data directory {directory}: {exc.strerror}",
                                 path=str(directory))
        if not os.access(directory, os.W_OK | os.X_OK):
            raise StoreError(f"the data directory {directory} is not writable; the store needs "
                             f"to write its database and journal there", path=str(directory))
        if path.exists():
            if path.is_dir():
                raise StoreError(f"{path} is a directory, not a database file", path=str(path))
            with open(path, "rb") as fh:
                header = fh.read(16)
            if header and header != SQLITE_HEADER:
                raise StoreError(f"{path} is not a SQLite database (it was left untouched); "
                                 f"move it away or choose another --data directory",
                                 path=str(path))
        try:
            # Created by us so it is 0600 from its first byte; SQLite gives the -wal and
            # -shm files the same mode.
            ensure_private(path)
        except OSError as exc:
            # os.access can say yes and the kernel still say no (root, a read-only mount).
            _raise_if_disk_full(exc, path)
            raise StoreError(f"cannot create the database {path}: {exc.strerror}",
                             path=str(path))
        conn = None
        try:
            conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False,
                                   timeout=busy_timeout_ms / 1000)
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            _enable_wal(conn, busy_timeout_ms / 1000)
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            # A deleted resident key is overwritten, not left in a free page (docs/privacy.md).
            conn.execute("PRAGMA secure_delete = ON")
            store = cls(path, conn, clock, ids, device_id, office_code)
            migrations.apply(store)
            quick = conn.execute("PRAGMA quick_check").fetchone()[0]
            if quick != "ok":
                raise StoreError(f"{path} is damaged ({quick}); restore it from a backup",
                                 path=str(path))
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()
            if _sqlite_code(exc) == sqlite3.SQLITE_FULL:
                raise DiskFull(f"{STORE_FAULTS[sqlite3.SQLITE_FULL].format(path=path)}; "
                               f"nothing was changed", path=str(path)) from exc
            raise StoreError(f"{path} cannot be used as a Nafitha store: {exc}", path=str(path))
        except StoreError:
            conn.close()
            raise
        try:
            store._check_identity()
        except StoreError:
            conn.close()
            raise
        return store

    def _check_identity(self) -> None:
        """A store belongs to one device: opening it as another would fork its sequences."""
        # Read under the write lock: two processes opening a new store must not both claim it.
        with self.atomic():
            row = self.conn.execute("SELECT device_id, office_code FROM identity").fetchone()
            if row is None:
                self.conn.execute("INSERT INTO identity(device_id, office_code, created_at) "
                                  "VALUES (?,?,?)",
                                  (self.device_id, self.office_code, iso(self.clock.now())))
        if row is not None and tuple(row) != (self.device_id, self.office_code):
            raise StoreError(f"{self.path} belongs to device {row[0]} of office {row[1]}, "
                             f"not {self.device_id} of {self.office_code}", path=str(self.path))

    def close(self) -> None:
        self.conn.close()

    # --- transactions ----------------------------------------------------------------------
    @contextlib.contextmanager
    def atomic(self, actor: str | None = None):
        """One whole operation: everything inside commits together or not at all."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self.conn.execute("BEGIN IMMEDIATE")
            # The actor named here acts for what runs inside, nested or not (a hub wraps a
            # clerk's operation in the transaction that keeps its reply).
            previous_actor = self._actor
            if actor:
                self._actor = actor
            self._depth += 1
            try:
                yield self
            except BaseException as exc:
                self._depth -= 1
                self._actor = previous_actor
                if outer:
                    self._chained_from = None
                    self._rollback()
                    self._raise_store_fault(exc)
                raise
            else:
                self._depth -= 1
                self._actor = previous_actor
                if outer:
                    try:
                        self._sign_audit_head()
                        self.conn.execute("COMMIT")
                    except BaseException as exc:
                        self._rollback()
                        self._raise_store_fault(exc)
                        raise
                    self.disk_full = False

    def _rollback(self) -> None:
        # SQLite has already rolled back after some faults (a full disk, an I/O error): a
        # second ROLLBACK would fail and hide the fault that caused it.
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def _raise_store_fault(self, exc: BaseException) -> None:
        """A fault of the disk or the file, not of the operation: one StoreError that says
        what happened and that nothing was changed (the CLI's one line, the hub's 503)."""
        if isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS:
            # A file the operation writes beside the database (ENOSPC, a quota).
            self.disk_full = True
            raise DiskFull(f"{STORE_FAULTS[sqlite3.SQLITE_FULL].format(path=self.path.parent)}"
                           f"; nothing was changed", path=str(self.path)) from exc
        if not isinstance(exc, sqlite3.DatabaseError) or isinstance(exc, sqlite3.IntegrityError):
            return
        code = _sqlite_code(exc)
        why = STORE_FAULTS.get(code)
        if why is None:
            return
        if code == sqlite3.SQLITE_FULL:
            # By SQLite's result code, never its message: the transaction is rolled back.
            self.disk_full = True
            raise DiskFull(f"{why.format(path=self.path)}; nothing was changed",
                           path=str(self.path), fault=exc.sqlite_errorname) from exc
        raise StoreError(f"{why.format(path=self.path)}; nothing was changed",
                         path=str(self.path), fault=exc.sqlite_errorname) from exc

    def _sign_audit_head(self) -> None:
        chained_from, self._chained_from = self._chained_from, None
        if chained_from is None:
            return
        self._signed_head = audit.sign_after(self, chained_from, self._last_entry,
                                             self.head_key, self._signed_head)

    def in_transaction(self) -> bool:
        return self._depth > 0

    # --- small helpers ---------------------------------------------------------------------
    def one(self, sql: str, params=()) -> dict | None:
        cur = self.conn.execute(sql, params)
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([c[0] for c in cur.description], row))

    def all(self, sql: str, params=()) -> list[dict]:
        cur = self.conn.execute(sql, params)
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, row)) for row in cur.fetchall()]

    def insert(self, table: str, row: dict) -> None:
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        self.conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", tuple(row.values()))

    def update(self, table: str, key: str, key_value, values: dict) -> None:
        sets = ", ".join(f"{c} = ?" for c in values)
        self.conn.execute(f"UPDATE {table} SET {sets} WHERE {key} = ?",
                          (*values.values(), key_value))

    def next_sequence(self, name: str) -> int:
        """Gap-free counters (receipts, applications, licences): they live in the same
        transaction as the row that uses the number, so a rollback returns the number."""
        assert self.in_transaction(), "sequences are taken inside atomic()"
        self.conn.execute("INSERT INTO sequences(name, value) VALUES (?, 1) "
                          "ON CONFLICT(name) DO UPDATE SET value = value + 1", (name,))
        return self.conn.execute("SELECT value FROM sequences WHERE name = ?",
                                 (name,)).fetchone()[0]

    def raise_sequences(self, marks: dict[str, int]) -> dict[str, int]:
        """Lift counters to at least these high-water marks (a store restored from a backup:
        numbers issued after it must never come again, core/backup.py); never lowers one.
        The marks that moved a counter, {name: new value}."""
        assert self.in_transaction(), "sequences are raised inside atomic()"
        moved = {}
        for name, value in sorted(marks.items()):
            row = self.conn.execute("SELECT value FROM sequences WHERE name = ?",
                                    (name,)).fetchone()
            if row is None or row[0] < value:
                self.conn.execute("INSERT INTO sequences(name, value) VALUES (?, ?) "
                                  "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                                  (name, int(value)))
                moved[name] = int(value)
        return moved

    def sequence_values(self) -> dict[str, int]:
        return dict(self.conn.execute("SELECT name, value FROM sequences").fetchall())

    def identity(self) -> dict | None:
        """The device and office this store belongs to (written on first open)."""
        return self.one("SELECT device_id, office_code FROM identity")

    def now(self) -> str:
        return iso(self.clock.now())

    def has_schema(self, migration: int) -> bool:
        """Whether this store's schema has migration N: code that writes a newer table or
        column asks first (the migration tests run today's code on older schemas)."""
        return self.conn.execute("PRAGMA user_version").fetchone()[0] >= migration

    @property
    def actor(self) -> str:
        """Who the operation running now is recorded under ("system" outside one)."""
        return self._actor

    @contextlib.contextmanager
    def savepoint(self, name: str = "step"):
        """Part of an operation that may fail without undoing the rest (a back-office
        decision in a reference bundle): rolled back alone, then the error goes on."""
        assert self.in_transaction(), "a savepoint is taken inside atomic()"
        self.conn.execute(f"SAVEPOINT {name}")
        chain = (self._chained_from, self._last_entry)  # the audit head to sign at commit
        try:
            yield
        except BaseException:
            self.conn.execute(f"ROLLBACK TO {name}")
            self.conn.execute(f"RELEASE {name}")
            self._chained_from, self._last_entry = chain
            raise
        self.conn.execute(f"RELEASE {name}")

    # --- audit + outbox: written by every operation ------------------------------------------
    def record(self, event_type: str, entity_type: str, entity_id: str, data: dict) -> dict:
        """Append the audit entry and the outbox event of one operation (same transaction)."""
        assert self.in_transaction(), "record() is called inside atomic()"
        entry, previous = audit.append(self, self.now(), self._actor, event_type, entity_type,
                                       entity_id, data)
        if self._chained_from is None:
            self._chained_from = previous
        self._last_entry = entry
        # The event carries its whole audit entry (entity, previous hash), so central can
        # recompute each device's hash chain on arrival. Its seq is a sequence, not
        # MAX(seq)+1: if sent rows are ever pruned, numbers never come back.
        event = {"id": self.ids.new(), "seq": self.next_sequence("outbox"),
                 "device": self.device_id, "office": self.office_code, "type": event_type,
                 "at": entry["at"], "actor": entry["actor"], "entity_type": entity_type,
                 "entity_id": entity_id, "audit_seq": entry["seq"],
                 "audit_prev_hash": entry["prev_hash"], "audit_hash": entry["hash"],
                 "data": data}
        outbox.append(self, event)
        self._project(event_type, data)
        return event

    def _project(self, event_type: str, data: dict) -> None:
        """The event's KPI facts, in the same transaction (core/kpis.py)."""
        if self.kpi_tz is None:
            return
        if self._has_facts is None:  # an old schema (the migration tests) has no fact tables
            self._has_facts = self.has_schema(kpis.FACTS_SCHEMA)
        if self._has_facts:
            kpis.apply_facts_sqlite(self.conn, kpis.facts_from_event(
                event_type, data, self.office_code, self.kpi_tz))


DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


def _sqlite_code(exc: BaseException) -> int | None:
    """SQLite's primary result code of a sqlite3 error (None: not one of SQLite's own)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def _raise_if_disk_full(exc: OSError, where) -> None:
    if exc.errno in DISK_FULL_ERRNOS:
        raise DiskFull(f"{STORE_FAULTS[sqlite3.SQLITE_FULL].format(path=where)}; nothing was "
                       f"changed", path=str(where)) from exc


def _enable_wal(conn: sqlite3.Connection, timeout_s: float) -> None:
    """Switching to WAL needs a moment alone with the file, and SQLite answers "locked" at
    once rather than waiting when another process is migrating it: retry until the timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            busy = exc.sqlite_errorcode in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
            if not busy or time.monotonic() > deadline:
                raise
            time.sleep(0.01)

