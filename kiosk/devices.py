"""The kiosk's devices: its receipt printer, its card terminal and its camera.

Every method here blocks on a device and is called from a worker thread (ui/worker.py),
never from the UI thread."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from core.coordinator import IDLE, RETRY
from ui.scanner import CameraScanner

log = logging.getLogger("nafitha.kiosk")

# How long the kiosk waits for a document before telling the resident to see the counter.
PRINT_WAIT_S = 20.0


@dataclass
class PrintResult:
    printed: bool
    job_id: str
    problem: str | None = None  # why it did not print, for the log and the counter


class KioskDevices:
    """printer: a devices.printing PrintWorker (None: printing unavailable, e.g. no Raqm);
    terminal: a devices.payment PaymentTerminal or None (card payment off);
    scanner_spec: what devices.scanning.open_source opens for the camera."""

    def __init__(self, backend, printer=None, terminal=None, scanner_spec=None,
                 scanner_size=(1280, 720), debounce_s: float = 2.0, printer_problem=None):
        from devices.printing.worker import printer_loop

        self.backend = backend
        self.printer = printer
        self.printer_problem = printer_problem  # why there is no printer at all
        # Stepped while a resident waits for paper (never started as a thread): the loop's
        # bookkeeping logs a printer that fails once, and once when it is back.
        self.printer_loop = printer_loop(printer) if printer is not None else None
        self.terminal = terminal
        self.camera = CameraScanner(scanner_spec, scanner_size, debounce_s)

    @classmethod
    def from_settings(cls, backend) -> "KioskDevices":
        from devices.payment import open_terminal
        from devices.printing.worker import open_print_worker

        settings = backend.settings
        printer, problem = open_print_worker(backend.print_jobs())
        try:
            terminal = open_terminal(settings.payment)
        except Exception as exc:  # noqa: BLE001 - no terminal means "pay at the counter"
            log.error("payment terminal unavailable: %s", exc)
            terminal = None
        sc = settings.scanner
        return cls(backend, printer, terminal, sc.source, (sc.width, sc.height),
                   sc.debounce_s, printer_problem=problem)

    # --- printing -------------------------------------------------------------------------
    def print_document(self, kind: str, ref: str, lang: str,
                       wait_s: float = PRINT_WAIT_S) -> PrintResult:
        """Queue the document durably and print it now (print_job)."""
        return self.print_job(self.backend.enqueue_print(kind, ref, lang), wait_s)

    def print_job(self, job: dict, wait_s: float = PRINT_WAIT_S) -> PrintResult:
        """Print a queued job now, and if the printer cannot take it in time give the job
        up (it must not come out later for the next resident): the document itself is in
        the store and the counter reprints it."""
        if self.printer is None:
            problem = self.printer_problem or "no printer"
            self.backend.abandon_print(job["id"], problem[:500])
            return PrintResult(False, job["id"], problem)
        deadline = time.monotonic() + wait_s
        jobs = self.printer.jobs
        while True:
            outcome = self.printer_loop.step(wait=False)
            state = jobs.get(job["id"])["state"]
            if state == "done":
                return PrintResult(True, job["id"])
            waiting = self.printer_loop.failing and self.printer.status.printer is not None \
                and not self.printer.status.printer.can_try
            if state == "failed" or waiting or time.monotonic() >= deadline:
                problem = (self.printer.status.waiting_for or self.printer.status.last_error
                           or "the printer did not print in time")
                self.backend.abandon_print(job["id"], f"kiosk gave up: {problem}"[:500])
                return PrintResult(False, job["id"], problem)
            if outcome in (IDLE, RETRY):
                time.sleep(0.2)

    def printer_state(self) -> str:
        if self.printer is None:
            return "unavailable"
        return "problem" if self.printer.status.waiting_for else "ok"

    # --- payment -------------------------------------------------------------------------
    @property
    def can_pay(self) -> bool:
        return self.terminal is not None

    def next_reference(self, application_number: str) -> tuple[str, dict | None]:
        """The terminal reference for a new attempt, and an approval the terminal already
        holds for this application but the store does not (a crash between the approval and
        recording it): recording that one instead of charging again means nothing is charged
        twice. References: <application number>-<attempt>."""
        attempt = 1
        while True:
            reference = f"{application_number}-{attempt}"
            seen = self.terminal.lookup(reference)
            if seen is None:
                return reference, None
            if seen.approved or seen.pending:
                return reference, seen
            attempt += 1

    def charge(self, reference: str, amount_minor: int, currency: str, on_progress=None):
        return self.terminal.charge(reference, amount_minor, currency, on_progress=on_progress)

    def cancel_payment(self, reference: str) -> None:
        if self.terminal is not None:
            self.terminal.cancel(reference)

    def card_batch_report(self) -> dict | None:
        """The terminal's own report of its approvals since the last settlement, for the end
        of the day's reconciliation; None when there is no terminal or it cannot be asked
        (the shift then closes unreconciled, for `nafitha payments reconcile` later)."""
        if self.terminal is None:
            return None
        from devices.payment import PaymentTerminalError
        try:
            return self.terminal.batch_report()
        except PaymentTerminalError as exc:
            log.warning("no batch report from the payment terminal: %s", exc)
            return None

    def settle_card_batch(self) -> None:
        """Close the terminal's batch once the office holds its reconciliation."""
        from devices.payment import PaymentTerminalError
        try:
            self.terminal.settle()
        except PaymentTerminalError as exc:  # the next report repeats it: harmless
            log.warning("the payment terminal did not settle its batch: %s", exc)

    # --- camera --------------------------------------------------------------------------
    @property
    def scanner(self):
        return self.camera.service

    def open_scanner(self, on_code):
        return self.camera.open(on_code)

    def close_scanner(self) -> None:
        self.camera.close()

    def close(self) -> None:
        self.close_scanner()
        if self.terminal is not None:
            self.terminal.close()
        if self.printer is not None:
            self.printer.transport.close()
