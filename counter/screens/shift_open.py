"""Open a shift with the float in the drawer."""
from __future__ import annotations

from ui.screens import load_kv

from .base import CounterViewModel, PanelScreen


class ShiftOpenViewModel(CounterViewModel):

    def screen(self) -> dict:
        return self._panel(self.t("shift_open.title"), self.t("shift_open.hint"),
                           [self.button("submit", self.t("shift_open.button"), "submit"),
                            self.button("sign_out", self.t("common.sign_out"), "sign_out",
                                        kind="secondary")])


class ShiftOpenScreen(PanelScreen):
    view_model_class = ShiftOpenViewModel


load_kv(__file__)
