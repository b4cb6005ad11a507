"""Supporting documents at central (docs/sync.md, "Documents"): the pages offices' events name,
the files themselves, and the back office's requests for a document.

- Ingest (central/service.py) records each application.document_added / _removed event in
  `document_pages`, in the batch's transaction; an added page that answers a request marks it
  answered.
- A device uploads each file in chunks (PUT /v1/documents/<sha256>, Content-Range), only for a
  hash one of its own accepted events named, and only at the offset central holds: a chunk at
  another offset is refused with that offset (409), so a device resumes where central stands.
  Partial files live in home/documents/partial/<device>/<sha256>; on the last chunk the whole
  file is hashed: a mismatch discards it (422 hash_mismatch: the device sends it again), a
  match moves it into home/documents/<sha[:2]>/<sha256> (fsync, rename). A file is held once,
  whoever sends it: a second device is told "complete" at once.
- The back office asks for a document (`request`): published to the application's office as
  the reference change "document_request" (sync/reference.py applies it there).

Nothing here logs a document's content or a resident's data."""
from __future__ import annotations

import fcntl
import hashlib
import os
import re
import secrets
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from core.catalog import parse_service
from core.errors import CatalogError, NafithaError
from core.private_files import fsync_directory
from sync import protocol

from .db import (decisions, document_files, document_pages, document_requests,
                 resident_keys)
from .service import CentralError

ADDED, REMOVED = "application.document_added", "application.document_removed"
EVENT_TYPES = (ADDED, REMOVED)
SHA_RE = re.compile(protocol.SHA256_PATTERN)
DOC_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_NOTE = 500
READ_BLOCK = 1024 * 1024


def _check_sha(sha256) -> str:
    if not isinstance(sha256, str) or not SHA_RE.match(sha256):
        raise CentralError(422, "invalid_sha256", "a document is named by its SHA-256: 64 "
                                                  "lower-case hex digits")
    return sha256


