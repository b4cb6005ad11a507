"""Before a ticket: a normal ticket, or priority for elderly, disabled or pregnant residents."""
from __future__ import annotations

from core.queue import PRIORITIES

from ui.screens import AppScreen, ViewModel, load_kv


class PriorityViewModel(ViewModel):
    def compute(self, flow, tr):
        lang = flow.lang
        texts = {k: tr.get(f"ticket.{k}", lang)
                 for k in ("title", "explain", "normal", *PRIORITIES)}
        texts["service"] = flow.service().name.get(lang) if flow.visit.service else ""
        texts["back"] = tr.get("common.back", lang)
        return texts, [], {}


class PriorityScreen(AppScreen):
    view_model_class = PriorityViewModel


load_kv(__file__)
