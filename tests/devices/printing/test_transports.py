"""Transports deliver exactly the job's bytes, report status honestly, and fail clearly."""
import os
import random
import select
import threading
import time

import pytest
from PIL import Image, ImageChops

from devices.printing import transports
from devices.printing.escpos_encode import raster_job
from devices.printing.fakes import FakeNetworkPrinter
from devices.printing.transports import (FileTransport, NetworkTransport, PrinterError,
                                         PrinterStatus, SerialTransport, open_transport,
                                         parse_status)


@pytest.fixture
def image():
    rng = random.Random(11)
    return Image.frombytes("1", (576, 1200), rng.randbytes(72 * 1200))


@pytest.fixture
def job(image):
    return raster_job(image)


@pytest.fixture
def printer():
    with FakeNetworkPrinter() as fake:
        yield fake


# -- configuration -------------------------------------------------------------------------
def test_unknown_transport_is_refused_with_the_choices(tmp_path):
    with pytest.raises(PrinterError, match=r"unknown printer transport 'bluetooth' "
                                           r"\(use preview, usb, serial, network or file\)"):
        open_transport({"transport": "bluetooth"}, tmp_path)


@pytest.mark.parametrize("cfg,message", [
    ({"transport": "network"}, "needs the setting host"),
    ({"transport": "network", "host": "10.0.0.9", "port": 70000}, "port must be 1..65535"),
    ({"transport": "serial"}, "needs the setting serial_port"),
    ({"transport": "serial", "serial_port": "loop://", "serial_flow": "dtr"},
     "unknown serial_flow 'dtr' \\(use none, rtscts or xonxoff\\)"),
    ({"transport": "serial", "serial_port": "loop://", "serial_baudrate": "fast"},
     "serial_baudrate must be a number"),
    ({"transport": "usb", "usb_vendor": 0, "usb_product": 1}, "usb_vendor is missing"),
    ({"transport": "usb", "usb_product": 1}, "needs the settings usb_vendor and usb_product"),
    ({"transport": "usb", "usb_vendor": 0x10000, "usb_product": 1}, "usb_vendor must be 0x0001"),
    ({"transport": "preview", "timeout_s": 0}, "timeout_s must be above 0"),
])
def test_bad_settings_are_refused_at_open(tmp_path, cfg, message):
    with pytest.raises(PrinterError, match=message):
        open_transport(cfg, tmp_path)


def test_the_settings_dataclass_as_a_dict_opens_preview(tmp_path):
    import dataclasses

    from core.settings import PrinterSettings
    transport = open_transport(dataclasses.asdict(PrinterSettings()), tmp_path)
    assert transport.name == f"preview {tmp_path / 'prints'}"


def test_defaults_timeout_port_and_preview_dir(tmp_path):
    network = open_transport({"transport": "network", "host": "192.0.2.7"}, tmp_path)
    assert (network.port, network.timeout_s) == (9100, 3.0)  # not python-escpos's 60 s
    assert network.name == "network 192.0.2.7:9100"
    preview = open_transport({"transport": "preview"}, tmp_path)
    assert preview.preview_dir == tmp_path / "prints" and preview.preview_dir.is_dir()


# -- preview ---------------------------------------------------------------------------------
def test_preview_writes_the_exact_bytes_and_the_image(tmp_path, job, image):
    transport = open_transport({"transport": "preview"}, tmp_path)
    transport.send(job, "000042-licence-copy", image)
    assert (tmp_path / "prints/000042-licence-copy.bin").read_bytes() == job
    with Image.open(tmp_path / "prints/000042-licence-copy.png") as png:
        assert ImageChops.difference(png.convert("L"), image.convert("L")).getbbox() is None
    assert transport.status() == PrinterStatus(True, "ok", "preview")
    assert transport.status().ready
    assert sorted(p.name for p in (tmp_path / "prints").iterdir()) == [
        "000042-licence-copy.bin", "000042-licence-copy.png"]  # no temporary files left


