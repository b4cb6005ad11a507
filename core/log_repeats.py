"""Repeated log messages are written once per interval: the first occurrence goes through, the
repeats are counted, and when the interval is over one line says how many there were
("... (repeated 778116 times in the last 60 s)"). A flood of one error (every refused
connection, every failed accept) then costs a few lines a minute, not hundreds of megabytes.

    repeats = RepeatFilter(interval_s=60)
    repeats.install(logging.getLogger(), logging.getLogger("asyncio"))
    ...
    repeats.flush()       # now and then: the summaries of intervals that are over
    repeats.uninstall()   # the summaries still pending, then the filter comes off

A message is its logger, its level, its template (record.msg, before the arguments are put
in: "%s:%d - connection lost" from any client is one message) and its exception's type.
hub/server.py installs one on the server's loggers; an app may install its own."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

SUMMARY = "%s (repeated %d times in the last %d s)"
_DECIDED = "_nafitha_repeat_pass"  # a record seen by two filter points is decided once


@dataclass
class _Seen:
    window_start: float
    text: str
    suppressed: int = 0


class RepeatFilter(logging.Filter):
    """max_messages: how many distinct messages are tracked; past it the oldest is
    summarised and forgotten (so memory stays bounded however varied the flood)."""

    def __init__(self, interval_s: float = 60.0, max_messages: int = 1024,
                 clock: Callable[[], float] = time.monotonic):
        super().__init__()
        if interval_s <= 0 or max_messages < 1:
            raise ValueError("interval_s must be > 0 and max_messages >= 1")
        self.interval_s = interval_s
        self.max_messages = max_messages
        self.clock = clock
        self._seen: dict[tuple, _Seen] = {}
        self._lock = threading.Lock()
        self._installed: list[logging.Filterer] = []

    def filter(self, record: logging.LogRecord) -> bool:
        decided = getattr(record, _DECIDED, None)
        if decided is not None:
            return decided
        key = _key(record)
        now = self.clock()
        pending = []
        with self._lock:
            seen = self._seen.get(key)
            if seen is not None and now - seen.window_start < self.interval_s:
                seen.suppressed += 1
                passed = False
            else:
                if seen is not None and seen.suppressed:
                    pending.append((key, seen, now))
                self._seen.pop(key, None)
                if len(self._seen) >= self.max_messages:
                    oldest = next(iter(self._seen))
                    old = self._seen.pop(oldest)
                    if old.suppressed:
                        pending.append((oldest, old, now))
                self._seen[key] = _Seen(now, _text(record))
                passed = True
        setattr(record, _DECIDED, passed)
        self._emit(pending)
        return passed

    def flush(self, everything: bool = False) -> int:
        """Write the summary of each interval that is over (all of them when everything);
        returns how many summaries were written."""
        now = self.clock()
        pending = []
        with self._lock:
            for key, seen in list(self._seen.items()):
                if everything or now - seen.window_start >= self.interval_s:
                    del self._seen[key]
                    if seen.suppressed:
                        pending.append((key, seen, now))
        self._emit(pending)
        return len(pending)

    def install(self, *targets: logging.Filterer) -> RepeatFilter:
        """On loggers (what they log themselves) or handlers (everything they write,
        children's records included); a record seen at two points is counted once."""
        for target in targets:
            if self not in target.filters:
                target.addFilter(self)
                self._installed.append(target)
        return self

    def uninstall(self) -> None:
        self.flush(everything=True)
        for target in self._installed:
            target.removeFilter(self)
        self._installed.clear()

    def _emit(self, pending) -> None:
        for (name, level, _template, _exc), seen, now in pending:
            span = max(1, round(min(now - seen.window_start, self.interval_s)))
            summary = logging.LogRecord(name, level, __file__, 0, SUMMARY,
                                        (seen.text, seen.suppressed, span), None)
            setattr(summary, _DECIDED, True)
            logging.getLogger(name).handle(summary)


def _key(record: logging.LogRecord) -> tuple:
    exc = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
    return record.name, record.levelno, str(record.msg), exc


def _text(record: logging.LogRecord) -> str:
    try:
        text = record.getMessage()
    except Exception:  # noqa: BLE001 - a malformed record still gets a summary line
        text = str(record.msg)
    text = text.strip()
    return text if len(text) <= 300 else text[:297] + "..."
