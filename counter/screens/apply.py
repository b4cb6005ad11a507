"""A walk-in's application: the service, then its fields."""
from __future__ import annotations

from ui.screens import load_kv

from .base import CounterViewModel, PanelScreen


class ApplyViewModel(CounterViewModel):

    def screen(self) -> dict:
        d = self.desk
        if d.apply_service is None:
            return self._panel(self.t("apply.title"), self.t("apply.choose"),
                               [self.button("submit", self.t("apply.next"), "submit"),
                                self._back()])
        service = d.backend.service(d.apply_service)
        title = f"{self.t('apply.title')}: {service.name.get(self.lang)}"
        return self._panel(title, self.t("apply.hint"),
                           [self.button("submit", self.t("apply.button"), "submit"),
                            self._back()])


class ApplyScreen(PanelScreen):
    view_model_class = ApplyViewModel


load_kv(__file__)
