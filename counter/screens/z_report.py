"""The closed shift's Z report: takings by method, voids, the drawer's difference."""
from __future__ import annotations

from core.payments import METHODS
from ui.screens import load_kv

from .base import CounterViewModel, PanelScreen


class ZReportViewModel(CounterViewModel):

    def screen(self) -> dict:
        z = self.desk.z
        cur = z["currency"]
        # The drawer's result first: at the counter's window size it must be seen without
        # scrolling (in Arabic the rows are taller); then the takings, then who and when.
        diff = z["difference_minor"]
        # In words, not a sign: a minus before a number in an Arabic line reads as a dash.
        difference = self.money(0, cur) if diff == 0 else self.t(
            "z.over_by" if diff > 0 else "z.short_by", amount=self.money(abs(diff), cur))
        facts = [("z.difference", difference),
                 ("z.counted", self.money(z["counted_minor"], cur)),
                 ("z.expected", self.money(z["expected_cash_minor"], cur)),
                 ("z.float", self.money(z["float_minor"], cur))]
        for method in METHODS:
            m = z["by_method"][method]
            facts.append((self.t(f"z.{method}", n=m["count"]), self.money(m["total_minor"], cur)))
        facts += [(self.t("z.total", n=z["payments"]), self.money(z["total_minor"], cur)),
                  (self.t("z.voids", n=z["voids"]["count"]),
                   self.money(z["voids"]["total_minor"], cur)),
                  ("z.clerk", z["clerk"]), ("z.opened", self.when(z["opened_at"])),
                  ("z.closed", self.when(z["closed_at"]))]
        items = [self._fact(label, value) for label, value in facts]
        banner = {"type": "banner", "tone": "ok" if diff == 0 else "error",
                  "text": self.t("z.balanced") if diff == 0 else
                  self.t("z.over" if diff > 0 else "z.short",
                         amount=self.money(abs(diff), cur))}
        title = self.t("z.title", shift=z["shift"])
        return {"title": title, "columns": [[
            {"type": "heading", "text": title}, banner, *items,
            {"type": "buttons", "key": "actions", "buttons": [
                self.button("print_z", self.t("z.print"), "print_z", kind="secondary"),
                self.button("new_shift", self.t("z.new_shift"), "new_shift"),
                self.button("sign_out", self.t("common.sign_out"), "sign_out",
                            kind="secondary")]}]]}


class ZReportScreen(PanelScreen):
    view_model_class = ZReportViewModel


load_kv(__file__)
