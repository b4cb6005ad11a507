"""Find an application: by number, national ID or a scanned code."""
from __future__ import annotations

from ui.screens import load_kv

from .base import CounterViewModel, PanelScreen


class SearchViewModel(CounterViewModel):

    def screen(self) -> dict:
        results = []
        for app in self.desk.results:
            results.append(self.button(
                f"result:{app['number']}", self.t(
                    "search.result", number=app["number"],
                    name=app["fields"].get("full_name", ""), state=self.state_text(app)),
                "show_application", app["number"], kind="secondary"))
        # Found: the results right under the query, the camera (still scanning) below them.
        before, after = ([], [{"type": "buttons", "key": "results", "vertical": True,
                               "tall": True, "buttons": results}, {"type": "camera"}]) \
            if results else ([{"type": "camera"}], [])
        return self._panel(self.t("search.title"), self.t("search.hint"),
                           [self.button("submit", self.t("search.button"), "submit"),
                            self.button("new_application", self.t("desk.new_application"),
                                        "start_apply", kind="secondary"), self._back()],
                           before=before, after=after)


class SearchScreen(PanelScreen):
    view_model_class = SearchViewModel


load_kv(__file__)
