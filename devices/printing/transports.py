"""Transports move ESC/POS bytes to a printer and ask it how it is; they know no layout.

The [printer] settings choose one (DESIGN.md house style 2): preview (files on disk, the
embedded default), usb (python-escpos `Usb`), serial (pyserial), network (raw TCP, port 9100)
or file (a device node such as /dev/usb/lp0). `open_transport(cfg, data_dir)` builds it and
fails at once, with a clear PrinterError, for an unknown transport or a missing device.

Rules every transport keeps:
- `send` raises PrinterError on failure and leaves nothing half-open; the next `send` starts
  from a fresh connection.
- A stalled printer (paper out, cover open, flow control held) is noticed by a timeout that
  runs per chunk of progress, not per job: a long job on a slow line is not a failure, a
  printer that stops taking bytes for `timeout_s` is.
- `status` never raises. A printer that does not answer within `timeout_s` is
  PrinterStatus(None, "unknown"); one that cannot be reached is online=False.
- `send` and `status` of one transport are serialised (one line, one conversation).
"""
from __future__ import annotations

import errno
import logging
import os
import re
import select
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from core.errors import DeviceError

from .escpos_encode import STATUS_QUERIES, status_query_for

log = logging.getLogger("nafitha.printing.transports")

TRANSPORTS = ("preview", "usb", "serial", "network", "file")
PAPER_STATES = ("ok", "low", "out", "unknown")
SERIAL_FLOWS = ("none", "rtscts", "xonxoff")
DEFAULT_TIMEOUT_S = 3.0
DEFAULT_PORT = 9100
DEFAULT_BAUDRATE = 19200
DEFAULT_DEVICE_PATH = "/dev/usb/lp0"
CHUNK_BYTES = 4096
CANNOT_REPORT = "transport cannot report status"

# Status bytes (Epson ESC/POS, DLE EOT n): bits 1 and 4 are always 1, bits 0 and 7 always 0.
# Anything else on the line (an echo, Automatic Status Back packets) is not an answer.
_FIXED_MASK, _FIXED_BITS = 0x93, 0x12
_PRINTER_OFFLINE = 0x08          # DLE EOT 1, bit 3
_CAUSE_COVER_OPEN = 0x04         # DLE EOT 2, bit 2
_CAUSE_FEED_BUTTON = 0x08        # DLE EOT 2, bit 3
_CAUSE_PAPER_END = 0x20          # DLE EOT 2, bit 5
_CAUSE_ERROR = 0x40              # DLE EOT 2, bit 6
_PAPER_NEAR_END = 0x0C           # DLE EOT 4, bits 2-3
_PAPER_OUT = 0x60                # DLE EOT 4, bits 5-6


class PrinterError(DeviceError):
    """A print could not be delivered; the message says why, in plain words."""

    code = "printer_error"


@dataclass(frozen=True)
class PrinterStatus:
    online: bool | None      # None: the printer did not (or cannot) say
    paper: str               # "ok" | "low" | "out" | "unknown"
    detail: str = ""

    def __post_init__(self):
        if self.paper not in PAPER_STATES:
            raise ValueError(f"paper must be one of {PAPER_STATES}, got {self.paper!r}")

    @property
    def ready(self) -> bool:
        """The printer said it is online and has paper."""
        return self.online is True and self.paper in ("ok", "low")

    @property
    def can_try(self) -> bool:
        """Nothing known stands in the way of printing (unknown counts as "try")."""
        return self.online is not False and self.paper != "out"

    def __str__(self) -> str:
        online = {True: "online", False: "offline", None: "status unknown"}[self.online]
        text = f"{online}, paper {self.paper}"
        return f"{text} ({self.detail})" if self.detail else text


UNKNOWN = PrinterStatus(None, "unknown", CANNOT_REPORT)


def _valid_status_byte(value: int) -> bool:
    return value & _FIXED_MASK == _FIXED_BITS


