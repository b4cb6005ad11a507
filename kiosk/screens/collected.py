"""A licence collected: take it from the printer (or, the printer failing, the counter
prints it: the licence is issued)."""
from __future__ import annotations

from ui.screens import AppScreen, ViewModel, load_kv


class CollectedViewModel(ViewModel):
    def compute(self, flow, tr):
        lang, v = flow.lang, flow.visit
        if v.licence is None:
            return {}, [], {}
        printed = bool(v.print_ok)
        service = flow.backend.service(v.licence["service_code"])
        texts = {"title": tr.get("collect.take_title" if printed else "collect.printer_fault",
                                 lang),
                 "body": tr.get("collect.take_body", lang) if printed else "",
                 "service": service.name.get(lang),
                 "number_label": tr.get("collect.licence_number", lang),
                 "number": v.licence["number"], "done": tr.get("common.done", lang)}
        return texts, [], {"printed": printed}


class CollectedScreen(AppScreen):
    view_model_class = CollectedViewModel


load_kv(__file__)
