"""Keyboard-wedge scanners: a USB scanner that "types" the code and presses Enter.

The UI passes every character it receives to `key(ch)`. What tells a scanner from a person is
speed: a scanner sends a whole code in a few milliseconds per key, a person rarely types two
keys within 50 ms and never a dozen in a row. So a burst of at least `min_length` characters,
each within `max_gap_s` of the one before, ended by Enter within `max_gap_s`, is a scan and is
fed with source "keyboard"; anything slower is typing and is left to the text field.

    wedge = KeyboardWedge(service.publish)
    Window.bind(on_textinput=lambda _w, text: wedge.key(text))   # Enter arrives as "\\n"
"""
from __future__ import annotations

import time
from typing import Callable

ENTER = ("\n", "\r")


class KeyboardWedge:
    def __init__(self, feed: Callable, terminator: str = "\n", max_gap_s: float = 0.05,
                 clock: Callable[[], float] = time.monotonic, min_length: int = 4):
        if max_gap_s <= 0:
            raise ValueError("max_gap_s must be positive")
        self.feed = feed
        # Enter comes as CR or LF depending on the toolkit; accept both for either.
        self.terminators = ENTER if terminator in ENTER else (terminator,)
        self.max_gap_s = max_gap_s
        self.clock = clock
        self.min_length = min_length
        self._chars: list[str] = []
        self._last: float | None = None

    @property
    def pending(self) -> str:
        """The characters of the burst so far."""
        return "".join(self._chars)

    def reset(self) -> None:
        self._chars, self._last = [], None

    def key(self, ch: str) -> bool:
        """One keystroke (a character; Enter as the terminator). True when it ended a scan,
        so the UI can drop the characters the scanner typed into a field."""
        now = self.clock()
        fast = self._last is not None and now - self._last <= self.max_gap_s
        if ch in self.terminators:
            code = self.pending if fast else ""
            self.reset()
            if len(code) < self.min_length:
                return False
            self.feed(code, raw=code.encode("utf-8"), symbology="unknown", source="keyboard")
            return True
        if not fast:
            self._chars = []  # a pause: whatever came before was typed by a person
        self._chars.append(ch)
        self._last = now
        return False

    def keys(self, text: str) -> bool:
        """Several characters at once (some toolkits deliver a burst as one string)."""
        scanned = False
        for ch in text:
            scanned = self.key(ch) or scanned
        return scanned