def parse_status(printer: int | None, offline_cause: int | None = None,
                 paper: int | None = None, silent_detail: str = "no answer") -> PrinterStatus:
    """Decode the answers to DLE EOT 1, 2 and 4 (None where no answer came)."""
    if printer is None:
        return PrinterStatus(None, "unknown", silent_detail)
    online = not printer & _PRINTER_OFFLINE
    details = []
    if offline_cause is not None:
        if offline_cause & _CAUSE_COVER_OPEN:
            details.append("cover open")
        if offline_cause & _CAUSE_FEED_BUTTON:
            details.append("paper being fed by the button")
        if offline_cause & _CAUSE_ERROR:
            details.append("printer error")
    if paper is not None:
        paper_state = ("out" if paper & _PAPER_OUT == _PAPER_OUT else
                       "low" if paper & _PAPER_NEAR_END == _PAPER_NEAR_END else "ok")
    elif offline_cause is not None and offline_cause & _CAUSE_PAPER_END:
        paper_state = "out"
    else:
        paper_state = "unknown"
    if paper_state == "out" or (offline_cause is not None and offline_cause & _CAUSE_PAPER_END):
        details.insert(0, "paper out")
    elif paper_state == "low":
        details.insert(0, "paper near end")
    if not online and not details:
        details.append("offline")
    return PrinterStatus(online, paper_state, ", ".join(details))


class Transport:
    """Base: a transport that can send but cannot ask (status is always unknown)."""

    name: str = "transport"
    timeout_s: float = DEFAULT_TIMEOUT_S

    def __init__(self):
        self._lock = threading.Lock()

    def send(self, data: bytes, job_name: str, image: Image.Image | None = None) -> None:
        raise NotImplementedError

    def status(self) -> PrinterStatus:
        return UNKNOWN

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    def _query(self, write, read_byte) -> PrinterStatus:
        """Ask DLE EOT 1, 2, 4 in turn within one timeout_s budget.

        write(bytes); read_byte(seconds_left) -> int | None. No answer to the first query ends
        the conversation at once (a silent printer costs one timeout, not three)."""
        deadline = time.monotonic() + self.timeout_s
        answers: dict[int, int | None] = {}
        for n in STATUS_QUERIES:
            write(status_query_for(n))
            answers[n] = None
            while (left := deadline - time.monotonic()) > 0:
                value = read_byte(left)
                if value is None:
                    break
                if _valid_status_byte(value):
                    answers[n] = value
                    break
            if answers[n] is None:
                break
        return parse_status(answers[1], answers.get(2), answers.get(4),
                            silent_detail=f"no answer within {self.timeout_s:g} s")

    def _busy(self) -> PrinterStatus:
        return PrinterStatus(None, "unknown", "busy sending a job")


