"""The on-screen keyboard of the kiosk (and later the counter): Arabic, English and a number pad.

Three parts, top to bottom:

1. Layouts are data: assets/keyboards/<name>.toml, rows of keys (`load_layout`). A key is
   the text it types ("ب", "a", "لا", "7") or one of the special keys `SPECIAL_KEYS`. A bad
   file raises LayoutError naming the file, the row and the key.
2. `KeyboardModel` is the keyboard without pixels: which keys show for a field, what a key
   press does to the text. Plain Python, unit-tested without a display.
3. `OnScreenKeyboard` (with `KeyButton`, one per key) draws a model with Kivy: they live
   in ui/keyboard_widget.py, which imports Kivy; importing this module imports none.

Use (kiosk or counter screen, after prepare_kivy_env() and register_arabic_font()):

    from ui.keyboard_widget import OnScreenKeyboard
    keyboard = OnScreenKeyboard(sizes=Sizes(settings.kiosk.screen_dpi, large_text))
    keyboard.bind(text=on_field_text, on_done=on_field_done)
    # A field got the focus: its layout, limits and current text.
    keyboard.attach("numeric", allow_switch=False, max_length=9, text=vm.national_id)

The keyboard sets its own height (size_hint_y None) and centres its rows in the width it
is given; `minimum_width` says how much it needs. Each key widget has
`pilot_id = "key:" + value`; `keyboard.keys_by_value` maps values to the keys on screen.

Decisions:

- Backspace removes the last character of the text as stored: one code point together with
  the combining marks (harakat) after it. The لا key types two letters (ل then ا, which
  the font joins into one glyph), so two backspaces remove it; the first leaves ل. This is
  exactly what happens to ل and ا typed one by one: what backspace does depends only on
  the text, never on which keys produced it, so a pre-filled field behaves the same.
- max_length counts code points (as a stored field would) and a key whose text does not fit
  whole is ignored: لا with one place left types nothing rather than half a ligature.
- Shift (English) applies to the next key that types something, then lets go; pressing it
  again before that cancels it; switching layouts cancels it. Letters become capitals,
  other keys type what they always type.
- The decimal point (the key marked `when = "decimals"`) is shown only to fields that take
  decimals, is typed at most once, and becomes "0." when it comes first.
- A key hidden for a field (switch when the field must stay in one language, the decimal
  point, done when the screen has its own button) gives its width to the space bar of its
  row, or leaves an empty place of that width (so the number pad keeps its grid).
"""
from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from ui.rtl import is_rtl, shape_markup

LAYOUT_DIR = Path(__file__).resolve().parent.parent / "assets" / "keyboards"

SPECIAL_KEYS = ("backspace", "space", "shift", "switch", "done")
LAYOUT_KINDS = ("text", "numeric")
# `when` values: the field property a key depends on.
CONDITIONS = ("decimals",)
_TOP_LEVEL = {"kind", "switch_to", "rows"}
_KEY_FIELDS = {"key", "label", "width", "when"}
_NAME_RE = re.compile(r"^[a-z0-9_-]+$")
# A word of ASCII letters names a special key; anything else is text to type.
_SPECIAL_NAME_RE = re.compile(r"^[A-Za-z]{2,}$")
MAX_KEY_WIDTH = 12


class LayoutError(ValueError):
    """A keyboard layout file is missing or malformed; the message names file and row."""


@dataclass(frozen=True)
class Key:
    value: str  # the text the key types, or a special key's name
    label: str  # what the key shows, in logical (unshaped) order
    width: float = 1.0  # in key widths
    when: str | None = None  # shown only if the field has this property ("decimals")

    @property
    def special(self) -> bool:
        return self.value in SPECIAL_KEYS

    @property
    def pilot_id(self) -> str:
        return "key:" + self.value


@dataclass(frozen=True)
class Gap:
    """An empty place in a row, where a key hidden for this field would be."""
    width: float


