"""Navigation without looking (issue 25 "A kiosk for everyone"): a physical keypad, as on
accessible ATMs, moves a visible focus through every control of the current screen in
reading order (right to left, top to bottom in Arabic; left to right in English); Enter
activates, Back goes back, digits type into a number field. With the audio guide on, each
screen's words and the focused control are spoken (ui/audio.py).

The keypad is an ordinary USB keyboard device (Kivy's Window key events):
    arrows          next / previous control (Down, and Left in Arabic / Right in English: next)
    Enter           activate the focused control
    Escape          back (the screen's Back button, else Start)
    Backspace       delete a digit on a number field, else back
    0-9             type into the screen's on-screen keyboard (the field being filled)
    F9 / F10        headphones plugged in / out: accessible keypads (Storm AudioNav and the
                    like) send a key when the jack is used; the audio guide starts / stops.
A key held down auto-repeats: arrows move at most once per REPEAT_S; Enter, Back and digits
act once per press, never on repeats (RepeatLimiter).

The top half is pure (reading order, repeat limiting, key meaning) and is tested without
Kivy (tests/ui/test_keypad_order.py); KeypadNavigator, the Kivy half, imports Kivy lazily."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

log = logging.getLogger("nafitha.keypad")

REPEAT_S = 0.3  # a held arrow moves about three controls a second, not a flood
KEYCODES = {273: "up", 274: "down", 275: "right", 276: "left", 13: "enter", 271: "enter",
            27: "escape", 8: "backspace", 290: "headphones_in", 291: "headphones_out",
            **{48 + d: str(d) for d in range(10)}, **{256 + d: str(d) for d in range(10)}}
REPEATS = {"up", "down", "left", "right"}  # only moves repeat while held


def action_for(key: str, rtl: bool, typing_digits: bool) -> str | None:
    """What a keypad key means here: next, previous, activate, back, delete, digit:N,
    headphones_in/out; None for keys the keypad does not have."""
    if key == "down":
        return "next"
    if key == "up":
        return "previous"
    if key in ("left", "right"):
        forward = "left" if rtl else "right"  # the reading direction
        return "next" if key == forward else "previous"
    if key == "enter":
        return "activate"
    if key == "escape":
        return "back"
    if key == "backspace":
        return "delete" if typing_digits else "back"
    if key.isdigit() and len(key) == 1:
        return f"digit:{key}"
    if key in ("headphones_in", "headphones_out"):
        return key
    return None


@dataclass
class RepeatLimiter:
    """Turns a key's auto-repeat into a bounded rate: the first press always counts; while
    held, a move repeats at most once per `interval_s`; any other key never repeats."""
    interval_s: float = REPEAT_S
    now: callable = time.monotonic
    _held: dict = field(default_factory=dict)  # key -> when it last counted

    def down(self, key: str) -> bool:
        t = self.now()
        last = self._held.get(key)
        if last is None:
            self._held[key] = t
            return True
        if key in REPEATS and t - last >= self.interval_s:
            self._held[key] = t
            return True
        return False

    def up(self, key: str) -> None:
        self._held.pop(key, None)


def reading_order(boxes: list[tuple[float, float, float, float]], rtl: bool) -> list[int]:
    """Indices of boxes (x, y, width, height; y up, as in Kivy) in reading order: rows from
    the top, a box joining a row when its middle lies within the row's first box's height;
    in a row right to left for Arabic, left to right for English."""
    by_top = sorted(range(len(boxes)), key=lambda i: -(boxes[i][1] + boxes[i][3] / 2))
    rows: list[list[int]] = []
    for i in by_top:
        _, y, _, h = boxes[i]
        middle = y + h / 2
        if rows:
            _, fy, _, fh = boxes[rows[-1][0]]
            if fy <= middle <= fy + fh:
                rows[-1].append(i)
                continue
        rows.append([i])
    order: list[int] = []
    for row in rows:
        order.extend(sorted(row, key=lambda i: boxes[i][0] + boxes[i][2] / 2, reverse=rtl))
    return order


def step(count: int, current: int | None, forward: bool) -> int | None:
    """The next focus index (wrapping around), None when there is nothing to focus."""
    if count == 0:
        return None
    if current is None:
        return 0 if forward else count - 1
    return (current + (1 if forward else -1)) % count


# --- the Kivy half ----------------------------------------------------------------------

HEADER_CLASSES = ("KioskHeader",)  # controls met on every screen: focused after the content
SKIPPED_CLASSES = ("AdminCorner",)  # the staff exit's hidden corner is not for residents


class KeypadNavigator:
    """Focus, the focus ring, keypad keys and (through a guide) speech for one app.

        nav = KeypadNavigator(app, speaker)
        nav.screen_shown()   # after each render: re-read the screen, announce a new one

    `app` gives: scope() (the widget whose controls are walked: the current screen, or an
    open dialog), rtl, lang, go_back(), tr; `guide` is on while the audio guide is."""

    def __init__(self, app, speaker, now=time.monotonic):
        self.app = app
        self.speaker = speaker
        self.limiter = RepeatLimiter(now=now)
        self.guide = False
        self.focused = None   # the focused widget
        self._screen_key = None
        self._pending = 0         # the latest render's reading (older ones are dropped)
        self._new_pending = False  # a new screen is waiting to be read
        self._ring = None
        from kivy.core.window import Window
        Window.bind(on_key_down=self._key_down, on_key_up=self._key_up)

    # --- what is on screen ------------------------------------------------------------
    def controls(self) -> list:
        """The focusable controls of the current scope in reading order: the content's
        first, then the header's (Start, language, text size)."""
        content, header = [], []
        _walk(self.app.scope(), content, header, in_header=False)
        return self._ordered(content) + self._ordered(header)

    def _ordered(self, widgets: list) -> list:
        boxes = [_window_box(w) for w in widgets]
        return [widgets[i] for i in reading_order(boxes, self.app.rtl)]

    def words(self) -> list[str]:
        """The screen's own words outside its controls, in reading order (title first)."""
        labels: list = []
        _labels(self.app.scope(), labels)
        boxes = [_window_box(w) for w in labels]
        return [labels[i].logical for i in reading_order(boxes, self.app.rtl)]

    # --- after each render ----------------------------------------------------------------
    def screen_shown(self, key, force: bool = False, only_if_new: bool = False) -> None:
        """The app rendered `key` (its screen and language): a new one is read out once laid
        out, with the focus on its first control; the same one keeps the focus."""
        from kivy.clock import Clock

        new = force or key != self._screen_key
        if only_if_new and not new:
            return
        self._screen_key = key
        if not self.guide and not self.app.keypad_active:
            self.focused = None  # touch only: nothing to read or ring (the taps' speed)
            return
        # Two frames: the screen's labels are laid out and the dialog's animation has begun.
        # Only the latest render's reading counts (a forced re-read replaces a pending one).
        self._pending += 1
        ticket = self._pending
        Clock.schedule_once(lambda dt: Clock.schedule_once(
            lambda dt: self._settled(new or self._new_pending, ticket), 0), 0)
        self._new_pending = self._new_pending or new

    def _settled(self, new: bool, ticket: int) -> None:
        if ticket != self._pending:
            return
        self._new_pending = False
        if not self.guide and not self.app.keypad_active:
            # Touch only: no walking the widget tree on every render (the taps' speed).
            self.focused = None
            return
        controls = self.controls()
        if new or self.focused not in controls:
            self.focused = controls[0] if controls else None
            if new and self.guide:
                self.speaker.say(". ".join(w for w in self.words() if w.strip()),
                                 self.app.lang)
                self._say_focused(interrupt=False)
            elif self.guide:
                self._say_focused()
        self.draw_ring()

    # --- keys -----------------------------------------------------------------------------
    def _key_down(self, _window, keycode, *_args):
        key = KEYCODES.get(keycode)
        if key is None:
            return False
        counted = self.limiter.down(key)
        if not counted:
            return True  # an auto-repeat beyond the bounded rate: swallowed
        return self.press(key)

    def _key_up(self, _window, keycode, *_args):
        key = KEYCODES.get(keycode)
        if key is not None:
            self.limiter.up(key)
        return False

    def press(self, key: str) -> bool:
        """One counted key press; True: the keypad used it."""
        keyboard = self._keyboard()
        action = action_for(key, self.app.rtl, keyboard is not None and bool(keyboard.text))
        if action is None or getattr(self.app, "busy", False):
            return action is not None
        self.app.keypad_used()
        if action == "headphones_in":
            self.app.set_audio_guide(True, plugged=True)
        elif action == "headphones_out":
            self.app.set_audio_guide(False, plugged=True)
        elif action in ("next", "previous"):
            self.move(action == "next")
        elif action == "activate":
            self.activate()
        elif action == "back":
            self.app.go_back()
        elif action == "delete":
            keyboard.press("backspace")
            self._say_text(keyboard)
        elif action.startswith("digit:"):
            if keyboard is None:
                return False
            keyboard.press(action.split(":")[1])
            self._say_text(keyboard)
        return True

    def move(self, forward: bool) -> None:
        controls = self.controls()
        current = controls.index(self.focused) if self.focused in controls else None
        index = step(len(controls), current, forward)
        self.focused = None if index is None else controls[index]
        _scroll_into_view(self.focused)
        self.draw_ring()
        if self.guide:
            self._say_focused()

    def activate(self) -> None:
        widget = self.focused
        if widget is None or widget not in self.controls():
            return
        widget.trigger_action(duration=0)

    # --- speech -----------------------------------------------------------------------------
    def _say_focused(self, interrupt: bool = True) -> None:
        if self.focused is None:
            return
        text = spoken_label(self.focused)
        if interrupt:
            self.speaker.stop()
        self.speaker.say(text, self.app.lang)

    def _say_text(self, keyboard) -> None:
        if self.guide:
            self.speaker.say(" ".join(keyboard.text) or "-", self.app.lang)

    def announce(self, text: str) -> None:
        if self.guide:
            self.speaker.say(text, self.app.lang)

    def _keyboard(self):
        """The current scope's on-screen keyboard (a form's field), if one is shown."""
        from ui.keyboard_widget import OnScreenKeyboard

        found = []

        def walk(widget):
            if isinstance(widget, OnScreenKeyboard):
                found.append(widget)
                return
            for child in widget.children:
                walk(child)
        walk(self.app.scope())
        return found[0] if found and found[0].get_root_window() is not None else None

    # --- the focus ring ---------------------------------------------------------------
    def draw_ring(self) -> None:
        """A thick ring seen on any background: black outside, yellow inside, drawn on the
        window over everything (a screen's own colours cannot hide it)."""
        from kivy.core.window import Window
        from kivy.graphics import Color, InstructionGroup, Line

        if self._ring is not None:
            Window.canvas.after.remove(self._ring)
            self._ring = None
        widget = self.focused
        if widget is None or not self.app.keypad_active:
            return
        x, y, w, h = _window_box(widget)
        ring = InstructionGroup()
        ring.add(Color(0, 0, 0, 1))
        ring.add(Line(rectangle=(x - 9, y - 9, w + 18, h + 18), width=4))
        ring.add(Color(1, 0.84, 0, 1))  # #ffd600 on both themes
        ring.add(Line(rectangle=(x - 4, y - 4, w + 8, h + 8), width=4))
        Window.canvas.after.add(ring)
        self._ring = ring

    def ring_box(self):
        """Where the ring is (window pixels), for the tests."""
        return None if self._ring is None or self.focused is None else \
            list(_window_box(self.focused))


