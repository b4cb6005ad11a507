"""The counter's devices: its receipt and licence printer, and its camera.

Unlike the kiosk (now or never), the counter's printer works through the durable queue: a
job waits while the printer is out of paper or offline and prints once it is back, because
the clerk is still there to hand it over. The printer's loop (devices.printing.worker
.printer_loop, a core.coordinator loop) drains the queue; a new job wakes it at once."""
from __future__ import annotations

import logging
from pathlib import Path

from ui.scanner import CameraScanner

log = logging.getLogger("nafitha.counter")

IDLE_S = 0.5
MAX_BACKOFF_S = 10.0


class CounterDevices:
    """printer: a devices.printing PrintWorker, or None (printing unavailable, with
    printer_problem saying why); print_language: the language documents are printed in."""

    def __init__(self, backend, printer=None, scanner_spec=None, scanner_size=(1280, 720),
                 debounce_s: float = 2.0, printer_problem: str | None = None,
                 print_language: str | None = None, document_scanner=None,
                 import_folder: str = ""):
        from devices.printing.worker import printer_loop

        self.backend = backend
        self.printer = printer
        self.printer_problem = printer_problem
        self.print_language = print_language
        self.camera = CameraScanner(scanner_spec, scanner_size, debounce_s)
        # Supporting documents: a document scanner (devices.documents.scanner) or None, and
        # the folder files are imported from (where a USB stick is mounted).
        self.document_scanner = document_scanner
        self.import_folder = import_folder
        self.loop = printer_loop(printer, IDLE_S, MAX_BACKOFF_S) if printer is not None \
            else None
        self.printed = 0  # jobs printed since start (status and benchmark)
        self.on_printed = None  # called (printer thread) after each printed job
        if printer is not None:
            printer.on_printed = self._printed

    @classmethod
    def from_settings(cls, backend) -> "CounterDevices":
        from devices.printing.worker import open_print_worker

        settings = backend.settings
        printer, problem = open_print_worker(backend.print_jobs())
        sc = settings.scanner
        # documents.scanner / documents.import_folder (core/settings.py DocumentSettings).
        documents = settings.documents
        return cls(backend, printer, sc.source, (sc.width, sc.height), sc.debounce_s,
                   printer_problem=problem, print_language=settings.printer.language,
                   document_scanner=open_document_scanner(documents.scanner),
                   import_folder=documents.import_folder)

    # --- printing -------------------------------------------------------------------------
    def start(self) -> None:
        if self.loop is not None and not self.loop.started:
            self.loop.start()

    def _printed(self) -> None:
        self.printed += 1
        if self.on_printed is not None:
            self.on_printed()

    def print_document(self, kind: str, ref: str, lang: str, copy: bool = False) -> dict:
        """Queue the document durably; the printer's loop prints it as soon as it can."""
        return self.queued(self.backend.enqueue_print(kind, ref, lang, copy=copy))

    def queued(self, job: dict) -> dict:
        """A job is in the queue (queued with what it prints, e.g. an issued licence):
        print it now rather than at the loop's next look."""
        if self.loop is not None:
            self.loop.wake()
        return job

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

    # --- supporting documents -------------------------------------------------------------
    @property
    def has_document_scanner(self) -> bool:
        return self.document_scanner is not None

    def scan_document(self):
        """One page from the document scanner (a BGR picture; a worker calls this: a scan
        takes seconds). DeviceError when there is none or it fails."""
        from devices.scanning.capture import ScannerError

        if self.document_scanner is None:
            raise ScannerError("no document scanner is configured")
        return self.document_scanner.scan()

    def close(self) -> None:
        self.close_scanner()
        if self.loop is not None:
            self.loop.stop()
        if self.printer is not None:
            self.printer.transport.close()


def open_document_scanner(spec: str):
    """documents.scanner: "" none; "fake:<image or folder>" a recording fake that scans
    those pictures in turn (tests, demos); otherwise a SANE device name
    ("epson2:libusb:001:004"), opened at the first scan."""
    spec = (spec or "").strip()
    if not spec:
        return None
    if spec.startswith("fake:"):
        from devices.documents.scanner import FakeScanner
        from devices.scanning.capture import FolderSource, ImageSource
        path = Path(spec[len("fake:"):])
        source = FolderSource(path) if path.is_dir() else ImageSource(path)
        return FakeScanner(list(iter(source.read, None)))
    from devices.documents.scanner import SaneScanner
    return SaneScanner(spec)
