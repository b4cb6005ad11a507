"""The on-screen keyboard as Kivy widgets: OnScreenKeyboard (rows of KeyButtons for one
field) over ui/keyboard.py's KeyboardModel, which decides what every key does. Styled in
keyboard_widget.kv from the widgets' properties only. Imported only once Kivy's environment
is prepared (it imports Kivy)."""
from __future__ import annotations

import re
import time
from pathlib import Path

from kivy.lang import Builder
from kivy.properties import (BooleanProperty, DictProperty, NumericProperty, ObjectProperty,
                             StringProperty)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.widget import Widget

from .keyboard import Gap, Key, KeyboardModel, key_markup, load_layout
from .rtl import is_rtl
from .theme import Sizes

# A touch that lands on a key while another touch that landed there less than this long
# ago is still down is the same tap reported twice (a touch screen seen by two input
# providers, e.g. as a touch and as a mouse). Taps one after the other always count, however
# fast they come (a test pilot is faster than any finger).
DUPLICATE_TAP_S = 0.1
# Keys showing one character (or an Arabic word, or a symbol) use the "key" font this much
# larger than keys with a Latin word: Arabic letters are small for their font size.
CHARACTER_FONT_SCALE = 1.3
_LATIN_WORD_RE = re.compile(r"^[A-Za-z][A-Za-z ]+$")
# Arabic letters reach from ي's tail to أ's hamza: 1.35 times the font size. A key 1.75
# times the font size tall leaves a margin above and below them all, once they are lifted
# by ARABIC_LIFT of the font size (Kivy centres the font's line box, whose ascent is much
# larger than its descent, so Arabic sits low in it).
KEY_HEIGHT_PER_FONT_PX = 1.75
ARABIC_LIFT = 0.08


class KeyButton(Button):
    """One key. Styled in keyboard_widget.kv from these properties only."""
    value = StringProperty()
    pilot_id = StringProperty()  # "key:" + value, for test pilots
    units = NumericProperty(1.0)  # width in key widths
    special = BooleanProperty(False)  # backspace, shift, switch, space
    accent = BooleanProperty(False)  # done: the way forward, in green
    latched = BooleanProperty(False)  # shift waiting for its letter
    label = StringProperty()  # the label in logical order; `text` is its markup

    def __init__(self, **kwargs):
        self.touches_down: dict[int, float] = {}  # touch uid -> when it landed
        super().__init__(**kwargs)

    def on_touch_up(self, touch):
        self.touches_down.pop(touch.uid, None)
        return super().on_touch_up(touch)

