"""What a kiosk asks of the office: the one interface the kiosk app calls.

A field office runs this in-process (one box, one SQLite file, the embedded default); a
service centre's hub runs it for every paired kiosk, and the kiosk reaches it through the
hub client derived from these declarations (hubclient/). Every operation is safe on a
worker thread (the store serialises access) and raises core errors (NafithaError) on bad
input, having changed nothing. The kiosk acts as its own account (kiosk.account)."""
from __future__ import annotations

from typing import Annotated

from .. import codes
from ..errors import NotFound
from . import Bounds, Code, Fields, Lang, Pin, Query, Text, operation
from .device import DeviceFace

Priority = Annotated[str, Bounds(max_length=20)]


class KioskFace(DeviceFace):
    name = "kiosk"
    roles = ("kiosk",)

    @property
    def account(self) -> str:
        return self.settings.kiosk.account

    # --- queue ------------------------------------------------------------------------------
    # A resident takes a ticket in a few taps: 20 a minute is a family at a time with room
    # to spare, and stops one token emptying a day's numbers in seconds.
    @operation(changes_queue=True, retry="keyed", per_minute=20)
    def take_ticket(self, service: Code, priority: Priority | None = None) -> dict:
        """A queue ticket, with the people ahead and the estimated wait."""
        with self.office.acting_as(self.account):
            return self.office.queue.take_ticket(service, priority, taken_by=self.printer)

    # --- applications -----------------------------------------------------------------------
    @operation(reads=True)
    def check_field(self, service: Code, key: Code, value: Text) -> str:
        """One field's cleaned value, or ValidationError (nothing is stored)."""
        return self.office.applications.check(service, {key: value}).get(key, "")

    @operation(retry="keyed")
    def submit(self, service: Code, fields: Fields) -> dict:
        with self.office.acting_as(self.account):
            return self.office.applications.submit(service, fields)

    @operation(reads=True)
    def application(self, reference: Query) -> dict:
        """An application by its number, or by the code on its slip (NFA:office:number).
        NotFound if there is none; `other_office` set if the slip is another centre's."""
        parsed = codes.parse(reference)
        if parsed is not None:
            kind, office, number = parsed
            if kind != "application":
                raise NotFound("a ticket code, not an application slip")
            if office != self.settings.office.code:
                raise NotFound(f"slip of office {office}", other_office=office)
            reference = number
        return self.office.applications.get(reference.strip().upper())

    @operation(reads=True)
    def find_application(self, typed: Query) -> dict:
        """What a resident types: the whole number, or its last digits (the receipt shows
        the number in large type; the trailing digits are what people copy)."""
        typed = typed.strip().upper()
        try:
            return self.application(typed)
        except NotFound:
            if not typed.isdigit():
                raise
        return self.office.applications.ending_in(int(typed))

    # --- payment and the licence ------------------------------------------------------------
    @operation(retry="keyed", per_minute=10)  # each waits on a card at the terminal
    def record_card_payment(self, application: Code, terminal_ref: Code) -> dict:
        """The terminal approved: record it on the kiosk's own shift (opened on first use).
        Refused (InvalidState, reason already_paid) if the application is already paid:
        never counted twice."""
        with self.office.acting_as(self.account):
            app = self.office.applications.get(application)
            self.office.payments.ensure_shift(self.account, app["currency"])
            return self.office.payments.take(application, "card", self.account,
                                             reference=terminal_ref)

    @operation(retry="keyed")
    def issue_licence(self, application: Code, lang: Lang) -> dict:
        """Issue the licence and queue it on this kiosk's printer, in one transaction: the
        licence with its print job (`print_job`)."""
        with self.office.acting_as(self.account):
            return self.office.printing.issue_licence(application, lang, self.printer)

    # --- printing ---------------------------------------------------------------------------
    @operation(retry="keyed")
    def enqueue_print(self, kind: Code, ref: Code, lang: Lang) -> dict:
        """Queue a ticket, receipt or application slip on this kiosk's printer."""
        return self.office.printing.enqueue(kind, ref, lang=lang, printer=self.printer)

    @operation(retry="safe")
    def abandon_print(self, job_id: Code, reason: Text) -> dict:
        """The resident has been told to see the counter: the job must not print later for
        the next person at the kiosk. The document stays in the store for a reprint."""
        job = self.print_jobs().get(job_id)
        if job["state"] != "done":
            self.office.printing.mark_failed(job_id, reason)
        return self.office.printing.get(job_id)

    # --- staff --------------------------------------------------------------------------------
    @operation(reads=True)
    def check_admin_pin(self, pin: Pin) -> bool:
        """The staff exit: kiosk.admin_pin_hash if set, else any active supervisor's PIN."""
        return self.office.users.staff_exit_pin_matches(pin, self.settings.kiosk.admin_pin_hash)
