"""core/log_repeats.py: the first of a message goes through, its repeats are counted and summed
up in one line per interval; different messages are counted apart; memory stays bounded."""
import logging

import pytest

from core.log_repeats import RepeatFilter


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def logged():
    """A logger of its own writing into a list, with a repeat filter on its handler."""
    logger = logging.getLogger("test.log_repeats")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    logger.addHandler(handler)
    clock = Clock()
    repeats = RepeatFilter(interval_s=60, max_messages=8, clock=clock).install(handler)
    yield logger, lines, clock, repeats
    repeats.uninstall()
    logger.removeHandler(handler)
    logger.propagate = True


def test_a_flood_of_one_message_is_one_line_and_then_one_summary(logged):
    logger, lines, clock, repeats = logged
    for n in range(100_000):
        logger.error("accept failed on %s: %s", "api", f"too many open files ({n})")
    assert lines == ["accept failed on api: too many open files (0)"]
    clock.now += 61
    logger.error("accept failed on %s: %s", "api", "too many open files (again)")
    assert lines[1:] == [
        "accept failed on api: too many open files (0) (repeated 99999 times in the last 60 s)",
        "accept failed on api: too many open files (again)"]


def test_flush_sums_up_intervals_that_are_over_and_uninstall_the_rest(logged):
    logger, lines, clock, repeats = logged
    for _ in range(5):
        logger.warning("refusing new connections")
    clock.now += 30
    assert repeats.flush() == 0 and len(lines) == 1  # the interval is not over
    clock.now += 31
    assert repeats.flush() == 1
    assert lines[-1] == "refusing new connections (repeated 4 times in the last 60 s)"
    logger.warning("refusing new connections")
    logger.warning("refusing new connections")
    clock.now += 2
    repeats.uninstall()  # what is pending is written before the filter comes off
    assert lines[-2:] == ["refusing new connections",
                          "refusing new connections (repeated 1 times in the last 2 s)"]


def test_messages_are_counted_apart_by_template_level_and_exception(logged):
    logger, lines, clock, repeats = logged
    for client in ("10.0.0.1", "10.0.0.2"):
        logger.info("%s: connection lost", client)
        logger.warning("%s: connection lost", client)
    for error in (ValueError("a"), KeyError("b"), ValueError("c")):
        try:
            raise error
        except Exception:
            logger.exception("route failed")
    assert lines == ["10.0.0.1: connection lost", "10.0.0.1: connection lost",
                     "route failed", "route failed"]


def test_a_record_seen_at_two_points_is_counted_once(logged):
    logger, lines, clock, repeats = logged
    repeats.install(logger)  # on the logger as well as on its handler
    logger.error("disk full")
    logger.error("disk full")
    assert lines == ["disk full"]
    clock.now += 61
    repeats.flush()
    assert lines[-1] == "disk full (repeated 1 times in the last 60 s)"


def test_memory_is_bounded_however_varied_the_flood(logged):
    logger, lines, clock, repeats = logged
    repeats.max_messages = 3
    logger.error("first")
    logger.error("first")
    for n in range(1000):
        logger.error(f"message {n}")  # a new template each time
    assert len(repeats._seen) == 3
    assert "first (repeated 1 times in the last 1 s)" in lines
