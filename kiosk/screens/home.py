"""Start: what would you like to do? Five large choices."""
from __future__ import annotations

from ui.screens import AppScreen, ViewModel, load_kv

CHOICES = ("ticket", "apply", "verify", "status", "collect")


class HomeViewModel(ViewModel):
    def compute(self, flow, tr):
        lang = flow.lang
        rows = [{"mode": mode, "title": tr.get(f"home.{mode}", lang),
                 "hint": tr.get(f"home.{mode}_hint", lang)}
                for mode in CHOICES]
        texts = {"welcome": tr.get("home.welcome", lang), "prompt": tr.get("home.prompt", lang)}
        return texts, rows, {}


class HomeScreen(AppScreen):
    view_model_class = HomeViewModel


load_kv(__file__)
