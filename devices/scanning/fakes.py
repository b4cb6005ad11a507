"""Recording fakes for scanners (DESIGN.md house style 3: tests assert what really happened).

FakeFrameSource     a scripted camera: given frames, optionally unplugged after N of them and
                    plugged back after a number of failed reopen attempts; records calls.
FakeSerialScanner   a handheld scanner on a pyserial `loop://` port: scan("CODE") sends the
                    code and a terminator; unplug()/plug() make the port vanish and return.
PtySerialScanner    the same over a real pseudo-terminal, so SerialScanner opens a real
                    device path with pyserial's own Serial class (Linux, macOS).
qr_frame(), blank_frame()  frames to script with: a real QR drawn with segno.
"""
from __future__ import annotations

import os
import threading

import numpy as np
import serial

from .capture import FrameSource, ScannerError


# --- frames ---------------------------------------------------------------------------------

def qr_frame(content: str | bytes, scale: int = 4, size: tuple[int, int] | None = None,
             error: str = "m") -> np.ndarray:
    """A grey frame holding one QR of `content` (4-module quiet zone), centred on white in a
    frame of size (width, height) if given."""
    import segno
    qr = segno.make_qr(content, error=error, boost_error=False)
    matrix = np.array([list(row) for row in qr.matrix], dtype=np.uint8)
    matrix = np.pad(matrix, 4)  # quiet zone
    image = np.where(np.kron(matrix, np.ones((scale, scale), np.uint8)) > 0, 0, 255) \
        .astype(np.uint8)
    if size is None:
        return image
    width, height = size
    frame = np.full((height, width), 255, np.uint8)
    h, w = image.shape
    if h > height or w > width:
        raise ValueError(f"a {w}x{h} QR does not fit in {width}x{height}")
    top, left = (height - h) // 2, (width - w) // 2
    frame[top:top + h, left:left + w] = image
    return frame


_EAN_L = ("0001101", "0011001", "0010011", "0111101", "0100011", "0110001", "0101111",
          "0111011", "0110111", "0001011")
_EAN_PARITY = ("LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG", "LGGLLG", "LGGGLG", "LGLGGL",
               "LGLGLG", "LGGLGL")


def ean13_check_digit(digits12: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits12))
    return str((10 - total % 10) % 10)


def ean13_frame(digits: str, module: int = 3, height: int = 120) -> np.ndarray:
    """A grey frame holding an EAN-13 barcode (12 digits: the check digit is added)."""
    if len(digits) == 12:
        digits += ean13_check_digit(digits)
    if len(digits) != 13 or not digits.isdigit() or digits[12] != ean13_check_digit(digits[:12]):
        raise ValueError(f"{digits!r} is not an EAN-13 number")
    right = lambda d: "".join("1" if b == "0" else "0" for b in _EAN_L[int(d)])  # noqa: E731
    left = "".join(_EAN_L[int(d)] if parity == "L" else right(d)[::-1]
                   for d, parity in zip(digits[1:7], _EAN_PARITY[int(digits[0])]))
    bits = "0" * 12 + "101" + left + "01010" + "".join(map(right, digits[7:])) + "101" + "0" * 12
    row = np.array([0 if b == "1" else 255 for b in bits], np.uint8).repeat(module)
    frame = np.full((height + 40, row.size), 255, np.uint8)
    frame[20:20 + height] = row
    return frame


def blank_frame(width: int = 320, height: int = 240, value: int = 200) -> np.ndarray:
    return np.full((height, width, 3), value, np.uint8)


# --- camera -----------------------------------------------------------------------------------

