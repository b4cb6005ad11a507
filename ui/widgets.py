"""Kivy widgets shared by the kiosk and the counter: labels that shape and wrap Arabic, a
box layout that mirrors in right-to-left mode, and buttons the test pilot can find.

Labels take *logical* text (as typed, as stored) in `logical` and do the rest: Arabic is
wrapped into lines first, in logical order, and only then shaped and reordered line by line
(ui/rtl.py), so the first line of a wrapped Arabic sentence is its beginning. Kivy's own
wrapping would cut visual-order text and put a sentence's end on the first line."""
from __future__ import annotations

from pathlib import Path

from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.lang import Builder
from kivy.properties import (BooleanProperty, ColorProperty, NumericProperty, OptionProperty,
                             StringProperty)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

from .fonts import ARABIC_FONT_NAME
from .rtl import _shape_line, escape_markup, is_rtl, shape_markup, wrap_logical

LATIN_FONT = "Roboto"


class KLabel(Label):
    """A label for logical text in either language. `align` is start/center/end of the
    screen's direction (`ui_rtl`, the app's language): 'start' is the right edge in Arabic,
    whatever the text itself is (a phone number sits where an Arabic answer would)."""
    logical = StringProperty("")
    pilot_id = StringProperty("")
    ui_rtl = BooleanProperty(False)
    align = OptionProperty("start", options=("start", "center", "end"))
    single_line = BooleanProperty(False)
    # Grow to the text's height (a paragraph); off where the .kv sets the height itself.
    auto_height = BooleanProperty(True)

    def __init__(self, **kwargs):
        self._trigger = Clock.create_trigger(self._render, -1)
        super().__init__(**kwargs)
        self.markup = True
        self.fbind("logical", self._trigger)
        self.fbind("width", self._trigger)
        self.fbind("font_size", self._trigger)
        self.fbind("align", self._trigger)
        self.fbind("ui_rtl", self._trigger)
        self.fbind("single_line", self._trigger)
        self.fbind("texture_size", self._fit_height)
        self.fbind("auto_height", self._fit_height)
        self._render()

    @property
    def pilot_text(self) -> str:
        """What the test pilot reports: the logical text, not the shaped one."""
        return self.logical

    def _fit_height(self, *_):
        if self.auto_height:
            self.height = max(self.texture_size[1], self.font_size * 1.3)

    def _render(self, *_):
        text = self.logical or ""
        rtl = is_rtl(text)
        self.font_name = ARABIC_FONT_NAME if rtl else LATIN_FONT
        self.halign = {"start": "right" if self.ui_rtl else "left", "center": "center",
                       "end": "left" if self.ui_rtl else "right"}[self.align]
        width = max(self.width - 4, 1)
        self.text_size = (self.width, None)
        self.max_lines = 1 if self.single_line else 0
        self.shorten = self.single_line
        self.shorten_from = "left" if rtl else "right"
        if not rtl:
            self.text = escape_markup(text)
            return
        if self.single_line:
            self.text = shape_markup(text)
            return
        measure = CoreLabel(font_name=ARABIC_FONT_NAME, font_size=self.font_size,
                            bold=self.bold)

        def fits(line: str) -> bool:
            # 4 % spare: Latin runs are measured in the Arabic font, not in Roboto.
            return measure.get_extents(_shape_line(line))[0] * 1.04 <= width

        self.text = "\n".join(shape_markup(line) for line in wrap_logical(text, fits))


class MirrorBox(BoxLayout):
    """A horizontal BoxLayout whose children run right to left while `rtl` is true, so
    navigation and progress read in the resident's direction."""
    rtl = BooleanProperty(False)

    def on_rtl(self, *_):
        self._trigger_layout()

    def do_layout(self, *args):
        super().do_layout(*args)
        if self.rtl and self.orientation == "horizontal":
            for child in self.children:
                child.x = self.x + (self.right - child.right)


class KButton(ButtonBehavior, KLabel):
    """A large, high-contrast button with a `pilot_id` for the test pilot."""
    background = ColorProperty((0.043, 0.145, 0.271, 1))
    foreground = ColorProperty((1, 1, 1, 1))
    radius = NumericProperty(12)
    kind = OptionProperty("primary", options=("primary", "secondary", "go", "danger", "plain"))


class Tappable(ButtonBehavior, BoxLayout):
    """A whole card that reacts to a tap (e.g. one service in a list)."""
    pilot_id = StringProperty("")
    selected = BooleanProperty(False)


def pick(mapping, key, default=None):
    """`mapping[key]` or default, for .kv files: kv binds to `vm.texts` in
    `pick(root.vm.texts, 'title', '')` but not in `root.vm.texts.get('title', '')`."""
    return mapping[key] if key in mapping else default


def make(kv_class: str, **values):
    """An instance of a kv dynamic class (<Name@Base>) with these values: such classes
    take their own properties only after construction, not as keyword arguments."""
    from kivy.factory import Factory

    widget = getattr(Factory, kv_class)()
    for name, value in values.items():
        setattr(widget, name, value)
    return widget


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
__all__ = ["KLabel", "KButton", "MirrorBox", "Tappable", "pick", "make"]