def spoken_label(widget) -> str:
    """What a screen reader says for a control: its `speech` if it sets one, else its text,
    else the words inside it (a card's title and hint)."""
    explicit = getattr(widget, "speech", "")
    if isinstance(explicit, str) and explicit.strip():
        return explicit
    own = getattr(widget, "logical", "")
    if isinstance(own, str) and own.strip():
        return own
    inner: list = []
    _labels(widget, inner, inside_control=True)
    boxes = [_window_box(w) for w in inner]
    rtl = any("\u0600" <= ch <= "\u06ff" for w in inner for ch in w.logical)
    return ". ".join(inner[i].logical for i in reading_order(boxes, rtl))


def _hidden(widget) -> bool:
    return widget.opacity == 0 or widget.width <= 1 or widget.height <= 1


def _walk(widget, content: list, header: list, in_header: bool) -> None:
    from kivy.uix.behaviors import ButtonBehavior

    from ui.keyboard_widget import OnScreenKeyboard

    name = type(widget).__name__
    if _hidden(widget) or name in SKIPPED_CLASSES or isinstance(widget, OnScreenKeyboard):
        return  # digits type into the keyboard; its keys are not walked one by one
    in_header = in_header or name in HEADER_CLASSES
    if isinstance(widget, ButtonBehavior):
        if not widget.disabled and spoken_label(widget).strip():
            (header if in_header else content).append(widget)
        return
    for child in widget.children:
        _walk(child, content, header, in_header)


def _labels(widget, found: list, inside_control: bool = False) -> None:
    from kivy.uix.behaviors import ButtonBehavior

    from ui.keyboard_widget import OnScreenKeyboard

    for child in widget.children:
        name = type(child).__name__
        if _hidden(child) or name in HEADER_CLASSES or isinstance(child, OnScreenKeyboard):
            continue
        if isinstance(child, ButtonBehavior) and not inside_control:
            continue
        text = getattr(child, "logical", None)
        if isinstance(text, str) and text.strip():
            found.append(child)
        _labels(child, found, inside_control)


def _window_box(widget) -> tuple[float, float, float, float]:
    x, y = widget.to_window(widget.x, widget.y)
    return (x, y, widget.width, widget.height)


def _scroll_into_view(widget) -> None:
    """A focused control below the fold is scrolled to, as a finger would."""
    from kivy.uix.scrollview import ScrollView

    parent = widget.parent if widget is not None else None
    # The window is its own parent: stop there.
    while parent is not None and not isinstance(parent, ScrollView) and parent.parent is not parent:
        parent = parent.parent
    if isinstance(parent, ScrollView):
        parent.scroll_to(widget, padding=20, animate=False)
