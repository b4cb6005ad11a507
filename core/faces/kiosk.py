"""What a kiosk asks of the office: the one interface the kiosk app calls.

A field office runs this in-process (one box, one SQLite file, the embedded default); a
service centre's hub runs it for every paired kiosk, and the kiosk reaches it through the
hub client derived from these declarations (hubclient/). Every operation is safe on a
worker thread (the store serialises access) and raises core errors (NafithaError) on bad
input, having changed nothing. The kiosk acts as its own account (kiosk.account); its card
payments are its own cashier's (KioskFace.cashier): one shift per kiosk, reconciled against
that kiosk's own terminal.

Least privilege (docs/hub.md, "What each device may see and do"): a kiosk sees of an
application only what the resident in front of it is shown (resident_view), and prints
only what its own current journey produced (Journeys): the same rules in-process and
through the hub, where one kiosk's token is all an intruder on the LAN may hold."""
from __future__ import annotations

import hmac
import threading
import weakref
from datetime import datetime, timedelta
from typing import Annotated

from .. import bill_numbers, codes, documents, ticket_limits
from ..applications import resident_view
from ..attachments import decode_page
from ..clock import iso
from ..errors import (InvalidState, NafithaError, NotFound, PermissionDenied,
                      ValidationError)
from ..payments import kiosk_cashier
from ..printing import KINDS as PRINT_KINDS
from ..sealing import PersonalDataGone
from . import (PAGE_BODY_BYTES, BatchReport, Bounds, Code, Fields, Lang, PageData, Pin, Query,
               Text, operation)
from .device import DeviceFace
from .printing import CameOut

Priority = Annotated[str, Bounds(max_length=20)]
DocKey = Annotated[str, Bounds(min_length=1, max_length=32)]
MediaType = Annotated[str, Bounds(max_length=40)]
NationalId = Annotated[str, Bounds(max_length=32)]

# A kiosk's journey: what it produced or took up in the last JOURNEY_MINUTES (a resident's
# whole visit, a slow card payment included, is far shorter; the kiosk wipes a visit after
# about a minute untouched). Only that may print there.
JOURNEY_MINUTES = 15
# What a kiosk prints with enqueue_print. A licence's original comes only with
# issue_licence; its copies, Z reports and test pages are the counter's.
KIOSK_PRINTS = ("ticket", "application", "receipt")
# Application look-ups a minute from one kiosk: a resident types a number or shows a slip
# now and then; walking the numbers is slowed to what a person could do at the screen.
LOOKUPS_PER_MINUTE = 10
# Why a licence cannot be collected at the kiosk (collect_licence), by application state; a
# licence already issued is `already_issued` whatever the state says.
COLLECT_REFUSALS = {"draft": "unknown", "submitted": "not_paid", "paid": "not_approved",
                    "withdrawn": "cancelled", "rejected": "rejected",
                    "issued": "already_issued"}


class Journeys:
    """What each kiosk's current journey produced or took up, by device (its printer's
    name), in this process's memory: the hub's for its kiosks, a field office's kiosk its
    own. Kinds: `ticket` (taken here), `submitted` (an application submitted here),
    `followed` (an application looked up here). Each is remembered from the first time in
    the journey, and forgotten JOURNEY_MINUTES later. A hub restarted mid-journey forgets
    them: that resident's paper is printed at the counter."""

    def __init__(self):
        self._lock = threading.Lock()
        self._seen: dict[str, dict[tuple[str, str], datetime]] = {}

    @classmethod
    def of(cls, office) -> Journeys:
        """The journeys of one office (one per process: the hub builds a face per request)."""
        with _JOURNEYS_LOCK:
            journeys = _JOURNEYS.get(office)
            if journeys is None:
                journeys = _JOURNEYS[office] = cls()
            return journeys

    def note(self, device: str, kind: str, ref_id: str, now: datetime) -> None:
        with self._lock:
            self._current(device, now).setdefault((kind, ref_id), now)

    def since(self, device: str, kinds: tuple[str, ...], ref_id: str,
              now: datetime) -> datetime | None:
        """When this device's current journey first took `ref_id` up as one of `kinds`."""
        with self._lock:
            seen = self._current(device, now)
            times = [seen[(kind, ref_id)] for kind in kinds if (kind, ref_id) in seen]
            return min(times) if times else None

    def _current(self, device: str, now: datetime) -> dict:
        seen = self._seen.setdefault(device, {})
        cutoff = now - timedelta(minutes=JOURNEY_MINUTES)
        for key in [key for key, at in seen.items() if at < cutoff]:
            del seen[key]
        return seen


