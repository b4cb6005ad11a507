"""A device's own print queue, as its print worker drains it (devices/printing/worker.py):
the same in-process and through the hub, where each kiosk and counter sees only its own
jobs (the hub keeps them durable; the device draws and prints them)."""
from __future__ import annotations

from typing import Annotated

from ..errors import InvalidState, PermissionDenied
from . import Bounds, Code, Face, Text, operation

Bytes = Annotated[int, Bounds(ge=0, le=10 ** 9)]
CameOut = Annotated[str, Bounds(pattern="^(yes|no|unsure)$")]


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

    def _own_unprinted(self, job_id: str) -> dict:
        """A job that printed is not sent again, nor made to look unprinted: a licence's
        original would print twice (a further print is a counted, audited COPY)."""
        job = self._own(job_id)
        if job["state"] == "done":
            raise InvalidState(f"print job {job['seq']} has printed; it does not print again "
                               f"(a reprint is a new, counted job)", reason="printed",
                               state="done")
        return job

    @operation(reads=True, scope="own_printer")
    def next_job(self) -> dict | None:
        """This printer's oldest job still to print (tickets nobody waits for expire)."""
        return self.office.printing.next_job(self.printer)

    @operation(retry="safe", scope="own_printer")
    def recover(self) -> list[dict]:
        """At start: this printer's licences a stopped process may have printed, waiting for
        the person at the printer to say whether they came out (each with its
        `licence_number`); the device's face records the answer (answer_print)."""
        return self.office.printing.recover(self.printer)

    @operation(reads=True, scope="own_printer")
    def get(self, job_id: Code) -> dict:
        return self._own(job_id)

    @operation(reads=True, scope="own_printer")
    def document(self, job_id: Code) -> dict:
        """What the job's paper says (the device draws and prints it)."""
        return self.office.job_document(self._own(job_id))

    @operation(retry="safe", scope="own_printer")
    def mark_printing(self, job_id: Code) -> dict:
        self._own(job_id)
        return self.office.printing.mark_printing(job_id)

    @operation(retry="safe", scope="own_printer")
    def mark_done(self, job_id: Code, size: Bytes) -> dict:
        self._own(job_id)
        self.office.printing.mark_done(job_id, size)
        return self.office.printing.get(job_id)

    @operation(retry="safe", scope="own_printer")
    def mark_retry(self, job_id: Code, error: Text) -> dict:
        """The printer did not take it: it prints once the printer is back."""
        self._own_unprinted(job_id)
        self.office.printing.mark_retry(job_id, error)
        return self.office.printing.get(job_id)

    @operation(retry="safe", scope="own_printer")
    def mark_failed(self, job_id: Code, error: Text) -> dict:
        """It can never print (the document cannot be drawn): stop retrying."""
        self._own_unprinted(job_id)
        self.office.printing.mark_failed(job_id, error)
        return self.office.printing.get(job_id)
