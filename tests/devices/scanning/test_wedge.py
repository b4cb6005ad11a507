"""Keyboard-wedge scanners: a fast burst ending in Enter is a scan; a person typing is not."""
from devices.scanning.service import ScanService
from devices.scanning.wedge import KeyboardWedge


class Clock:
    def __init__(self):
        self.t = 50.0

    def __call__(self):
        return self.t


class Recorder:
    def __init__(self):
        self.calls = []

    def __call__(self, text, **kw):
        self.calls.append((text, kw))


def type_keys(wedge, clock, text, gap):
    results = []
    for ch in text:
        clock.t += gap
        results.append(wedge.key(ch))
    return results


def test_a_fast_burst_ending_in_enter_is_a_scan():
    clock, feed = Clock(), Recorder()
    wedge = KeyboardWedge(feed, clock=clock)
    results = type_keys(wedge, clock, "NFT:MUH:R004\n", 0.004)
    assert results == [False] * 12 + [True]
    assert feed.calls == [("NFT:MUH:R004", {"raw": b"NFT:MUH:R004", "symbology": "unknown",
                                            "source": "keyboard"})]
    assert wedge.pending == ""


def test_slow_human_typing_is_not_a_scan():
    clock, feed = Clock(), Recorder()
    wedge = KeyboardWedge(feed, max_gap_s=0.05, clock=clock)
    assert not any(type_keys(wedge, clock, "850101239\n", 0.18))
    assert feed.calls == []


def test_a_pause_before_enter_is_not_a_scan():
    clock, feed = Clock(), Recorder()
    wedge = KeyboardWedge(feed, clock=clock)
    type_keys(wedge, clock, "5901234123457", 0.003)
    clock.t += 0.5  # a person pressed Enter afterwards
    assert wedge.key("\n") is False
    assert feed.calls == []


def test_typing_before_a_scan_is_not_part_of_it():
    clock, feed = Clock(), Recorder()
    wedge = KeyboardWedge(feed, clock=clock)
    type_keys(wedge, clock, "abc", 0.3)  # a person, slowly
    clock.t += 1.0
    type_keys(wedge, clock, "5901234123457\r", 0.002)  # then the scanner; Enter as CR
    assert [text for text, _ in feed.calls] == ["5901234123457"]


def test_a_short_fast_burst_is_a_fast_typist_not_a_scanner():
    clock, feed = Clock(), Recorder()
    wedge = KeyboardWedge(feed, clock=clock, min_length=4)
    type_keys(wedge, clock, "ok\n", 0.01)
    assert feed.calls == []


def test_a_whole_burst_delivered_as_one_string_and_a_custom_terminator():
    clock, feed = Clock(), Recorder()
    wedge = KeyboardWedge(feed, terminator="\t", clock=clock)
    assert wedge.keys("ABCD1234\t") is True
    assert wedge.keys("ABCD1234\n") is False  # Enter is not this scanner's terminator
    assert [text for text, _ in feed.calls] == ["ABCD1234"]


def test_wedge_scans_join_the_service_stream_debounced():
    clock = Clock()
    service = ScanService(None, clock=clock, now=lambda: 1_795_510_800.0)
    wedge = KeyboardWedge(service.publish, clock=clock)
    type_keys(wedge, clock, "NFA:MUH:A-2026-7\n", 0.003)
    type_keys(wedge, clock, "NFA:MUH:A-2026-7\n", 0.003)  # a double scan within the window
    events = [service.events.get_nowait() for _ in range(service.events.qsize())]
    assert [(e.text, e.source, e.at) for e in events] == \
        [("NFA:MUH:A-2026-7", "keyboard", 1_795_510_800.0)]
