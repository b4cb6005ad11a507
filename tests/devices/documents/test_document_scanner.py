"""Document scanners: the recording fake, and SaneScanner against a stand-in for python-sane
(no scanner is attached here) and, for a device that is not there, the real binding."""
import sys
import types

import numpy as np
import pytest
from PIL import Image

from core.errors import DeviceError
from devices.documents.scanner import (FakeScanner, SaneScanner, ScanFailed,
                                       ScannerUnavailable, ScanRequest)


def test_the_fake_hands_out_its_pages_in_turn_and_records_each_request():
    first, second = np.zeros((10, 8, 3), np.uint8), np.full((10, 8, 3), 200, np.uint8)
    scanner = FakeScanner([first, second])
    assert np.array_equal(scanner.scan(), first)
    assert np.array_equal(scanner.scan(resolution=300, mode="gray"), second)
    assert scanner.requests == [ScanRequest(150, "color"), ScanRequest(300, "gray")]
    with pytest.raises(ScanFailed, match="no page"):
        scanner.scan()
    assert len(scanner.requests) == 3


def test_the_fake_refuses_what_no_scanner_offers_without_recording_it():
    scanner = FakeScanner([np.zeros((4, 4, 3), np.uint8)])
    with pytest.raises(ValueError, match="mode"):
        scanner.scan(mode="infrared")
    with pytest.raises(ValueError, match="resolution"):
        scanner.scan(resolution=123)
    assert scanner.requests == []


class StandInDevice:
    """What python-sane's SaneDev offers, recording what was set and called."""

    def __init__(self, log, image=None, fail_on=None):
        object.__setattr__(self, "log", log)
        object.__setattr__(self, "optlist", ["resolution", "mode", "tl_x"])
        object.__setattr__(self, "_image", image)
        object.__setattr__(self, "_fail_on", fail_on)

    def __setattr__(self, name, value):
        self.log.append(("set", name, value))

    def start(self):
        self.log.append(("start",))
        if self._fail_on == "start":
            raise StandInSane.error("Document feeder out of documents")

    def snap(self):
        self.log.append(("snap",))
        return self._image

    def close(self):
        self.log.append(("close",))


class StandInSane(types.ModuleType):
    class error(Exception):
        pass

    def __init__(self, devices=(), image=None, fail_on=None):
        super().__init__("sane")
        self.log = []
        self._sane = types.SimpleNamespace(error=StandInSane.error)
        self._devices = list(devices)
        self._image, self._fail_on = image, fail_on

    def init(self):
        self.log.append(("init",))

    def exit(self):
        self.log.append(("exit",))

    def get_devices(self, localOnly=False):
        return [(name, "Vendor", "Model", "flatbed scanner") for name in self._devices]

    def open(self, name):
        self.log.append(("open", name))
        if name not in self._devices:
            raise StandInSane.error("Invalid argument")
        return StandInDevice(self.log, self._image, self._fail_on)


def test_without_python_sane_the_scanner_says_what_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "sane", None)  # import sane -> ImportError
    with pytest.raises(ScannerUnavailable) as caught:
        SaneScanner().scan()
    assert "python-sane" in caught.value.message
    assert isinstance(caught.value, DeviceError)
    assert caught.value.code == "document_scanner_unavailable"


def test_with_no_scanner_attached_the_scanner_says_so(monkeypatch):
    sane = StandInSane(devices=[])
    monkeypatch.setitem(sys.modules, "sane", sane)
    with pytest.raises(ScannerUnavailable, match="no document scanner is attached"):
        SaneScanner().scan()
    assert sane.log == [("init",), ("exit",)]


def test_a_scan_sets_resolution_and_mode_reads_one_page_and_closes(monkeypatch):
    red = Image.new("RGB", (40, 60), (220, 10, 10))
    sane = StandInSane(devices=["epson2:libusb:001:004"], image=red)
    monkeypatch.setitem(sys.modules, "sane", sane)
    frame = SaneScanner().scan(resolution=300, mode="gray")
    assert frame.shape == (60, 40, 3)
    assert tuple(frame[0, 0]) == (10, 10, 220)  # BGR, as OpenCV and clean_page expect
    assert sane.log == [("init",), ("open", "epson2:libusb:001:004"),
                        ("set", "resolution", 300), ("set", "mode", "Gray"), ("start",),
                        ("snap",), ("close",), ("exit",)]


def test_a_scan_that_fails_says_why_and_still_closes_the_scanner(monkeypatch):
    sane = StandInSane(devices=["fujitsu:fi-7160"], fail_on="start")
    monkeypatch.setitem(sys.modules, "sane", sane)
    with pytest.raises(ScanFailed, match="out of documents"):
        SaneScanner("fujitsu:fi-7160").scan()
    assert sane.log[-2:] == [("close",), ("exit",)]


def test_a_named_scanner_that_is_not_there_is_unavailable_with_the_real_binding():
    import sane  # the real binding (libsane); no scanner is attached on test machines

    assert sane.__name__ == "sane"
    with pytest.raises(ScannerUnavailable, match="nonexistent:scanner"):
        SaneScanner("nonexistent:scanner").scan()
