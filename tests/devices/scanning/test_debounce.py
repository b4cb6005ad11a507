"""The debouncer: one report per code while it stays in view, the window running from the
last sighting."""
import pytest

from devices.scanning.debounce import Debouncer


class Clock:
    def __init__(self, t=1000.0):
        self.t = t

    def __call__(self):
        return self.t


def test_the_first_sighting_is_reported_and_a_repeat_within_the_window_is_not():
    clock = Clock()
    d = Debouncer(2.0, clock)
    assert d.seen("NF1:A") is True
    clock.t += 1.9
    assert d.seen("NF1:A") is False
    assert d.seen("NF1:B") is True  # another code is not held back by the first


def test_a_code_held_in_front_of_the_camera_is_reported_once():
    clock = Clock()
    d = Debouncer(2.0, clock)
    reports = []
    for frame in range(300):  # 30 s at 10 fps, read on most frames but not all
        clock.t += 0.1
        if frame % 7 != 3:
            reports.append(d.seen("NF1:HELD"))
    assert reports.count(True) == 1 and reports[0] is True


def test_the_window_runs_from_the_last_sighting():
    clock = Clock()
    d = Debouncer(2.0, clock)
    assert d.seen("X")
    clock.t += 1.5
    assert not d.seen("X")
    clock.t += 1.5  # 3 s after the first sighting, 1.5 s after the last
    assert not d.seen("X")
    clock.t += 2.01  # out of view for longer than the window
    assert d.seen("X")


def test_window_zero_reports_every_sighting_and_negative_is_refused():
    d = Debouncer(0, Clock())
    assert [d.seen("X") for _ in range(3)] == [True, True, True]
    with pytest.raises(ValueError):
        Debouncer(-1)


def test_memory_holds_only_codes_seen_within_one_window():
    clock = Clock()
    d = Debouncer(1.0, clock)
    for n in range(5000):
        clock.t += 0.01
        d.seen(f"code {n}")
    assert len(d) <= 102  # about one window's worth (1 s / 0.01 s)
    d.reset()
    assert len(d) == 0
    assert d.seen("code 4999")


def test_bytes_and_text_keys_are_different_codes():
    d = Debouncer(5, Clock())
    assert d.seen(b"\x00\xff") and d.seen("\x00\xff") and not d.seen(b"\x00\xff")
