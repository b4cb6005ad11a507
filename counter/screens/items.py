"""The counter's screens are columns of items (counter/views.py); this module makes each
item a widget and keeps the widgets when only their values change, so a keystroke redraws
one field, not the screen."""
from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout

from ui.widgets import KButton, KLabel, make

# item type -> the kv class that shows it
ITEM_CLASSES = {"heading": "CHeading", "text": "CText", "fact": "CFact", "field": "CField",
                "banner": "CBanner", "buttons": "CButtons", "camera": "CCamera",
                "page": "CPage", "queue_row": "CQueueRow"}


class CButtons(GridLayout):
    """A row (or a grid, or a column) of buttons from item["buttons"]; each runs
    app.act(action, *args). Rebuilt only when the set of buttons changes."""
    buttons = ListProperty()
    grid = NumericProperty(0)  # columns; 0: all in one row
    vertical = BooleanProperty(False)
    tall = BooleanProperty(False)  # two-line labels (an Arabic line and an identifier)
    rtl = BooleanProperty(False)
    key = StringProperty("")

    def __init__(self, **kwargs):
        self._ids = None
        self._widgets = []
        # Each set of buttons made once and kept: a call next and a finish swap the same
        # few sets back and forth (making their buttons was ~3 ms a swap, bench/counter.py).
        self._made: dict[tuple, list] = {}
        super().__init__(**kwargs)
        self.fbind("buttons", self._build)
        self.fbind("rtl", self._build)
        self.fbind("grid", self._build)
        self.fbind("vertical", self._build)
        self.fbind("tall", self._build)

    def _build(self, *_):
        app = App.get_running_app()
        row_height = round(app.px["button"] * (1.7 if self.tall else 1))
        ids = (tuple(b["id"] for b in self.buttons), self.rtl, self.grid, self.vertical,
               row_height)
        if ids != self._ids:
            self._ids = ids
            widgets = self._made.get(ids)
            if widgets is None:
                widgets = self._made[ids] = [self._button(b, row_height, app)
                                             for b in self.buttons]
            self.clear_widgets()
            self.cols = 1 if self.vertical else (self.grid or max(1, len(self.buttons)))
            self.orientation = "rl-tb" if self.rtl else "lr-tb"
            self.row_default_height = row_height
            for widget in widgets:
                self.add_widget(widget)
            rows = -(-len(self.buttons) // self.cols)
            self.height = rows * row_height + max(0, rows - 1) * self.spacing[1]
            self._widgets = widgets
        for widget, b in zip(self._widgets, self.buttons):
            widget.logical, widget.kind, widget.disabled = \
                b["label"], b["kind"], not b["enabled"]
            widget.action = (b["action"], b["args"])

    @staticmethod
    def _button(b: dict, row_height: int, app) -> KButton:
        widget = KButton(pilot_id=b["id"], logical=b["label"], kind=b["kind"],
                         disabled=not b["enabled"])
        widget.height = row_height
        widget.action = (b["action"], b["args"])
        widget.bind(on_release=lambda w: app.act(w.action[0], *w.action[1]))
        return widget


class FitLabel(KLabel):
    """One line as wide as its text, never shortened (the counter's name in the header):
    the widgets beside it give way instead."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.size_hint_x, self.size_hint_y, self.auto_height = None, 1, False
        self.single_line = True
        for name in ("logical", "font_size", "bold"):
            self.fbind(name, self._fit)
        self._fit()

    def _fit(self, *_):
        from kivy.core.text import Label as CoreLabel
        from kivy.metrics import dp

        from ui.fonts import ARABIC_FONT_NAME
        from ui.rtl import is_rtl, shape

        text = self.logical or ""
        if not text:
            self.width = 0
            return
        rtl = is_rtl(text)
        measure = CoreLabel(font_name=ARABIC_FONT_NAME if rtl else "Roboto",
                            font_size=self.font_size, bold=self.bold)
        # A little spare: shortening starts at the exact width (Latin runs in an Arabic
        # text are drawn in Roboto, measured here in the Arabic font).
        self.width = measure.get_extents(shape(text) if rtl else text)[0] * 1.06 + dp(8)


class NoticeLine(BoxLayout):
    """The notice on one line of fixed height: each of its lines (an Arabic notice puts a
    Latin number on a line of its own, ui/rtl.py) becomes a label of its own, side by side
    in reading order and centred, so the strip never grows and pushes the screen down."""
    text = StringProperty("")
    tone = StringProperty("ok")
    rtl = BooleanProperty(False)

    def __init__(self, **kwargs):
        self._labels: list = []  # kept and given new words: a notice comes with every call
        super().__init__(**kwargs)
        self.fbind("text", self._build)
        self.fbind("rtl", self._build)

    def _build(self, *_):
        from kivy.uix.widget import Widget

        from ui import theme

        app = App.get_running_app()
        self.clear_widgets()
        parts = [line.strip() for line in self.text.split("\n") if line.strip()]
        if self.rtl:
            parts.reverse()
        labels = self._labels
        while len(labels) < len(parts):
            labels.append(FitLabel(bold=True, color=theme.WHITE, size_hint_y=1))
        self.add_widget(Widget())
        for part, label in zip(parts, labels):
            label.font_size = app.px["font_body"]
            label.logical = part
            self.add_widget(label)
        self.add_widget(Widget())


class ShortcutBar(BoxLayout):
    """The keyboard shortcuts, each key in its own label beside its name: a Latin key inside
    an Arabic label would sit below the Arabic line (ui/rtl.py)."""
    pairs = ListProperty()
    rtl = BooleanProperty(False)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.fbind("pairs", self._build)
        self.fbind("rtl", self._build)

    def _build(self, *_):
        from kivy.metrics import dp

        from ui import theme
        from ui.widgets import KLabel

        app = App.get_running_app()
        self.clear_widgets()
        pairs = list(reversed(self.pairs)) if self.rtl else self.pairs
        for key, name in pairs:
            size = app.px["font_small"]
            key_label = KLabel(logical=key, bold=True, color=theme.WHITE, font_size=size,
                               single_line=True, auto_height=False, size_hint=(None, 1),
                               width=dp(14) * len(key) + dp(8), align="center")
            name_label = KLabel(logical=name, color=theme.WHITE, font_size=size,
                                single_line=True, auto_height=False, size_hint=(1, 1))
            for widget in ((name_label, key_label) if self.rtl else (key_label, name_label)):
                widget.size_hint_y = 1  # the KLabel rule sets None (a paragraph's height)
                self.add_widget(widget)


def fill(box, items: list[dict]) -> None:
    """Show `items` in `box`, reusing the widgets already there where the item types match.
    Widgets a change of layout takes off the screen are kept in the box's pool and reused
    for the next item of their kind: building them (kv rules, labels) was most of a call
    next's time once its frame was drawn (bench/counter.py --profile)."""
    wanted = [ITEM_CLASSES[item["type"]] for item in items]
    current = list(reversed(box.children))
    if [getattr(w, "item_class", "") for w in current] != wanted:
        pool = box.__dict__.setdefault("_item_pool", {})
        for widget in current:
            pool.setdefault(widget.item_class, []).append(widget)
        box.clear_widgets()
        current = []
        for kv_class in wanted:
            spare = pool.get(kv_class)
            if spare:
                widget = spare.pop(0)
            else:
                widget = make(kv_class)
                widget.item_class = kv_class
            box.add_widget(widget)
            current.append(widget)
    for widget, item in zip(current, items):
        # A reused widget: what an earlier item set and this one does not goes back to the
        # value the widget had when it was made (`fresh`, kept at each name's first set).
        fresh = widget.__dict__.setdefault("_fresh", {})
        names = {"text_" if name == "text" else name for name in item if name != "type"}
        for name in set(fresh) - names:
            if getattr(widget, name) != fresh[name]:
                setattr(widget, name, fresh[name])
        for name, value in item.items():
            name = "text_" if name == "text" else name  # KLabel.text is the shaped text
            if name != "type" and hasattr(widget, name):
                fresh.setdefault(name, getattr(widget, name))
                if getattr(widget, name) != value:
                    setattr(widget, name, value)


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
