"""Find a service by a word of its name, in Arabic or English (core/service_search.py:
spelling variants forgiven): what is typed, a line saying what the search found (or why
not), the best SEARCH_SHOWN services as cards, and the on-screen keyboard. Offered when the
catalogue does not fit one screen (services.py's Search button).

The results update on each key: a fixed set of cards changes its words in place (no card is
built while typing)."""
from __future__ import annotations

from core.service_search import MAX_QUERY
from ui.messages import field_error
from ui.screens import AppScreen, ViewModel, load_kv
from ui.widgets import make

from ..flow import SEARCH_SHOWN
from .services import finished_of, finished_text, service_row

# What the line above the results says, by KioskFlow.search_state.
STATE_TEXT = {"empty": "search.hint", "no_words": "search.type_a_word",
              "no_match": "search.no_match"}


class SearchViewModel(ViewModel):
    def compute(self, flow, tr):
        lang, v = flow.lang, flow.visit
        if flow.screen != "search":
            return {}, [], {}
        finished = finished_of(flow)
        rows, notice = [], ""
        for code in v.search_results:
            s = flow.backend.service(code)
            rows.append(service_row(s, finished, flow, tr))
            if code == v.finished_notice and code in finished:
                notice = finished_text(s, finished[code], flow, tr)
        state = flow.search_state
        if state == "error":
            said = field_error(v.search_error, None, lang, digits_setting=tr.digits)
        elif state == "found":
            said = tr.get("search.found", lang, n=len(rows))
        else:
            said = tr.get(STATE_TEXT[state], lang)
        return {"title": tr.get("search.title", lang), "typed": v.search, "said": said,
                "notice": notice, "back": tr.get("common.back", lang)}, rows, \
            {"state": state, "error": state == "error"}


class SearchScreen(AppScreen):
    view_model_class = SearchViewModel
    keyboard = None

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._keyboard_for = None  # (language, large text) the keyboard was set up for
        self.cards = [make("SearchResult", pilot_id="", disabled=True, opacity=0)
                      for _ in range(SEARCH_SHOWN)]
        for card in self.cards:
            self.ids.results.add_widget(card)

    def on_vm(self, *_):
        self.vm.bind(rows=self._fill_results)

    def _fill_results(self, *_):
        rows = self.vm.rows
        for i, card in enumerate(self.cards):
            row = rows[i] if i < len(rows) else None
            values = {"pilot_id": "", "code": "", "name": "", "fee": "", "issue": "",
                      "opacity": 0, "disabled": True} if row is None else {
                "pilot_id": f"service:{row['code']}", "opacity": 1, "disabled": False,
                **{k: v for k, v in row.items() if k != "kind"}}
            for name, value in values.items():
                if getattr(card, name) != value:
                    setattr(card, name, value)

    def refresh(self, state, tr) -> None:
        super().refresh(state, tr)
        from kivy.app import App

        app = App.get_running_app()
        if state.screen == "search" and self.keyboard is not None and \
                self._keyboard_for != (state.lang, state.large_text):
            self.attach_keyboard(app)  # the language or the text size changed

    def entered(self, app) -> None:
        self.attach_keyboard(app)

    def attach_keyboard(self, app) -> None:
        from ui.keyboard_widget import OnScreenKeyboard

        if self.keyboard is None:
            self.keyboard = OnScreenKeyboard(sizes=app.sizes, show_done=False)
            self.keyboard.bind(text=lambda _, text: self._typed(app, text),
                               height=lambda _, h: setattr(self.ids.keyboard_slot,
                                                           "height", h))
        if self.keyboard.parent is None:
            self.ids.keyboard_slot.add_widget(self.keyboard)
        self.keyboard.sizes = app.sizes
        self.ids.keyboard_slot.height = self.keyboard.height
        # The keyboard stops at core's limit; longer text (a paste) is refused in words.
        self.keyboard.attach(app.flow.lang, allow_switch=True, max_length=MAX_QUERY,
                             text=app.flow.visit.search)
        self._keyboard_for = (app.flow.lang, app.flow.large_text)

    @staticmethod
    def _typed(app, text: str) -> None:
        if app.flow.screen == "search" and text != app.flow.visit.search:
            app.act("type_search", text)

    def wipe(self) -> None:
        if self.keyboard is not None:
            self.keyboard.text = ""
        self._keyboard_for = None


load_kv(__file__)
