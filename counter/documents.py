"""The application's supporting documents at the desk (counter/desk.py's documents view):
the checklist of what the service asks for, and pages captured by the counter's camera, a
document scanner, or imported from a file on a USB stick; each page is previewed cleaned,
then kept or taken again. No Kivy here.

    desk.open_documents()             # slow: the checklist of the application on screen
    desk.use_camera("title_deed")     # the camera shows; take_photo() captures
    desk.take_photo()                 # slow: clean the frame -> a page to review
    desk.keep_pages()                 # slow: stored (add_document_page), checklist again
    desk.retake()                     # the page is dropped, the source shows again

Cleaning a page is OpenCV work and storing it a store write: those steps are @slow, so the
app runs them on a worker (ui/steps.py). A failed step changes nothing: a page that is not
kept is not stored."""
from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field

from core.attachments import CLOSED
from core.errors import NafithaError
from ui.steps import slow

log = logging.getLogger("nafitha.counter")

SOURCES = ("camera", "scanner", "file")


@dataclass
class DocumentsView:
    checklist: list[dict] = field(default_factory=list)
    key: str | None = None  # the document being captured
    source: str | None = None  # camera | scanner | file
    files: list[str] = field(default_factory=list)  # the import folder's, for "file"
    review: list = field(default_factory=list)  # ui.page_capture.Page, not kept yet

    def entry(self, key: str | None) -> dict | None:
        return next((d for d in self.checklist if d["key"] == key), None)


class DocumentSteps:
    """Mixed into counter.desk.Desk: these methods are the documents view's steps."""

    documents: DocumentsView | None = None
    # The back office's open requests for the application on the desk (fetch_requested).
    requested: dict | None = None

    # --- the checklist -------------------------------------------------------------------
    def can_open_documents(self) -> bool:
        """An application still open to pages (core.attachments refuses a decided one)."""
        app = self.application
        return bool(app) and app["state"] not in CLOSED and self._asks_documents(app)

    def fetch_requested(self, app: dict | None) -> dict | None:
        """Reads only (the desk's refresh): the documents the back office asked for, so
        the desk shows them without opening the checklist."""
        if not app or app["state"] in CLOSED or not self._asks_documents(app):
            return None
        return {"application_id": app["id"], "documents": [
            {"key": d["key"], "ar": d["ar"], "en": d["en"], "note": d["request"]["note"]}
            for d in self.backend.document_checklist(app["id"]) if d.get("request")]}

    def requested_documents(self) -> list[dict]:
        """Those of the application shown now (a refresh of another one does not count)."""
        r, app = self.requested, self.application
        return r["documents"] if r and app and r["application_id"] == app["id"] else []

    def _asks_documents(self, app: dict) -> bool:
        try:
            return bool(self.backend.service(app["service_code"]).documents)
        except NafithaError:
            return False

    @slow
    def open_documents(self) -> None:
        if not self.can_open_documents():
            return
        try:
            checklist = self.backend.document_checklist(self.application["id"])
        except NafithaError as exc:
            self._fail(exc)
            return
        self.documents = DocumentsView(checklist=checklist)
        self.view, self.form, self.notice = "documents", None, None

    def _reload_checklist(self) -> None:
        self.documents.checklist = self.backend.document_checklist(self.application["id"])

    # --- choosing where the pages come from -----------------------------------------------
    def use_camera(self, key: str) -> None:
        """The camera's live picture for `key` (the app opens the camera for the view)."""
        if self._choose(key, "camera"):
            self.notice = None

    @slow
    def use_scanner(self, key: str) -> None:
        """One page from the document scanner, cleaned, to review."""
        if not self._choose(key, "scanner"):
            return
        from ui.page_capture import page_from_frame
        try:
            self.documents.review = [page_from_frame(self.devices.scan_document(),
                                                     "scanner")]
        except NafithaError as exc:
            self._fail(exc)
            return
        self.notice = None

    @slow
    def use_files(self, key: str) -> None:
        """The images and PDFs in the import folder (a USB stick), to choose one."""
        if not self._choose(key, "file"):
            return
        from ui.page_capture import import_files
        self.documents.files = [str(p) for p in import_files(self.devices.import_folder)]
        self.notice = None

    def _choose(self, key: str, source: str) -> bool:
        docs = self.documents
        if docs is None or docs.entry(key) is None or source not in SOURCES:
            return False
        if source == "scanner" and not self.devices.has_document_scanner:
            return False
        docs.key, docs.source, docs.review, docs.files = key, source, [], []
        return True

    # --- capturing ---------------------------------------------------------------------------
    @slow
    def take_photo(self) -> None:
        """The camera's current picture, cleaned: a page to review (NoPageFound: said,
        nothing kept)."""
        docs = self.documents
        if docs is None or docs.source != "camera" or docs.review:
            return
        from ui.page_capture import latest_frame, page_from_frame
        try:
            frame = latest_frame(self.devices.camera.service)
            docs.review = [page_from_frame(frame, "camera")]
        except NafithaError as exc:
            self._fail(exc)
            return
        self.notice = None

    @slow
    def import_file(self, path: str) -> None:
        """A file of the import folder: its pages (a PDF's each) to review."""
        docs = self.documents
        if docs is None or docs.source != "file" or path not in docs.files:
            return
        from ui.page_capture import pages_from_file
        try:
            docs.review = pages_from_file(path)
        except NafithaError as exc:
            self._fail(exc)
            return
        self.notice = None

    def retake(self) -> None:
        """Drop the page(s) under review; the camera (or the file list) shows again."""
        if self.documents is not None:
            self.documents.review = []
            self.notice = None

    @slow
    def keep_pages(self) -> None:
        """Store the reviewed page(s) under the document; each is one add_document_page."""
        docs = self.documents
        if docs is None or not docs.review:
            return
        kept = 0
        try:
            for page in docs.review:
                self.backend.add_document_page(
                    self.user["username"], self.application["id"], docs.key,
                    base64.b64encode(page.data).decode("ascii"), page.media_type,
                    page.source)
                kept += 1
        except NafithaError as exc:
            # Pages already stored stay (each is whole); the rest are offered again.
            docs.review = docs.review[kept:]
            self._reload_checklist()
            self._fail(exc)
            return
        docs.review = []
        self._reload_checklist()
        self.notice = self._kept_notice(kept)

    @slow
    def remove_page(self, key: str, page: int) -> None:
        docs = self.documents
        if docs is None or docs.entry(key) is None:
            return
        try:
            self.backend.remove_document_page(self.user["username"], self.application["id"],
                                              key, int(page))
        except NafithaError as exc:
            self._fail(exc)
            return
        self._reload_checklist()
        self.notice = None

    def _kept_notice(self, n: int):
        from .desk import Notice
        entry = self.documents.entry(self.documents.key) or {}
        return Notice("ok", "documents.kept", {"n": n, "m": len(entry.get("pages", []))})