class Documents:
    """central.documents. `new_id()`: a request's id (tests inject their own)."""

    def __init__(self, central, new_id=None):
        self.central = central
        self.root = Path(central.home) / "documents"
        self.new_id = new_id or (lambda: secrets.token_hex(10))
        # Chunk bytes read whole by this process, taken or refused: what the device sent
        # (the upload tests and the benchmark compare it with the files' sizes).
        self.received_bytes = 0

    # --- paths ------------------------------------------------------------------------------
    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def _partial(self, device_key: str, sha256: str) -> Path:
        return self.root / "partial" / device_key.replace("/", "_") / sha256

    @staticmethod
    def _private_dir(path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)

    # --- ingest ------------------------------------------------------------------------------
    def record(self, conn, device_key: str, office: str, events: list[dict]) -> None:
        """Record accepted document events (in sequence order) in the ingest's transaction."""
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        for event in sorted(events, key=lambda e: e["seq"]):
            d = event["data"]
            if event["type"] == ADDED:
                conn.execute(insert(document_pages).values(
                    event_id=event["id"], office=office, device_key=device_key,
                    application_id=d["application_id"], doc_key=d["doc_key"],
                    page=d["page"], sha256=d["sha256"], bytes=d["bytes"],
                    media_type=d["media_type"], source=d.get("source"),
                    added_at=event["at"]).on_conflict_do_nothing(index_elements=["event_id"]))
                answers = d.get("answers_request")
                if isinstance(answers, str):
                    conn.execute(sa.update(document_requests).where(
                        document_requests.c.id == answers,
                        document_requests.c.application_id == d["application_id"],
                        document_requests.c.answered_at.is_(None)).values(
                        answered_at=event["at"]))
            elif event["type"] == REMOVED:
                conn.execute(sa.update(document_pages).where(
                    document_pages.c.office == office,
                    document_pages.c.application_id == d["application_id"],
                    document_pages.c.doc_key == d["doc_key"],
                    document_pages.c.page == d["page"],
                    document_pages.c.sha256 == d["sha256"],
                    document_pages.c.removed_at.is_(None)).values(removed_at=event["at"]))

    # --- the upload --------------------------------------------------------------------------
    def _expected(self, conn, device_key: str, sha256: str) -> tuple[int, str]:
        """(bytes, media type) of the file an accepted event of this device named."""
        row = conn.execute(sa.select(document_pages.c.bytes, document_pages.c.media_type)
                           .where(document_pages.c.sha256 == sha256,
                                  document_pages.c.device_key == device_key)
                           .limit(1)).first()
        if row is None:
            raise CentralError(404, "unknown_document",
                               "no accepted event of this device names this document; send "
                               "its application's events first")
        if self._erased(conn, sha256):
            raise CentralError(410, "erased", "the resident of this document's application "
                                              "was erased: central keeps no copy of it")
        return row.bytes, row.media_type

    def forget(self, conn, application_ids: list[str]) -> list[Path]:
        """A resident's erasure (Central.erase_resident, in its transaction): the files of
        these applications' pages are no longer held, unless a page of an application not
        erased names the same bytes. Returns the paths to delete once the erasure commits;
        the page rows (hashes, sizes) stay as the record."""
        if not application_ids:
            return []
        others = sa.select(document_pages.c.sha256).where(
            ~document_pages.c.application_id.in_(application_ids),
            document_pages.c.removed_at.is_(None),
            ~document_pages.c.application_id.in_(
                sa.select(resident_keys.c.application_id).where(
                    resident_keys.c.erased_at.is_not(None))))
        doomed = [r.sha256 for r in conn.execute(
            sa.select(document_pages.c.sha256).distinct().where(
                document_pages.c.application_id.in_(application_ids),
                document_pages.c.sha256.not_in(others)))]
        if doomed:
            conn.execute(sa.delete(document_files).where(document_files.c.sha256.in_(doomed)))
        return [self.path(sha) for sha in doomed]

    def _erased(self, conn, sha256: str) -> bool:
        """Every application naming this file has had its resident erased."""
        names = sa.select(document_pages.c.application_id).where(
            document_pages.c.sha256 == sha256)
        kept = conn.execute(sa.select(sa.func.count()).select_from(
            names.where(~document_pages.c.application_id.in_(
                sa.select(resident_keys.c.application_id).where(
                    resident_keys.c.erased_at.is_not(None)))).subquery())).scalar()
        return kept == 0

    def _stored(self, conn, sha256: str) -> bool:
        return conn.execute(sa.select(document_files.c.sha256).where(
            document_files.c.sha256 == sha256)).first() is not None

    def state(self, device: dict, sha256: str) -> dict:
        """GET /v1/documents/<sha256>: how much of the file central holds from this device."""
        _check_sha(sha256)
        with self.central.engine.connect() as conn:
            size, media_type = self._expected(conn, device["key"], sha256)
            if self._stored(conn, sha256):
                return {"received": size, "complete": True, "size": size}
        partial = self._partial(device["key"], sha256)
        received = partial.stat().st_size if partial.exists() else 0
        if received >= size:  # whole, but central stopped before checking it: check it now
            with _Locked(partial) as fh:
                if os.fstat(fh.fileno()).st_size >= size:
                    if self._finish(fh, partial, sha256, size, media_type):
                        return {"received": size, "complete": True, "size": size}
                    return {"received": 0, "complete": False, "size": size}
            received = partial.stat().st_size if partial.exists() else 0
        return {"received": min(received, size), "complete": False, "size": size}

    def put_chunk(self, device: dict, sha256: str, content_range, body: bytes) -> dict:
        """PUT /v1/documents/<sha256>: append the chunk if it starts where central stands."""
        _check_sha(sha256)
        try:
            start, end, total = protocol.parse_content_range(content_range)
        except protocol.ProtocolError as exc:
            raise CentralError(400, "invalid_range", exc.message)
        if len(body) > protocol.MAX_UPLOAD_CHUNK_BYTES:
            raise CentralError(413, "chunk_too_large",
                               f"a chunk is at most {protocol.MAX_UPLOAD_CHUNK_BYTES} bytes")
        if len(body) != end - start + 1:
            raise CentralError(400, "invalid_range",
                               f"the body is {len(body)} bytes; Content-Range names "
                               f"{end - start + 1}")
        self.received_bytes += len(body)
        with self.central.engine.connect() as conn:
            size, media_type = self._expected(conn, device["key"], sha256)
            if total != size:
                raise CentralError(422, "wrong_size", f"the file is {size} bytes as its event "
                                                      f"says, not {total}")
            if self._stored(conn, sha256):  # held already (sent by another device): done
                return {"received": size, "complete": True, "size": size}
        partial = self._partial(device["key"], sha256)
        self._private_dir(partial.parent)
        with _Locked(partial) as fh:
            received = os.fstat(fh.fileno()).st_size
            if start != received:
                raise CentralError(409, "wrong_offset",
                                   f"central holds {received} bytes of this file: send from "
                                   f"there", received=received)
            fh.write(body)
            fh.flush()
            received += len(body)
            if received < total:
                return {"received": received, "complete": False, "size": size}
            if not self._finish(fh, partial, sha256, size, media_type):
                raise CentralError(422, "hash_mismatch",
                                   "the file received does not have the SHA-256 it is named "
                                   "by; it was discarded: send it again from the start",
                                   received=0)
        return {"received": size, "complete": True, "size": size}

    def _finish(self, fh, partial: Path, sha256: str, size: int, media_type: str) -> bool:
        """A whole partial file (its lock held): kept if its hash is its name, else
        discarded. True when kept."""
        fh.flush()
        os.fsync(fh.fileno())
        if os.fstat(fh.fileno()).st_size != size or _file_sha256(partial) != sha256:
            partial.unlink()
            return False
        self._keep(partial, sha256)
        insert = postgresql.insert if self.central.engine.dialect.name == "postgresql" \
            else sqlite.insert
        with self.central.engine.begin() as conn:
            conn.execute(insert(document_files).values(
                sha256=sha256, bytes=size, media_type=media_type,
                stored_at=self.central.now()).on_conflict_do_nothing(
                index_elements=["sha256"]))
        return True

    def _keep(self, partial: Path, sha256: str) -> None:
        """Move a checked partial file into place (atomically; once: a copy another device
        completed meanwhile is the same bytes)."""
        final = self.path(sha256)
        self._private_dir(final.parent)
        if final.exists():
            partial.unlink()
            return
        os.chmod(partial, 0o600)
        os.replace(partial, final)
        fsync_directory(final.parent)

    # --- the back office -----------------------------------------------------------------------
    def _application(self, conn, application: str) -> dict:
        if not isinstance(application, str):
            raise CentralError(404, "unknown_application", "no such application")
        return self.central._application(conn, application)

    def pages(self, application: str) -> list[dict]:
        """An application's pages (by id or number) in document and page order, as its
        events left them; `received`: central holds the file."""
        with self.central.engine.connect() as conn:
            app = self._application(conn, application)
            rows = conn.execute(sa.select(
                document_pages.c.doc_key, document_pages.c.page, document_pages.c.sha256,
                document_pages.c.bytes, document_pages.c.media_type, document_pages.c.source,
                document_pages.c.added_at, document_files.c.stored_at).select_from(
                document_pages.outerjoin(document_files,
                                         document_files.c.sha256 == document_pages.c.sha256))
                .where(document_pages.c.application_id == app["id"],
                       document_pages.c.removed_at.is_(None))
                .order_by(document_pages.c.doc_key, document_pages.c.page,
                          document_pages.c.added_at)).mappings().all()
        return [{"doc_key": r["doc_key"], "page": r["page"], "sha256": r["sha256"],
                 "bytes": r["bytes"], "media_type": r["media_type"], "source": r["source"],
                 "added_at": r["added_at"], "received": r["stored_at"] is not None}
                for r in rows]

    def read(self, sha256: str, application: str | None = None) -> bytes:
        """A held file's bytes, checked against its hash. With `application` (id or number),
        only a page of that application (the console checks the application's municipality;
        this keeps it from serving another application's file)."""
        _check_sha(sha256)
        with self.central.engine.connect() as conn:
            if application is not None:
                app = self._application(conn, application)
                named = conn.execute(sa.select(document_pages.c.event_id).where(
                    document_pages.c.application_id == app["id"],
                    document_pages.c.sha256 == sha256).limit(1)).first()
                if named is None:
                    raise CentralError(404, "unknown_document",
                                       "this application has no such page")
            held = self._stored(conn, sha256)
        if not held:
            raise CentralError(404, "document_not_received",
                               "the office has not uploaded this page yet")
        data = self.path(sha256).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise CentralError(500, "document_damaged",
                               "the file held for this page does not match its hash")
        return data

    def request(self, application: str, doc_key: str, note: str | None = None,
                by: str = "back-office") -> dict:
        """Ask the application's office for a document (missing or unreadable): recorded, and
        published to that office as the reference change "document_request". The
        application waits for a decision until a page answers it."""
        note = (note or "").strip()
        if len(note) > MAX_NOTE or any(ord(c) < 32 for c in note):
            raise CentralError(422, "invalid_note", f"note: one line of at most {MAX_NOTE} "
                                                    f"characters")
        if not isinstance(doc_key, str) or not DOC_KEY_RE.match(doc_key):
            raise CentralError(422, "invalid_doc_key", "doc_key: the document's key in the "
                                                       "catalogue (e.g. title_deed)")
        with self.central.engine.connect() as conn:  # the catalogue first: its own reads
            service_code = self._application(conn, application)["service_code"]
        asked = self._asked_keys(service_code)
        with self.central.engine.begin() as conn:
            app = self._application(conn, application)
            if app["state"] not in ("submitted", "paid") or conn.execute(
                    sa.select(decisions.c.state).where(
                        decisions.c.application_id == app["id"])).first():
                raise CentralError(409, "already_decided",
                                   f"{app['number']} is decided or not waiting for a "
                                   f"decision; no document can be asked for")
            if asked is not None and doc_key not in asked:
                raise CentralError(422, "document_not_asked",
                                   f"the service {app['service_code']} does not ask for a "
                                   f"document {doc_key!r} (it asks for: "
                                   f"{', '.join(asked) or 'none'})")
            open_one = conn.execute(sa.select(document_requests.c.id).where(
                document_requests.c.application_id == app["id"],
                document_requests.c.doc_key == doc_key,
                document_requests.c.answered_at.is_(None))).first()
            if open_one is not None:
                raise CentralError(409, "already_requested",
                                   f"{doc_key} of {app['number']} was already asked for and "
                                   f"not yet brought", request_id=open_one.id)
            body = {"id": self.new_id(), "application_id": app["id"], "doc_key": doc_key,
                    "note": note, "requested_by": by, "requested_at": self.central.now()}
            conn.execute(sa.insert(document_requests).values(office=app["office"], **body))
            self.central._add_change(conn, "document_request", body["id"], app["office"],
                                     {**body, "number": app["number"]})
        return {**body, "number": app["number"], "office": app["office"],
                "answered_at": None}

    def _asked_keys(self, service_code: str) -> list[str] | None:
        """The document keys the service asks for as last published (None: not known here)."""
        from .catalogue import Catalogue
        try:
            raw = Catalogue(self.central).service(service_code)
        except CentralError:
            return None
        try:
            return [d.key for d in parse_service({k: v for k, v in raw.items()
                                                  if k != "version"}, "central").documents]
        except (CatalogError, NafithaError):
            return None

    def requests(self, application: str) -> list[dict]:
        """An application's requests for documents, oldest first."""
        with self.central.engine.connect() as conn:
            app = self._application(conn, application)
            rows = conn.execute(sa.select(document_requests).where(
                document_requests.c.application_id == app["id"]).order_by(
                document_requests.c.requested_at, document_requests.c.id)).mappings().all()
        return [dict(r) for r in rows]

    def pending_by_office(self) -> dict[str, dict]:
        """{office: {"files", "bytes"}}: files its events named that central does not hold
        yet (each file once per office); offices with none are left out."""
        with self.central.engine.connect() as conn:
            rows = conn.execute(sa.select(
                document_pages.c.office, document_pages.c.sha256,
                sa.func.max(document_pages.c.bytes)).select_from(
                document_pages.outerjoin(document_files,
                                         document_files.c.sha256 == document_pages.c.sha256))
                .where(document_files.c.sha256.is_(None),
                       document_pages.c.removed_at.is_(None))
                .group_by(document_pages.c.office, document_pages.c.sha256)).all()
        out: dict[str, dict] = {}
        for office, _sha, size in rows:
            entry = out.setdefault(office, {"files": 0, "bytes": 0})
            entry["files"] += 1
            entry["bytes"] += int(size)
        return dict(sorted(out.items()))


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(READ_BLOCK):
            digest.update(block)
    return digest.hexdigest()


class _Locked:
    """The partial file opened for appending under an exclusive flock (one writer at a time
    per device and file, across threads and worker processes). A waiter that gets the lock
    after the file was moved into place or discarded opens the path afresh."""

    def __init__(self, path: Path):
        self.path = path
        self.fh = None

    def __enter__(self):
        while True:
            fh = os.fdopen(os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT,
                                   0o600), "ab")
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                same = os.stat(self.path).st_ino == os.fstat(fh.fileno()).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self.fh = fh
                return fh
            fh.close()

    def __exit__(self, *exc):
        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()