@dataclass(frozen=True)
class Layout:
    name: str
    kind: str  # "text" or "numeric"
    rows: tuple[tuple[Key, ...], ...]
    switch_to: str | None  # the layout the switch key changes to
    path: Path

    @cached_property
    def keys(self) -> dict[str, Key]:
        return {key.value: key for row in self.rows for key in row}


def load_layout(name: str, directory: str | Path | None = None) -> Layout:
    """The layout assets/keyboards/<name>.toml (or <directory>/<name>.toml), checked.
    Files are read once per process."""
    return _load_layout(name, str(Path(directory or LAYOUT_DIR).resolve()))


def check_layouts(directory: str | Path | None = None) -> dict[str, Layout]:
    """Every layout in the directory, checked on its own and against each other (each switch
    key leads to a layout that exists and is a text layout)."""
    folder = Path(directory or LAYOUT_DIR)
    layouts = {p.stem: load_layout(p.stem, folder) for p in sorted(folder.glob("*.toml"))}
    for layout in layouts.values():
        target = layout.switch_to
        if target is not None and (target not in layouts or layouts[target].kind != "text"):
            raise LayoutError(f"{layout.path}: switch_to = {target!r}, but there is no text "
                              f"layout {target}.toml next to it")
    return layouts


@lru_cache(maxsize=None)
def _load_layout(name: str, directory: str) -> Layout:
    if not _NAME_RE.match(name):
        raise LayoutError(f"{name!r} is not a keyboard layout name (lower-case letters, "
                          f"digits, - and _)")
    path = Path(directory) / f"{name}.toml"
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        known = ", ".join(sorted(p.stem for p in Path(directory).glob("*.toml"))) or "none"
        raise LayoutError(f"no keyboard layout {name!r}: {path} does not exist "
                          f"(layouts there: {known})") from None
    except tomllib.TOMLDecodeError as e:
        raise LayoutError(f"{path}: not valid TOML: {e}") from None
    return _parse_layout(name, path, data)


def _parse_layout(name: str, path: Path, data: dict) -> Layout:
    def fail(message: str):
        raise LayoutError(f"{path}: {message}")

    unknown = sorted(set(data) - _TOP_LEVEL)
    if unknown:
        fail(f"unknown setting {unknown[0]!r} (settings: {', '.join(sorted(_TOP_LEVEL))})")
    kind = data.get("kind")
    if kind not in LAYOUT_KINDS:
        fail(f"kind = {kind!r}; it must be one of {', '.join(LAYOUT_KINDS)}")
    switch_to = data.get("switch_to")
    if switch_to is not None and (not isinstance(switch_to, str) or not _NAME_RE.match(switch_to)
                                  or switch_to == name):
        fail(f"switch_to = {switch_to!r} is not the name of another layout")
    raw_rows = data.get("rows")
    if not isinstance(raw_rows, list) or not raw_rows:
        fail("no rows: expected rows = [[key, key, ...], ...]")

    rows: list[tuple[Key, ...]] = []
    seen: dict[str, int] = {}
    for r, raw_row in enumerate(raw_rows, start=1):
        if not isinstance(raw_row, list) or not raw_row:
            fail(f"row {r}: expected a non-empty list of keys, got {raw_row!r}")
        row = []
        for k, item in enumerate(raw_row, start=1):
            key = _parse_key(item, lambda m, r=r, k=k: fail(f"row {r}, key {k}: {m}"))
            if key.value in seen:
                fail(f"row {r}, key {k}: {key.value!r} is already a key in row {seen[key.value]}")
            seen[key.value] = r
            row.append(key)
        rows.append(tuple(row))

    def require(value: str, why: str):
        if value not in seen:
            fail(f"no {value!r} key ({why})")

    require("backspace", "every layout needs one")
    if kind == "text":
        require("space", "every text layout needs one")
    if switch_to is not None:
        require("switch", f"switch_to = {switch_to!r} needs a key to switch with")
    elif kind == "text":
        fail("no switch_to: a text layout must say which layout its switch key changes to")
    elif "switch" in seen:
        fail(f"row {seen['switch']}: a switch key, but no switch_to saying where it leads")
    cased = [v for v in seen if v not in SPECIAL_KEYS and v.upper() != v]
    if cased and "shift" not in seen:
        fail(f"no 'shift' key, but {cased[0]!r} has a capital")
    if "shift" in seen and not cased:
        fail(f"row {seen['shift']}: a shift key, but no letter has a capital")
    return Layout(name=name, kind=kind, rows=tuple(rows), switch_to=switch_to, path=path)


