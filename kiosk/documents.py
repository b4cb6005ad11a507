"""A resident's documents at the kiosk, after submitting an application whose service lets
residents capture some of them here (`at_kiosk` in the catalogue): the result screen offers
"Add your documents now" (or "Skip, I will bring them": flow.skip_documents()); then, for each such document, the
camera's picture, "Take photo" (cleaned on a worker: ui/page_capture.py, as at the counter),
the cleaned page to check, "Use this photo" (stored: KioskFace.add_document_page) or "Take
again"; then the next document, or "Done" back to the result. No Kivy here.

    flow.start_documents()     # the documents screen, at the first at_kiosk document
    flow.take_photo()          # slow: the camera's picture cleaned -> a page to check
    flow.use_photo()           # slow: stored under the document (a page the resident saw)
    flow.take_again()          # the page is dropped, nothing stored; the camera again
    flow.next_document()       # the next at_kiosk document, after the last: finish
    flow.finish_documents()    # back to the result, which says how many pages were added

Nothing is stored but a page the resident chose to use; a picture without a page, or a page
the store refuses, is said (ui.messages.document_error) and changes nothing."""
from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field

from core.errors import NafithaError
from ui.steps import slow

log = logging.getLogger("nafitha.kiosk")


@dataclass
class KioskDocuments:
    """asked: the at_kiosk documents of the service, [{"key", "ar", "en"}, ...] in catalogue
    order; index: the one being captured. review: the cleaned page (ui.page_capture.Page)
    waiting for "Use this photo"; problem: why the last photo or page was refused. saved: pages
    stored per document key in this visit; just_saved: the key of the page just stored."""
    asked: list[dict]
    index: int = 0
    review: object | None = None
    problem: BaseException | None = None
    saved: dict = field(default_factory=dict)
    just_saved: str | None = None
    finished: bool = False

    @property
    def current(self) -> dict:
        return self.asked[self.index]

    @property
    def is_last(self) -> bool:
        return self.index >= len(self.asked) - 1

    @property
    def pages_saved(self) -> int:
        return sum(self.saved.values())

    def summary(self) -> dict:
        """What the pilot and the log may see: keys and counts, no picture."""
        return {"key": self.current["key"], "index": self.index, "reviewing":
                self.review is not None, "problem": _code(self.problem),
                "saved": dict(self.saved), "finished": self.finished}


def _code(exc: BaseException | None) -> str | None:
    if exc is None:
        return None
    details = getattr(exc, "details", None) or {}
    return details.get("reason") or getattr(exc, "code", None) or type(exc).__name__


class DocumentSteps:
    """Mixed into kiosk.flow.KioskFlow: the documents screen's steps. Uses the flow's
    `visit`, `backend`, `devices` (its `camera`: ui.scanner.CameraScanner) and go()."""

    def kiosk_documents(self) -> list[dict]:
        """The documents of the visit's service a resident may capture here."""
        if not self.visit.service:
            return []
        return [{"key": d.key, "ar": d.ar, "en": d.en}
                for d in self.service().documents if d.at_kiosk]

    @property
    def documents_offered(self) -> bool:
        """The result screen offers the camera: an application this visit submitted (not
        one found by its slip: the kiosk adds pages only to what it submitted itself),
        whose service has at_kiosk documents, not yet gone through."""
        v = self.visit
        if v.application is None or v.found is not None or \
                (v.documents is not None and v.documents.finished):
            return False
        return bool(self.kiosk_documents())

    def start_documents(self) -> None:
        """"Add your documents now": the camera, for the first at_kiosk document."""
        if not self.documents_offered:
            return
        asked = self.kiosk_documents()
        if self.visit.documents is None:
            self.visit.documents = KioskDocuments(asked=asked)
        self.go("documents")

    def skip_documents(self) -> None:
        """"Skip, I will bring them": back to the result, which says to bring them (and,
        for an application to pay at the counter, offers its queue ticket)."""
        if not self.documents_offered:
            return
        self.visit.documents = KioskDocuments(asked=self.kiosk_documents(), finished=True)
        self.go("result")

    @slow
    def take_photo(self) -> None:
        """The camera's picture, cleaned: a page to check (no page in it: said, nothing
        kept)."""
        docs = self.visit.documents
        if docs is None or docs.finished or docs.review is not None:
            return
        from ui.page_capture import latest_frame, page_from_frame
        docs.just_saved = None
        try:
            docs.review = page_from_frame(latest_frame(self.devices.camera.service), "kiosk")
        except NafithaError as exc:
            docs.problem = exc  # the camera stays on: the resident moves the page and retries
            return
        docs.problem = None

    def take_again(self) -> None:
        """Drop the page under review (nothing was stored); the camera again."""
        docs = self.visit.documents
        if docs is None or docs.review is None:
            return
        docs.review, docs.problem, docs.just_saved = None, None, None

    @slow
    def use_photo(self) -> None:
        """Store the page under review under the current document."""
        docs, app = self.visit.documents, self.visit.application
        if docs is None or docs.review is None or app is None:
            return
        page, key = docs.review, docs.current["key"]
        try:
            self.backend.add_document_page(app["number"], key,
                                           base64.b64encode(page.data).decode("ascii"),
                                           page.media_type)
        except NafithaError as exc:
            # Refused (too large, the disk full): said; the page stays to try again or
            # take again. Nothing half-stored (core.attachments is one transaction).
            log.warning("kiosk page for %s refused: %s", key, _code(exc))
            docs.problem = exc
            return
        docs.saved[key] = docs.saved.get(key, 0) + 1
        docs.review, docs.problem, docs.just_saved = None, None, key

    def next_document(self) -> None:
        """The next at_kiosk document; after the last, back to the result."""
        docs = self.visit.documents
        if docs is None:
            return
        if docs.is_last:
            self.finish_documents()
            return
        docs.index += 1
        docs.review, docs.problem, docs.just_saved = None, None, None

    def finish_documents(self) -> None:
        """"Done": the result again, saying how many pages were added."""
        docs = self.visit.documents
        if docs is not None:
            docs.finished = True
            docs.review = None
        self.go("result")
