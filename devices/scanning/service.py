"""The scanning worker: frames from a source -> DecoderChain -> debounce -> ScanEvents.

    service = ScanService("0", decoder=DecoderChain(formats="qr"))
    service.subscribe(on_scan)          # called on the publishing thread (use @mainthread)
    service.start()
    ...
    service.status                      # state, detail, available: what the UI shows
    service.latest_frame()              # the newest frame, for a preview; never blocks
    event = service.events.get_nowait() # or read the queue instead of subscribing
    service.stop()

One worker thread per camera (DESIGN.md house style 4) does all device work; the UI only
reads `status`, `latest_frame()` and the events. The thread is a core.coordinator loop:
`available` comes from the last read, a failing camera is retried with a growing pause and
logged once when it fails and once when it is back, not on every retry.

States: "starting" -> "running"; "no_camera" (could not open it yet) and "reconnecting"
(it was working and stopped giving frames) retry with a growing pause, up to max_retry_s,
and return to "running" by themselves when frames come again; "ended" (a file or folder ran
out, or max_frames was reached, or a file source could not be opened); "stopped" (stop()).

Serial and keyboard-wedge scanners call `publish()` too, so everything a resident or a
clerk scans arrives on one stream, debounced once: the same code from any source within
`debounce_s` of its last sighting is reported once.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from core.coordinator import DONE, RETRY, Coordinator, Unavailable

from .capture import FrameSource, ScannerError, is_live, open_source
from .debounce import Debouncer

log = logging.getLogger("nafitha.scanning")

STATES = ("starting", "running", "no_camera", "reconnecting", "ended", "stopped")
SOURCES = ("camera", "serial", "keyboard")


@dataclass(frozen=True)
class ScanEvent:
    text: str | None        # None when the code's bytes are not UTF-8 text (see raw)
    raw: bytes
    symbology: str          # "QRCode", "EAN13", ...; "unknown" from handheld scanners
    source: str             # "camera" | "serial" | "keyboard"
    at: float               # Unix seconds (the injected `now`)
    corners: tuple[tuple[int, int], ...] = ()
    backend: str = ""       # "zxing" | "zbar" for the camera, else ""

    def to_dict(self) -> dict:
        return {"text": self.text, "hex": None if self.text is not None else self.raw.hex(),
                "bytes": len(self.raw), "symbology": self.symbology, "source": self.source,
                "at": self.at, "corners": [list(c) for c in self.corners],
                "backend": self.backend}


@dataclass(frozen=True)
class ScanStatus:
    state: str = "starting"
    detail: str = ""
    frames: int = 0          # frames read so far
    events: int = 0          # codes reported (after debouncing)
    source: str = ""         # what is being read, in words
    available: bool = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "available", self.state == "running")


class ScanService:
    """source: a FrameSource (already open; lost -> reopen()), or a spec for open_source
    (a camera that is missing at start is retried: state "no_camera").

    decoder: anything with decode(frame) -> [Decoded]; default DecoderChain(formats="qr").
    clock: monotonic seconds (debounce); now: Unix seconds (ScanEvent.at);
    sleep(seconds): the pause between retries; default waits on the stop event, so stop()
    is immediate. Tests inject all three and drive step() without a thread."""

    def __init__(self, source: FrameSource | str | int | None = None, *, decoder=None,
                 debounce_s: float = 2.0, width: int = 1280, height: int = 720,
                 max_frames: int | None = None, retry_s: float = 0.5,
                 max_retry_s: float = 10.0, clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], float] = time.time,
                 sleep: Callable[[float], object] | None = None, queue_size: int = 256):
        if isinstance(source, FrameSource) or hasattr(source, "read"):
            self._source, self._spec = source, None
            self._live = bool(getattr(source, "live", False))
            described = source.describe()
        else:
            self._source, self._spec = None, source
            self._live = source is not None and is_live(source)
            described = "" if source is None else str(source)
        if decoder is None and source is not None:
            from .decoders import DecoderChain
            decoder = DecoderChain(formats="qr")  # licences, tickets, receipts: all QR
            if not decoder.available:
                raise ScannerError("no barcode decoder is installed: " + "; ".join(
                    f"{name}: {why}" for name, why in decoder.missing.items()))
        self.decoder = decoder
        self.width, self.height = width, height
        self.max_frames = max_frames
        self.retry_s, self.max_retry_s = retry_s, max_retry_s
        self.clock, self.now = clock, now
        self.debouncer = Debouncer(debounce_s, clock)
        self.events: queue.Queue[ScanEvent] = queue.Queue(maxsize=queue_size)
        self._subscribers: list[Callable[[ScanEvent], object]] = []
        self._watchers: list[Callable[[ScanStatus], object]] = []
        self._status = ScanStatus(source=described)
        self._lock = threading.Lock()
        self._latest: np.ndarray | None = None
        self._ever_opened = self._source is not None
        self._need_open = self._source is None
        self._decoder_failing = False
        self.loop = Coordinator(f"scanner {described or 'camera'}", self._poll, log,
                                retry_s=retry_s, max_backoff_s=max_retry_s, sleep=sleep)
        self.loop.listen(self._after_poll)

    # --- what the UI reads ----------------------------------------------------------------
    @property
    def status(self) -> ScanStatus:
        return self._status

    def latest_frame(self) -> np.ndarray | None:
        """The newest frame read, or None. Never blocks and does not copy: it is the array
        the source returned (a new one for every frame), which the service never writes to;
        copy it before drawing on it."""
        return self._latest

    def subscribe(self, callback: Callable[[ScanEvent], object]) -> Callable[[], None]:
        """callback(event) for every reported code, on the thread that found it. Returns a
        function that unsubscribes."""
        self._subscribers.append(callback)
        return lambda: callback in self._subscribers and self._subscribers.remove(callback)

    def watch(self, callback: Callable[[ScanStatus], object]) -> None:
        """callback(status) on every change of state or detail."""
        self._watchers.append(callback)

    # --- feeding --------------------------------------------------------------------------
    def publish(self, text: str | None, raw: bytes | None = None, symbology: str = "unknown",
                source: str = "camera", corners=(), backend: str = "") -> ScanEvent | None:
        """Report a code unless it was seen within the debounce window; the event, or None
        when it was debounced. Thread-safe: serial and keyboard scanners call it too."""
        if source not in SOURCES:
            raise ValueError(f"source is one of {', '.join(SOURCES)}, not {source!r}")
        if raw is None:
            raw = (text or "").encode("utf-8")
        key = text if text is not None else raw  # the content, whatever read it
        if not self.debouncer.seen(key):
            return None
        event = ScanEvent(text, raw, symbology, source, self.now(),
                          tuple(tuple(map(int, c)) for c in corners), backend)
        with self._lock:
            self._status = replace(self._status, events=self._status.events + 1)
        while True:
            try:
                self.events.put_nowait(event)
                break
            except queue.Full:  # nobody reads the queue: keep the newest scans
                try:
                    self.events.get_nowait()
                except queue.Empty:
                    pass
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:  # noqa: BLE001 - one bad subscriber must not stop the scanner
                log.exception("scan subscriber %r failed", callback)
        return event

    # --- the worker -----------------------------------------------------------------------
    def _set(self, state: str, detail: str = "", **counts) -> None:
        with self._lock:
            old = self._status
            self._status = replace(old, state=state, detail=detail, **counts)
            new = self._status
        if (old.state, old.detail) != (new.state, new.detail):
            for callback in list(self._watchers):
                try:
                    callback(new)
                except Exception:  # noqa: BLE001
                    log.exception("scan status watcher %r failed", callback)

    def _after_poll(self, _result, failure) -> None:
        """A failed open or read: the status says why and when the next try is."""
        if isinstance(failure, Unavailable):
            self._set(failure.details.get("state", "reconnecting"),
                      f"{failure.message}; retrying in {self.loop.retry_in:g} s")
        elif failure is not None:
            self._set("reconnecting", f"scanner error: {failure}; retrying in "
                                      f"{self.loop.retry_in:g} s")

    def _open(self) -> str | None:
        """Make sure a source is open: None when it is, DONE when it never will be
        (Unavailable while a live camera is away)."""
        try:
            if self._spec is not None:
                self._source = open_source(self._spec, self.width, self.height)
            else:
                self._source.reopen()
        except ScannerError as exc:
            if not self._live:  # a file does not come back: say why and stop
                self._set("ended", exc.message)
                log.error("scanner: %s", exc.message)
                return DONE
            raise Unavailable(exc.message, state="reconnecting" if self._ever_opened
                              else "no_camera") from None
        self._ever_opened, self._need_open = True, False
        with self._lock:
            self._status = replace(self._status, source=self._source.describe())
        return None

    def step(self) -> str:
        """One read (or one reopening attempt, and the pause after a failed one): "frame",
        "retry" or "ended"."""
        outcome = self.loop.step()
        return "ended" if outcome == DONE else "retry" if outcome == RETRY else outcome

    def _poll(self):
        if self._status.state in ("ended", "stopped"):
            return DONE
        if self._spec is None and self._source is None:
            self._set("ended", "no camera configured")
            return DONE
        if self._need_open:
            outcome = self._open()
            if outcome is not None:
                return outcome
        try:
            frame, lost = self._source.read(), None
        except ScannerError as exc:  # the device went away, whatever kind of source it is
            frame, lost = None, exc.message
        if frame is None:
            if lost is None and not self._live:
                self._set("ended", f"end of {self._source.describe()}")
                return DONE
            self._need_open = True
            self._source.close()
            raise Unavailable(lost or f"{self._source.describe()} stopped giving frames",
                              state="reconnecting")
        if self._status.state != "running":
            self._set("running", "")
        self._latest = frame
        with self._lock:
            self._status = replace(self._status, frames=self._status.frames + 1)
        for code in self._decode(frame):
            self.publish(code.text, code.raw, code.symbology, "camera", code.corners,
                         code.backend)
        if self.max_frames is not None and self._status.frames >= self.max_frames:
            self._set("ended", f"read {self._status.frames} frames (the limit)")
            return DONE
        return "frame"

    def _decode(self, frame) -> list:
        try:
            found = self.decoder.decode(frame)
        except Exception:  # noqa: BLE001 - one bad frame must not stop the camera
            if not self._decoder_failing:
                log.exception("the decoder failed on a frame; skipping such frames")
            self._decoder_failing = True
            return []
        self._decoder_failing = False
        return found

    def run(self) -> None:
        """Step until the source ends or stop() (what the worker thread runs)."""
        self.loop.run()

    def start(self) -> "ScanService":
        if self.loop.started:
            raise RuntimeError("the scan service is already started")
        self.loop.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the worker and close the source; state "stopped" (an ended one stays ended)."""
        self.loop.stop(timeout_s)
        if self._source is not None:
            self._source.close()
        if self._status.state != "ended":
            self._set("stopped", "")

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait for the worker to finish (a finite source ending); True when it has."""
        return self.loop.join(timeout_s)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