def _parse_key(item, fail) -> Key:
    if isinstance(item, str):
        item = {"key": item}
    elif not isinstance(item, dict):
        fail(f"expected a string or a table {{ key = ... }}, got {item!r}")
    unknown = sorted(set(item) - _KEY_FIELDS)
    if unknown:
        fail(f"unknown field {unknown[0]!r} (fields: {', '.join(sorted(_KEY_FIELDS))})")
    value = item.get("key")
    if not isinstance(value, str) or not value:
        fail(f"'key' must be a non-empty string, got {value!r}")
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in value):
        fail(f"{value!r} contains a space or control character (use the special key 'space')")
    if _SPECIAL_NAME_RE.match(value) and value not in SPECIAL_KEYS:
        fail(f"unknown special key {value!r} (special keys: {', '.join(SPECIAL_KEYS)})")
    label = item.get("label", value)
    if not isinstance(label, str):
        fail(f"label must be a string, got {label!r}")
    if not label.strip() and value != "space":
        fail(f"{value!r} has an empty label")
    width = item.get("width", 1)
    if isinstance(width, bool) or not isinstance(width, (int, float)) \
            or not 0 < width <= MAX_KEY_WIDTH:
        fail(f"width of {value!r} must be a number above 0 and at most {MAX_KEY_WIDTH}, "
             f"got {width!r}")
    when = item.get("when")
    if when is not None and when not in CONDITIONS:
        fail(f"when = {when!r}; it must be one of {', '.join(CONDITIONS)}")
    return Key(value=value, label=label, width=float(width), when=when)


def drop_last_character(text: str) -> str:
    """`text` without its last character: the last code point and any combining marks
    (Arabic harakat) after it."""
    end = len(text)
    while end and unicodedata.category(text[end - 1]) in ("Mn", "Me"):
        end -= 1
    return text[:max(end - 1, 0)]


