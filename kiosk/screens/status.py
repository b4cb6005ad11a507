"""Follow an application: scan the QR on its slip or receipt, or type the last digits of
its number on the number pad."""
from __future__ import annotations

from ui.screens import load_kv

from .verify import ScanScreen, ScanViewModel


class StatusViewModel(ScanViewModel):
    key = "status"

    def compute(self, flow, tr):
        texts, rows, flags = super().compute(flow, tr)
        lang, v = flow.lang, flow.visit
        texts.update(number_label=tr.get("status.number_label", lang), typed=v.typed,
                     find=tr.get("status.find", lang),
                     problem=tr.get(f"status.{v.status_problem}", lang)
                     if v.status_problem else "")
        return texts, rows, {**flags, "can_find": bool(v.typed.strip())}


class StatusScreen(ScanScreen):
    view_model_class = StatusViewModel
    keyboard = None

    def entered(self, app) -> None:
        super().entered(app)
        if self.keyboard is None:
            from ui.keyboard_widget import OnScreenKeyboard
            self.keyboard = OnScreenKeyboard(sizes=app.sizes, show_done=False,
                                             layout="numeric", allow_switch=False)
            self.keyboard.bind(text=lambda _, text: app.act("type_number", text))
            self.ids.keyboard_slot.add_widget(self.keyboard)
        self.keyboard.sizes = app.sizes
        self.keyboard.attach("numeric", allow_switch=False, max_length=6,
                             text=app.flow.visit.typed)

    def wipe(self) -> None:
        if self.keyboard is not None:
            self.keyboard.text = ""


load_kv(__file__)
