"""Handheld barcode scanners on a serial port (USB CDC-ACM /dev/ttyACM0, RS-232, or any
pyserial URL such as socket://host:port): one code per line.

A reader thread opens the port with pyserial's `serial_for_url`, splits what arrives at CR,
LF or CR LF (scanners are configured with either), strips each line and feeds it to the same
publish function as the camera (`ScanService.publish`) with source "serial", so the counter
sees one stream of scans, debounced once.

The port may vanish (the cable pulled, the USB scanner re-enumerating): the status says so,
the reader (a core.coordinator loop) retries with a growing pause, and reads again by itself
when the port is back. Logged once when it fails and once when it is back.

    scanner = SerialScanner("/dev/ttyACM0", service.publish).start()
    scanner.status.available
    scanner.stop()
"""
from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Callable

import serial

from core.coordinator import IDLE, RETRY, Coordinator, Unavailable

from .service import ScanStatus

log = logging.getLogger("nafitha.scanning")

LINE_END = re.compile(rb"[\r\n]")
STATES = ("starting", "running", "no_scanner", "reconnecting", "stopped")


class SerialScanner:
    """feed(text, raw=..., symbology="unknown", source="serial") for every line.

    open_port(url, baudrate=..., timeout=...) -> a port with read(n) and close(); default
    serial.serial_for_url. sleep(seconds): the pause between retries (default: waits on
    the stop event, so stop() is immediate)."""

    def __init__(self, url: str, feed: Callable, *, baudrate: int = 9600,
                 open_port: Callable | None = None, read_timeout_s: float = 0.1,
                 retry_s: float = 0.5, max_retry_s: float = 10.0,
                 sleep: Callable[[float], object] | None = None, max_line: int = 8192):
        self.url = url
        self.feed = feed
        self.baudrate = baudrate
        self.open_port = open_port or serial.serial_for_url
        self.read_timeout_s = read_timeout_s
        self.max_line = max_line
        self._port = None
        self._buffer = b""
        self._ever_opened = False
        self._status = ScanStatus(source=f"serial scanner {url}")
        # A read blocks up to read_timeout_s, so the loop reads again at once (idle_s 0).
        self.loop = Coordinator(f"serial scanner {url}", self._poll, log, idle_s=0,
                                retry_s=retry_s, max_backoff_s=max_retry_s, sleep=sleep)
        self.loop.listen(self._after_poll)

    @property
    def status(self) -> ScanStatus:
        return self._status

    def _set(self, state: str, detail: str = "", **counts) -> None:
        self._status = replace(self._status, state=state, detail=detail, **counts)

    def _after_poll(self, _result, failure) -> None:
        if failure is not None:
            self._close_port()
            self._set("reconnecting" if self._ever_opened else "no_scanner",
                      f"{getattr(failure, 'message', failure)}; retrying in "
                      f"{self.loop.retry_in:g} s")

    def _close_port(self) -> None:
        if self._port is not None:
            try:
                self._port.close()
            except (serial.SerialException, OSError):
                pass
        self._port, self._buffer = None, b""  # half a code from before the loss is no code

    def step(self) -> str:
        """One open attempt or one read (and the pause after a failed one): "lines"
        (something was fed), "idle" or "retry"."""
        outcome = self.loop.step()
        return "retry" if outcome == RETRY else outcome

    def _poll(self) -> str:
        if self._port is None:
            try:
                self._port = self.open_port(self.url, baudrate=self.baudrate,
                                            timeout=self.read_timeout_s)
            except (serial.SerialException, OSError, ValueError) as exc:
                raise Unavailable(f"cannot open {self.url} ({exc})") from None
            self._ever_opened = True
            self._set("running")
        try:
            waiting = getattr(self._port, "in_waiting", 0) or 0
            data = self._port.read(max(1, waiting))
        except (serial.SerialException, OSError) as exc:
            raise Unavailable(f"{self.url} stopped answering ({exc})") from None
        if not data:
            return IDLE
        *lines, self._buffer = LINE_END.split(self._buffer + data)
        if len(self._buffer) > self.max_line:
            log.warning("serial scanner %s: %d bytes without a line end dropped (is the "
                        "scanner set to end codes with CR or LF?)", self.url, len(self._buffer))
            self._buffer = b""
        fed = 0
        for line in lines:
            raw = line.strip()
            if not raw:
                continue  # the LF of a CR LF
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = None
            try:
                self.feed(text, raw=raw, symbology="unknown", source="serial")
            except Exception:  # noqa: BLE001 - a bad subscriber must not end the reader
                log.exception("serial scanner %s: error while handling a scan", self.url)
            fed += 1
        if fed:
            self._status = replace(self._status, events=self._status.events + fed)
        return "lines" if fed else IDLE

    def run(self) -> None:
        self.loop.run()

    def start(self) -> "SerialScanner":
        if self.loop.started:
            raise RuntimeError("the serial scanner is already started")
        self.loop.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        self.loop.stop(timeout_s)
        self._close_port()
        self._set("stopped")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
