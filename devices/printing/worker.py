"""One worker per printer: takes durable jobs in order, asks the printer's status where it
can, prints, and marks a job done only after the transport took every byte.

Paper out or offline: the job waits (the UI shows `status`). A failed send puts the job back
to pending, so it prints once when the printer returns. Like Home Assistant's coordinators it
logs once when the printer fails and once when it recovers, not on every retry."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from core.errors import NafithaError

from .escpos_encode import profile_supports, profile_width_dots, raster_job
from .render import check_shaping, render
from .transports import PrinterError, PrinterStatus, Transport

log = logging.getLogger("nafitha.printing")


@dataclass
class WorkerStatus:
    printer: PrinterStatus | None = None
    waiting_for: str | None = None  # why jobs are not printing, in plain words
    last_error: str | None = None


class PrintWorker:
    """office: where jobs and documents come from: the in-process core.office.Office, or a
    hub client's print source (hub.client.HubPrintSource) with the same three parts:
    .settings.printer, .printing (next_job, mark_printing/done/retry/failed) and
    .job_document(job)."""

    def __init__(self, office, transport: Transport, printer: str = "main", render_fn=render,
                 encode_fn=raster_job, sleep=time.sleep):
        self.office = office
        self.transport = transport
        self.printer = printer
        self.settings = office.settings.printer
        self.render = render_fn
        self.encode = encode_fn
        self.sleep = sleep
        self.status = WorkerStatus()
        self._failing = False
        # Refuse to start, with the reason, rather than fail every job later.
        check_shaping()  # no Raqm: broken Arabic on paper is worse than no paper
        try:
            widest = profile_width_dots(self.settings.profile)
        except ValueError as exc:
            raise PrinterError(str(exc))
        if widest is not None and self.settings.width_dots > widest:
            raise PrinterError(f"printer.width_dots is {self.settings.width_dots} but profile "
                               f"{self.settings.profile!r} prints at most {widest} dots")
        if self.settings.native_qr and not profile_supports(self.settings.profile, "qrCode"):
            raise PrinterError(f"printer.native_qr is on but profile {self.settings.profile!r} "
                               f"has no native QR; turn it off or choose the printer's profile")

    def _problem(self, message: str) -> None:
        self.status.waiting_for = message
        if not self._failing:
            log.warning("printer %s: %s; jobs wait until it is back", self.printer, message)
        self._failing = True

    def _recovered(self) -> None:
        if self._failing:
            log.info("printer %s is back", self.printer)
        self._failing = False
        self.status.waiting_for = None

    def render_job(self, job: dict):
        data = self.office.job_document(job)
        if self.settings.native_qr:
            image = self.render(job["kind"], data, job["lang"], self.settings.width_dots,
                                without_qr=True)
            return image, self.encode(image, self.settings.profile, native_qr=data["qr_text"])
        image = self.render(job["kind"], data, job["lang"], self.settings.width_dots)
        return image, self.encode(image, self.settings.profile)

    def print_next(self) -> str:
        """Try the oldest job once: 'idle', 'printed', 'waiting', 'retry' or 'failed'."""
        queue = self.office.printing
        job = queue.next_job(self.printer)
        if job is None:
            return "idle"
        status = self.transport.status()
        self.status.printer = status
        if not status.can_try:
            self._problem("paper out" if status.paper == "out" else
                          "printer offline" if status.online is False else status.detail)
            return "waiting"
        job = queue.mark_printing(job["id"])
        try:
            image, payload = self.render_job(job)
        except (NafithaError, ValueError) as exc:
            message = getattr(exc, "message", str(exc))
            queue.mark_failed(job["id"], f"cannot draw the document: {message}")
            log.error("print job %s (%s) cannot be drawn: %s", job["id"], job["kind"], message)
            self.status.last_error = message
            return "failed"
        name = f"{job['seq']:06d}-{job['kind']}{'-copy' if job['copy'] else ''}"
        try:
            self.transport.send(payload, name, image)
        except PrinterError as exc:
            queue.mark_retry(job["id"], str(exc))
            self.status.last_error = str(exc)
            self._problem(str(exc))
            return "retry"
        queue.mark_done(job["id"], len(payload))
        self._recovered()
        return "printed"

    def drain(self, timeout_s: float = 10.0, retry_s: float = 0.5) -> str:
        """Print until nothing is left (the CLI's `print`); the last outcome. A printer that
        says it is not ready ends it at once (the jobs stay queued); a failed send is tried
        again until timeout_s."""
        deadline = time.monotonic() + timeout_s
        while True:
            outcome = self.print_next()
            if outcome in ("idle", "waiting") or time.monotonic() >= deadline:
                return outcome
            if outcome == "retry":
                self.sleep(retry_s)

    def run(self, stop: threading.Event, idle_s: float = 0.5, max_backoff_s: float = 30.0):
        """The long-running loop (kiosk, counter): backs off while the printer is away."""
        backoff = idle_s
        while not stop.is_set():
            try:
                outcome = self.print_next()
            except Exception:  # noqa: BLE001 - a worker must outlive one bad job
                log.exception("print worker error")
                outcome = "retry"
            if outcome == "printed":
                backoff = idle_s
                continue
            if outcome in ("waiting", "retry"):
                backoff = min(max_backoff_s, backoff * 2)
            else:
                backoff = idle_s
            stop.wait(backoff)


def open_print_worker(office, printer: str = "main") -> tuple["PrintWorker | None", str | None]:
    """The printer of office.settings.printer with its worker, or (None, why) when it cannot
    be used at all (no Raqm, a profile that does not fit, a transport that cannot open)."""
    import dataclasses

    from .transports import open_transport

    settings = office.settings
    try:
        transport = open_transport(dataclasses.asdict(settings.printer), settings.data_dir)
        return PrintWorker(office, transport, printer), None
    except PrinterError as exc:
        log.error("printer unavailable: %s", exc)
        return None, str(exc)
