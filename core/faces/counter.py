"""What a counter asks of the office: the one interface the counter app calls.

A field office runs this in-process; a service centre's hub runs it for every paired
counter, which reaches it through the hub client derived from these declarations
(hubclient/). Every operation is safe on a worker thread and raises core errors having
changed nothing. Operations are recorded under the clerk who does them (`clerk`, from the
clerk's session over the hub); supervisor operations check the supervisor's PIN here,
whoever is signed in."""
from __future__ import annotations

import typing
from typing import Annotated, Literal

from ..attachments import decode_page, encode_page, sniff
from ..errors import NotFound, PermissionDenied, ValidationError
from . import (PAGE_BODY_BYTES, BatchReport, Bounds, Code, CodeList, Fields, Lang, Minor,
               PageData, Pin, Query, Text, UserName, operation)
from .device import DeviceFace
from .printing import CameOut

# What only a supervisor may do; a clerk's screen asks for a supervisor's name and PIN.
SUPERVISOR_ACTIONS = ("approve", "reject", "void", "revoke")
TICKET_STEPS = ("recall", "no_show", "park", "resume", "finish", "start_serving", "transfer")

Step = Literal["recall", "no_show", "park", "resume", "finish", "start_serving", "transfer"]
Decision = Literal["approve", "reject"]
Method = Literal["cash", "card"]
Reference = Annotated[str, Bounds(max_length=100)]
DocKey = Annotated[str, Bounds(min_length=1, max_length=32)]
MediaType = Annotated[str, Bounds(max_length=40)]
Sha256 = Annotated[str, Bounds(pattern="^[0-9a-f]{64}$")]
PageNumber = Annotated[int, Bounds(ge=1, le=10_000)]
PageSource = Literal["camera", "scanner", "import"]
StateName = Annotated[str, Bounds(min_length=1, max_length=20)]  # core.counter_states.STATES
ReasonName = Annotated[str, Bounds(max_length=20)]  # core.counter_states.REASONS


