"""A break or back-office work: the reason (a short list; "other" with a few words)."""
from __future__ import annotations

from ui.screens import load_kv

from .base import CounterViewModel, PanelScreen


class AwayViewModel(CounterViewModel):

    def screen(self) -> dict:
        state = self.desk.form.subject["state"]
        return self._panel(self.t(f"away.title_{state}"), self.t("away.hint"),
                           [self.button("submit", self.t(f"away.button_{state}"), "submit",
                                        kind="go"), self._back()])


class AwayScreen(PanelScreen):
    view_model_class = AwayViewModel


load_kv(__file__)
