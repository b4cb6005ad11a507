"""What a counter screen shows, computed by its view-model without a window (the tests of
the desk read these rather than pixels)."""
from __future__ import annotations

from kivy_env import kivy_ready


def shown(desk, tr) -> dict:
    """{"title", "columns"} of the screen the desk is on."""
    kivy_ready()
    from counter.screens import screen_class

    vm = screen_class(desk.screen).view_model_class()
    vm.refresh(desk, tr)
    return {"title": vm.texts["title"], "columns": list(vm.rows)}


def chrome(desk, tr, status: dict | None = None) -> dict:
    """The frame's words and flags, with the notice as {"text", "tone"}."""
    kivy_ready()
    from counter.screens.chrome import ChromeViewModel

    vm = ChromeViewModel()
    vm.status = status or {}
    vm.refresh(desk, tr)
    return {**vm.texts, **vm.flags, "notice": {"text": vm.texts["notice"],
                                               "tone": vm.flags["notice_tone"]}}


def notice(desk, tr) -> dict:
    return chrome(desk, tr)["notice"]


class Shown:
    """The desk as the clerk sees it now: `screen()` and `notice()`."""

    def __init__(self, desk, tr):
        self.desk, self.tr = desk, tr

    def screen(self) -> dict:
        return shown(self.desk, self.tr)

    def notice(self) -> dict:
        return notice(self.desk, self.tr)

    def chrome(self, status: dict | None = None) -> dict:
        return chrome(self.desk, self.tr, status)

    def t(self, key: str, **params) -> str:
        return self.tr.get(key, self.desk.lang, **params)
