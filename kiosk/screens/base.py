"""What every kiosk screen shares: a view-model that turns the flow's state into words in
the resident's language, and a Screen that holds it."""
from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.event import EventDispatcher
from kivy.lang import Builder
from kivy.properties import (BooleanProperty, DictProperty, ListProperty, ObjectProperty,
                             StringProperty)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget


class ViewModel(EventDispatcher):
    """texts: every label of the screen (logical text; ui.widgets.KLabel shapes it);
    rows: repeated items (services, fields, facts)."""
    texts = DictProperty()
    rows = ListProperty()
    flags = DictProperty()

    def refresh(self, flow, tr) -> None:
        """Recompute everything from the flow (language switch, new state)."""
        self.texts, self.rows, self.flags = self.compute(flow, tr)

    def compute(self, flow, tr) -> tuple[dict, list, dict]:
        raise NotImplementedError

    def clear(self) -> None:
        self.texts, self.rows, self.flags = {}, [], {}


class KioskScreen(Screen):
    vm = ObjectProperty(None, rebind=True)
    busy = BooleanProperty(False)
    view_model_class = ViewModel

    def __init__(self, **kwargs):
        kwargs.setdefault("vm", self.view_model_class())
        super().__init__(**kwargs)

    def refresh(self, flow, tr) -> None:
        self.vm.refresh(flow, tr)

    def entered(self, app) -> None:
        """The screen became the current one (start a camera, attach the keyboard)."""

    def left(self, app) -> None:
        """Another screen replaced it (stop the camera)."""


class RowsScreen(KioskScreen):
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


def load_kv(py_file: str) -> None:
    Builder.load_file(str(Path(py_file).with_suffix(".kv")))


class AdminCorner(ButtonBehavior, Widget):
    """Invisible: staff tap it five times to get the PIN pad that leaves kiosk mode."""
    pilot_id = StringProperty("")

    def on_release(self):
        App.get_running_app().admin_tap()