def test_preview_without_image_and_with_an_unsafe_name(tmp_path):
    transport = open_transport({"transport": "preview", "preview_dir": str(tmp_path / "out")},
                               tmp_path)
    transport.send(b"\x1b@", "../../etc/passwd")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["etc_passwd.bin"]


# -- network ---------------------------------------------------------------------------------
def test_network_delivers_the_exact_bytes_one_connection_per_job(printer, tmp_path, job):
    transport = open_transport(printer.config(timeout_s=1.0), tmp_path)
    transport.send(job, "a")
    transport.send(b"\x1b@second", "b")
    assert printer.jobs == [job, b"\x1b@second"]
    assert printer.received == job + b"\x1b@second"


@pytest.mark.parametrize("state,expected,ready,can_try", [
    ("ok", PrinterStatus(True, "ok", ""), True, True),
    ("paper_low", PrinterStatus(True, "low", "paper near end"), True, True),
    ("paper_out", PrinterStatus(False, "out", "paper out"), False, False),
    ("offline", PrinterStatus(False, "ok", "cover open"), False, False),
])
def test_network_status_decodes_each_state(printer, tmp_path, state, expected, ready, can_try):
    printer.state = state
    status = open_transport(printer.config(timeout_s=1.0), tmp_path).status()
    assert status == expected
    assert (status.ready, status.can_try) == (ready, can_try)
    assert printer.status_queries == [1, 2, 4]
    assert printer.jobs == []  # status queries are not print data


def test_network_silent_printer_is_unknown_within_the_timeout(printer, tmp_path):
    printer.state = "silent"
    transport = open_transport(printer.config(timeout_s=0.5), tmp_path)
    started = time.monotonic()
    status = transport.status()
    elapsed = time.monotonic() - started
    assert status == PrinterStatus(None, "unknown", "no answer within 0.5 s")
    assert status.can_try and not status.ready  # the worker tries to print anyway
    assert 0.4 < elapsed < 1.0
    assert printer.status_queries == [1]  # one unanswered query, not three timeouts


def test_network_unplugged_fails_fast_and_works_again_after_plug(printer, tmp_path):
    transport = open_transport(printer.config(timeout_s=1.0), tmp_path)
    printer.unplug()
    started = time.monotonic()
    with pytest.raises(PrinterError,
                       match=f"cannot connect to printer at 127.0.0.1:{printer.port}"):
        transport.send(b"\x1b@lost", "job")
    assert time.monotonic() - started < 2.0
    status = transport.status()
    assert status.online is False and not status.can_try and "cannot connect" in status.detail
    printer.plug()
    transport.send(b"\x1b@after", "job")
    assert printer.jobs == [b"\x1b@after"]


def test_network_stalled_printer_fails_within_the_timeout(printer, tmp_path):
    transport = open_transport(printer.config(timeout_s=0.3), tmp_path)
    printer.stalled = True
    started = time.monotonic()
    with pytest.raises(PrinterError, match="stopped taking data for 0.3 s"):
        transport.send(b"\x1b@" + bytes(16 << 20), "huge")  # more than the socket buffers (~3 MB)
    assert time.monotonic() - started < 1.5
    printer.stalled = False
    transport.send(b"\x1b@next", "next")
    jobs = printer.wait_for_jobs(2)
    assert b"\x1b@next" in jobs
    # what the printer got of the failed job is a truncated prefix: it may have printed half
    (partial,) = [job for job in jobs if job != b"\x1b@next"]
    assert partial.startswith(b"\x1b@\x00") and len(partial) < (16 << 20) + 2


def test_network_unreachable_host_fails_with_its_address(tmp_path):
    transport = NetworkTransport("127.0.0.1", 1, timeout_s=0.5)  # nothing listens on port 1
    with pytest.raises(PrinterError, match="cannot connect to printer at 127.0.0.1:1"):
        transport.send(b"x", "job")


