"""Close the shift: count the drawer."""
from __future__ import annotations

from ui.screens import load_kv

from .base import CounterViewModel, PanelScreen


class ShiftCloseViewModel(CounterViewModel):

    def screen(self) -> dict:
        return self._panel(self.t("shift_close.title"), self.t("shift_close.hint"),
                           [self.button("submit", self.t("shift_close.button"), "submit",
                                        kind="danger"), self._back()])


class ShiftCloseScreen(PanelScreen):
    view_model_class = ShiftCloseViewModel


load_kv(__file__)