class FakeFrameSource(FrameSource):
    """Plays `frames` in order. Then: live=False -> the end (None, like a file);
    live=True -> `idle` frames forever (a camera looking at nothing).

    fail_after=N: after N frames the camera is unplugged: read() raises ScannerError and
    reopen() fails `down_for` times (None: until replug()), then works again and the rest
    of the frames follow. unplug()/replug() do the same by hand.

    Records `calls` ("read", "reopen", "reopen failed", "close") and `delivered` (how many
    scripted frames were read)."""

    kind = "fake camera"

    def __init__(self, frames=(), fail_after: int | None = None, down_for: int | None = 1,
                 live: bool = True, idle: np.ndarray | None = None, name: str = "fake camera"):
        self.frames = list(frames)
        self.fail_after, self.down_for = fail_after, down_for
        self.live = live
        self.idle = idle if idle is not None else blank_frame()
        self.name = name
        self.calls: list[str] = []
        self.delivered = 0
        self.plugged = True
        self.is_open = True
        self._failed_reopens = 0
        self._unplugged_once = False
        self._lock = threading.Lock()

    def describe(self) -> str:
        return self.name

    def unplug(self) -> None:
        with self._lock:
            self.plugged = False
            self._failed_reopens = 0

    def replug(self) -> None:
        with self._lock:
            self.plugged = True

    def read(self) -> np.ndarray | None:
        with self._lock:
            self.calls.append("read")
            if self.fail_after is not None and not self._unplugged_once \
                    and self.delivered >= self.fail_after:
                self._unplugged_once = True  # the scripted unplug, once
                self.plugged, self._failed_reopens = False, 0
            if not self.plugged or not self.is_open:
                raise ScannerError(f"{self.name} unplugged")
            if self.delivered < len(self.frames):
                frame = self.frames[self.delivered]
                self.delivered += 1
                return frame
            return self.idle.copy() if self.live else None

    def reopen(self) -> None:
        with self._lock:
            if not self.plugged and self.down_for is not None \
                    and self._failed_reopens >= self.down_for:
                self.plugged = True  # the scripted replug
            if not self.plugged:
                self._failed_reopens += 1
                self.calls.append("reopen failed")
                raise ScannerError(f"no {self.name}")
            self.calls.append("reopen")
            self.is_open = True

    def close(self) -> None:
        with self._lock:
            self.calls.append("close")
            self.is_open = False


# --- serial -----------------------------------------------------------------------------------

class _FlakyPort:
    """A loop:// port whose reads fail once its scanner is unplugged."""

    def __init__(self, scanner: "FakeSerialScanner", port):
        self._scanner, self._port = scanner, port

    def read(self, size: int = 1) -> bytes:
        if not self._scanner.plugged:
            raise serial.SerialException("device reports readiness to read but returned no "
                                         "data (device disconnected?)")
        return self._port.read(size)

    @property
    def in_waiting(self) -> int:
        return self._port.in_waiting

    def close(self) -> None:
        self._scanner.calls.append("close")
        self._port.close()


class FakeSerialScanner:
    """A handheld barcode scanner on a serial port, for SerialScanner(open_port=fake.open_port).

    scan("CODE") sends CODE + terminator (CR LF by default) to the open port and records it in
    `sent`; unplug() makes the open port fail and new opens fail until plug()."""

    def __init__(self, terminator: bytes = b"\r\n"):
        self.terminator = terminator
        self.plugged = True
        self.sent: list[bytes] = []
        self.calls: list[str] = []
        self.opened_with: list[tuple[str, dict]] = []
        self._port = None

    def open_port(self, url: str, **kwargs):
        self.opened_with.append((url, kwargs))
        if not self.plugged:
            self.calls.append("open failed")
            raise serial.SerialException(f"could not open port {url}: [Errno 2] No such file "
                                         f"or directory: '{url}'")
        self.calls.append("open")
        self._port = serial.serial_for_url("loop://", timeout=kwargs.get("timeout", 0.05))
        return _FlakyPort(self, self._port)

    def scan(self, code: str | bytes, terminator: bytes | None = None) -> None:
        data = code.encode() if isinstance(code, str) else code
        self.send(data + (self.terminator if terminator is None else terminator))

    def send(self, data: bytes) -> None:
        """Raw bytes, e.g. half a code to test a line split across reads."""
        if self._port is None or not self.plugged:
            raise RuntimeError("the fake scanner is not connected")
        self.sent.append(data)
        self._port.write(data)

    def unplug(self) -> None:
        self.plugged = False

    def plug(self) -> None:
        self.plugged = True


class PtySerialScanner:
    """A scanner on a pseudo-terminal: `path` is the device to give SerialScanner; scan()
    writes to the other end. close() makes the device vanish."""

    def __init__(self, terminator: bytes = b"\r\n"):
        import tty
        self.terminator = terminator
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)  # bytes as sent: no echo, no CR -> LF translation
        self.path = os.ttyname(self._slave)
        self.sent: list[bytes] = []

    def scan(self, code: str | bytes) -> None:
        data = (code.encode() if isinstance(code, str) else code) + self.terminator
        self.sent.append(data)
        os.write(self.master, data)

    def close(self) -> None:
        for fd in (self.master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
