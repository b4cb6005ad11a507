"""An application's supporting documents (counter/documents.py holds the state): what the
service asks for, each with its pages and any request of the back office; the page being
captured (the camera's live picture, or the cleaned page with Keep and Take again); the
pages already kept, each removable."""
from __future__ import annotations

from ui.screens import load_kv

from .base import CounterScreen, CounterViewModel

class DocumentsViewModel(CounterViewModel):

    def screen(self) -> dict:
        docs = self.desk.documents
        return {"title": self.t("documents.title"),
                "columns": [self._checklist(docs), self._capture(docs), self._kept(docs)]}

    def name(self, entry: dict) -> str:
        return entry.get(self.lang) or entry.get("en") or entry["key"]

    # --- the checklist -------------------------------------------------------------------
    def _checklist(self, docs) -> list[dict]:
        app = self.desk.application
        items = [{"type": "heading", "text": self.t("documents.title")},
                 self._fact("app.number", app["number"], latin=True)]
        scanner = self.desk.devices.has_document_scanner
        for entry in docs.checklist:
            key, pages = entry["key"], entry.get("pages") or []
            # One line a document: its name, whether a decision needs it, its pages.
            title = [self.name(entry)]
            if entry.get("required"):
                title.append(self.t("documents.required"))
            title.append(self.t("documents.pages", n=len(pages)) if pages
                         else self.t("documents.no_pages"))
            items.append({"type": "heading", "small": True,
                          "text": ("، " if self.lang == "ar" else " · ").join(title)})
            if entry.get("request"):
                items.append({"type": "banner", "tone": "warn", "text": self.t(
                    "documents.requested", note=entry["request"].get("note") or "")})
            chosen = docs.source if docs.key == key else None
            buttons = [self.button(f"camera:{key}", self.t("documents.camera"),
                                   "use_camera", key,
                                   kind="go" if chosen == "camera" else "secondary")]
            if scanner:
                buttons.append(self.button(f"scanner:{key}", self.t("documents.scanner"),
                                           "use_scanner", key,
                                           kind="go" if chosen == "scanner" else "secondary"))
            buttons.append(self.button(f"file:{key}", self.t("documents.file"),
                                       "use_files", key,
                                       kind="go" if chosen == "file" else "secondary"))
            items.append({"type": "buttons", "key": f"sources:{key}", "buttons": buttons})
        return items

    # --- the page being captured ---------------------------------------------------------
    def _capture(self, docs) -> list[dict]:
        entry = docs.entry(docs.key)
        if entry is None:
            return [{"type": "heading", "text": self.t("documents.capture")},
                    {"type": "text", "tone": "hint", "text": self.t("documents.choose")}]
        items = [{"type": "heading", "text": self.name(entry)}]
        if docs.review:
            page = docs.review[0]
            items.append({"type": "page", "page": page})
            n = len(docs.review)
            items.append({"type": "text", "tone": "hint", "text": self.t(
                "documents.review_many" if n > 1 else "documents.review",
                n=n, m=sum(p.kb for p in docs.review))})
            items.append({"type": "buttons", "key": "review", "buttons": [
                self.button("keep", self.t("documents.keep"), "keep_pages", kind="go"),
                self.button("retake", self.t("documents.retake"), "retake",
                            kind="secondary")]})
        elif docs.source == "camera":
            items.append({"type": "text", "tone": "hint",
                          "text": self.t("documents.camera_hint")})
            items.append({"type": "camera", "mirror": False, "tall": True})
            items.append({"type": "buttons", "key": "take", "buttons": [
                self.button("take", self.t("documents.take"), "take_photo", kind="go")]})
        elif docs.source == "scanner":
            items.append({"type": "text", "tone": "hint",
                          "text": self.t("documents.scanner_hint")})
            items.append({"type": "buttons", "key": "scan", "buttons": [
                self.button("scan", self.t("documents.scan"), "use_scanner", docs.key,
                            kind="go")]})
        elif docs.source == "file":
            folder = self.desk.devices.import_folder
            if not docs.files:
                items.append({"type": "text", "tone": "hint",
                              "text": self.t("documents.no_files", folder=folder)})
            else:
                items.append({"type": "text", "tone": "hint",
                              "text": self.t("documents.files_hint")})
                items.append({"type": "buttons", "key": "files", "vertical": True,
                              "buttons": [self.button(f"import:{_short(path, folder)}",
                                                      _short(path, folder), "import_file",
                                                      path, kind="secondary")
                                          for path in docs.files]})
            items.append({"type": "buttons", "key": "files_again", "buttons": [
                self.button("list_files", self.t("documents.list_again"), "use_files",
                            docs.key, kind="secondary")]})
        return items

    # --- the pages kept --------------------------------------------------------------------
    def _kept(self, docs) -> list[dict]:
        items = [{"type": "heading", "text": self.t("documents.kept_title")}]
        shown = [e for e in docs.checklist if e.get("pages")]
        if docs.key is not None:
            shown = [e for e in shown if e["key"] == docs.key]
        if not shown:
            items.append({"type": "text", "tone": "hint", "text": self.t("documents.none_kept")})
        for entry in shown:
            items.append({"type": "heading", "small": True, "text": self.name(entry)})
            items.append({"type": "buttons", "key": f"pages:{entry['key']}", "vertical": True,
                          "buttons": [self.button(
                              f"remove:{entry['key']}:{p['page']}", self.t(
                                  "documents.remove_page",
                                  n=int(p["page"]), m=max(1, round(p["bytes"] / 1000))),
                              "remove_page", entry["key"], p["page"], kind="secondary")
                              for p in entry["pages"]]})
        # Back to the desk at the end of the screen (the checklist column is the long one).
        items.append({"type": "buttons", "key": "actions", "buttons": [self._back()]})
        return items


def _short(path: str, folder: str) -> str:
    """A file's name as the clerk knows it: its path inside the import folder."""
    prefix = folder.rstrip("/") + "/"
    return path[len(prefix):] if folder and path.startswith(prefix) else path


class DocumentsScreen(CounterScreen):
    view_model_class = DocumentsViewModel


load_kv(__file__)
