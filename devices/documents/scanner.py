"""Document scanners: a flatbed or sheet-fed scanner through SANE, and a recording fake.

    scanner = SaneScanner()                 # the first scanner SANE finds, or SaneScanner("epson2:libusb:001:004")
    frame = scanner.scan(resolution=150, mode="color")    # BGR ndarray of the whole bed
    page = clean_page(frame, outline=False)               # a scan is already flat

    fake = FakeScanner([frame1, frame2])    # tests: hands the frames out in turn
    fake.requests                           # [ScanRequest(resolution=150, mode="color"), ...]

SaneScanner uses python-sane (the SANE project's own binding; it needs libsane, and
libsane-dev to build). It is imported only when a scanner is opened, so a counter without
one never loads it; a missing binding, no scanner attached, a scanner that is busy or out of
paper each raise ScannerUnavailable/ScanFailed with a plain sentence. Each scan opens the
device, sets resolution and mode, reads one page and closes it again: a scanner unplugged
between two pages is found at the next scan, not by a stale handle.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from core.errors import DeviceError

SCAN_MODES = ("color", "gray")
DEFAULT_RESOLUTION = 150
RESOLUTIONS = (75, 100, 150, 200, 300, 600)


class ScannerUnavailable(DeviceError):
    """No document scanner can be used: the binding is missing or no scanner is attached."""

    code = "document_scanner_unavailable"


class ScanFailed(DeviceError):
    """The scanner was found but the scan did not complete (busy, jammed, no paper)."""

    code = "document_scan_failed"


@dataclass(frozen=True)
class ScanRequest:
    resolution: int
    mode: str


class DocumentScanner(Protocol):
    def scan(self, resolution: int = DEFAULT_RESOLUTION, mode: str = "color") -> np.ndarray:
        """One page as a BGR image (uint8)."""


def _check(resolution: int, mode: str) -> None:
    if mode not in SCAN_MODES:
        raise ValueError(f"mode must be one of {SCAN_MODES}, not {mode!r}")
    if resolution not in RESOLUTIONS:
        raise ValueError(f"resolution must be one of {RESOLUTIONS}, not {resolution!r}")


class SaneScanner:
    """A scanner reached through SANE (python-sane)."""

    def __init__(self, device: str | None = None):
        self.device = device
        self._lock = threading.Lock()  # one scan at a time per scanner

    @staticmethod
    def _binding():
        try:
            import sane
        except ImportError as exc:
            raise ScannerUnavailable(
                "document scanning needs python-sane (pip install python-sane; the Debian "
                "package libsane-dev to build it), which is not installed") from exc
        return sane

    def devices(self) -> list[str]:
        """The names of the scanners SANE can see now."""
        sane = self._binding()
        try:
            sane.init()
            return [entry[0] for entry in sane.get_devices()]
        except sane._sane.error as exc:
            raise ScannerUnavailable(f"SANE cannot list scanners: {exc}") from exc

    def scan(self, resolution: int = DEFAULT_RESOLUTION, mode: str = "color") -> np.ndarray:
        _check(resolution, mode)
        sane = self._binding()
        with self._lock:
            try:
                sane.init()
                name = self.device
                if name is None:
                    found = [entry[0] for entry in sane.get_devices()]
                    if not found:
                        raise ScannerUnavailable("no document scanner is attached")
                    name = found[0]
                try:
                    device = sane.open(name)
                except sane._sane.error as exc:
                    raise ScannerUnavailable(
                        f"the document scanner {name} cannot be opened ({exc}): is it "
                        f"attached and switched on?") from exc
                try:
                    _set(device, "resolution", resolution)
                    _set(device, "mode", "Color" if mode == "color" else "Gray")
                    device.start()
                    image = device.snap()
                except (sane._sane.error, AttributeError, ValueError) as exc:
                    raise ScanFailed(f"the scan did not complete: {exc}") from exc
                finally:
                    device.close()
            finally:
                sane.exit()
        return _to_bgr(image)


def _set(device, option: str, value) -> None:
    """Set an option the scanner has; a scanner without it (a fixed-resolution sheet
    feeder) keeps its own."""
    if option in getattr(device, "optlist", ()):
        setattr(device, option, value)


def _to_bgr(image) -> np.ndarray:
    import cv2

    rgb = np.asarray(image.convert("RGB"))
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


class FakeScanner:
    """Hands out the given pages in turn and records what each scan asked for; raises
    ScanFailed when it has no page left (an empty feeder)."""

    def __init__(self, pages: list[np.ndarray]):
        self._pages = list(pages)
        self.requests: list[ScanRequest] = []

    def scan(self, resolution: int = DEFAULT_RESOLUTION, mode: str = "color") -> np.ndarray:
        _check(resolution, mode)
        self.requests.append(ScanRequest(resolution, mode))
        if not self._pages:
            raise ScanFailed("the scanner has no page to scan")
        return self._pages.pop(0).copy()
