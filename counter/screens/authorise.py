"""A reason for an action, and a supervisor's name and PIN where it needs one
(approve, reject, void, revoke; a reprint's reason alone)."""
from __future__ import annotations

from ui.screens import load_kv

from .base import CounterViewModel, PanelScreen


class AuthoriseViewModel(CounterViewModel):

    def screen(self) -> dict:
        d = self.desk
        action = d.form.subject["action"]
        app = d.application
        params = {"number": app["number"],
                  "receipt": (app.get("payment") or {}).get("receipt_number", ""),
                  "licence": (app.get("licence") or {}).get("number", "")}
        title = self.t(f"authorise.{action}")
        hint = self.t("authorise.hint_supervisor") if d.view == "authorise" \
            else self.t("authorise.hint_reason")
        subject = {"approve": ("app.number", params["number"]),
                   "reject": ("app.number", params["number"]),
                   "void": ("app.receipt", params["receipt"]),
                   "revoke": ("app.licence", params["licence"]),
                   "reprint": ("app.licence", params["licence"])}[action]
        return self._panel(title, hint, before=[self._fact(*subject, latin=True)], buttons=
                           [self.button("submit", self.t("authorise.button"), "submit",
                                        kind="danger" if action in ("reject", "void", "revoke")
                                        else "go"), self._back()])


class AuthoriseScreen(PanelScreen):
    view_model_class = AuthoriseViewModel


load_kv(__file__)
