"""Time, ids and randomness are injected so tests can freeze them (DESIGN.md house style 7)."""
from __future__ import annotations

import os
import random
import threading
from datetime import datetime, timedelta, timezone
from typing import Protocol

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware datetime in UTC."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FrozenClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | str = "2026-11-24T08:00:00+00:00"):
        if isinstance(start, str):
            start = datetime.fromisoformat(start)
        self._now = start.astimezone(timezone.utc)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float = 0, **kwargs) -> datetime:
        self._now += timedelta(seconds=seconds, **kwargs)
        return self._now

    def set(self, when: datetime | str) -> None:
        if isinstance(when, str):
            when = datetime.fromisoformat(when)
        self._now = when.astimezone(timezone.utc)


class UlidFactory:
    """ULIDs (48-bit ms time + 80 random bits, Crockford base32), monotonic within a
    millisecond so ids sort in creation order even when the clock stands still."""

    def __init__(self, clock: Clock, rng: random.Random | None = None):
        self.clock = clock
        self.rng = rng or random.Random(int.from_bytes(os.urandom(16), "big"))
        self._last_ms = -1
        self._last_rand = 0
        self._lock = threading.Lock()

    def random_bytes(self, n: int) -> bytes:
        """Randomness for the store's other needs (salts), from the same injected source:
        a seeded factory makes whole runs repeatable."""
        with self._lock:
            return self.rng.randbytes(n)

    def new(self) -> str:
        with self._lock:
            ms = int(self.clock.now().timestamp() * 1000)
            if ms <= self._last_ms:
                ms = self._last_ms
                rand = self._last_rand + 1
            else:
                rand = self.rng.getrandbits(80)
            self._last_ms, self._last_rand = ms, rand
        value = (ms << 80) | (rand & ((1 << 80) - 1))
        return "".join(CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def iso(moment: datetime) -> str:
    """Timestamps are stored as UTC ISO-8601 with milliseconds: they sort as text."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)
