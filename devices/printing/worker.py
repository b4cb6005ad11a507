"""One worker per printer: takes durable jobs in order, asks the printer's status where it
can, prints, and marks a job done only after the transport took every byte.

Paper out or offline: the job waits (the UI shows `status`). A failed send puts the job back
to pending, so it prints once when the printer returns. A counter runs the worker in a
core.coordinator loop (`printer_loop`), which backs off while the printer is away and logs
once when it fails and once when it recovers; a kiosk polls the same loop one step at a
time while its resident waits."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from core.coordinator import IDLE, Coordinator, Unavailable
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
    """jobs: the device's own print queue, core.faces.printing.PrintJobs in-process or the hub
    client's RemotePrintJobs (next_job, get, document, mark_printing/done/retry/failed);
    its .settings.printer says how to draw and encode for this printer."""

    def __init__(self, jobs, transport: Transport, render_fn=render, encode_fn=raster_job,
                 sleep=time.sleep):
        self.jobs = jobs
        self.transport = transport
        self.printer = jobs.printer
        self.settings = jobs.settings.printer
        self.render = render_fn
        self.encode = encode_fn
        self.sleep = sleep
        self.status = WorkerStatus()
        self.on_printed = None  # called after each printed job (the counter's status bar)
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

    def render_job(self, job: dict):
        data = self.jobs.document(job["id"])
        if self.settings.native_qr:
            image = self.render(job["kind"], data, job["lang"], self.settings.width_dots,
                                without_qr=True)
            return image, self.encode(image, self.settings.profile, native_qr=data["qr_text"])
        image = self.render(job["kind"], data, job["lang"], self.settings.width_dots)
        return image, self.encode(image, self.settings.profile)

    def print_next(self) -> str:
        """Try the oldest job once: 'idle', 'printed', 'waiting', 'retry' or 'failed'."""
        queue = self.jobs
        job = queue.next_job()
        if job is None:
            return "idle"
        status = self.transport.status()
        self.status.printer = status
        if not status.can_try:
            self.status.waiting_for = "paper out" if status.paper == "out" else \
                "printer offline" if status.online is False else status.detail
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
            queue.mark_retry(job["id"], str(exc)[:500])
            self.status.last_error = self.status.waiting_for = str(exc)
            return "retry"
        queue.mark_done(job["id"], len(payload))
        self.status.waiting_for = None
        if self.on_printed is not None:
            self.on_printed()
        return "printed"

    def poll(self):
        """One job, for a core.coordinator loop: IDLE when none is waiting; Unavailable
        while the printer cannot take it (the job waits)."""
        outcome = self.print_next()
        if outcome in ("waiting", "retry"):
            raise Unavailable(self.status.waiting_for or "the printer did not take the job")
        return IDLE if outcome == "idle" else outcome

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


def printer_loop(worker: PrintWorker, idle_s: float = 0.5, max_backoff_s: float = 10.0,
                 sleep=None) -> Coordinator:
    """The worker's loop (not started): a job after another, idle_s between looks while the
    queue is empty (wake() when a job is queued), backing off while the printer is away.
    sleep: tests record the waits instead."""
    return Coordinator(f"printer {worker.printer}", worker.poll, log, idle_s=idle_s,
                       retry_s=idle_s, max_backoff_s=max_backoff_s, sleep=sleep)


def open_print_worker(jobs) -> tuple["PrintWorker | None", str | None]:
    """The printer of jobs.settings.printer with its worker, or (None, why) when it cannot
    be used at all (no Raqm, a profile that does not fit, a transport that cannot open)."""
    import dataclasses

    from .transports import open_transport

    settings = jobs.settings
    try:
        transport = open_transport(dataclasses.asdict(settings.printer), settings.data_dir)
        return PrintWorker(jobs, transport), None
    except PrinterError as exc:
        log.error("printer unavailable: %s", exc)
        return None, str(exc)
