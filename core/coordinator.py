"""One background loop, the same everywhere: the print worker, the camera and serial scanners,
the sync agent, the hub client's live updates and the counter's queue watch each run one
`Coordinator` (Home Assistant's DataUpdateCoordinator is the model).

    loop = Coordinator("printer main", worker.poll, log, idle_s=0.5, max_backoff_s=10)
    loop.start()          # a daemon thread: poll, wait, poll ...
    loop.wake()           # new work: poll now rather than after idle_s
    loop.available        # from the last poll (None before the first)
    loop.stop()

`poll()` returns IDLE (nothing to do: wait `idle_s`, or until woken), DONE (the loop ends), or
anything else (it did something: poll again at once). It raises `Unavailable` when what it
polls is away (a printer out of paper, central unreachable): the loop waits a growing backoff
(doubling from `retry_s` up to `max_backoff_s`, jittered if asked, at least the failure's
`retry_after`) and logs once when the failing starts and once when it ends, never on every
retry. Any other exception is logged with its traceback (once per failing spell) and waited
out the same way, so one bad poll never ends the loop.

Tests drive `step()` (one poll, its bookkeeping and the backoff wait that follows a failure)
and inject `sleep`, `rng` and the clock-free waits."""
from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from .errors import NafithaError

IDLE = "idle"    # nothing to do: wait idle_s (or until woken)
DONE = "done"    # the loop ends (a file source ran out)
RETRY = "retry"  # what step() returns after a failed poll (the backoff was waited)

# The backoff's exponent stops here: 2**32 steps is far beyond any max_backoff_s, and it
# keeps the arithmetic finite however long a device stays away.
_MAX_DOUBLINGS = 32


class Unavailable(NafithaError):
    """What a poll raises when what it polls is away: the loop backs off and retries.
    `retry_after`: the other side asked for at least this many seconds."""

    code = "unavailable"

    def __init__(self, message: str, retry_after: float | None = None, **details):
        super().__init__(message, **details)
        self.retry_after = retry_after


@dataclass
class Backoff:
    """Doubling delays from base_s, capped at max_s; with jitter, "equal jitter" (half the
    step fixed, half random) so many devices coming back do not all retry at once."""
    base_s: float = 1.0
    max_s: float = 300.0
    jitter: bool = False
    rng: random.Random | None = None
    failures: int = 0

    def next_delay(self, retry_after: float | None = None) -> float:
        step = min(self.max_s, self.base_s * 2 ** min(self.failures, _MAX_DOUBLINGS))
        self.failures += 1
        delay = step / 2 + (self.rng or random).uniform(0, step / 2) if self.jitter else step
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_s))
        return delay

    def reset(self) -> None:
        self.failures = 0


@dataclass
class Coordinator:
    """name: what is polled, for the log ("printer main"). should_wake(failing): checked
    every check_s while waiting (new local work, a probe of central); True ends the wait."""
    name: str
    poll: Callable[[], object]
    log: logging.Logger
    idle_s: float = 0.5
    retry_s: float = 0.5
    max_backoff_s: float = 10.0
    jitter: bool = False
    rng: random.Random | None = None
    sleep: Callable[[float], object] | None = None
    should_wake: Callable[[bool], bool] | None = None
    check_s: float = 1.0
    # heartbeat(): called after every poll and at least every heartbeat_s while waiting, on
    # the loop's thread (the sync agent's systemd watchdog: a hung poll stops it).
    heartbeat: Callable[[], object] | None = None
    heartbeat_s: float = 5.0
    available: bool | None = None
    failure: Exception | None = None  # what the last failed poll raised (None: working)
    retry_in: float | None = None     # the wait after the last failed poll
    polls: int = 0
    _listeners: list = field(default_factory=list, repr=False)

    def __post_init__(self):
        self.backoff = Backoff(self.retry_s, self.max_backoff_s, self.jitter, self.rng)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def failing(self) -> bool:
        return self.available is False

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def started(self) -> bool:
        return self._thread is not None

    def listen(self, callback: Callable[[object, Exception | None], object]) -> None:
        """callback(result, failure) after every poll (failure None when it worked);
        called on the loop's thread, before any wait."""
        self._listeners.append(callback)

    # --- one poll ------------------------------------------------------------------------
    def step(self, wait: bool = True):
        """Poll once: the poll's result, or RETRY after a failure, having waited the backoff
        (wait=False: the caller paces itself, as a kiosk waiting for its paper does)."""
        self.polls += 1
        self._beat()
        try:
            result = self.poll()
        except Unavailable as exc:
            self._failed(exc, exc.message, exc.retry_after, traceback=False, wait=wait)
            return RETRY
        except Exception as exc:  # noqa: BLE001 - a loop must outlive one bad poll
            self._failed(exc, f"{type(exc).__name__}: {exc}", None, traceback=True, wait=wait)
            return RETRY
        if self.available is False:
            self.log.info("%s is back", self.name)
        self.available, self.failure, self.retry_in = True, None, None
        self.backoff.reset()
        self._tell(result, None)
        return result

    def _failed(self, exc: Exception, message: str, retry_after, traceback: bool,
                wait: bool) -> None:
        delay = self.backoff.next_delay(retry_after)
        if self.available is not False:
            # Once per spell: the log says when it went away, not every retry.
            self.log.warning("%s: %s; retrying until it is back", self.name, message,
                             exc_info=exc if traceback else None)
        self.available, self.failure, self.retry_in = False, exc, delay
        self._tell(RETRY, exc)
        if wait:
            self.wait(delay)

    def _beat(self) -> None:
        if self.heartbeat is not None:
            try:
                self.heartbeat()
            except Exception:  # noqa: BLE001 - a heartbeat must not stop the loop
                self.log.exception("%s: the heartbeat failed", self.name)

    def _tell(self, result, failure) -> None:
        for callback in list(self._listeners):
            try:
                callback(result, failure)
            except Exception:  # noqa: BLE001 - a bad listener must not stop the loop
                self.log.exception("%s: a listener failed", self.name)

    # --- waiting ---------------------------------------------------------------------------
    def wait(self, seconds: float) -> None:
        """Up to `seconds`; sooner when stopped, woken, or should_wake says so."""
        if self.sleep is not None:  # tests: a recorded sleep, no real waiting
            self.sleep(seconds)
            return
        deadline = time.monotonic() + seconds
        while not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            step = min(left, self.check_s) if self.should_wake else left
            if self.heartbeat is not None:
                step = min(step, self.heartbeat_s)
            if self._wake.wait(step):
                self._wake.clear()
                return
            self._beat()
            if self.should_wake is not None and self.should_wake(self.failing):
                return

    def wake(self) -> None:
        """Poll now (new work arrived)."""
        self._wake.set()

    # --- the thread ----------------------------------------------------------------------
    def run(self, max_polls: int | None = None) -> None:
        """Poll until stopped, DONE, or max_polls polls."""
        done = 0
        while not self._stop.is_set() and (max_polls is None or done < max_polls):
            done += 1
            result = self.step()
            if result == DONE:
                return
            if result == IDLE and not self._stop.is_set() and \
                    (max_polls is None or done < max_polls):
                self.wait(self.idle_s)

    def start(self) -> "Coordinator":
        if self._thread is not None:
            raise RuntimeError(f"{self.name} is already running")
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float | None = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)

    def join(self, timeout_s: float | None = None) -> bool:
        """Wait for the loop to end (a source that ran out); True when it has."""
        if self._thread is None:
            return True
        self._thread.join(timeout_s)
        return not self._thread.is_alive()