_JOURNEYS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # office -> Journeys
_JOURNEYS_LOCK = threading.Lock()


def _refused(reason: str, app: dict, bill: str | None = None) -> InvalidState:
    """A licence not collected, and why (COLLECT_REFUSALS); `bill`: the open bill's number
    the resident pays it with."""
    return InvalidState(f"the licence of application {app['number']} cannot be collected: "
                        f"{reason.replace('_', ' ')}", reason=reason, state=app["state"],
                        **({"bill": bill} if bill else {}))


def _unknown() -> NotFound:
    """No such application or bill, or a national ID not the applicant's: one answer."""
    return NotFound("no such application or bill here, or the national ID is not the "
                    "applicant's", reason="unknown")


def not_your_journey(what: str) -> PermissionDenied:
    return PermissionDenied(f"{what} is not of this kiosk's current journey: a kiosk prints "
                            f"only what it produced in the last {JOURNEY_MINUTES} minutes",
                            reason="not_your_journey")


class KioskFace(DeviceFace):
    name = "kiosk"
    roles = ("kiosk",)

    @property
    def account(self) -> str:
        return self.settings.kiosk.account

    @property
    def cashier(self) -> str:
        """Who takes this kiosk's card payments, on whose shift, as the audit says: the
        account and the device (`kiosk:kiosk-1` for the hub's kiosk-1; never a user name,
        which has no ':'), so each kiosk closes and reconciles its own shift against its own
        terminal, and a payment names the kiosk that recorded it. A field office's one
        kiosk (printer "main", the name no paired device may take) is plain kiosk.account."""
        return kiosk_cashier(self.account, self.printer)

    # --- this kiosk's journey ---------------------------------------------------------------
    def _note(self, kind: str, ref_id: str) -> None:
        Journeys.of(self.office).note(self.printer, kind, ref_id, self.office.store.clock.now())

    def _taken_up(self, kinds: tuple[str, ...], ref_id: str) -> datetime | None:
        return Journeys.of(self.office).since(self.printer, kinds, ref_id,
                                              self.office.store.clock.now())

    def _paid_here(self, application_id: str, payment: dict | None = None) -> bool:
        """Whether the application's payment (its live one unless given) was recorded by
        this kiosk during its journey with it: a card payment of this kiosk's cashier, taken
        after this journey submitted or looked up the application."""
        payment = payment or self.office.payments.live_for(application_id)
        taken_up = self._taken_up(("submitted", "followed"), application_id)
        return (payment is not None and taken_up is not None and not payment["voided_at"]
                and payment["application_id"] == application_id
                and payment["method"] == "card" and payment["clerk"] == self.cashier
                and payment["taken_at"] >= iso(taken_up))

    def _in_journey(self, kind: str, ref: str) -> bool:
        """Whether this kiosk's current journey produced the document: a ticket it took,
        the slip of an application submitted here, the receipt of a payment made here. An
        unknown reference is not in it (a kiosk learns nothing of others' documents)."""
        try:
            if kind == "ticket":
                ticket_id = self.office.queue.ticket_row(ref)["id"]
                return self._taken_up(("ticket",), ticket_id) is not None
            if kind == "application":
                app_id = self.office.applications.row(ref)["id"]
                return self._taken_up(("submitted",), app_id) is not None
            if kind == "receipt":
                payment = self.office.payments.get(ref)
                return self._paid_here(payment["application_id"], payment)
        except NotFound:
            return False
        return False

    # --- queue ------------------------------------------------------------------------------
    # A resident takes a ticket in a few taps: 20 a minute is a family at a time with room
    # to spare, and stops one token emptying a day's numbers in seconds.
    @operation(changes_queue=True, retry="keyed", per_minute=20)
    def take_ticket(self, service: Code, priority: Priority | None = None) -> dict:
        """A queue ticket, with the people ahead and the estimated wait."""
        with self.office.acting_as(self.account):
            ticket = self.office.queue.take_ticket(service, priority, taken_by=self.printer,
                                                    channel="kiosk")
        self._note("ticket", ticket["id"])
        return ticket

    # A resident checks in once; wrong IDs are guessed: as slowly as the look-ups.
    @operation(changes_queue=True, retry="keyed", per_minute=LOOKUPS_PER_MINUTE)
    def check_in_appointment(self, reference: Query, national_id: NationalId) -> dict:
        """Check in an appointment booked at central: `reference` is the booking's QR text
        (NFB:office:reference) or its typed reference, `national_id` the one it was booked
        with. The ticket (as take_ticket) queued at the slot's start, with `appointment`
        {reference, shown, slot_start, slot_end}; it prints like any ticket of this kiosk.
        Refused, changing nothing (core/appointments.py): ValidationError (reason
        malformed_reference, bad_check_character; problem national_id_format or
        national_id_check), NotFound (reason unknown_booking, other_office),
        PermissionDenied (reason national_id_mismatch), InvalidState (reason
        appointment_cancelled, already_checked_in, too_early with opens_at,
        appointment_missed)."""
        with self.office.acting_as(self.account):
            ticket = self.office.appointments.check_in(reference, national_id,
                                                       taken_by=self.printer)
        self._note("ticket", ticket["id"])
        return ticket

    @operation(reads=True)
    def services_today(self) -> list[dict]:
        """Whether each offered service still gives tickets today: {service, state (open,
        full: its daily cap is reached, closed: past its cut-off), daily_cap, taken,
        cutoff} (core/ticket_limits.py); the service list shows a finished one as such."""
        return ticket_limits.offered_today(self.office)

    @operation(reads=True)
    def service_usage(self) -> dict:
        """How often each service was used in the last 30 days ({code: n}: tickets and
        applications without one); the kiosk lists services most used first."""
        return self.office.queue.service_usage()

    # --- applications -----------------------------------------------------------------------
    @operation(reads=True)
    def check_field(self, service: Code, key: Code, value: Text) -> str:
        """One field's cleaned value, or ValidationError (nothing is stored)."""
        return self.office.applications.check(service, {key: value}).get(key, "")

    @operation(retry="keyed", scope="resident_view")
    def submit(self, service: Code, fields: Fields) -> dict:
        """Submit the resident's form: the application as the resident is shown it
        (resident_view; the kiosk has the values it sent)."""
        with self.office.acting_as(self.account):
            app = self.office.applications.submit(service, fields, channel="kiosk")
        self._note("submitted", app["id"])
        return self._shown(app)

    @operation(reads=True, scope="resident_view", per_minute=LOOKUPS_PER_MINUTE)
    def application(self, reference: Query) -> dict:
        """An application by its number, or by the code on its slip (NFA:office:number), as
        the resident is shown it (resident_view: no name, national ID, phone or address).
        NotFound if there is none; `other_office` set if the slip is another centre's."""
        row = self._application_row(reference)
        self._note("followed", row["id"])
        return self._shown(row)

    @operation(reads=True, scope="resident_view", per_minute=LOOKUPS_PER_MINUTE)
    def find_application(self, typed: Query) -> dict:
        """What a resident types: the whole number, or its last digits (the receipt shows
        the number in large type; the trailing digits are what people copy), as the
        resident is shown it. The digits are the number's sequence, leading zeros or not;
        they must name exactly one application (NotFound otherwise)."""
        typed = typed.strip().upper()
        try:
            row = self._application_row(typed)
        except NotFound:
            if not typed.isdigit():
                raise
            row = self.office.applications.ending_in(int(typed))
        self._note("followed", row["id"])
        return self._shown(row)

    def _shown(self, app: dict) -> dict:
        """resident_view with the application's bill (what the resident pays later with)."""
        return resident_view({**app, "bill": self.office.bills.for_application(app["id"])})

    def _application_row(self, reference: str) -> dict:
        parsed = codes.parse(reference)
        if parsed is not None:
            kind, office, number = parsed
            if kind != "application":
                raise NotFound("a ticket code, not an application slip")
            if office != self.settings.office.code:
                raise NotFound(f"slip of office {office}", other_office=office)
            reference = number
        return self.office.applications.row(reference.strip().upper())

    # --- supporting documents ---------------------------------------------------------------
    # A resident holds each page to the camera: a few a minute, with room for retakes.
    @operation(retry="keyed", scope="own_journey", per_minute=30, max_body=PAGE_BODY_BYTES)
    def add_document_page(self, application: Code, doc_key: DocKey, data: PageData,
                          media_type: MediaType) -> dict:
        """Add a page the resident held to the camera (base64 JPEG, PNG or WebP) to a
        document the service lets residents capture at the kiosk, of the application this
        kiosk submitted in its current journey (PermissionDenied otherwise: reason
        not_at_kiosk, not_your_journey). The page's number and hash, nothing personal."""
        try:
            app = self.office.applications.row(application)
        except NotFound:
            raise not_your_journey(f"application {application}") from None
        if self._taken_up(("submitted",), app["id"]) is None:
            raise not_your_journey(f"application {application}")
        document = self.office.catalog.get(app["service_code"]).document(doc_key)
        if not document.at_kiosk:
            raise PermissionDenied(f"{document.en} is captured at the counter, not at a kiosk",
                                   reason="not_at_kiosk", doc_key=doc_key)
        page = decode_page(data)
        return self.office.attachments.add_page(app["id"], doc_key, page, media_type,
                                                "kiosk", self.account)

    # --- payment and the licence ------------------------------------------------------------
    @operation(retry="keyed", per_minute=10)  # each waits on a card at the terminal
    def record_card_payment(self, application: Code, terminal_ref: Code) -> dict:
        """The terminal approved: record it on this kiosk's own shift (its cashier's, opened
        on first use), for the application's fee (the kiosk names no amount). Refused, changing nothing: a
        reference without the terminal's shape (ValidationError), one already used
        (InvalidState, reason reference_used), an application already paid (reason
        already_paid: never counted twice). The terminal's batch report confirms it at the
        end of the day (close_day)."""
        with self.office.acting_as(self.cashier):
            return self.office.payments.record_card_approval(application, terminal_ref,
                                                             self.cashier)

    @operation(retry="keyed")
    def close_day(self, card_report: BatchReport | None = None) -> dict | None:
        """End of the day: close this kiosk's shift (it holds no cash; other kiosks' shifts
        stay open) and reconcile its card payments against its terminal's batch report in
        the same transaction; the Z report with what reconciliation found (`card_check`).
        None if no shift is open. Without a report (the terminal could not be asked) the
        shift closes unreconciled, for `nafitha payments reconcile` later."""
        with self.office.acting_as(self.cashier):
            if self.office.payments.open_shift_of(self.cashier) is None:
                return None
            return self.office.payments.close_shift(self.cashier, 0, card_report)

    @operation(retry="keyed", scope="own_journey")
    def issue_licence(self, application: Code, lang: Lang) -> dict:
        """Issue the licence and queue its original on this kiosk's printer, in one
        transaction: the licence with its print job (`print_job`). Only for an application
        paid by card at this kiosk in its current journey (PermissionDenied, reason
        not_your_journey); a licence is issued once (InvalidState after that)."""
        try:
            app_id = self.office.applications.row(application)["id"]
        except NotFound:
            raise not_your_journey(f"application {application}") from None
        if not self._paid_here(app_id):
            raise not_your_journey(f"the payment of application {application}")
        with self.office.acting_as(self.cashier):
            return self.office.printing.issue_licence(app_id, lang, self.printer)

    # --- collecting a licence paid elsewhere (docs/bills.md, "At the kiosk") -----------------
    # National IDs are guessed: as slowly as the look-ups.
    @operation(retry="keyed", per_minute=LOOKUPS_PER_MINUTE)
    def collect_licence(self, reference: Query, lang: Lang,
                        national_id: NationalId | None = None) -> dict:
        """Issue the licence of an application paid by any channel (a network, the counter,
        a kiosk) and approved, and queue its original on this kiosk's printer, in one
        transaction: {number, application_number, service_code, print_job}. `reference` is
        the code of the application slip (NFA:office:number:token; holding the slip is
        enough: its token is keyed with the office's slip secret) or a bill number. A bill
        number, or an application's code without a token that holds (typed, made on a phone
        from a known number, a receipt's), needs the applicant's national ID. Refused,
        changing nothing: a bill number that does not read (ValidationError, reason
        malformed or bad_check_digit); national_id_required (ValidationError) when the ID is
        needed and missing; NotFound, reason unknown (no such application or bill, or the ID
        is not the applicant's: the same answer) or other_office; InvalidState, reason
        not_paid (with its open `bill`), not_approved, already_issued, cancelled or
        rejected."""
        app = self._collected_application(reference.strip(), national_id)
        refusal = self._collect_refusal(app)
        if refusal is not None:
            raise refusal
        try:
            with self.office.acting_as(self.cashier):
                licence = self.office.printing.issue_licence(app["id"], lang, self.printer)
        except InvalidState as exc:
            if "licence" not in exc.details:
                raise
            # Issued meanwhile (the counter, another kiosk): the original is there.
            raise _refused("already_issued", app) from None
        return {"number": licence["number"], "application_number": app["number"],
                "service_code": app["service_code"], "print_job": licence["print_job"]}

    def _collected_application(self, reference: str, national_id: str | None) -> dict:
        """The application a slip's code (its token holding, or with the applicant's
        national ID) or a bill number (with the ID) names, or the refusal."""
        parsed = codes.parse(reference)
        if parsed is not None:
            kind, office, number = parsed
            if kind != "application":
                raise _unknown()
            if office != self.settings.office.code:
                raise NotFound(f"slip of office {office}", reason="other_office",
                               other_office=office)
            secret = documents.slip_secret(self.settings.data_dir)
            if codes.token_holds(secret, number, codes.token_of(reference)):
                try:
                    return self.office.applications.row(number)
                except NotFound:
                    raise _unknown() from None
            # No token, or a forged one: the number alone is guessable (they are sequential).
            return self._applicants(lambda: self.office.applications.row(number),
                                    national_id, "an application's code without its slip's "
                                    "token")
        office, _device, _sequence = bill_numbers.parse(reference)
        if office != self.settings.office.code:
            raise NotFound(f"bill of office {office}", reason="other_office",
                           other_office=office)
        # A bill number is printed on bank receipts and shown in bank apps: it alone does
        # not hand out the licence.
        return self._applicants(
            lambda: self.office.applications.row(self.office.bills.get(reference)
                                                 ["application_id"]),
            national_id, "a bill number")

    def _applicants(self, find, national_id: str | None, what: str) -> dict:
        """The application find() gives when `national_id` is its applicant's; refused
        (national_id_required, or unknown: the same answer as no such application)."""
        if not (national_id or "").strip():
            raise ValidationError(f"{what} needs the applicant's national ID",
                                  field="national_id", reason="national_id_required")
        try:
            app = find()
            held = self.office.applications.fields_of(app).get("national_id") or ""
        except (NotFound, PersonalDataGone):  # none, or the applicant's data erased
            raise _unknown() from None
        if not hmac.compare_digest(held.encode(), national_id.strip().encode()):
            raise _unknown()
        return app

    def _collect_refusal(self, app: dict) -> NafithaError | None:
        """Why the application's licence is not to be collected now, or None."""
        if self.office.licences.summary_for(app["id"]) is not None:
            return _refused("already_issued", app)
        reason = COLLECT_REFUSALS.get(app["state"])
        if reason is None and not app["paid_at"]:
            reason = "not_paid"  # approved, waiting for its fee
        if reason == "unknown":
            return _unknown()
        if reason == "not_paid":
            bill = self.office.bills.for_application(app["id"])
            return _refused(reason, app, bill["number"] if bill and bill["state"] == "open"
                            else None)
        return _refused(reason, app) if reason else None

    # --- printing ---------------------------------------------------------------------------
    @operation(retry="keyed", scope="own_journey")
    def enqueue_print(self, kind: Code, ref: Code, lang: Lang) -> dict:
        """Queue a document of this kiosk's current journey on its printer: a ticket it
        took, the slip of an application submitted here, the receipt of a card payment made
        here (PermissionDenied otherwise: reason not_your_journey). A licence, a Z report or
        a test page never (reason not_for_kiosk): a licence's original prints as it is
        issued, once; its copies are the counter's."""
        if kind in PRINT_KINDS and kind not in KIOSK_PRINTS:
            raise PermissionDenied(f"a kiosk does not print a {kind.replace('_', ' ')} (it "
                                   f"prints {', '.join(KIOSK_PRINTS)}s of its own journey)",
                                   reason="not_for_kiosk", kind=kind)
        if kind in KIOSK_PRINTS and not self._in_journey(kind, ref):
            raise not_your_journey(f"{kind} {ref}")
        return self.office.printing.enqueue(kind, ref, lang=lang, printer=self.printer)

    @operation(retry="safe", scope="own_printer")
    def abandon_print(self, job_id: Code, reason: Text) -> dict:
        """The resident has been told to see the counter: the job must not print later for
        the next person at the kiosk. The document stays in the store for a reprint."""
        job = self.print_jobs().get(job_id)
        if job["state"] != "done":
            self.office.printing.mark_failed(job_id, reason)
        return self.office.printing.get(job_id)

    @operation(retry="keyed", scope="own_printer")
    def answer_print(self, job_id: Code, came_out: CameOut) -> dict:
        """The resident at this kiosk says whether the licence came out after the kiosk
        stopped mid-print (yes, no: it prints, unsure: see the counter); audited under the
        kiosk's account (print.answered)."""
        with self.office.acting_as(self.account):
            return self.office.printing.answer(job_id, came_out, printer=self.printer)

    # --- staff --------------------------------------------------------------------------------
    @operation(reads=True)
    def check_admin_pin(self, pin: Pin) -> bool:
        """The staff exit: kiosk.admin_pin_hash if set, else any active supervisor's PIN."""
        return self.office.users.staff_exit_pin_matches(pin, self.settings.kiosk.admin_pin_hash)
