"""A device's own print queue, as its print worker drains it (devices/printing/worker.py):
the same in-process and through the hub, where each kiosk and counter sees only its own
jobs (the hub keeps them durable; the device draws and prints them)."""
from __future__ import annotations

from typing import Annotated

from ..errors import PermissionDenied
from . import Bounds, Code, Face, Text, operation

Bytes = Annotated[int, Bounds(ge=0, le=10 ** 9)]


class PrintJobs(Face):
    name = "print"
    roles = ("kiosk", "counter")

    def __init__(self, office, printer: str = "main"):
        self.office = office
        self.settings = office.settings
        self.printer = printer

    @classmethod
    def for_device(cls, office, device: dict) -> "PrintJobs":
        return cls(office, device["name"])

    def _own(self, job_id: str) -> dict:
        job = self.office.printing.get(job_id)
        if job["printer"] != self.printer:
            raise PermissionDenied("another device's print job", reason="not_yours")
        return job

    @operation(reads=True)
    def next_job(self) -> dict | None:
        """This printer's oldest job still to print (tickets nobody waits for expire)."""
        return self.office.printing.next_job(self.printer)

    @operation(reads=True)
    def get(self, job_id: Code) -> dict:
        return self._own(job_id)

    @operation(reads=True)
    def document(self, job_id: Code) -> dict:
        """What the job's paper says (the device draws and prints it)."""
        return self.office.job_document(self._own(job_id))

    @operation(retry="safe")
    def mark_printing(self, job_id: Code) -> dict:
        self._own(job_id)
        return self.office.printing.mark_printing(job_id)

    @operation(retry="safe")
    def mark_done(self, job_id: Code, size: Bytes) -> dict:
        self._own(job_id)
        self.office.printing.mark_done(job_id, size)
        return self.office.printing.get(job_id)

    @operation(retry="safe")
    def mark_retry(self, job_id: Code, error: Text) -> dict:
        """The printer did not take it: it prints once the printer is back."""
        self._own(job_id)
        self.office.printing.mark_retry(job_id, error)
        return self.office.printing.get(job_id)

    @operation(retry="safe")
    def mark_failed(self, job_id: Code, error: Text) -> dict:
        """It can never print (the document cannot be drawn): stop retrying."""
        self._own(job_id)
        self.office.printing.mark_failed(job_id, error)
        return self.office.printing.get(job_id)
