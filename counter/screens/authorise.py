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
        before = [self._fact(*subject, latin=True)]
        confirm = self.t("authorise.button")
        if action == "reject":  # the one step a tap beside "Take fee" could start by mistake
            before.append({"type": "banner", "tone": "warn",
                           "text": self.t("authorise.reject_warning")})
            confirm = self.t("authorise.confirm_reject")
        return self._panel(title, hint, before=before, buttons=
                           [self.button("submit", confirm, "submit",
                                        kind="danger" if action in ("reject", "void", "revoke")
                                        else "go"), self._back()])


class AuthoriseScreen(PanelScreen):
    view_model_class = AuthoriseViewModel


load_kv(__file__)
