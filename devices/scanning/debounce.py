"""Reporting a code once while it stays in view.

A camera reads the same QR on every frame for as long as it is held up (and misses it on a
few frames in between), so the window runs from the LAST sighting: a code held in front of
the camera for a minute is reported once, and again only after it was out of sight for
longer than the window."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Callable, Hashable


class Debouncer:
    def __init__(self, window_s: float = 2.0, clock: Callable[[], float] = time.monotonic):
        if window_s < 0:
            raise ValueError("the debounce window cannot be negative")
        self.window_s = window_s
        self.clock = clock
        self._last: OrderedDict[Hashable, float] = OrderedDict()  # oldest sighting first
        self._lock = threading.Lock()  # camera, serial and keyboard threads share one

    def seen(self, key: Hashable) -> bool:
        """True the first time (report it); False when seen again within the window.
        A window of 0 reports every sighting."""
        with self._lock:
            now = self.clock()
            last = self._last.pop(key, None)
            self._last[key] = now
            self._forget_older_than(now - self.window_s)
            return last is None or self.window_s == 0 or now - last > self.window_s

    def reset(self) -> None:
        """Forget everything (e.g. the clerk asks to read the same code again)."""
        with self._lock:
            self._last.clear()

    def __len__(self) -> int:
        return len(self._last)

    def _forget_older_than(self, horizon: float) -> None:
        # Entries are in sighting order, so expired ones are at the front: memory stays
        # bounded by the codes seen within one window.
        while self._last:
            key, at = next(iter(self._last.items()))
            if at >= horizon:
                break
            del self._last[key]