# -- serial ----------------------------------------------------------------------------------
class PtyPrinter:
    """The far end of a pty pair: reads what the transport wrote, answers status queries."""

    def __init__(self, answers: dict[int, int] | None = None):
        self.master, self.slave = os.openpty()
        self.port = os.ttyname(self.slave)
        self.answers = answers  # None: silent
        self.received = bytearray()
        self.reading = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        pending = b""
        while not self._stop.is_set():
            if not self.reading.is_set():
                time.sleep(0.01)
                continue
            ready, _, _ = select.select([self.master], [], [], 0.02)
            if not ready:
                continue
            chunk = os.read(self.master, 65536)
            self.received += chunk
            pending += chunk
            while self.answers is not None and (at := pending.find(b"\x10\x04")) >= 0 \
                    and len(pending) >= at + 3:
                os.write(self.master, bytes((self.answers[pending[at + 2]],)))
                pending = pending[at + 3:]
            pending = pending[-2:]

    def wait_for(self, count: int, timeout: float = 2.0) -> bytes:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.005)
        return bytes(self.received)

    def close(self):
        self._stop.set()
        self._thread.join()
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def pty_printer():
    far = PtyPrinter()
    far.reading.set()
    yield far
    far.close()


def test_serial_delivers_the_exact_bytes_over_a_pty(pty_printer, tmp_path, job):
    transport = open_transport({"transport": "serial", "serial_port": pty_printer.port,
                                "serial_baudrate": 115200, "serial_flow": "rtscts",
                                "timeout_s": 1.0}, tmp_path)
    try:
        transport.send(job, "licence")
        assert pty_printer.wait_for(len(job)) == job
    finally:
        transport.close()


@pytest.mark.parametrize("state,answers,expected", [
    ("ok", {1: 0x12, 2: 0x12, 4: 0x12}, PrinterStatus(True, "ok")),
    ("paper_low", {1: 0x12, 2: 0x12, 4: 0x1E}, PrinterStatus(True, "low", "paper near end")),
    ("paper_out", {1: 0x1A, 2: 0x32, 4: 0x7E}, PrinterStatus(False, "out", "paper out")),
])
def test_serial_status_is_asked_over_the_same_line(tmp_path, state, answers, expected):
    far = PtyPrinter(answers)
    far.reading.set()
    transport = SerialTransport(far.port, 19200, "xonxoff", timeout_s=1.0)
    try:
        assert transport.status() == expected
        assert far.wait_for(9) == b"\x10\x04\x01\x10\x04\x02\x10\x04\x04"
    finally:
        transport.close()
        far.close()


def test_serial_silent_printer_is_unknown_within_the_timeout(pty_printer):
    transport = SerialTransport(pty_printer.port, 19200, "none", timeout_s=0.4)
    try:
        started = time.monotonic()
        status = transport.status()
        assert time.monotonic() - started < 0.9
        assert status == PrinterStatus(None, "unknown", "no answer within 0.4 s")
    finally:
        transport.close()


def test_serial_stalled_line_fails_and_the_next_send_reopens(tmp_path):
    far = PtyPrinter()  # not reading: the pty buffer fills up like a printer holding CTS
    transport = SerialTransport(far.port, 115200, "none", timeout_s=0.3)
    try:
        started = time.monotonic()
        with pytest.raises(PrinterError, match=f"printer on {far.port} stopped taking data"):
            transport.send(bytes(1 << 20), "jammed")
        assert time.monotonic() - started < 1.5
        far.reading.set()
        transport.send(b"\x1b@again", "again")
        deadline = time.monotonic() + 2
        while not bytes(far.received).endswith(b"\x1b@again") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert bytes(far.received).endswith(b"\x1b@again")
    finally:
        transport.close()
        far.close()


def test_serial_loop_url_echoes_the_bytes_and_is_not_mistaken_for_a_status(tmp_path):
    transport = open_transport({"transport": "serial", "serial_port": "loop://",
                                "serial_baudrate": 115200, "timeout_s": 0.3}, tmp_path)
    try:
        transport.send(b"\x1b@hello\x1bd\x06", "loop")
        assert transport._serial.read(10) == b"\x1b@hello\x1bd\x06"
        # the loop echoes DLE EOT 1 back: those bytes are not valid status answers
        assert transport.status().online is None
    finally:
        transport.close()


