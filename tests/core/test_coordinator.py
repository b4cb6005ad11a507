"""The one background-loop helper: polls, idles, backs off while what it polls is away
(bounded however long), logs once when that starts and once when it ends, wakes early, and
outlives a bad poll or a bad listener."""
from __future__ import annotations

import logging
import random
import threading
import time

import pytest

from core.coordinator import DONE, IDLE, RETRY, Backoff, Coordinator, Unavailable

log = logging.getLogger("nafitha.test.loop")


class Script:
    """A poll that plays a list of outcomes: a value to return, or an exception to raise."""

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        outcome = self.outcomes.pop(0) if self.outcomes else DONE
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def loop_of(poll, waits, **kw):
    return Coordinator("the thing", poll, log, sleep=waits.append, **kw)


def test_backoff_grows_exponentially_with_jitter_and_a_ceiling():
    backoff = Backoff(1.0, 60.0, jitter=True, rng=random.Random(3))
    delays = [backoff.next_delay() for _ in range(10)]
    for n, delay in enumerate(delays):
        step = min(60.0, 2 ** n)
        assert step / 2 <= delay <= step
    assert delays[-1] <= 60 and len(set(delays)) == len(delays)  # jittered
    assert backoff.next_delay(retry_after=120) == 60  # Retry-After, capped by the ceiling
    backoff.reset()
    assert backoff.next_delay(retry_after=7) == 7  # honoured when longer than the backoff
    assert backoff.next_delay() <= 2


def test_backoff_stays_bounded_after_any_number_of_failures():
    """A field office offline for weeks: 10,000 failures in a row, no overflow, no drift."""
    backoff = Backoff(1.0, 300.0, jitter=True, rng=random.Random(1))
    delays = [backoff.next_delay() for _ in range(10_000)]
    assert all(150.0 <= d <= 300.0 for d in delays[10:])
    plain = Backoff(0.5, 10.0)
    assert [plain.next_delay() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0]
    # A fortnight of retries at the ceiling (about 4,032 waits of 150-300 s) still adds up
    # to about what equal jitter promises: 3/4 of the ceiling each.
    assert sum(delays[-4032:]) == pytest.approx(4032 * 225, rel=0.02)


def test_waits_idle_after_nothing_to_do_and_not_after_work():
    waits = []
    loop = loop_of(Script("printed", "printed", IDLE, "printed", IDLE), waits, idle_s=0.5)
    loop.run(max_polls=5)
    assert waits == [0.5]  # the last IDLE is the last poll: no wait after it
    assert loop.available is True and loop.polls == 5


def test_done_ends_the_loop():
    waits = []
    poll = Script(IDLE, DONE, "never")
    loop = loop_of(poll, waits, idle_s=1.0)
    loop.run()
    assert poll.calls == 2 and waits == [1.0]


def test_a_failing_thing_is_retried_with_a_growing_pause_and_logged_once(caplog):
    caplog.set_level(logging.INFO, logger="nafitha.test.loop")
    waits, heard = [], []
    poll = Script(IDLE, Unavailable("paper out"), Unavailable("paper out"),
                  Unavailable("printer offline"), "printed", Unavailable("paper out"))
    loop = loop_of(poll, waits, idle_s=0.5, retry_s=0.5, max_backoff_s=1.5)
    loop.listen(lambda result, failure: heard.append(
        (result, failure.message if failure else None, loop.available)))
    assert [loop.step() for _ in range(6)] == [IDLE, RETRY, RETRY, RETRY, "printed", RETRY]
    assert waits == [0.5, 1.0, 1.5, 0.5]  # doubling, capped; small again after recovery
    assert heard[1] == (RETRY, "paper out", False) and heard[4] == ("printed", None, True)
    assert loop.retry_in == 0.5 and loop.failure.message == "paper out"
    levels = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert levels == [("WARNING", "the thing: paper out; retrying until it is back"),
                      ("INFO", "the thing is back"),
                      ("WARNING", "the thing: paper out; retrying until it is back")]


def test_retry_after_is_a_floor_capped_by_the_ceiling():
    waits = []
    loop = loop_of(Script(Unavailable("busy", retry_after=42), Unavailable("busy",
                                                                             retry_after=900)),
                   waits, retry_s=1.0, max_backoff_s=300.0)
    loop.step(), loop.step()
    assert waits == [42, 300]


def test_an_unexpected_error_is_logged_with_its_traceback_and_the_loop_goes_on(caplog):
    waits = []
    poll = Script(ValueError("a bug"), ValueError("a bug"), IDLE)
    loop = loop_of(poll, waits, retry_s=0.25)
    assert [loop.step() for _ in range(3)] == [RETRY, RETRY, IDLE]
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and warnings[0].exc_info is not None
    assert "ValueError: a bug" in warnings[0].getMessage()


def test_a_listener_that_fails_does_not_stop_the_loop(caplog):
    loop = loop_of(Script("a", "b"), [])
    loop.listen(lambda result, failure: 1 / 0)
    assert [loop.step(), loop.step()] == ["a", "b"]
    assert "a listener failed" in caplog.text


def test_step_without_waiting_leaves_the_pacing_to_the_caller():
    waits = []
    loop = loop_of(Script(Unavailable("away")), waits)
    assert loop.step(wait=False) == RETRY and waits == [] and loop.failing


def test_wake_and_stop_end_a_real_wait_at_once():
    polled = []
    loop = Coordinator("waker", lambda: polled.append(time.monotonic()) or IDLE, log,
                       idle_s=30.0).start()
    try:
        deadline = time.monotonic() + 5
        while not polled and time.monotonic() < deadline:
            time.sleep(0.01)
        loop.wake()
        while len(polled) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(polled) == 2 and polled[1] - polled[0] < 1.0  # not 30 s
    finally:
        started = time.monotonic()
        loop.stop()
    assert time.monotonic() - started < 1.0 and loop.join(0)
    with pytest.raises(RuntimeError):
        loop.start()


def test_should_wake_ends_a_wait_early():
    checks = []
    seen = threading.Event()

    def should_wake(failing):
        checks.append(failing)
        return len(checks) >= 3

    loop = Coordinator("prober", Script(Unavailable("offline"), DONE), log, retry_s=60.0,
                       max_backoff_s=60.0, should_wake=should_wake, check_s=0.01)
    loop.listen(lambda result, failure: seen.set())
    started = time.monotonic()
    loop.run()
    assert time.monotonic() - started < 5 and checks == [True, True, True] and seen.is_set()