class KeyboardModel:
    """The state of the keyboard while a field is being typed into.

    layout: "ar", "en" or "numeric" (a file in assets/keyboards); the switch key changes it.
    allow_switch: False keeps the field in its layout (the switch key is hidden).
    max_length: at most this many code points; keys that would go past it do nothing.
    decimals: show the decimal point (number pad).
    show_done: show the done key (False when the screen has its own button)."""

    def __init__(self, layout: str = "ar", allow_switch: bool = True,
                 max_length: int | None = None, decimals: bool = False, *,
                 show_done: bool = True, text: str = "",
                 layout_dir: str | Path | None = None):
        self.layout_dir = layout_dir
        self._layout = load_layout(layout, layout_dir)
        self.allow_switch = bool(allow_switch)
        self.max_length = max_length
        self.decimals = bool(decimals)
        self.show_done = bool(show_done)
        self.text = text
        self._shift = False

    # -- configuration ------------------------------------------------------------------

    @property
    def layout(self) -> str:
        return self._layout.name

    @layout.setter
    def layout(self, name: str) -> None:
        if name != self._layout.name:
            self._layout = load_layout(name, self.layout_dir)
        self._shift = False

    @property
    def max_length(self) -> int | None:
        return self._max_length

    @max_length.setter
    def max_length(self, value: int | None) -> None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 0):
            raise ValueError(f"max_length must be None or a whole number >= 0, got {value!r}")
        self._max_length = value

    @property
    def text(self) -> str:
        return self._text

    @text.setter
    def text(self, value: str) -> None:
        # A pre-filled text longer than max_length is kept as it is: only typing is limited.
        if not isinstance(value, str):
            raise TypeError(f"text must be a string, got {type(value).__name__}")
        self._text = value

    @property
    def shift(self) -> bool:
        """True while shift waits for the next letter."""
        return self._shift

    def variant(self) -> tuple:
        """Everything `rows` depends on (the widget keeps one set of key widgets per variant)."""
        return (self._layout.name, self.allow_switch, self.decimals, self.show_done)

    # -- what is shown ------------------------------------------------------------------

    def shown_key(self, value: str) -> Key | None:
        """The key with this value if the current layout shows it for this field."""
        key = self._layout.keys.get(value)
        return key if key is not None and self.shows(key) else None

    def shows(self, key: Key) -> bool:
        if key.value == "switch" and not self.allow_switch:
            return False
        if key.value == "done" and not self.show_done:
            return False
        if key.when == "decimals" and not self.decimals:
            return False
        return True

    @property
    def rows(self) -> list[list[Key | Gap]]:
        """The rows to draw for this field: hidden keys give their width to the row's space
        bar or leave a Gap; rows left without keys are dropped."""
        out = []
        for row in self._layout.rows:
            shown = [key if self.shows(key) else Gap(key.width) for key in row]
            space = next((i for i, k in enumerate(shown) if isinstance(k, Key)
                          and k.value == "space"), None)
            if space is not None:
                spare = sum(k.width for k in shown if isinstance(k, Gap))
                bar = shown[space]
                shown[space] = Key(bar.value, bar.label, bar.width + spare, bar.when)
                shown = [k for k in shown if isinstance(k, Key)]
            if any(isinstance(k, Key) for k in shown):
                out.append(shown)
        return out

    def label(self, key: Key) -> str:
        """What the key shows now, in logical order (capitals while shift is on)."""
        if self._shift and not key.special and key.label == key.value:
            return key.label.upper()
        return key.label

    # -- typing -------------------------------------------------------------------------

    def press(self, value: str) -> str:
        """Act on the key with this value and return the text. A key of the layout that is
        hidden for this field does nothing; a value that is not a key of the layout at all
        raises ValueError (a programming error)."""
        key = self._layout.keys.get(value)
        if key is None:
            raise ValueError(f"{value!r} is not a key of the {self.layout!r} keyboard")
        if not self.shows(key):
            return self._text
        if value == "backspace":
            self._text = drop_last_character(self._text)
        elif value == "shift":
            self._shift = not self._shift
        elif value == "switch":
            self.layout = self._layout.switch_to
        elif value == "done":
            pass
        elif value == "space":
            self._type(" ")
        elif key.when == "decimals":
            if value not in self._text:
                self._type(value if self._text else "0" + value)
        else:
            self._type(value.upper() if self._shift else value)
        return self._text

    def _type(self, chars: str) -> None:
        if self._max_length is not None and len(self._text) + len(chars) > self._max_length:
            return
        self._text += chars
        self._shift = False


def key_markup(label: str) -> str:
    """A key label as Kivy markup for a label whose font is the Arabic font: Arabic shaped,
    Latin in Roboto, and symbols such as ⌫ and ⇧ (which neither font has) in DejaVu Sans,
    which ships with Kivy. Latin next to Arabic on one key ("تم  Done") is also set in
    DejaVu Sans: Kivy's markup puts a Roboto run visibly below the Arabic baseline, a
    DejaVu Sans run much less so."""
    symbols = any(ord(ch) >= 0x2000 for ch in label)
    mixed = is_rtl(label) and any(ch.isascii() and ch.isalpha() for ch in label)
    return shape_markup(label, latin_font="DejaVuSans" if symbols or mixed else "Roboto")
