"""The desk stays behind the lock; the clerk's PIN opens it."""
from __future__ import annotations

from ui.screens import load_kv

from .base import CounterViewModel, PanelScreen


class LockedViewModel(CounterViewModel):

    def screen(self) -> dict:
        return self._panel(self.t("locked.title"),
                           self.t("locked.hint", user=self.desk.user["username"]),
                           [self.button("submit", self.t("locked.button"), "submit"),
                            self.button("sign_out", self.t("common.sign_out"), "sign_out",
                                        kind="secondary")])


class LockedScreen(PanelScreen):
    view_model_class = LockedViewModel


load_kv(__file__)
