"""Supporting documents: the pages captured for an application's documents (docs/documents.md).

Each file is kept once, by its SHA-256, at <data>/documents/<sha[:2]>/<sha>, written to a
temporary file, flushed to the disk and renamed, so a file is either whole or absent. Each
page names its application, its document type (the catalogue's [[documents]] key) and its
number within that document. Adding or removing a page is one transaction: its rows, one
audit entry and one outbox event carrying the file's SHA-256, so the audit chain says which
file each page is and a swapped file shows (read() checks it).

Files reach central after their application's events (sync/uploads.py asks to_upload()), and
leave this device documents.retention_days after central confirmed it holds them (purge):
their rows stay, marked purged, so the record of what was captured stays.

Tables: document_files, application_documents, document_requests (owned here)."""
from __future__ import annotations

import base64
import binascii
import errno
import hashlib
import os
import re
from datetime import datetime, timedelta
from pathlib import Path

from . import outbox
from .clock import iso, parse_iso
from .private_files import fsync_directory
from .errors import DocumentStorageFull, InvalidState, NotFound, StoreError, ValidationError
from .text import clean_text

SCHEMA = 17  # core.migrations.m017_supporting_documents
MAX_PAGE_BYTES = 2_000_000         # one page as stored (a legible text page is ~250 kB)
MAX_APPLICATION_BYTES = 40_000_000  # every page of one application together
# A page travels base64 in JSON (the faces, the hub): at most this many characters.
MAX_PAGE_BASE64 = 4 * -(-MAX_PAGE_BYTES // 3)
MEDIA_TYPES = ("image/jpeg", "image/png", "image/webp")
# Where a page came from: the counter's camera, a document scanner, a file imported from a
# USB stick, the kiosk's camera (a resident).
SOURCES = ("camera", "scanner", "import", "kiosk")
# An application in these states takes no more pages, and loses none.
CLOSED = ("issued", "rejected", "withdrawn")
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
REQUEST_KEYS = ("id", "application_id", "doc_key", "note", "requested_by", "requested_at")
NOTE_MAX = 500


def sniff(data: bytes) -> str | None:
    """The media type the bytes really are (their magic bytes), or None."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def decode_page(text) -> bytes:
    """A page as the faces receive it (base64 text) -> its bytes; ValidationError (reason
    not_base64) for anything else."""
    if not isinstance(text, str) or len(text) > MAX_PAGE_BASE64:
        raise ValidationError(f"a page is base64 text of at most {MAX_PAGE_BASE64} "
                              f"characters", field="data", reason="not_base64")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("the page is not base64 text", field="data",
                              reason="not_base64") from None


def encode_page(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class Attachments:
    def __init__(self, office):
        self.office = office
        self.store = office.store
        self.root = Path(office.settings.data_dir) / "documents"

    @property
    def ready(self) -> bool:
        """Whether this store has the documents' tables (an older schema has not)."""
        return self.store.has_schema(SCHEMA)

    def path_of(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    # --- capture ---------------------------------------------------------------------------
    def add_page(self, application_id: str, doc_key: str, data: bytes, media_type: str,
                 source: str, actor: str) -> dict:
        """Store one page of document `doc_key` of an application, as its next page: the
        file (once per SHA-256), its row, an audit entry and the event
        application.document_added, in one transaction. The page answers the application's
        open request for that document, if any. Refused, changing nothing: a document the
        service does not ask for (ValidationError, reason document_not_asked), bytes that are
        not a JPEG, PNG or WebP image (not_an_image) or not the media type named
        (media_type_mismatch), a page over MAX_PAGE_BYTES (page_too_large), an application
        whose pages would pass MAX_APPLICATION_BYTES (application_too_large), an unknown
        source (unknown_source), an unknown application (NotFound), a closed one
        (InvalidState), a full disk (DocumentStorageFull, reason disk_full)."""
        self._check_page(data, media_type, source)
        sha256 = hashlib.sha256(data).hexdigest()
        written: list[Path] = []
        try:
            with self.store.atomic(actor=actor):
                app = self._open_application(application_id)
                self.office.catalog.get(app["service_code"]).document(doc_key)
                total = self.store.one(
                    "SELECT COALESCE(SUM(bytes), 0) AS n FROM application_documents WHERE "
                    "application_id = ? AND removed_at IS NULL", (app["id"],))["n"]
                if total + len(data) > MAX_APPLICATION_BYTES:
                    raise ValidationError(
                        f"application {app['number']} would hold {total + len(data)} bytes "
                        f"of documents; the limit is {MAX_APPLICATION_BYTES}",
                        field="application", reason="application_too_large",
                        limit=MAX_APPLICATION_BYTES, held=total)
                now = self.store.now()
                if self._store_file(sha256, data, media_type, now):
                    written.append(self.path_of(sha256))
                page = self.store.one(
                    "SELECT COALESCE(MAX(page), 0) + 1 AS n FROM application_documents "
                    "WHERE application_id = ? AND doc_key = ?", (app["id"], doc_key))["n"]
                requests = self.store.all(
                    "SELECT id FROM document_requests WHERE application_id = ? AND "
                    "doc_key = ? AND answered_at IS NULL ORDER BY requested_at, id",
                    (app["id"], doc_key))
                out = {"application_id": app["id"], "doc_key": doc_key, "page": page,
                       "sha256": sha256, "bytes": len(data), "media_type": media_type,
                       "source": source}
                event_data = dict(out)
                if requests:
                    event_data["answers_request"] = requests[-1]["id"]
                event = self.store.record("application.document_added", "application",
                                          app["id"], event_data)
                self.store.insert("application_documents", {
                    **out, "added_at": now, "added_by": self.store.actor,
                    "event_id": event["id"],
                    "answers_request": event_data.get("answers_request"),
                    "removed_at": None, "removed_by": None})
                if requests:  # the newest named in the event; older ones with it
                    self.store.conn.execute(
                        "UPDATE document_requests SET answered_at = ? WHERE application_id = ? "
                        "AND doc_key = ? AND answered_at IS NULL", (now, app["id"], doc_key))
                return {**out, "answers_request": event_data.get("answers_request")}
        except BaseException:
            for path in written:  # nothing half-stored: the new file goes with the rows
                path.unlink(missing_ok=True)
            raise

    def _check_page(self, data, media_type, source) -> None:
        if not isinstance(data, (bytes, bytearray)) or not data:
            raise ValidationError("the page is empty", field="data", reason="not_an_image")
        if len(data) > MAX_PAGE_BYTES:
            raise ValidationError(f"the page is {len(data)} bytes; a page may be at most "
                                  f"{MAX_PAGE_BYTES}", field="data", reason="page_too_large",
                                  limit=MAX_PAGE_BYTES, size=len(data))
        if media_type not in MEDIA_TYPES:
            raise ValidationError(f"a page is one of {', '.join(MEDIA_TYPES)}, not "
                                  f"{str(media_type)[:60]!r}", field="media_type",
                                  reason="media_type_not_taken")
        found = sniff(bytes(data[:16]))
        if found is None:
            raise ValidationError("the page is not an image (JPEG, PNG or WebP)",
                                  field="data", reason="not_an_image")
        if found != media_type:
            raise ValidationError(f"the page is {found}, not {media_type}", field="media_type",
                                  reason="media_type_mismatch", found=found)
        if source not in SOURCES:
            raise ValidationError(f"a page comes from one of {', '.join(SOURCES)}",
                                  field="source", reason="unknown_source")

    def _open_application(self, application_id) -> dict:
        if not isinstance(application_id, str) or not application_id:
            raise ValidationError("which application?", field="application_id",
                                  reason="required")
        app = self.office.applications.row(application_id)
        if app["state"] in CLOSED:
            raise InvalidState(f"application {app['number']} is {app['state']}: its documents "
                               f"can no longer change", state=app["state"], reason="closed")
        return app

    def _store_file(self, sha256: str, data: bytes, media_type: str, now: str) -> bool:
        """The file and its row (inside the caller's transaction); True when the file was
        written now (a file already here is not written twice)."""
        row = self.store.one("SELECT sha256, purged_at FROM document_files WHERE sha256 = ?",
                             (sha256,))
        path = self.path_of(sha256)
        wrote = False
        if row is None or row["purged_at"] is not None or not path.exists():
            write_durably(path, data)
            wrote = True
        if row is None:
            self.store.insert("document_files", {"sha256": sha256, "bytes": len(data),
                                                 "media_type": media_type, "stored_at": now,
                                                 "confirmed_at": None, "purged_at": None})
        elif row["purged_at"] is not None:  # captured again after it left: here again
            self.store.update("document_files", "sha256", sha256,
                              {"stored_at": now, "purged_at": None})
        return wrote

    def remove_page(self, application_id: str, doc_key: str, page: int, actor: str) -> dict:
        """Take a page off its document (a retake): marked removed, audited, and the event
        application.document_removed; its number is not used again. NotFound (reason
        no_page) when the document has no such page."""
        with self.store.atomic(actor=actor):
            app = self._open_application(application_id)
            row = None
            if isinstance(page, int) and not isinstance(page, bool):
                row = self.store.one(
                    "SELECT * FROM application_documents WHERE application_id = ? AND "
                    "doc_key = ? AND page = ? AND removed_at IS NULL",
                    (app["id"], doc_key, page))
            if row is None:
                raise NotFound(f"application {app['number']} has no page {page!r} of "
                               f"{str(doc_key)[:40]!r}", reason="no_page", page=page)
            now = self.store.now()
            self.store.conn.execute(
                "UPDATE application_documents SET removed_at = ?, removed_by = ? WHERE "
                "application_id = ? AND doc_key = ? AND page = ?",
                (now, self.store.actor, app["id"], doc_key, page))
            out = {"application_id": app["id"], "doc_key": doc_key, "page": page,
                   "sha256": row["sha256"]}
            self.store.record("application.document_removed", "application", app["id"], out)
            return out

    # --- reading ---------------------------------------------------------------------------
    def pages(self, application_id: str) -> list[dict]:
        """The application's pages (removed ones left out), by document and page number;
        `stored`: whether the file is still on this device (False once purged)."""
        app = self.office.applications.row(application_id)
        return [self._page(r) for r in self.store.all(
            "SELECT d.*, f.purged_at FROM application_documents d JOIN document_files f ON "
            "f.sha256 = d.sha256 WHERE d.application_id = ? AND d.removed_at IS NULL "
            "ORDER BY d.doc_key, d.page", (app["id"],))]

    @staticmethod
    def _page(row: dict) -> dict:
        return {"doc_key": row["doc_key"], "page": row["page"], "sha256": row["sha256"],
                "bytes": row["bytes"], "media_type": row["media_type"],
                "source": row["source"], "added_at": row["added_at"],
                "added_by": row["added_by"], "stored": row["purged_at"] is None}

    def has_page(self, application_id: str, sha256: str) -> bool:
        """Whether the file is a page (live or removed) of this application."""
        app = self.office.applications.row(application_id)
        return self.store.one("SELECT 1 AS x FROM application_documents WHERE "
                              "application_id = ? AND sha256 = ? LIMIT 1",
                              (app["id"], sha256)) is not None

    def read(self, sha256: str) -> bytes:
        """The file's bytes, checked against its SHA-256. NotFound when no page has it or
        it left this device (reason purged); StoreError (reason document_changed) naming
        the application when the file on disk is not the one captured."""
        if not isinstance(sha256, str) or not SHA256_RE.match(sha256):
            raise ValidationError("a document file is named by its SHA-256 (64 hex digits)",
                                  field="sha256", reason="not_sha256")
        row = self.store.one("SELECT * FROM document_files WHERE sha256 = ?", (sha256,))
        if row is None:
            raise NotFound(f"no document file {sha256[:12]}...", sha256=sha256)
        if row["purged_at"] is not None:
            raise NotFound(f"document file {sha256[:12]}... left this device on "
                           f"{row['purged_at'][:10]}, after central confirmed it has it "
                           f"(the console shows it)", sha256=sha256, reason="purged")
        try:
            data = self.path_of(sha256).read_bytes()
        except FileNotFoundError:
            raise StoreError(f"a document page of application {self._numbers(sha256)} is "
                             f"missing from {self.root} (restore it from a backup)",
                             reason="document_missing", sha256=sha256) from None
        except OSError as exc:
            raise StoreError(f"a document page of application {self._numbers(sha256)} "
                             f"could not be read: {exc.strerror}", reason="document_unreadable",
                             sha256=sha256) from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise StoreError(f"a document page of application {self._numbers(sha256)} is "
                             f"not the file that was captured (its SHA-256 differs from the "
                             f"audit's): it was changed or damaged on disk",
                             reason="document_changed", sha256=sha256)
        return data

    def _numbers(self, sha256: str) -> str:
        ids = [r["application_id"] for r in self.store.all(
            "SELECT DISTINCT application_id FROM application_documents WHERE sha256 = ? "
            "ORDER BY application_id", (sha256,))]
        return ", ".join(self.office.applications.row(a)["number"] for a in ids) or "?"

    def checklist(self, application_id: str) -> list[dict]:
        """Each document the application's service asks for, in the catalogue's order, with
        its pages and the back office's open request for it (None when there is none)."""
        app = self.office.applications.row(application_id)
        service = self.office.catalog.get(app["service_code"])
        pages: dict[str, list] = {}
        for page in self.pages(app["id"]):
            pages.setdefault(page["doc_key"], []).append(page)
        requests = {}
        for r in self.store.all("SELECT * FROM document_requests WHERE application_id = ? "
                                "AND answered_at IS NULL ORDER BY requested_at, id",
                                (app["id"],)):
            requests[r["doc_key"]] = _request(r)  # the newest per document
        return [{**d.to_dict(), "pages": pages.get(d.key, []), "request": requests.get(d.key)}
                for d in service.documents]

    def missing_required(self, application_id: str) -> list[str]:
        """The keys of the required documents that have no page yet (a decision waits)."""
        return [d["key"] for d in self.checklist(application_id)
                if d["required"] and not d["pages"]]

    # --- the back office's requests ---------------------------------------------------------
    def apply_request(self, body: dict) -> dict:
        """The back office asked for a document (reference kind document_request): kept
        once by its id (the same request again changes nothing), shown by checklist() until
        the next page of that document answers it. ValidationError for a malformed body or
        a document the service does not ask for; NotFound for an unknown application."""
        if not isinstance(body, dict) or sorted(body) != sorted(REQUEST_KEYS):
            raise ValidationError(f"a document request has exactly {', '.join(REQUEST_KEYS)}",
                                  field="request", reason="malformed_request")
        for key in ("id", "application_id", "doc_key", "requested_by", "requested_at"):
            if not isinstance(body[key], str) or not 1 <= len(body[key]) <= 100:
                raise ValidationError(f"request {key}: text of 1-100 characters", field=key,
                                      reason="malformed_request")
        try:
            requested_at = iso(parse_iso(body["requested_at"]))
        except ValueError:
            raise ValidationError("request requested_at: not an ISO-8601 time",
                                  field="requested_at", reason="malformed_request") from None
        note = clean_text(body["note"], "note", max_length=NOTE_MAX) if body["note"] else ""
        with self.store.atomic():
            kept = self.store.one("SELECT * FROM document_requests WHERE id = ?", (body["id"],))
            if kept is not None:
                return _request(kept)
            app = self.office.applications.row(body["application_id"])
            self.office.catalog.get(app["service_code"]).document(body["doc_key"])
            row = {"id": body["id"], "application_id": app["id"], "doc_key": body["doc_key"],
                   "note": note, "requested_by": body["requested_by"],
                   "requested_at": requested_at, "received_at": self.store.now(),
                   "answered_at": None}
            self.store.insert("document_requests", row)
            return _request(row)

    # --- upload and retention ------------------------------------------------------------------
    def to_upload(self) -> list[dict]:
        """The files central does not hold yet whose application's events it has all
        confirmed (their add events included): documents reach central after their
        application's events. Oldest first."""
        if not self.ready:
            return []
        waiting = outbox.unconfirmed_entities(self.store)
        out, seen = [], set()
        for r in self.store.all(
                "SELECT f.sha256, f.bytes, f.media_type, d.application_id FROM document_files "
                "f JOIN application_documents d ON d.sha256 = f.sha256 WHERE "
                "f.confirmed_at IS NULL AND f.purged_at IS NULL ORDER BY f.stored_at, "
                "f.rowid"):
            if r["sha256"] in seen or r["application_id"] in waiting:
                continue
            seen.add(r["sha256"])
            out.append({"sha256": r["sha256"], "bytes": r["bytes"],
                        "media_type": r["media_type"], "path": str(self.path_of(r["sha256"]))})
        return out

    def pending(self) -> dict:
        """Files (and their bytes) central has not confirmed, whether their events have
        gone yet or not: what `nafitha sync status` counts."""
        if not self.ready:
            return {"files": 0, "bytes": 0}
        row = self.store.one("SELECT COUNT(*) AS files, COALESCE(SUM(bytes), 0) AS bytes "
                             "FROM document_files WHERE confirmed_at IS NULL AND "
                             "purged_at IS NULL")
        return {"files": row["files"], "bytes": row["bytes"]}

    def confirm_uploaded(self, sha256: str, at: str) -> dict:
        """Central holds the file (its hash checked): it may leave this device after the
        retention period. A second confirmation changes nothing."""
        with self.store.atomic():
            row = self.store.one("SELECT * FROM document_files WHERE sha256 = ?", (sha256,))
            if row is None:
                raise NotFound(f"no document file {str(sha256)[:12]}...", sha256=sha256)
            if row["confirmed_at"] is None:
                self.store.update("document_files", "sha256", sha256, {"confirmed_at": at})
                row["confirmed_at"] = at
            return row

    def purge(self, now: datetime) -> dict:
        """Delete the files central confirmed more than documents.retention_days ago (and
        stored here at least as long); their rows stay, marked purged. A file deleted whose
        mark did not commit is marked by the next purge."""
        days = self.office.settings.documents.retention_days
        if not self.ready:
            return {"purged": 0, "bytes": 0, "retention_days": days}
        cutoff = iso(now - timedelta(days=days))
        with self.store.atomic():
            rows = self.store.all(
                "SELECT sha256, bytes FROM document_files WHERE purged_at IS NULL AND "
                "confirmed_at IS NOT NULL AND confirmed_at <= ? AND stored_at <= ?",
                (cutoff, cutoff))
            self._delete_files(rows, iso(now))
        return {"purged": len(rows), "bytes": sum(r["bytes"] for r in rows),
                "retention_days": days}


    def erase(self, application_id: str, now: str) -> dict:
        """The resident's erasure (central's reference data): the files of the application's
        pages leave this device at once, sent or not, unless a page of another application
        names the same bytes. Their rows stay, marked purged: the record of what was
        captured (hashes, sizes, the audit chain) stays, the content goes."""
        if not self.ready:
            return {"erased": 0, "bytes": 0}
        with self.store.atomic():
            rows = self.store.all(
                "SELECT DISTINCT f.sha256, f.bytes FROM document_files f JOIN "
                "application_documents d ON d.sha256 = f.sha256 WHERE d.application_id = ? "
                "AND f.purged_at IS NULL AND NOT EXISTS (SELECT 1 FROM application_documents "
                "o WHERE o.sha256 = f.sha256 AND o.application_id != ? AND o.removed_at IS "
                "NULL)", (application_id, application_id))
            self._delete_files(rows, now)
        return {"erased": len(rows), "bytes": sum(r["bytes"] for r in rows)}

    def _delete_files(self, rows: list[dict], now: str) -> None:
        """Delete these files and mark them purged (inside the caller's transaction; a file
        deleted whose mark did not commit is marked by the next purge or erasure)."""
        for r in rows:
            try:
                self.path_of(r["sha256"]).unlink(missing_ok=True)
            except OSError as exc:
                raise StoreError(f"a document file could not be deleted from "
                                 f"{self.root}: {exc.strerror}", reason="purge_failed",
                                 sha256=r["sha256"]) from None
        self.store.conn.executemany("UPDATE document_files SET purged_at = ? WHERE sha256 = ?",
                                    [(now, r["sha256"]) for r in rows])


def _request(row: dict) -> dict:
    return {"id": row["id"], "application_id": row["application_id"],
            "doc_key": row["doc_key"], "note": row["note"], "requested_by": row["requested_by"],
            "requested_at": row["requested_at"], "answered_at": row["answered_at"]}


def write_durably(path: Path, data: bytes) -> None:
    """Write data to path whole or not at all: a temporary file in the same directory,
    written, flushed to the disk, renamed over path, and the directory flushed. A full disk
    is DocumentStorageFull (reason disk_full), any other failure StoreError; either way no
    temporary file is left."""
    directory = path.parent
    tmp = directory / f".{path.name}.{os.getpid()}.tmp"
    created = False
    try:
        if not directory.exists():
            directory.mkdir(parents=True, mode=0o700, exist_ok=True)
            created = True
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        fsync_directory(directory)
        if created:
            fsync_directory(directory.parent)
    except OSError as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        if exc.errno in DISK_FULL:
            raise DocumentStorageFull(f"the disk is full: the page could not be stored in "
                                      f"{directory.parent} (free some space, then capture it "
                                      f"again); nothing was stored", reason="disk_full",
                                      path=str(directory.parent)) from None
        raise StoreError(f"the page could not be stored in {directory.parent}: "
                         f"{exc.strerror}; nothing was stored", reason="write_failed",
                         path=str(directory.parent)) from None