def _safe_name(job_name: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", job_name).strip("._")
    if not name:
        raise PrinterError(f"job name {job_name!r} gives no usable file name")
    return name


class PreviewTransport(Transport):
    """Writes <job>.bin (the exact bytes) and <job>.png (the image) instead of printing."""

    def __init__(self, preview_dir: Path):
        super().__init__()
        self.preview_dir = Path(preview_dir)
        self.name = f"preview {self.preview_dir}"
        try:
            self.preview_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PrinterError(f"cannot create preview folder {self.preview_dir}: "
                               f"{exc.strerror or exc}") from exc

    def paths(self, job_name: str) -> tuple[Path, Path]:
        base = _safe_name(job_name)
        return self.preview_dir / f"{base}.bin", self.preview_dir / f"{base}.png"

    def send(self, data: bytes, job_name: str, image: Image.Image | None = None) -> None:
        bin_path, png_path = self.paths(job_name)
        written = []
        try:
            with self._lock:
                if image is not None:
                    _write_atomic(png_path, lambda f: image.save(f, format="PNG"))
                    written.append(png_path)
                _write_atomic(bin_path, lambda f: f.write(bytes(data)))
        except OSError as exc:
            for path in written:
                path.unlink(missing_ok=True)
            raise PrinterError(f"cannot write preview {bin_path}: {exc.strerror or exc}") from exc

    def status(self) -> PrinterStatus:
        return PrinterStatus(True, "ok", "preview")


def _write_atomic(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as f:
            write(f)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class NetworkTransport(Transport):
    """Raw TCP (port 9100): one connection per job and per status query, so a printer shared
    by several counters is never held open between jobs."""

    def __init__(self, host: str, port: int = DEFAULT_PORT, timeout_s: float = DEFAULT_TIMEOUT_S):
        super().__init__()
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self.name = f"network {host}:{port}"

    def _connect(self) -> socket.socket:
        try:
            return socket.create_connection((self.host, self.port), timeout=self.timeout_s)
        except socket.timeout as exc:
            raise PrinterError(f"cannot connect to printer at {self.host}:{self.port}: "
                               f"no answer within {self.timeout_s:g} s") from exc
        except OSError as exc:
            raise PrinterError(f"cannot connect to printer at {self.host}:{self.port}: "
                               f"{exc.strerror or exc}") from exc

    def send(self, data: bytes, job_name: str, image: Image.Image | None = None) -> None:
        with self._lock:
            sock = self._connect()
            try:
                view = memoryview(bytes(data))
                while view:
                    try:
                        sent = sock.send(view[:CHUNK_BYTES * 16])
                    except socket.timeout as exc:
                        raise PrinterError(
                            f"printer at {self.host}:{self.port} stopped taking data for "
                            f"{self.timeout_s:g} s (paper out, cover open or offline?)") from exc
                    except OSError as exc:
                        raise PrinterError(f"printer at {self.host}:{self.port} dropped the "
                                           f"connection: {exc.strerror or exc}") from exc
                    view = view[sent:]
                self._finish(sock)
            finally:
                sock.close()

    def _finish(self, sock: socket.socket) -> None:
        """Half-close, then read until the printer closes: closing with unread bytes (status
        the printer volunteered) would reset the connection and could drop the job's tail."""
        try:
            sock.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + self.timeout_s
            while (left := deadline - time.monotonic()) > 0:
                sock.settimeout(left)
                if not sock.recv(4096):
                    return
        except OSError:
            return  # the data was accepted; a printer that lingers or resets is not a failure

    def status(self) -> PrinterStatus:
        if not self._lock.acquire(timeout=self.timeout_s):
            return self._busy()
        try:
            try:
                sock = self._connect()
            except PrinterError as exc:
                return PrinterStatus(False, "unknown", exc.message)
            try:
                def read_byte(left: float) -> int | None:
                    sock.settimeout(left)
                    chunk = sock.recv(1)
                    return chunk[0] if chunk else None
                return self._query(sock.sendall, read_byte)
            except socket.timeout:
                return PrinterStatus(None, "unknown", f"no answer within {self.timeout_s:g} s")
            except OSError as exc:
                return PrinterStatus(None, "unknown", f"status query failed: {exc.strerror or exc}")
            finally:
                sock.close()
        finally:
            self._lock.release()


class SerialTransport(Transport):
    """pyserial; `port` may be a device (/dev/ttyUSB0) or a pyserial URL (loop://).

    The port stays open between jobs (a serial line has one user) and is reopened after an
    error. Writes go in chunks of about timeout_s/2 worth of line time, each with its own
    write timeout, so a 150 KB raster at 19200 baud (80 s) is fine but a held line is not."""

    def __init__(self, port: str, baudrate: int = DEFAULT_BAUDRATE, flow: str = "none",
                 timeout_s: float = DEFAULT_TIMEOUT_S):
        super().__init__()
        if flow not in SERIAL_FLOWS:
            raise PrinterError(f"unknown serial_flow {flow!r} (use none, rtscts or xonxoff)")
        self.port, self.baudrate, self.flow, self.timeout_s = port, baudrate, flow, timeout_s
        self.name = f"serial {port}"
        bytes_per_s = max(1, baudrate // 10)
        self.chunk_bytes = max(16, min(CHUNK_BYTES, int(bytes_per_s * timeout_s / 2)))
        self._serial = None
        self._open()

    def _open(self):
        import serial
        if self._serial is not None:
            return self._serial
        try:
            self._serial = serial.serial_for_url(
                self.port, baudrate=self.baudrate, rtscts=self.flow == "rtscts",
                xonxoff=self.flow == "xonxoff", timeout=self.timeout_s,
                write_timeout=self.timeout_s, exclusive=True)
        except (serial.SerialException, OSError, ValueError) as exc:
            code = getattr(exc, "errno", None)  # pyserial repeats the port name in str(exc)
            reason = os.strerror(code) if isinstance(code, int) else str(exc)
            raise PrinterError(f"cannot open serial port {self.port}: {reason}") from exc
        return self._serial

    def _drop(self) -> None:
        port, self._serial = self._serial, None
        if port is not None:
            try:
                port.close()
            except Exception:  # noqa: BLE001 - closing a broken port must not hide the error
                pass

    def send(self, data: bytes, job_name: str, image: Image.Image | None = None) -> None:
        import serial
        with self._lock:
            port = self._open()
            data = bytes(data)
            try:
                for start in range(0, len(data), self.chunk_bytes):
                    port.write(data[start:start + self.chunk_bytes])
            except serial.SerialTimeoutException as exc:
                self._drop()
                raise PrinterError(f"printer on {self.port} stopped taking data for "
                                   f"{self.timeout_s:g} s (paper out, offline or flow "
                                   f"control held?)") from exc
            except Exception as exc:  # noqa: BLE001 - pyserial URL handlers raise their own
                self._drop()
                raise PrinterError(f"cannot write to serial port {self.port}: {exc}") from exc

    def status(self) -> PrinterStatus:
        if not self._lock.acquire(timeout=self.timeout_s):
            return self._busy()
        try:
            try:
                port = self._open()
            except PrinterError as exc:
                return PrinterStatus(False, "unknown", exc.message)
            try:
                port.reset_input_buffer()  # stale answers or status the printer volunteered

                def read_byte(left: float) -> int | None:
                    port.timeout = left
                    chunk = port.read(1)
                    return chunk[0] if chunk else None
                try:
                    return self._query(port.write, read_byte)
                finally:
                    port.timeout = self.timeout_s
            except Exception as exc:  # noqa: BLE001 - status never raises
                self._drop()
                return PrinterStatus(None, "unknown", f"status query failed: {exc}")
        finally:
            self._lock.release()

    def close(self) -> None:
        with self._lock:
            self._drop()


class FileTransport(Transport):
    """A device node (/dev/usb/lp0) opened for each job; never created if missing.

    Non-blocking writes with select() give the per-progress timeout: the usblp driver stops
    taking bytes when the printer is out of paper."""

    def __init__(self, device_path: str | os.PathLike = DEFAULT_DEVICE_PATH,
                 timeout_s: float = DEFAULT_TIMEOUT_S):
        super().__init__()
        self.device_path = str(device_path)
        self.timeout_s = timeout_s
        self.name = f"file {self.device_path}"
        os.close(self._open())  # a missing or forbidden path fails now, not at the first job

    def _open(self) -> int:
        try:
            return os.open(self.device_path,
                           os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            raise PrinterError(f"cannot open {self.device_path}: "
                               f"{exc.strerror or exc}") from exc

    def send(self, data: bytes, job_name: str, image: Image.Image | None = None) -> None:
        with self._lock:
            fd = self._open()
            try:
                view = memoryview(bytes(data))
                while view:
                    _, ready, _ = select.select([], [fd], [], self.timeout_s)
                    if not ready:
                        raise PrinterError(f"printer on {self.device_path} stopped taking data "
                                           f"for {self.timeout_s:g} s (paper out or offline?)")
                    try:
                        view = view[os.write(fd, view[:CHUNK_BYTES]):]
                    except BlockingIOError:
                        continue
                    except OSError as exc:
                        raise PrinterError(f"cannot write to {self.device_path}: "
                                           f"{exc.strerror or exc}") from exc
            finally:
                os.close(fd)

    def status(self) -> PrinterStatus:
        return PrinterStatus(None, "unknown", "a device file cannot report status")


class UsbTransport(Transport):
    """python-escpos `Usb` finds and claims the device (detaching the kernel's usblp); we write
    its bulk endpoint in chunks with a millisecond timeout each (pyusb counts milliseconds)."""

    def __init__(self, vendor: int, product: int, timeout_s: float = DEFAULT_TIMEOUT_S,
                 in_ep: int = 0x82, out_ep: int = 0x01):
        super().__init__()
        self.vendor, self.product, self.timeout_s = vendor, product, timeout_s
        self.in_ep, self.out_ep = in_ep, out_ep
        self.ids = f"{vendor:04x}:{product:04x}"
        self.name = f"usb {self.ids}"
        self._printer = None
        self._open()

    @property
    def timeout_ms(self) -> int:
        return max(1, int(self.timeout_s * 1000))

    def _open(self):
        if self._printer is not None:
            return self._printer
        try:
            import usb.core
            from escpos.exceptions import DeviceNotFoundError
            from escpos.printer import Usb
        except ImportError as exc:
            raise PrinterError(f"cannot open USB printer {self.ids}: {exc}") from exc
        printer = Usb(self.vendor, self.product, timeout=self.timeout_ms, in_ep=self.in_ep,
                      out_ep=self.out_ep)
        try:
            printer.open(raise_not_found=True)
        except usb.core.NoBackendError as exc:
            raise PrinterError(f"cannot open USB printer {self.ids}: no libusb backend "
                               "(install the libusb-1.0-0 package)") from exc
        except DeviceNotFoundError as exc:
            # python-escpos raises this while handling pyusb's error: that one has the errno.
            cause = exc.__cause__ or exc.__context__
            if isinstance(cause, usb.core.USBError) and cause.errno == errno.EACCES:
                raise PrinterError(f"cannot open USB printer {self.ids}: permission denied "
                                   "(add a udev rule for the printer)") from exc
            raise PrinterError(f"no USB printer {self.ids} (is it plugged in and switched "
                               "on?)") from exc
        except Exception as exc:  # noqa: BLE001 - pyusb/libusb raise many kinds
            raise PrinterError(f"cannot open USB printer {self.ids}: {exc}") from exc
        self._printer = printer
        return printer

    def _drop(self) -> None:
        printer, self._printer = self._printer, None
        if printer is not None:
            try:
                printer.close()
            except Exception:  # noqa: BLE001
                pass

    def send(self, data: bytes, job_name: str, image: Image.Image | None = None) -> None:
        import usb.core
        with self._lock:
            device = self._open().device
            data = bytes(data)
            try:
                for start in range(0, len(data), CHUNK_BYTES):
                    device.write(self.out_ep, data[start:start + CHUNK_BYTES], self.timeout_ms)
            except usb.core.USBTimeoutError as exc:
                self._drop()
                raise PrinterError(f"USB printer {self.ids} stopped taking data for "
                                   f"{self.timeout_s:g} s (paper out or offline?)") from exc
            except Exception as exc:  # noqa: BLE001
                self._drop()
                raise PrinterError(f"USB printer {self.ids} failed: {exc}") from exc

    def status(self) -> PrinterStatus:
        import usb.core
        if not self._lock.acquire(timeout=self.timeout_s):
            return self._busy()
        try:
            try:
                device = self._open().device
            except PrinterError as exc:
                return PrinterStatus(False, "unknown", exc.message)
            pending: list[int] = []

            def write(query: bytes) -> None:
                device.write(self.out_ep, query, self.timeout_ms)

            def read_byte(left: float) -> int | None:
                if not pending:
                    try:
                        pending.extend(device.read(self.in_ep, 64, max(1, int(left * 1000))))
                    except usb.core.USBTimeoutError:
                        return None
                return pending.pop(0) if pending else None
            try:
                return self._query(write, read_byte)
            except Exception as exc:  # noqa: BLE001 - status never raises
                self._drop()
                return PrinterStatus(None, "unknown", f"status query failed: {exc}")
        finally:
            self._lock.release()

    def close(self) -> None:
        with self._lock:
            self._drop()


def _int(cfg: dict, key: str, default=None) -> int:
    value = cfg.get(key, default)
    if value is None:
        raise PrinterError(f"printer setting {key} is missing")
    try:
        return value if isinstance(value, int) and not isinstance(value, bool) \
            else int(str(value), 0)
    except ValueError as exc:
        raise PrinterError(f"printer setting {key} must be a number, got {value!r}") from exc


def _required(cfg: dict, key: str, transport: str) -> str:
    value = cfg.get(key)
    if value in (None, ""):
        raise PrinterError(f"the {transport} printer transport needs the setting {key}")
    return str(value)


def open_transport(cfg: dict, data_dir: Path) -> Transport:
    """The transport the [printer] settings ask for; PrinterError for a bad setting or a
    device that is not there (so the problem shows at start, not at the first licence).

    >>> open_transport({"transport": "preview"}, Path("/tmp/nafitha-doc")).name
    'preview /tmp/nafitha-doc/prints'
    """
    kind = cfg.get("transport", "preview")
    if kind not in TRANSPORTS:
        raise PrinterError(f"unknown printer transport {kind!r} "
                           "(use preview, usb, serial, network or file)")
    try:
        timeout_s = float(cfg.get("timeout_s", DEFAULT_TIMEOUT_S))
    except (TypeError, ValueError) as exc:
        raise PrinterError(f"printer setting timeout_s must be seconds, "
                           f"got {cfg.get('timeout_s')!r}") from exc
    if not timeout_s > 0:
        raise PrinterError(f"printer setting timeout_s must be above 0, got {timeout_s:g}")
    if kind == "preview":
        return PreviewTransport(Path(cfg.get("preview_dir") or Path(data_dir) / "prints"))
    if kind == "network":
        port = _int(cfg, "port", DEFAULT_PORT)
        if not 0 < port < 65536:
            raise PrinterError(f"printer setting port must be 1..65535, got {port}")
        return NetworkTransport(_required(cfg, "host", kind), port, timeout_s)
    if kind == "serial":
        return SerialTransport(_required(cfg, "serial_port", kind),
                               _int(cfg, "serial_baudrate", DEFAULT_BAUDRATE),
                               str(cfg.get("serial_flow", "none")), timeout_s)
    if kind == "file":
        return FileTransport(cfg.get("device_path") or DEFAULT_DEVICE_PATH, timeout_s)
    ids = []
    for key in ("usb_vendor", "usb_product"):
        if cfg.get(key) in (None, "", 0):  # 0 would make python-escpos take any USB device
            raise PrinterError(f"the usb printer transport needs the settings usb_vendor and "
                               f"usb_product (e.g. 0x04b8 and 0x0e15); {key} is missing")
        ids.append(_int(cfg, key))
        if not 0 < ids[-1] <= 0xFFFF:
            raise PrinterError(f"printer setting {key} must be 0x0001..0xffff, got {ids[-1]}")
    vendor, product = ids
    return UsbTransport(vendor, product, timeout_s, in_ep=_int(cfg, "usb_in_ep", 0x82),
                        out_ep=_int(cfg, "usb_out_ep", 0x01))
