"""Take the fee: cash with change, or card with the terminal's reference."""
from __future__ import annotations

from core.errors import NafithaError
from ui.screens import load_kv

from .base import CounterViewModel, PanelScreen


class PaymentViewModel(CounterViewModel):

    def screen(self) -> dict:
        app = self.desk.application
        due = self.t("payment.due", amount=self.money(app["fee_minor"], app["currency"]))
        after = []
        form = self.desk.form
        if form.get("method").value == "cash":
            from core import money
            try:
                tendered = money.parse_amount(form.fields[1].value, app["currency"])
            except NafithaError:
                tendered = None
            if tendered is not None and tendered >= app["fee_minor"]:
                after.append({"type": "banner", "tone": "ok", "text": self.t(
                    "payment.change", amount=self.money(tendered - app["fee_minor"],
                                                        app["currency"]))})
        return self._panel(self.t("payment.title"), "",
                           [self.button("submit", self.t("payment.button"), "submit",
                                        kind="go"), self._back()],
                           before=[self._fact("app.number", app["number"], latin=True),
                                   {"type": "banner", "tone": "info", "text": due}],
                           after=after)


class PaymentScreen(PanelScreen):
    view_model_class = PaymentViewModel


load_kv(__file__)
