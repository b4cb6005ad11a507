"""Serial barcode scanners: line-terminated codes into the scan stream; the port may vanish."""
import logging
import threading
import time

import pytest

from devices.scanning.fakes import FakeSerialScanner, PtySerialScanner
from devices.scanning.serial_scanner import SerialScanner
from devices.scanning.service import ScanService


class Recorder:
    def __init__(self):
        self.calls = []

    def __call__(self, text, **kw):
        self.calls.append((text, kw))

    @property
    def texts(self):
        return [t for t, _ in self.calls]


def open_scanner(fake, feed, **kw):
    kw.setdefault("sleep", lambda s: None)
    kw.setdefault("read_timeout_s", 0.005)  # an idle read returns at once
    scanner = SerialScanner("/dev/ttyACM0", feed, open_port=fake.open_port, **kw)
    assert scanner.step() == "idle" and scanner.status.state == "running"
    return scanner


def step_until_idle(scanner, limit=20):
    outcomes = []
    for _ in range(limit):
        outcomes.append(scanner.step())
        if outcomes[-1] == "idle":
            break
    return outcomes


@pytest.mark.parametrize("terminator", [b"\r\n", b"\r", b"\n"], ids=["CRLF", "CR", "LF"])
def test_each_line_ending_gives_one_code(terminator):
    fake, feed = FakeSerialScanner(terminator=terminator), Recorder()
    scanner = open_scanner(fake, feed)
    fake.scan("NFT:MUH:R001")
    fake.scan("  5901234123457 ")
    step_until_idle(scanner)
    assert feed.texts == ["NFT:MUH:R001", "5901234123457"]  # stripped, no empty codes
    assert feed.calls[0][1] == {"raw": b"NFT:MUH:R001", "symbology": "unknown",
                                "source": "serial"}
    assert fake.opened_with == [("/dev/ttyACM0", {"baudrate": 9600, "timeout": 0.005})]
    assert scanner.status.events == 2


def test_a_code_split_across_reads_and_bytes_that_are_not_text():
    fake, feed = FakeSerialScanner(), Recorder()
    scanner = open_scanner(fake, feed)
    fake.send(b"NF1:6BF")
    step_until_idle(scanner)
    assert feed.calls == []  # no line end yet
    fake.send(b"OXN\r\n\xff\xfe\r\n")
    step_until_idle(scanner)
    assert feed.texts == ["NF1:6BFOXN", None]
    assert feed.calls[1][1]["raw"] == b"\xff\xfe"


def test_a_line_without_end_is_dropped_past_the_limit(caplog):
    fake, feed = FakeSerialScanner(), Recorder()
    scanner = open_scanner(fake, feed, max_line=16)
    fake.send(b"X" * 40)
    step_until_idle(scanner)
    fake.scan("OK-CODE")
    step_until_idle(scanner)
    assert feed.texts == ["OK-CODE"] and "without a line end" in caplog.text


def test_the_port_vanishing_and_coming_back(caplog):
    caplog.set_level(logging.INFO, logger="nafitha.scanning")
    fake, feed, sleeps = FakeSerialScanner(), Recorder(), []
    scanner = open_scanner(fake, feed, sleep=sleeps.append, retry_s=0.25, max_retry_s=0.5)
    fake.scan("NFT:MUH:R001")
    step_until_idle(scanner)
    fake.unplug()
    assert scanner.step() == "retry"
    st = scanner.status
    assert (st.state, st.available) == ("reconnecting", False)
    assert "/dev/ttyACM0 stopped answering" in st.detail
    assert [scanner.step() for _ in range(3)] == ["retry"] * 3  # opens fail while away
    assert sleeps == [0.25, 0.5, 0.5, 0.5]
    fake.plug()
    assert scanner.step() == "idle" and scanner.status.available
    fake.scan("NFT:MUH:R002")
    step_until_idle(scanner)
    assert feed.texts == ["NFT:MUH:R001", "NFT:MUH:R002"]
    assert fake.calls == ["open", "close"] + ["open failed"] * 3 + ["open"]
    assert [r.levelname for r in caplog.records] == ["WARNING", "INFO"]


def test_a_scanner_missing_at_start():
    fake, feed = FakeSerialScanner(), Recorder()
    fake.unplug()
    scanner = SerialScanner("/dev/ttyACM0", feed, open_port=fake.open_port,
                            sleep=lambda s: None, read_timeout_s=0.005)
    assert scanner.step() == "retry"
    assert scanner.status.state == "no_scanner"
    assert scanner.status.detail.startswith("cannot open /dev/ttyACM0")
    fake.plug()
    assert scanner.step() == "idle" and scanner.status.state == "running"


def test_serial_scans_join_the_service_stream_debounced():
    fake = FakeSerialScanner()
    service = ScanService(None, now=lambda: 1.0)
    scanner = open_scanner(fake, service.publish)
    fake.scan("NFT:MUH:R001")
    fake.scan("NFT:MUH:R001")  # the trigger pulled twice
    step_until_idle(scanner)
    events = [service.events.get_nowait() for _ in range(service.events.qsize())]
    assert [(e.text, e.source, e.symbology) for e in events] == \
        [("NFT:MUH:R001", "serial", "unknown")]


def test_a_real_serial_device_in_a_thread_that_then_vanishes():
    # a pseudo-terminal (Linux, as every Nafitha machine): pyserial opens a real device path
    # with its own Serial class
    got = threading.Event()
    feed = Recorder()

    def record(text, **kw):
        feed(text, **kw)
        got.set()
    with PtySerialScanner() as pty:
        scanner = SerialScanner(pty.path, record, read_timeout_s=0.02).start()
        try:
            deadline = time.monotonic() + 2
            while scanner.status.state != "running" and time.monotonic() < deadline:
                time.sleep(0.005)
            pty.scan("NFT:MUH:R042")
            assert got.wait(2)
            pty.close()  # the cable pulled: the device path is gone
            while scanner.status.state == "running" and time.monotonic() < deadline:
                time.sleep(0.005)
            assert scanner.status.state == "reconnecting" and not scanner.status.available
        finally:
            scanner.stop(timeout_s=2)
    assert feed.texts == ["NFT:MUH:R042"] and scanner.status.state == "stopped"
