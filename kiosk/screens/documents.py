"""The resident's documents (kiosk/documents.py holds the state): for each document the
service lets residents capture here, the camera's live picture and "Take photo"; then the
cleaned page as it will be kept, "Use this photo" or "Take again"; then the next document, or
"Done". A picture without a page, or a page refused, is said under the document's name."""
from __future__ import annotations

from kivy.clock import Clock

from core.errors import HubUnreachable
from ui.messages import document_error
from ui.screens import AppScreen, ViewModel, load_kv

from .verify import CAMERA_FAULTS


class DocumentsViewModel(ViewModel):
    def compute(self, flow, tr):
        lang, docs = flow.lang, flow.visit.documents
        camera_state = self.flags.get("camera_state", "")
        if docs is None or docs.finished:
            return {}, [], {"camera_state": camera_state}
        entry, reviewing = docs.current, docs.review is not None
        if docs.is_last:
            onward = "common.done"
        else:
            onward = "documents.next" if docs.saved.get(entry["key"]) else "documents.skip"
        message, tone = "", ""
        if docs.problem is not None:
            message, tone = problem_text(docs.problem, lang, tr), "error"
        elif docs.just_saved == entry["key"]:
            message = tr.get("documents.saved", lang, n=docs.saved[entry["key"]])
            tone = "ok"
        texts = {"title": tr.get("documents.title", lang),
                 "step": tr.get("documents.step", lang, i=docs.index + 1, n=len(docs.asked)),
                 "name": entry[lang],
                 "hint": tr.get("documents.check" if reviewing else "documents.hold", lang),
                 "message": message,
                 "camera_off": tr.get("documents.camera_off", lang)
                 if camera_state in CAMERA_FAULTS and not reviewing else "",
                 "take": tr.get("documents.take", lang),
                 "use": tr.get("documents.use", lang),
                 "again": tr.get("documents.again", lang),
                 "onward": tr.get(onward, lang)}
        return texts, [], {"mode": "review" if reviewing else "camera", "tone": tone,
                           "camera_state": camera_state, "index": docs.index}


def problem_text(exc: BaseException, lang: str, tr) -> str:
    """Why a photo or a page was refused, in the resident's words."""
    details = getattr(exc, "details", None) or {}
    if getattr(exc, "code", None) == "scanner_problem" and not details.get("reason"):
        return tr.get("documents.camera_off", lang)  # no picture: the counter, not a cable
    if isinstance(exc, HubUnreachable):
        return tr.get("common.fault_hub", lang)
    return document_error(exc, lang) or tr.get("documents.refused", lang)


class DocumentsScreen(AppScreen):
    """The camera runs while a document is being photographed; it stops while a page is
    checked (the preview then shows the cleaned page: the last live picture may show
    someone's papers) and opens afresh after it and for each document."""
    view_model_class = DocumentsViewModel
    _app = None
    _watch = None
    _camera_for = None  # the document index the open camera serves; None: closed
    _page = None  # the page shown for checking

    def entered(self, app) -> None:
        self._app = app
        self._watch = Clock.schedule_interval(lambda dt: self._camera_state(app), 0.5)
        self._show(app)

    def refresh(self, state, tr) -> None:
        super().refresh(state, tr)
        if self._app is not None:
            self._show(self._app)

    def _show(self, app) -> None:
        docs = app.flow.visit.documents
        preview = self.ids.preview
        if docs is None or docs.finished:
            self._close_camera(app)
        elif docs.review is not None:
            if self._page is not docs.review:
                self._close_camera(app)
                preview.show_frame(docs.review.preview)
                self._page = docs.review
        elif self._camera_for != docs.index:
            self._close_camera(app)
            preview.source_service = app.start_scanner()
            preview.start()
            self._camera_for = docs.index

    def _close_camera(self, app) -> None:
        preview = self.ids.preview
        preview.stop()
        preview.clear()  # the last picture may show someone's document
        preview.source_service = None
        self._page = None
        if self._camera_for is not None:
            app.stop_scanner()
            self._camera_for = None

    def _camera_state(self, app) -> None:
        state = app.scanner_state() if self._camera_for is not None else ""
        if state != self.vm.flags.get("camera_state"):
            self.vm.flags = {**self.vm.flags, "camera_state": state}
            app.refresh_current()

    def left(self, app) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        self._close_camera(app)
        self._app = None


load_kv(__file__)
