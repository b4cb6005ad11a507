"""Collect a licence paid elsewhere (a payment network, the counter): scan the QR on the
application slip, or type the bill number and the national ID; a refusal says why and
what to do (a bill not paid yet: its number, to pay it with)."""
from __future__ import annotations

from ui.screens import load_kv

from .verify import ScanScreen, ScanViewModel

# The keyboard of each field: the bill number's letters, digits and hyphens; the ID's digits.
KEYBOARDS = {"bill": ("en", 36), "national_id": ("numeric", 20)}


class CollectViewModel(ScanViewModel):
    key = "collect"

    def compute(self, flow, tr):
        texts, rows, flags = super().compute(flow, tr)
        lang, v = flow.lang, flow.visit
        problem = v.collect_problem
        texts.update(bill_label=tr.get("collect.bill_label", lang), bill=v.bill_typed,
                     national_id_label=tr.get("collect.national_id_label", lang),
                     national_id=v.national_id_typed,
                     collect=tr.get("collect.collect", lang),
                     problem=tr.get(f"collect.{problem}", lang) if problem else "",
                     problem_bill=v.collect_bill or "",
                     fault=tr.get(f"common.fault_{v.fault}", lang) if v.fault else "")
        return texts, rows, {**flags, "field": v.collect_field,
                             "can_collect": bool(v.bill_typed.strip()
                                                 and v.national_id_typed.strip())}


class CollectScreen(ScanScreen):
    view_model_class = CollectViewModel
    keyboard = None
    _app = None
    _attached = None  # (field, sizes): the keyboard is set up for it

    def entered(self, app) -> None:
        super().entered(app)
        self._app = app
        if self.keyboard is None:
            from ui.keyboard_widget import OnScreenKeyboard
            self.keyboard = OnScreenKeyboard(sizes=app.sizes, show_done=False, layout="en",
                                             allow_switch=False)
            self.keyboard.bind(text=lambda _, text: self._typed(app, text))
            self.ids.keyboard_slot.add_widget(self.keyboard)
        self._attached = None
        self._attach(app)

    def refresh(self, state, tr) -> None:
        super().refresh(state, tr)
        if self._app is not None and state.screen == self.name:
            self._attach(self._app)  # a field tapped, or a scanned bill number filled in

    def _typed(self, app, text: str) -> None:
        if self._attached is not None:
            app.act("type_collect", text)

    def _attach(self, app) -> None:
        """The keyboard for the field the resident tapped, holding that field's text."""
        v = app.flow.visit
        key = (v.collect_field, app.sizes)
        if key == self._attached:
            return
        self._attached = None  # the text set below is not the resident's typing
        layout, max_length = KEYBOARDS[v.collect_field]
        self.keyboard.sizes = app.sizes
        self.keyboard.attach(layout, allow_switch=False, max_length=max_length,
                             text=v.bill_typed.lower() if v.collect_field == "bill"
                             else v.national_id_typed)
        self._attached = key

    def left(self, app) -> None:
        super().left(app)
        self._app = None

    def wipe(self) -> None:
        self._attached = None
        if self.keyboard is not None:
            self.keyboard.text = ""


load_kv(__file__)