def test_serial_missing_port_fails_at_open_naming_it(tmp_path):
    with pytest.raises(PrinterError, match="cannot open serial port /dev/ttyNOPE9"):
        open_transport({"transport": "serial", "serial_port": "/dev/ttyNOPE9"}, tmp_path)


# -- file ------------------------------------------------------------------------------------
def test_file_transport_writes_the_bytes(tmp_path, job):
    device = tmp_path / "lp0"
    device.touch()
    transport = open_transport({"transport": "file", "device_path": str(device)}, tmp_path)
    transport.send(job, "one")
    transport.send(b"\x1b@two", "two")
    assert device.read_bytes() == job + b"\x1b@two"
    assert transport.status() == PrinterStatus(None, "unknown",
                                               "a device file cannot report status")
    assert transport.status().can_try


def test_file_transport_missing_device_fails_at_open_and_creates_nothing(tmp_path):
    with pytest.raises(PrinterError, match="cannot open /dev/usb/lp7: No such file or directory"):
        open_transport({"transport": "file", "device_path": "/dev/usb/lp7"}, tmp_path)
    with pytest.raises(PrinterError, match=f"cannot open {tmp_path}/lp0"):
        FileTransport(tmp_path / "lp0")
    assert not (tmp_path / "lp0").exists()


def test_file_transport_default_path_is_usblp(tmp_path, monkeypatch):
    # os.open is intercepted, so a printer attached to this machine is never written to.
    opened = []

    def refuse(path, *args):
        opened.append(path)
        raise FileNotFoundError(2, "No such file or directory")
    monkeypatch.setattr(transports.os, "open", refuse)
    with pytest.raises(PrinterError, match="cannot open /dev/usb/lp0"):
        open_transport({"transport": "file"}, tmp_path)
    assert opened == ["/dev/usb/lp0"]


# -- usb -------------------------------------------------------------------------------------
def test_usb_missing_device_fails_at_open_naming_it(tmp_path):
    with pytest.raises(PrinterError, match="USB printer fffe:fffd") as raised:
        open_transport({"transport": "usb", "usb_vendor": 0xFFFE, "usb_product": "0xfffd"},
                       tmp_path)
    # without libusb installed the message says so; with it, the device is simply not there
    assert ("no USB printer fffe:fffd" in str(raised.value)
            or "no libusb backend" in str(raised.value))


# -- status decoding -------------------------------------------------------------------------
def test_parse_status_bits():
    assert parse_status(0x12, 0x12, 0x12) == PrinterStatus(True, "ok")
    assert parse_status(0x1A, 0x12 | 0x40, None) == PrinterStatus(False, "unknown", "printer error")
    assert parse_status(0x1A, 0x32, None) == PrinterStatus(False, "out", "paper out")
    assert parse_status(0x1A, None, None) == PrinterStatus(False, "unknown", "offline")
    assert parse_status(None, silent_detail="no answer within 3 s").online is None
    with pytest.raises(ValueError):
        PrinterStatus(True, "plenty")


def test_usb_permission_denied_is_told_by_the_errno_not_the_message(tmp_path, monkeypatch):
    import errno

    import usb.core

    def refused(**_):
        raise usb.core.USBError("[Errno 13] Access denied (insufficient permissions)",
                                errno=errno.EACCES)
    monkeypatch.setattr(usb.core, "find", refused)
    with pytest.raises(PrinterError, match="permission denied") as raised:
        open_transport({"transport": "usb", "usb_vendor": 0x0416, "usb_product": "0x5011"},
                       tmp_path)
    assert raised.value.code == "printer_error"

    def gone(**_):
        # The same words without the errno: not a permission problem.
        raise usb.core.USBError("Access denied (a message, not an errno)", errno=errno.ENODEV)
    monkeypatch.setattr(usb.core, "find", gone)
    with pytest.raises(PrinterError, match="no USB printer"):
        open_transport({"transport": "usb", "usb_vendor": 0x0416, "usb_product": "0x5011"},
                       tmp_path)
