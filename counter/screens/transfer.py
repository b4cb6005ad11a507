"""Send the ticket being served to another service's queue."""
from __future__ import annotations

from ui.screens import load_kv

from .base import CounterViewModel, PanelScreen


class TransferViewModel(CounterViewModel):

    def screen(self) -> dict:
        return self._panel(self.t("transfer.title"), self.t("transfer.hint"),
                           [self.button("submit", self.t("transfer.button"), "submit"),
                            self._back()],
                           before=[self._fact(self.t("desk.serving"),
                                              self.desk.ticket["number"], latin=True)])


class TransferScreen(PanelScreen):
    view_model_class = TransferViewModel


load_kv(__file__)
