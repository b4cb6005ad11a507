"""The one screen pattern of both apps (house style 5): a screen is a `.py` (its Screen and
its view-model) and a `.kv` (its layout); the view-model turns the app's state (the kiosk's
flow, the counter's desk) into what the screen shows, and the `.kv` binds only to it.

    class ServiceViewModel(ViewModel):
        def compute(self, flow, tr):
            return {"name": ...}, [], {"instant": True}   # texts, rows, flags

    class ServiceScreen(AppScreen):
        view_model_class = ServiceViewModel

    load_kv(__file__)                                       # service.kv beside service.py

Imported only once ui.env.prepare_kivy_env ran (it imports Kivy)."""
from __future__ import annotations

from pathlib import Path

from kivy.event import EventDispatcher
from kivy.lang import Builder
from kivy.properties import BooleanProperty, DictProperty, ListProperty, ObjectProperty
from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager


class ViewModel(EventDispatcher):
    """texts: every label of the screen (logical text; ui.widgets.KLabel shapes it);
    rows: repeated items (services, fields, facts; the counter's columns of items);
    flags: what the layout switches on."""
    texts = DictProperty()
    rows = ListProperty()
    flags = DictProperty()

    def refresh(self, state, tr) -> None:
        """Recompute everything from the state (language switch, new state)."""
        self.texts, self.rows, self.flags = self.compute(state, tr)

    def compute(self, state, tr) -> tuple[dict, list, dict]:
        raise NotImplementedError

    def clear(self) -> None:
        self.texts, self.rows, self.flags = {}, [], {}


class AppScreen(Screen):
    vm = ObjectProperty(None, rebind=True)
    busy = BooleanProperty(False)
    view_model_class = ViewModel

    def __init__(self, **kwargs):
        kwargs.setdefault("vm", self.view_model_class())
        super().__init__(**kwargs)

    def refresh(self, state, tr) -> None:
        self.vm.refresh(state, tr)

    def entered(self, app) -> None:
        """The screen became the current one (start a camera, attach the keyboard)."""

    def left(self, app) -> None:
        """Another screen replaced it (stop the camera)."""

    def warm(self, app) -> None:
        """Build ahead, while nobody waits, what the first visit would otherwise build with
        a resident watching (cards, a keyboard): called once after the app is drawn."""


class RowsScreen(AppScreen):
    """A screen that shows the view-model's rows as one kv widget each, in `ids[rows_in]`:
    `row_widget(row)` gives the kv class name and its values."""
    rows_in = ""

    def on_vm(self, *_):
        self.vm.bind(rows=self._fill_rows)

    def row_widget(self, row: dict) -> tuple[str, dict]:
        raise NotImplementedError

    def _fill_rows(self, *_):
        from ui.widgets import make

        box = self.ids[self.rows_in]
        box.clear_widgets()
        for row in self.vm.rows:
            kv_class, values = self.row_widget(row)
            box.add_widget(make(kv_class, **values))


class InstantScreenManager(ScreenManager):
    """Screens that change within one frame. Kivy's ScreenManager, even with NoTransition,
    keeps the old screen drawn under the new one until the next frame, and clips both
    with a full-window stencil: on a software renderer that is one more frame and two
    more full-window fills per tap (issue 25, bench/kiosk.py)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("transition", NoTransition())
        super().__init__(**kwargs)

    def on_current(self, instance, value):
        previous = self.current_screen
        if value is None or previous is None:
            return super().on_current(instance, value)
        screen = self.get_screen(value)
        if screen is previous:
            return
        self.current_screen = screen
        self.real_remove_widget(previous)
        self.real_add_widget(screen)
        screen.pos = self.pos
        self.do_layout()


# No clipping: the screens fill the window and never slide (ScreenManager's own rule is a
# stencil for its transitions).
Builder.load_string("<-InstantScreenManager>:\n")


def load_kv(py_file: str) -> None:
    """The .kv beside a screen's .py."""
    Builder.load_file(str(Path(py_file).with_suffix(".kv")))
