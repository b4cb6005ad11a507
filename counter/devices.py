"""The counter's devices: its receipt and licence printer, and its camera.

Unlike the kiosk (now or never), the counter's printer works through the durable queue: a
job waits while the printer is out of paper or offline and prints once it is back, because
the clerk is still there to hand it over. One thread per printer drains the queue; a new
job wakes it at once."""
from __future__ import annotations

import logging
import threading

from ui.scanner import CameraScanner

log = logging.getLogger("nafitha.counter")

IDLE_S = 0.5
MAX_BACKOFF_S = 10.0


class CounterDevices:
    """printer: a devices.printing PrintWorker, or None (printing unavailable, with
    printer_problem saying why); print_language: the language documents are printed in."""

    def __init__(self, backend, printer=None, scanner_spec=None, scanner_size=(1280, 720),
                 debounce_s: float = 2.0, printer_problem: str | None = None,
                 print_language: str | None = None):
        self.backend = backend
        self.printer = printer
        self.printer_problem = printer_problem
        self.print_language = print_language
        self.camera = CameraScanner(scanner_spec, scanner_size, debounce_s)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = None
        self.printed = 0  # jobs printed since start (status and benchmark)
        self.on_printed = None  # called (worker thread) after each printed job

    @classmethod
    def from_settings(cls, backend) -> "CounterDevices":
        from devices.printing.worker import open_print_worker

        settings = backend.settings
        printer, problem = open_print_worker(backend.print_source, backend.printer)
        sc = settings.scanner
        return cls(backend, printer, sc.source, (sc.width, sc.height), sc.debounce_s,
                   printer_problem=problem, print_language=settings.printer.language)

    # --- printing -------------------------------------------------------------------------
    def start(self) -> None:
        if self.printer is not None and self._thread is None:
            self._thread = threading.Thread(target=self._print_loop, name="counter-printer",
                                            daemon=True)
            self._thread.start()

    def print_document(self, kind: str, ref: str, lang: str, copy: bool = False) -> dict:
        """Queue the document durably; the printer thread prints it as soon as it can."""
        job = self.backend.enqueue_print(kind, ref, lang, copy=copy)
        self._wake.set()
        return job

    def _print_loop(self) -> None:
        backoff = IDLE_S
        while not self._stop.is_set():
            try:
                outcome = self.printer.print_next()
            except Exception:  # noqa: BLE001 - the thread must outlive one bad job
                log.exception("counter print worker error")
                outcome = "retry"
            if outcome == "printed":
                self.printed += 1
                if self.on_printed is not None:
                    self.on_printed()
                backoff = IDLE_S
                continue
            backoff = min(MAX_BACKOFF_S, backoff * 2) if outcome in ("waiting", "retry") \
                else IDLE_S
            self._wake.wait(backoff)
            self._wake.clear()

    def printer_state(self) -> str:
        """ok | problem (paper out, offline: jobs wait) | unavailable (no printer at all)."""
        if self.printer is None:
            return "unavailable"
        return "problem" if self.printer.status.waiting_for else "ok"

    def printer_problem_text(self) -> str | None:
        if self.printer is None:
            return self.printer_problem
        return self.printer.status.waiting_for

    # --- camera --------------------------------------------------------------------------
    def open_scanner(self, on_code):
        return self.camera.open(on_code)

    def close_scanner(self) -> None:
        self.camera.close()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self.close_scanner()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.printer is not None:
            self.printer.transport.close()