class OnScreenKeyboard(BoxLayout):
    """Rows of KeyButtons for one field; see the module docstring and attach()."""
    layout = StringProperty("ar")
    allow_switch = BooleanProperty(True)
    max_length = NumericProperty(None, allownone=True)
    decimals = BooleanProperty(False)
    show_done = BooleanProperty(True)
    # The field's text: set it to pre-fill, bind to it to follow typing.
    text = StringProperty("")
    shift = BooleanProperty(False)  # read-only: shift waits for a letter
    sizes = ObjectProperty(Sizes(dpi=92.0))  # ui.theme.Sizes of the monitor
    # Read-only: the height of a key, and the width the keyboard needs to show all keys
    # at their smallest size.
    key_height = NumericProperty(0)
    minimum_width = NumericProperty(0)
    # The key widgets now shown, by key value ("ب", "a", "backspace", ...).
    keys_by_value = DictProperty()
    __events__ = ("on_key", "on_done")

    def __init__(self, layout_dir: str | Path | None = None, **kwargs):
        self._ready = False
        self._pages: dict[tuple, tuple[list, dict]] = {}
        self.now = time.monotonic  # injectable clock for the duplicate-tap guard
        self._model = KeyboardModel(
            kwargs.get("layout", "ar"), kwargs.get("allow_switch", True),
            _whole(kwargs.get("max_length")), kwargs.get("decimals", False),
            show_done=kwargs.get("show_done", True), text=kwargs.get("text", ""),
            layout_dir=layout_dir)
        kwargs.setdefault("orientation", "vertical")
        kwargs.setdefault("size_hint_y", None)
        super().__init__(**kwargs)
        self._ready = True
        self.bind(width=lambda *_: self._fit())
        self._show()

    @property
    def model(self) -> KeyboardModel:
        return self._model

    def attach(self, layout: str = "ar", *, allow_switch: bool = True,
               max_length: int | None = None, decimals: bool = False,
               show_done: bool | None = None, text: str = "") -> None:
        """Set the keyboard up for a field: its layout ("ar", "en", "numeric"), whether
        it may switch language, its length limit, decimals and current text. Shift is
        cleared. Key widgets of layouts seen before are reused."""
        load_layout(layout, self._model.layout_dir)  # a bad name changes nothing
        self._ready = False
        try:
            self.layout = layout
            self.allow_switch = allow_switch
            self.max_length = max_length
            self.decimals = decimals
            if show_done is not None:
                self.show_done = show_done
            self.text = text
            self._model.layout = layout  # also clears shift when the layout stays
        finally:
            self._ready = True
        self._show()

    def press(self, value: str) -> None:
        """Act as if the key with this value was tapped (what a tap calls)."""
        done = value == "done" and self._model.shown_key(value) is not None
        self.text = self._model.press(value)
        self.dispatch("on_key", value)
        if self._model.layout != self.layout:  # the switch key
            self._ready = False
            self.layout = self._model.layout
            self._ready = True
        self._show()
        if done:
            self.dispatch("on_done")

    def on_key(self, value: str) -> None:
        """Every accepted tap, with the key's value (e.g. to reset an idle timer)."""

    def on_done(self) -> None:
        """The done key was tapped."""

    # -- property changes from outside ---------------------------------------------

    def on_text(self, _, value):
        if self._model.text != value:
            self._model.text = value

    def on_layout(self, _, value):
        self._model.layout = value
        if self._ready:
            self._show()

    def on_allow_switch(self, _, value):
        self._model.allow_switch = bool(value)
        if self._ready:
            self._show()

    def on_decimals(self, _, value):
        self._model.decimals = bool(value)
        if self._ready:
            self._show()

    def on_show_done(self, _, value):
        self._model.show_done = bool(value)
        if self._ready:
            self._show()

    def on_max_length(self, _, value):
        self._model.max_length = _whole(value)

    def on_sizes(self, *_):
        if self._ready:
            # Fonts and heights change: build afresh; the old widgets are dropped.
            self._pages.clear()
            self._show()

    # -- building and sizing -------------------------------------------------------

    def _show(self) -> None:
        """Put up the key widgets for the model's variant, building them once."""
        variant = self._model.variant()
        page = self._pages.get(variant)
        if page is None:
            page = self._pages[variant] = self._build(self._model.rows)
        rows, keys = page
        if self.children != rows[::-1]:
            self.clear_widgets()
            for row in rows:
                self.add_widget(row)
            self.keys_by_value = keys
        self._refresh_labels()
        self._fit()

    def _build(self, rows: list[list[Key | Gap]]) -> tuple[list, dict]:
        word_font = self.sizes.font("key")
        char_font = round(word_font * CHARACTER_FONT_SCALE)
        row_widgets, keys = [], {}
        for row in rows:
            box = BoxLayout(orientation="horizontal", size_hint=(None, None),
                            pos_hint={"center_x": 0.5})
            for item in row:
                if isinstance(item, Gap):
                    gap = Widget(size_hint=(None, None))
                    gap.units = item.width
                    box.add_widget(gap)
                    continue
                font = word_font if _LATIN_WORD_RE.match(item.label) else char_font
                # Bottom padding makes the label's texture taller below the text, so
                # the centred text moves up by half of it.
                lift = round(font * ARABIC_LIFT) if is_rtl(item.label) else 0
                button = KeyButton(
                    value=item.value, pilot_id=item.pilot_id, units=item.width,
                    special=item.special and item.value != "done",
                    accent=item.value == "done", font_size=font,
                    padding=(0, 0, 0, 2 * lift), size_hint=(None, None))
                button.key = item
                button.bind(on_press=self._on_key_press)
                box.add_widget(button)
                keys[item.value] = button
            row_widgets.append(box)
        return row_widgets, keys

    def _refresh_labels(self) -> None:
        self.shift = self._model.shift
        for value, button in self.keys_by_value.items():
            label = self._model.label(button.key)
            if button.label != label:  # shaping all keys on every tap would cost ms
                button.label = label
                button.text = key_markup(label)
            button.latched = value == "shift" and self._model.shift

    def _fit(self) -> None:
        """Key sizes for the current width: at least sizes.key square (taller when large
        text needs it), wider (up to 1.4 times) when there is room; the keyboard's own
        height follows its rows."""
        gap = self.sizes.gap
        key = self.key_height = max(self.sizes.key, round(
            self.sizes.font("key") * CHARACTER_FONT_SCALE * KEY_HEIGHT_PER_FONT_PX))
        rows = self.children[::-1]
        if not rows:
            return
        widest = max(sum(w.units for w in row.children) for row in rows)
        self.minimum_width = widest * (key + gap) - gap + 2 * gap
        room = (self.width - gap) / widest - gap
        unit = max(key, min(round(key * 1.4), int(room)))
        self.padding = gap
        self.spacing = gap
        for row in rows:
            row.spacing = gap
            row.height = key
            for w in row.children:
                w.width = round(w.units * (unit + gap) - gap)
                w.height = key
            row.width = sum(w.width for w in row.children) + gap * (len(row.children) - 1)
        self.height = len(rows) * key + (len(rows) - 1) * gap + 2 * gap

    def _on_key_press(self, button) -> None:
        now, touch = self.now(), button.last_touch
        held = {uid: t for uid, t in button.touches_down.items()
                if now - t < DUPLICATE_TAP_S}
        button.touches_down = {**held, touch.uid: now} if touch is not None else held
        if held:
            return  # reported twice: see DUPLICATE_TAP_S
        self.press(button.value)


def _whole(value) -> int | None:
    """Kivy's NumericProperty hands back floats; the model wants a whole number or None."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