class CounterFace(DeviceFace):
    name = "counter"
    roles = ("counter",)

    def __init__(self, office, counter: str, services: list[str] | None = None,
                 printer: str = "main"):
        super().__init__(office, printer)
        self.counter = counter
        # The services this counter serves (codes); empty: every service.
        self.counter_services = [office.catalog.get(s).code for s in services or ()]

    @classmethod
    def for_device(cls, office, device: dict) -> "CounterFace":
        return cls(office, device["name"], device["services"], printer=device["name"])

    # --- people -----------------------------------------------------------------------------
    @operation(retry="safe", session="start")
    def sign_in(self, username: UserName, pin: Pin) -> dict:
        """The account, or PermissionDenied (wrong PIN, counted; locked; disabled) or
        NotFound. The kiosk's own account cannot sign in at a counter."""
        username = (username or "").strip().lower()
        if not username:
            raise ValidationError("user name is empty", field="username", problem="required")
        if not pin:
            raise ValidationError("PIN is empty", field="pin", problem="required")
        if username == self.settings.kiosk.account:
            raise PermissionDenied("the kiosk's account cannot sign in at a counter",
                                   reason="not_staff")
        account = self.office.users.authenticate(username, pin)
        with self.office.acting_as(account["username"]):  # the counter opens (counter_states)
            self.office.counter_states.signed_in(self.counter)
        return account

    @operation(who="clerk", retry="safe", session="end")
    def sign_out(self, clerk: str) -> dict:
        """The counter closes (over the hub the clerk's session ends too)."""
        with self.office.acting_as(clerk):
            self.office.counter_states.signed_out(self.counter)
        return {"ok": True}

    # --- the counter's state: open, on a break, in back-office work --------------------------
    @operation(who="session", reads=True)
    def counter_state(self) -> dict:
        """This counter's state: {counter, state, clerk, reason, note, since}."""
        return self.office.counter_states.get(self.counter)

    @operation(who="clerk", changes_queue=True, retry="keyed")  # the manager's page hears
    def set_counter_state(self, clerk: str, state: StateName, reason: ReasonName | None = None,
                          note: Text | None = None) -> dict:
        """open (back to serving), break or back_office with a reason (core/counter_states.py
        REASONS; "other" with a note). Refused while a ticket is called or served here."""
        with self.office.acting_as(clerk):
            return self.office.counter_states.set(self.counter, state, reason, note)

    # --- queue ------------------------------------------------------------------------------
    @operation(reads=True)
    def queue_overview(self) -> list[dict]:
        """Waiting tickets per service: how many, the longest wait in minutes, the next."""
        return self.office.queue.overview()

    @operation(who="session", reads=True)
    def my_tickets(self) -> list[dict]:
        """Tickets at this counter now: called, serving or parked."""
        return self.office.queue.at_counter(self.counter)

    @operation(who="clerk", changes_queue=True, retry="keyed")
    def call_next(self, clerk: str, services: CodeList | None = None) -> dict | None:
        """The next waiting ticket of `services` (default: all this counter serves). A
        service this counter does not serve is refused (PermissionDenied)."""
        wanted = [self.office.catalog.get(s).code for s in services or ()]
        if self.counter_services:
            foreign = [s for s in wanted if s not in self.counter_services]
            if foreign:
                raise PermissionDenied(f"counter {self.counter} does not serve "
                                       f"{', '.join(foreign)}", reason="service_not_served",
                                       service=foreign[0])
            wanted = wanted or self.counter_services
        with self.office.acting_as(clerk):
            return self.office.queue.call_next(self.counter, wanted or None)

    @operation(who="clerk", changes_queue=True, retry="keyed")
    def ticket_step(self, clerk: str, step: Step, ticket: Code,
                    service: Code | None = None) -> dict:
        """recall, no_show, park, resume, finish, start_serving, or transfer to `service`."""
        if step not in TICKET_STEPS:
            raise ValidationError(f"no ticket step {step!r}", field="step")
        if step == "transfer" and not service:
            raise ValidationError("a transfer names the service", field="service")
        queue = self.office.queue
        with self.office.acting_as(clerk):
            if step == "recall":
                return queue.recall(ticket, self.counter)
            if step == "resume":
                return queue.resume(ticket, self.counter)
            if step == "transfer":
                return queue.transfer(ticket, service)
            return getattr(queue, step)(ticket)

    @operation(who="session", reads=True)
    def ticket_application(self, ticket: Code) -> dict | None:
        """The application made for a ticket, if any."""
        number = self.office.applications.latest_for_ticket(ticket)
        return self.application(number) if number else None

    # --- applications -----------------------------------------------------------------------
    @operation(who="session", reads=True)
    def application(self, number: Query) -> dict:
        """The application with its live payment, its bill (core/bills.py) and its licence
        (None when there is none)."""
        app = self.office.applications.get(number)
        app["payment"] = self.office.payments.live_for(app["id"])
        app["bill"] = self.office.bills.for_application(app["id"])
        app["licence"] = self.office.licences.summary_for(app["id"])
        return app

    @operation(who="session", reads=True)
    def find(self, query: Query) -> list[dict]:
        """What a clerk types or scans: an application number (or its last digits), a
        national ID, an application slip's code or a ticket's code."""
        return [self.application(number) for number in
                self.office.applications.search(query, self.settings.office.code)]

    @operation(who="session", reads=True)
    def find_by_name(self, name: Query) -> list[dict]:
        """Applications whose holder's name holds every word typed (Arabic or English,
        spelling variants forgiven), newest first, at most 20."""
        return [self.application(number)
                for number in self.office.applications.find_by_name(name)]

    @operation(reads=True)
    def check_fields(self, service: Code, values: Fields) -> dict:
        """The cleaned values, or ValidationError for the first bad one (nothing stored)."""
        return self.office.applications.check(service, values)

    @operation(who="clerk", retry="keyed")
    def submit(self, clerk: str, service: Code, fields: Fields,
               ticket: Code | None = None) -> dict:
        with self.office.acting_as(clerk):
            app = self.office.applications.submit(service, fields, ticket=ticket,
                                                  channel="counter")
        return self.application(app["number"])

    @operation(who="supervisor", retry="keyed")
    def decide(self, supervisor: UserName, pin: Pin, decision: Decision, application: Code,
               reason: Text) -> dict:
        """approve or reject, authorised by a supervisor (their PIN is checked here)."""
        apps = self.office.applications
        with self.office.as_supervisor(supervisor, pin):
            if decision == "approve":
                apps.approve(application, reason=reason or None)
            elif decision == "reject":
                apps.reject(application, reason)
            else:
                raise ValidationError(f"no decision {decision!r}", field="decision")
        return self.application(application)

    # --- supporting documents ---------------------------------------------------------------
    @operation(who="session", reads=True)
    def document_checklist(self, application_id: Code) -> list[dict]:
        """Each document the application's service asks for, with its pages and the back
        office's open request for it (None when there is none)."""
        return self.office.attachments.checklist(application_id)

    @operation(who="clerk", retry="keyed", max_body=PAGE_BODY_BYTES)
    def add_document_page(self, clerk: str, application_id: Code, doc_key: DocKey,
                          data: PageData, media_type: MediaType, source: PageSource) -> dict:
        """Add a page (base64 JPEG, PNG or WebP, at most 2 MB) to one of the application's
        documents, recorded under the clerk; it answers the back office's open request for
        that document. Refused, changing nothing: a document the service does not ask for,
        bytes that are not that image, a page or an application over its limit, a full
        disk."""
        if source not in typing.get_args(PageSource):  # the kiosk's is the kiosk's own
            raise ValidationError(f"a counter's page comes from one of "
                                  f"{', '.join(typing.get_args(PageSource))}", field="source",
                                  reason="unknown_source")
        page = decode_page(data)
        return self.office.attachments.add_page(application_id, doc_key, page, media_type,
                                                source, clerk)

    @operation(who="clerk", retry="keyed")
    def remove_document_page(self, clerk: str, application_id: Code, doc_key: DocKey,
                             page: PageNumber) -> dict:
        """Take a page off a document (a retake), recorded under the clerk; NotFound when
        there is no such page (removing it twice included)."""
        return self.office.attachments.remove_page(application_id, doc_key, page, clerk)

    @operation(who="session", reads=True)
    def document_page(self, application_id: Code, sha256: Sha256) -> dict:
        """A page's file, checked against its SHA-256: {media_type, data (base64)}. Only
        a page of that application (NotFound otherwise)."""
        attachments = self.office.attachments
        if not attachments.has_page(application_id, sha256):
            raise NotFound("no such page of this application", sha256=sha256)
        data = attachments.read(sha256)  # checked against its hash: an image we took
        return {"media_type": sniff(data), "data": encode_page(data)}

    # --- payments and shifts ----------------------------------------------------------------
    @operation(who="clerk", retry="keyed")
    def take_payment(self, clerk: str, application: Code, method: Method,
                     tendered_minor: Minor | None = None,
                     reference: Reference | None = None) -> dict:
        with self.office.acting_as(clerk):
            return self.office.payments.take(application, method, clerk,
                                             tendered_minor=tendered_minor,
                                             reference=reference)

    @operation(who="supervisor", retry="keyed")
    def void_payment(self, supervisor: UserName, pin: Pin, receipt: Code,
                     reason: Text) -> dict:
        return self.office.payments.void(receipt, supervisor, pin, reason)

    @operation(who="clerk", retry="keyed")
    def open_shift(self, clerk: str, float_minor: Minor) -> dict:
        return self.office.payments.open_shift(clerk, float_minor, self.currency())

    @operation(who="clerk", reads=True)
    def current_shift(self, clerk: str) -> dict | None:
        return self.office.payments.open_shift_of(clerk)

    @operation(who="clerk", retry="keyed")
    def close_shift(self, clerk: str, counted_minor: Minor,
                    card_report: BatchReport | None = None) -> dict:
        """Close the clerk's shift with the cash counted; with the card terminal's batch
        report, its card payments are reconciled in the same transaction (the Z report's
        `card_check`)."""
        return self.office.payments.close_shift(clerk, counted_minor, card_report)

    @operation(who="session", reads=True)
    def z_report(self, shift: Code) -> dict:
        return self.office.payments.z_report(shift)

    # --- licences ---------------------------------------------------------------------------
    @operation(who="clerk", retry="keyed")
    def issue_licence(self, clerk: str, application: Code, lang: Lang) -> dict:
        """Issue the licence and queue it on this counter's printer, in one transaction: the
        licence with its print job (`print_job`)."""
        with self.office.acting_as(clerk):
            return self.office.printing.issue_licence(application, lang, self.printer)

    @operation(who="clerk", retry="keyed")
    def reprint_licence(self, clerk: str, licence: Code, reason: Text, lang: Lang) -> dict:
        """A COPY, counted and audited on the licence and queued in one transaction: the
        licence with its print job (`print_job`)."""
        with self.office.acting_as(clerk):
            return self.office.printing.reprint_licence(licence, reason, lang, self.printer)

    @operation(who="clerk", retry="keyed", scope="own_printer")
    def answer_print(self, clerk: str, job_id: Code, came_out: CameOut) -> dict:
        """The clerk says whether a licence came out of this counter's printer after it
        stopped mid-print (yes: done, no: the original prints, unsure: a later print is a
        COPY); audited under the clerk (print.answered)."""
        with self.office.acting_as(clerk):
            return self.office.printing.answer(job_id, came_out, printer=self.printer)

    @operation(who="supervisor", retry="keyed")
    def revoke_licence(self, supervisor: UserName, pin: Pin, licence: Code,
                       reason: Text) -> dict:
        with self.office.as_supervisor(supervisor, pin):
            return self.office.licences.revoke(licence, reason)

    # --- printing ---------------------------------------------------------------------------
    @operation(retry="keyed")
    def enqueue_print(self, kind: Code, ref: Code, lang: Lang, copy: bool = False) -> dict:
        """Queue a receipt, slip or Z report (copy: marked COPY) on this counter's printer."""
        return self.office.printing.enqueue(kind, ref, lang=lang, copy=copy,
                                            printer=self.printer)
