"""Colours and sizes shared by the kiosk and the counter (no Kivy import: .kv files read
the sizes through `app.px`, tests read this module).

High contrast: dark navy text on white, white text on navy, green, red or amber; every pair
has a contrast ratio of at least 7:1 (WCAG AAA) except the grey hint text (4.5:1, AA), which
never carries meaning alone (tests/ui/test_theme.py measures them). Touch targets are sized
in millimetres of the actual monitor (kiosk.screen_dpi), at least 15 mm, so a finger can hit
them."""
from __future__ import annotations

from dataclasses import dataclass

MM_PER_INCH = 25.4
MIN_TOUCH_MM = 15.0


def rgba(hex_colour: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    h = hex_colour.lstrip("#")
    return (int(h[0:2], 16) / 255, int(h[2:4], 16) / 255, int(h[4:6], 16) / 255, alpha)


NAVY = rgba("#0b2545")
BLUE = rgba("#13315c")
GREEN = rgba("#075a3f")  # "go on" actions and "genuine"
RED = rgba("#a4161a")  # "not genuine", errors
AMBER = rgba("#6b4000")  # warnings (dark enough for white text)
WHITE = rgba("#ffffff")
PAPER = rgba("#f4f6f8")  # screen background
LINE = rgba("#c5ccd6")
INK = rgba("#0b2545")  # body text
HINT = rgba("#4a5568")
KEY = rgba("#e2e8f0")  # on-screen keyboard keys
KEY_PRESSED = rgba("#94a3b8")
DISABLED = rgba("#9aa5b1")

# The high-contrast theme (issue 25 "A kiosk for everyone"), chosen on the start screen:
# white and pale colours on black, for residents with low vision. Same names, so every .kv
# (theme.NAVY, theme.PAPER, ...) follows once its widgets are built again (use_palette, then
# the app rebuilds its screens). Every text pair is at least 10:1 (tests/ui/test_keypad_order.py).
PALETTES = {
    "standard": {name: globals()[name] for name in (
        "NAVY", "BLUE", "GREEN", "RED", "AMBER", "WHITE", "PAPER", "LINE", "INK", "HINT",
        "KEY", "KEY_PRESSED", "DISABLED")},
    "high_contrast": {
        "NAVY": rgba("#ffffff"), "BLUE": rgba("#ffffff"), "GREEN": rgba("#7dff9a"),
        "RED": rgba("#ff9e9e"), "AMBER": rgba("#ffd600"), "WHITE": rgba("#000000"),
        "PAPER": rgba("#000000"), "LINE": rgba("#ffffff"), "INK": rgba("#ffffff"),
        "HINT": rgba("#e6e6e6"), "KEY": rgba("#1f1f1f"), "KEY_PRESSED": rgba("#5c5c5c"),
        "DISABLED": rgba("#5c5c5c")},
}
palette = "standard"


def use_palette(name: str) -> None:
    """Make `name` the colours every widget built from now on reads."""
    global palette
    if name not in PALETTES:
        raise ValueError(f"no palette {name!r}: {', '.join(PALETTES)}")
    globals().update(PALETTES[name])
    palette = name


def luminance(rgba) -> float:
    """WCAG relative luminance of an sRGB colour (0-1 channels)."""
    def channel(c):
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgba[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    """WCAG contrast ratio of two colours (1-21): the palettes' pairs are checked with it."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


FONT_ROLES = {"title": 44, "heading": 34, "body": 28, "small": 22, "huge": 120, "button": 32,
              "key": 30}
# Larger text grows what is read (1.3x); what is already large grows less, or not at all, so
# a screen's words still fit under its header (a ticket number is 120 px either way).
LARGE_TEXT = 1.3
LARGE_TEXT_BY_ROLE = {"title": 1.15, "huge": 1.0}


def mm_to_px(mm: float, dpi: float) -> int:
    return round(mm / MM_PER_INCH * dpi)


@dataclass(frozen=True)
class Sizes:
    """Pixel sizes for one monitor and text mode."""
    dpi: float
    large_text: bool = False
    text_scale: float = 1.0  # the counter's desk screen reads at arm's length: smaller text
    button_mm: float = 20.0  # the kiosk's buttons; the counter's are 15 mm (still touchable)

    @property
    def scale(self) -> float:
        return self.text_scale * (LARGE_TEXT if self.large_text else 1.0)

    @property
    def touch(self) -> int:
        """The smallest height or width of anything a resident taps."""
        return max(mm_to_px(MIN_TOUCH_MM, self.dpi), 48)

    @property
    def button(self) -> int:
        return round(max(self.touch, mm_to_px(self.button_mm, self.dpi)) * (1.15 if self.large_text else 1))

    @property
    def key(self) -> int:
        return round(max(self.touch, mm_to_px(17, self.dpi)))

    @property
    def gap(self) -> int:
        return mm_to_px(3, self.dpi)

    def as_dict(self) -> dict[str, int]:
        """For .kv files (`app.px['button']`): kv rebinds on a dict property, not on the
        attributes of a plain object."""
        return {"touch": self.touch, "button": self.button, "key": self.key, "gap": self.gap,
                **{f"font_{role}": self.font(role) for role in FONT_ROLES}}

    def font(self, role: str) -> int:
        base = FONT_ROLES[role] * self.text_scale
        if self.large_text:
            base *= LARGE_TEXT_BY_ROLE.get(role, LARGE_TEXT)
        return round(base)
