"""The resident's visit as a state machine, without Kivy: which screen is showing and what
the resident has chosen and typed. Screens render it and forward taps to its methods.

Steps marked @slow talk to the store or a device; the app runs them on a worker thread
while the screen shows "please wait" (taps are ignored meanwhile); ui/steps.py has the marks. Everything about one
resident lives in `visit`; `wipe()` replaces it, so nothing personal survives a timeout.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta

from core import booking_codes, codes
from core.errors import (
    DiskFull,
    InvalidState,
    NafithaError,
    NotFound,
    PermissionDenied,
    ValidationError,
    is_disk_full,
)
from core.service_search import SCREEN_CHOICES, browse, search, words
from ui.messages import fault_of
from ui.steps import own_thread, slow, slow_when_remote

from .documents import DocumentSteps, KioskDocuments

log = logging.getLogger("nafitha.kiosk")

SCREENS = ("home", "services", "search", "priority", "ticket", "service", "form", "review",
           "payment", "result", "documents", "verify", "verified", "status", "status_result",
           "collect", "collected", "appointment")
# How a card payment can end without money taken ("pending": the terminal may still approve
# an earlier attempt; the resident waits or sees the counter, the kiosk never charges again).
PAYMENT_ENDINGS = ("declined", "timeout", "cancelled", "offline", "pending")
# Why a licence was not collected (KioskFace.collect_licence's reasons, and a bill number
# that does not read), said on the collect screen with what to do.
COLLECT_PROBLEMS = ("unknown", "other_office", "not_paid", "not_approved", "already_issued",
                    "cancelled", "rejected", "malformed", "bad_check_digit",
                    "national_id_required", "slip_needs_national_id")
# Why an appointment was not checked in (KioskFace.check_in_appointment's reasons, and a
# national ID that does not read), said on the appointment screen with what to do.
CHECK_IN_PROBLEMS = ("malformed_reference", "bad_check_character", "unknown_booking",
                     "other_office", "national_id_mismatch", "appointment_cancelled",
                     "already_checked_in", "too_early", "appointment_missed",
                     "national_id_format")
# After the store refused a step for a full disk (here or at the hub), the kiosk stays out of
# service this long before it lets a resident try again (the free space it reads itself
# brings it back at once when that was the cause).
DISK_FULL_HOLD_S = 60.0
# Why a service gives no more tickets today (core/ticket_limits.py): take_ticket's refusals.
LIMIT_REASONS = {"service_full_today": "full", "service_closed_today": "closed"}
# "Most used first" (core.queue.Queue.service_usage, 30 days): read again at most this often;
# a month's habits do not change between two residents, and each read is a query.
USAGE_MAX_AGE_S = 600.0
# Search results shown above the keyboard (best first); a resident types one more word
# rather than scroll.
SEARCH_SHOWN = 6


@dataclass
class Visit:
    """One resident's visit. Personal data: `values`, `application`, `payment`, `licence`,
    `found`, `typed`, `verification` (a licence holder's name), `documents` (pictures of
    the resident's papers), `bill_typed`, `national_id_typed`, `booking_typed`,
    `booking_national_id`."""
    mode: str | None = None  # "ticket" | "apply"
    service: str | None = None
    step: int = 0
    values: dict = field(default_factory=dict)
    draft: str = ""  # what is typed in the current field
    error: ValidationError | None = None
    back_to_review: bool = False
    ticket: dict | None = None
    print_ok: bool | None = None
    application: dict | None = None
    payment_state: str | None = None  # None | "waiting" | one of PAYMENT_ENDINGS | "approved"
    payment_progress: str = ""
    payment_reference: str | None = None
    payment: dict | None = None
    licence: dict | None = None
    verification: dict | None = None
    typed: str = ""  # application number typed on the status screen
    found: dict | None = None
    found_code: str | None = None  # the slip's code it was found by (its token collects)
    status_problem: str | None = None  # "not_found" | "other_office"
    # Collecting a licence: the bill number and national ID typed, the field the keyboard
    # types into, why it was refused (COLLECT_PROBLEMS) and the bill to pay it with.
    bill_typed: str = ""
    national_id_typed: str = ""
    collect_field: str = "bill"  # "bill" | "national_id"
    collect_problem: str | None = None
    collect_bill: str | None = None
    # Checking in an appointment: the booking's reference (typed, or its QR scanned) and
    # the national ID typed, the field the keyboard types into, why it was refused
    # (CHECK_IN_PROBLEMS) and, when too early, the time to come back.
    booking_typed: str = ""
    booking_national_id: str = ""
    booking_field: str = "reference"  # "reference" | "national_id"
    booking_problem: str | None = None
    booking_opens_at: str | None = None
    # "store": an operation failed; "hub": the centre's hub did not answer. Shown as a
    # banner; what the resident entered is kept, and the same tap works once it is back.
    fault: str | None = None
    # The pages a resident adds at the kiosk after submitting (kiosk/documents.py).
    documents: KioskDocuments | None = None
    # Services that give no more tickets today (core/ticket_limits.py), by code: their
    # availability ({"state": "full" | "closed", "cutoff", ...}); and the one a resident
    # tapped (or lost to the last ticket), said in words on the service list.
    finished: dict = field(default_factory=dict)
    finished_notice: str | None = None
    # Finding the service among many (catalogue_view): the sector and category tapped (None:
    # not yet, or skipped as the only one), what is typed in the search, its results (codes,
    # best first) or why it was refused, and the screen a service was chosen on (Back).
    sector: str | None = None
    category: str | None = None
    search: str = ""
    search_results: list = field(default_factory=list)
    search_error: ValidationError | None = None
    chosen_on: str = "services"


class KioskFlow(DocumentSteps):
    def __init__(self, backend, devices, language: str = "ar"):
        self.backend = backend
        self.devices = devices
        self.default_language = language
        self.lang = language
        self.large_text = False
        self.screen = "home"
        self.visit = Visit()
        # A licence this kiosk was printing when it stopped (a crash, a power cut) may have
        # come out: the person at the kiosk is asked before anything else (not part of a
        # visit: a timeout does not wipe the question). `print_outcome` once answered:
        # "thanks" | "take_it" | "counter".
        self.print_question: dict | None = None
        self.print_outcome: str | None = None
        # Out of service (docs/operations/support.md): the data directory's disk has less free
        # than health.disk_refuse_mb, or the store refused a step for a full disk. No visit
        # starts and no payment is taken while it lasts; the app shows it over everything.
        self.out_of_service = False
        self._disk_low = False
        self._disk_full_seen = False  # a step failed with DiskFull: held from the next check
        self._disk_full_until = None
        # The service list as the kiosk offers it (catalogue_view), worked out once per
        # catalogue and usage reading; `monotonic` is injectable for tests.
        self.monotonic = time.monotonic
        self._usage: dict = {}
        self._usage_read_at: float | None = None
        self._view_key = None
        self._view = None

    # --- out of service: the disk is (nearly) full -------------------------------------------
    def check_disk(self, free_mb: float | None, refuse_mb: float, now) -> bool:
        """The app's periodic reading of free space (None: unknown, not low); `now` the app's
        clock. Returns whether out_of_service changed."""
        self._disk_low = free_mb is not None and free_mb < refuse_mb
        if self._disk_full_seen:
            self._disk_full_seen = False
            self._disk_full_until = now + timedelta(seconds=DISK_FULL_HOLD_S)
        held = self._disk_full_until is not None and now < self._disk_full_until
        if not held:
            self._disk_full_until = None
        was, self.out_of_service = self.out_of_service, self._disk_low or held
        return was != self.out_of_service

    def _refuse_when_out_of_service(self) -> None:
        """Before a step that would record something it could not keep (a payment above all)."""
        if self.out_of_service or self._disk_full_seen:
            raise DiskFull("the kiosk is out of service: its disk is (nearly) full; nothing "
                           "was started")

    # --- a licence that may have come out before a stop -----------------------------------
    @slow
    def check_unfinished_prints(self) -> None:
        """At start: ask about a licence left printing (never printed again by itself)."""
        waiting = self.backend.print_jobs().recover()
        self.print_question = waiting[0] if waiting else None
        self.print_outcome = None

    @slow
    def answer_print(self, came_out: str) -> None:
        """yes: done; no: no original exists, so it prints now; unsure: no other original,
        the counter gives a counted COPY. Audited under the kiosk's account."""
        job = self.backend.answer_print(self.print_question["id"], came_out)
        if came_out == "no":
            printed = self.devices.print_job(job).printed
            self.print_outcome = "take_it" if printed else "counter"
        else:
            self.print_outcome = "thanks" if came_out == "yes" else "counter"

    def close_print_question(self) -> None:
        """OK on the answer's result: the next licence asked about, if any."""
        self.print_question = self.print_outcome = None

    # --- navigation -----------------------------------------------------------------------
    def go(self, screen: str) -> None:
        if screen not in SCREENS:
            raise ValueError(f"no screen {screen!r}")
        self.screen = screen

    def wipe(self) -> None:
        """Forget the resident: back to the start, in the office's language."""
        self.visit = Visit()
        self.lang = self.default_language
        self.large_text = False
        self.screen = "home"

    def home(self) -> None:
        self.wipe()

    def toggle_language(self) -> None:
        self.lang = "en" if self.lang == "ar" else "ar"

    def toggle_large_text(self) -> None:
        self.large_text = not self.large_text

    def back(self) -> None:
        """The screen's Back button: one step back, never past the start."""
        s, v = self.screen, self.visit
        if s == "form":
            return self.previous_step()
        if s == "services" and self._browse_back():
            return
        if s in ("priority", "service"):
            return self.go(v.chosen_on)
        target = {"services": "home", "search": "services",
                  "review": "form", "verify": "home", "status": "home",
                  "verified": "verify", "status_result": "status",
                  "documents": "result", "collect": "home",
                  "appointment": "home"}.get(s, "home")
        if s == "review":
            v.step = len(self.fields()) - 1
            v.draft = v.values.get(self.fields()[v.step].key, "")
        self.go(target)

    @property
    def has_personal_data(self) -> bool:
        return self.visit != Visit()

    # --- choosing a service ------------------------------------------------------------------
    @slow_when_remote
    def start(self, mode: str) -> None:
        """Home screen: 'ticket', 'apply', 'verify', 'status', 'collect' or 'appointment'.
        For a ticket, the services whose tickets are finished for today are shown as such."""
        self.visit = Visit(mode=mode)
        if mode in ("ticket", "apply"):
            self.read_usage()
        if mode == "ticket":
            self.visit.finished = {s["service"]: s for s in self.backend.services_today()
                                   if s["state"] != "open"}
        self.go({"ticket": "services", "apply": "services", "verify": "verify",
                 "status": "status", "collect": "collect",
                 "appointment": "appointment"}[mode])

    def read_usage(self) -> None:
        """How often each service was used lately (most used first), read again once it is
        USAGE_MAX_AGE_S old. A hub that cannot say (an older one) leaves catalogue order."""
        now = self.monotonic()
        if self._usage_read_at is not None and now - self._usage_read_at < USAGE_MAX_AGE_S:
            return
        try:
            self._usage = self.backend.service_usage()
        except NafithaError as exc:
            log.warning("service usage unknown (%s): services in catalogue order",
                        exc.message)
            self._usage = {}
        self._usage_read_at = now

    def catalogue_view(self):
        """The service list as offered: a list of services, most used first, when every one
        fits the screen (SCREEN_CHOICES: no sectors, no search: not a tap more than needed);
        else browse()'s tree of sectors and categories. Worked out once per catalogue and
        usage reading (taps and screens reuse it)."""
        services = self.backend.services()
        key = (tuple(map(id, services)), id(self._usage))
        if key != self._view_key:
            if len(services) <= SCREEN_CHOICES:
                order = {s.code: i for i, s in enumerate(services)}
                self._view = sorted(services, key=lambda s: (-self._usage.get(s.code, 0),
                                                             order[s.code]))
            else:
                self._view = browse(services, self._usage)
            self._view_key = key
        return self._view

    def browse_level(self) -> tuple[str, list]:
        """What the service list shows now: ("services", [Service]), ("categories",
        [CategoryNode]) or ("sectors", [SectorNode]). A level with one choice is skipped
        (core.service_search.taps_to counts the same way): any service is 3 taps deep."""
        view, v = self.catalogue_view(), self.visit
        if not view or not hasattr(view[0], "categories"):
            return "services", list(view)
        sector = next((n for n in view if n.code == v.sector), None)
        if sector is None:
            if len(view) > 1:
                return "sectors", list(view)
            sector = view[0]
        category = next((c for c in sector.categories if c.code == v.category), None)
        if category is None:
            if len(sector.categories) > 1:
                return "categories", list(sector.categories)
            category = sector.categories[0]
        return "services", list(category.services)

    @property
    def can_search(self) -> bool:
        """Search is offered when the catalogue does not fit one screen."""
        view = self.catalogue_view()
        return bool(view) and hasattr(view[0], "categories")

    def choose_sector(self, code: str) -> None:
        level, nodes = self.browse_level()
        if level != "sectors" or code not in [n.code for n in nodes]:
            raise NotFound(f"no sector {code!r} on this screen", sector=code)
        self.visit.sector, self.visit.category = code, None
        self.visit.finished_notice = None

    def choose_category(self, code: str) -> None:
        level, nodes = self.browse_level()
        if level != "categories" or code not in [n.code for n in nodes]:
            raise NotFound(f"no category {code!r} on this screen", category=code)
        self.visit.category = code
        self.visit.finished_notice = None

    def _browse_back(self) -> bool:
        """Back on the service list: up one level that was shown (skipped ones are passed
        over); False at the top (then Back goes home)."""
        v = self.visit
        for name in ("category", "sector"):
            if getattr(v, name) is not None:
                setattr(v, name, None)
                if name == "sector":
                    v.category = None
                v.finished_notice = None
                return True
        return False

    def open_search(self) -> None:
        if not self.can_search:
            raise InvalidState("every service is on the list: there is nothing to search",
                               reason="no_search")
        self.visit.finished_notice = None
        self.go("search")

    def type_search(self, text: str) -> None:
        """The search keyboard's text: the services it finds (best first, most used first
        among equals). Refused text (core's: too long, direction controls) is said on the
        screen and changes nothing else."""
        v = self.visit
        try:
            # The catalogue itself (not a list of it): its words are indexed once.
            found = search(self.backend.catalog, text, self.lang, self._usage,
                           limit=SEARCH_SHOWN, office=self.backend.settings.office.code)
        except ValidationError as exc:
            v.search_error = exc
            return
        v.search, v.search_results, v.search_error = text, [s.code for s in found], None
        v.finished_notice = None

    @property
    def search_state(self) -> str:
        """"error" | "empty" (nothing typed) | "no_words" (only marks, say) | "no_match" |
        "found": what the search screen says above its results."""
        v = self.visit
        if v.search_error is not None:
            return "error"
        if not v.search.strip():
            return "empty"
        if not words(v.search):
            return "no_words"
        return "found" if v.search_results else "no_match"

    def choose_service(self, code: str) -> None:
        self.backend.service(code)  # NotFound for an unknown code
        if self.visit.mode == "ticket" and code in self.visit.finished:
            self.visit.finished_notice = code  # said in words; no ticket to take
            return
        self.visit.finished_notice = None
        self.visit.chosen_on = "search" if self.screen == "search" else "services"
        self.visit.service = code
        self.go("priority" if self.visit.mode == "ticket" else "service")

    def service(self):
        return self.backend.service(self.visit.service)

    @property
    def validation(self):
        """The office's national ID and phone patterns (the form says them before typing)."""
        return self.backend.settings.validation

    # --- ticket ------------------------------------------------------------------------------
    @slow
    def take_ticket(self, priority: str | None) -> None:
        """take the ticket and print it."""
        try:
            ticket = self.backend.take_ticket(self.visit.service, priority)
        except InvalidState as exc:
            limit = LIMIT_REASONS.get(exc.details.get("reason"))
            if limit is None:
                raise
            # Another kiosk took the last one, or the cut-off came meanwhile: the list says so.
            code = self.visit.service
            self.visit.finished[code] = {"service": code, "state": limit,
                                         "cutoff": exc.details.get("cutoff")}
            self.visit.finished_notice, self.visit.service = code, None
            self.go(self.visit.chosen_on)  # the list or the search it was chosen on
            return
        self.visit.ticket = ticket
        self.visit.print_ok = self.devices.print_document("ticket", ticket["id"],
                                                          self.lang).printed
        self.go("ticket")

    def ticket_to_pay(self) -> None:
        """After "pay at the counter": a queue ticket for the application's service, taken
        as any ticket (priority, then the ticket); the clerk finds the application by the
        slip's QR. Back, or a service out of tickets for today, returns to the result."""
        v = self.visit
        if v.application is None or v.payment or v.licence:
            return
        v.mode, v.service, v.chosen_on = "ticket", v.application["service_code"], "result"
        self.go("priority")

    # --- the form --------------------------------------------------------------------------
    def fields(self):
        return self.service().fields

    def current_field(self):
        return self.fields()[self.visit.step]

    def begin_form(self) -> None:
        self.visit.step = 0
        self.visit.draft = self.visit.values.get(self.fields()[0].key, "")
        self.visit.error = None
        self.go("form")

    def type_into_field(self, text: str) -> None:
        """The on-screen keyboard's text for the current field; an error stays until the
        text changes (the keyboard repeats its text when the form is shown again)."""
        if text != self.visit.draft:
            self.visit.error = None
        self.visit.draft = text

    @slow_when_remote
    def next_step(self) -> None:
        """Check the current field (inline error, stay) or move on; after the last field,
        or when editing from the review, go to the review."""
        v, f = self.visit, self.current_field()
        try:
            cleaned = self.backend.check_field(v.service, f.key, v.draft)
            if not cleaned and f.required:
                raise ValidationError(f"{f.key}: is required", field=f.key, problem="required")
        except ValidationError as exc:
            v.error = exc
            return
        if cleaned:
            v.values[f.key] = cleaned
        else:
            v.values.pop(f.key, None)
        v.error = None
        if v.back_to_review or v.step == len(self.fields()) - 1:
            v.back_to_review = False
            self.go("review")
            return
        v.step += 1
        v.draft = v.values.get(self.current_field().key, "")

    @slow_when_remote
    def choose_option(self, value: str) -> None:
        self.visit.draft = value
        self.next_step()

    def previous_step(self) -> None:
        v = self.visit
        v.error = None
        if v.back_to_review:
            v.back_to_review = False
            self.go("review")
            return
        if v.step == 0:
            self.go("service")
            return
        v.step -= 1
        v.draft = v.values.get(self.current_field().key, "")

    def edit(self, key: str) -> None:
        """Review screen: change one answer, then come back to the review."""
        keys = [f.key for f in self.fields()]
        self.visit.step = keys.index(key)
        self.visit.draft = self.visit.values.get(key, "")
        self.visit.back_to_review = True
        self.visit.error = None
        self.go("form")

    # --- submitting and paying ------------------------------------------------------------
    @slow
    def submit(self, pay_now: bool) -> None:
        """save the application (once), then pay by card or print the slip."""
        v = self.visit
        self._refuse_when_out_of_service()
        if v.application is None:
            v.application = self.backend.submit(v.service, dict(v.values))
        if pay_now and self.devices.can_pay:
            v.payment_state = None
            self.go("payment")
        else:
            self.finish_unpaid()

    def pay_found(self) -> None:
        """Status screen: pay for an application found by its slip."""
        self._refuse_when_out_of_service()
        self.visit.application = self.visit.found
        self.visit.payment_state = None
        self.go("payment")

    @own_thread
    def pay(self) -> None:
        """charge the card; on approval record it, then issue or print the receipt.
        Any other ending leaves the application saved and unpaid."""
        v = self.visit
        app = v.application
        # Never start a charge the store could not record: the resident is sent to the counter.
        self._refuse_when_out_of_service()
        v.payment_state, v.payment_progress = "waiting", ""
        reference, held = self.devices.next_reference(app["number"])
        v.payment_reference = reference
        if held is not None and not held.approved:
            # The terminal may still approve an earlier attempt: never start a second one.
            v.payment_state = "pending"
            return
        outcome = held or self.devices.charge(
            reference, app["fee_minor"], app["currency"],
            on_progress=lambda text: setattr(v, "payment_progress", text))
        if not outcome.approved:
            v.payment_state = "pending" if outcome.pending else \
                outcome.status if outcome.status in PAYMENT_ENDINGS else "declined"
            return
        v.payment_state = "recording"
        try:
            v.payment = self.backend.record_card_payment(app["id"], outcome.terminal_ref)
        except InvalidState as exc:
            if exc.details.get("reason") != "already_paid":
                raise
            # Recorded before (e.g. the same approval seen again): never count it twice.
            v.payment = {"receipt_number": exc.details.get("receipt")}
        v.payment_state = "approved"
        v.application = self.backend.application(app["id"])
        self.finish_paid()

    def close_day(self) -> dict | None:
        """End of the day (staff, on a worker): ask the terminal for its batch report, close
        the kiosk's shift reconciled against it (the office flags every difference), then
        settle the terminal's batch. The Z report, or None if no shift was open."""
        report = self.devices.card_batch_report()
        z = self.backend.close_day(report)
        if report is not None and z is not None:
            self.devices.settle_card_batch()
        return z

    def cancel_payment(self) -> None:
        """The resident tapped Cancel while the terminal waits (called on the UI thread)."""
        if self.visit.payment_reference and self.visit.payment_state == "waiting":
            self.devices.cancel_payment(self.visit.payment_reference)

    def finish_paid(self) -> None:
        v = self.visit
        app = v.application
        if app["issue_mode"] == "instant" and app["state"] == "approved":
            # Issued and queued for printing in one transaction, then printed now; then the
            # card payment's receipt, as at the counter (issue 25: a resident paid by card
            # and had no proof of the payment).
            v.licence = self.backend.issue_licence(app["id"], self.lang)
            v.print_ok = self.devices.print_job(v.licence["print_job"]).printed
            if v.print_ok and v.payment and v.payment.get("id"):
                v.print_ok = self.devices.print_document("receipt", v.payment["id"],
                                                         self.lang).printed
        elif v.payment and v.payment.get("id"):
            v.print_ok = self.devices.print_document("receipt", v.payment["id"],
                                                     self.lang).printed
        self.go("result")

    @slow
    def finish_unpaid(self) -> None:
        """the slip with the application number and its QR; pay at the counter. An
        application found by its slip or number already has its slip in the resident's hand:
        a kiosk prints only the slips of what it submitted (nothing else is its to print)."""
        v = self.visit
        if v.found is not None and v.found["id"] == v.application["id"]:
            v.print_ok = None  # nothing to print
        else:
            v.print_ok = self.devices.print_document("application", v.application["id"],
                                                     self.lang).printed
        self.go("result")

    # --- verifying a licence -----------------------------------------------------------------
    @slow
    def verify(self, text: str) -> None:
        """the camera read `text`."""
        result = self.backend.verify_licence(text)
        self.visit.verification = result.to_dict()
        self.go("verified")

    # --- following an application --------------------------------------------------------
    def type_number(self, text: str) -> None:
        self.visit.typed = text
        self.visit.status_problem = None

    @slow
    def find(self, reference: str | None = None) -> None:
        """`reference` scanned from a slip, or what was typed."""
        v = self.visit
        try:
            if reference is not None:
                v.found = self.backend.application(reference)
            else:
                v.found = self.backend.find_application(v.typed)
            v.found_code = reference.strip() if reference is not None else None
        except NotFound as exc:
            v.found = v.found_code = None
            v.status_problem = "other_office" if exc.details.get("other_office") else "not_found"
            return
        v.status_problem = None
        self.go("status_result")

    # --- collecting a licence paid elsewhere ----------------------------------------------
    def type_collect(self, text: str) -> None:
        """The keyboard's text for the field it types into (bill number or national ID)."""
        v = self.visit
        if v.collect_field == "bill":
            v.bill_typed = text.upper()
        else:
            v.national_id_typed = text
        v.collect_problem = v.collect_bill = None

    def collect_field_to(self, name: str) -> None:
        """The resident tapped a field: the keyboard types into it now."""
        if name not in ("bill", "national_id"):
            raise ValueError(f"no collect field {name!r}")
        self.visit.collect_field = name

    @slow
    def collect(self, reference: str | None = None) -> None:
        """`reference` scanned from the slip, or the bill number and national ID typed: the
        licence issued and printed here, or why not, said on the screen."""
        v = self.visit
        if reference is not None:
            self._collect(reference, None)
            self._ask_national_id(reference)
        else:
            self._collect(v.bill_typed.strip(), v.national_id_typed.strip())

    @slow
    def collect_found(self) -> None:
        """Status screen: print the licence of the application found (approved and paid);
        found by typing its number, or by a code that is not its slip's, the national ID is
        asked on the collect screen."""
        v = self.visit
        code = v.found_code
        parsed = codes.parse(code) if code else None
        if parsed is None or parsed[2] != v.found["number"]:
            code = codes.application_code(self.backend.settings.office.code,
                                          v.found["number"])
        self._collect(code, None)
        self._ask_national_id(code)
        if v.licence is None:
            self.go("collect")  # the refusal, said where the resident can try another way

    def _ask_national_id(self, reference: str) -> None:
        """A bill's QR, or a slip's code without a token that holds, was refused for want of
        the national ID: its number is filled in and the keyboard types the ID."""
        v = self.visit
        if v.collect_problem != "national_id_required":
            return
        parsed = codes.parse(reference)
        if parsed is None:  # a bill number
            v.bill_typed = reference.strip().upper()
        else:  # the code without its token (it did not hold)
            v.bill_typed = codes.application_code(parsed[1], parsed[2])
            v.collect_problem = "slip_needs_national_id"
        v.collect_field = "national_id"

    def _collect(self, reference: str, national_id: str | None) -> None:
        v = self.visit
        v.collect_problem = v.collect_bill = None
        try:
            licence = self.backend.collect_licence(reference, self.lang, national_id or None)
        except (NotFound, InvalidState, ValidationError) as exc:
            reason = exc.details.get("reason")
            if reason not in COLLECT_PROBLEMS:
                raise
            v.collect_problem, v.collect_bill = reason, exc.details.get("bill")
            return
        # Issued and queued on this kiosk's printer in one transaction; printed now (a stop
        # mid-print is asked about at the next start: check_unfinished_prints).
        v.licence = licence
        v.print_ok = self.devices.print_job(licence["print_job"]).printed
        self.go("collected")

    # --- checking in an appointment --------------------------------------------------------
    def type_booking(self, text: str) -> None:
        """The keyboard's text for the field it types into (reference or national ID)."""
        v = self.visit
        if v.booking_field == "reference":
            v.booking_typed = text.upper()
        else:
            v.booking_national_id = text
        v.booking_problem = v.booking_opens_at = None

    def booking_field_to(self, name: str) -> None:
        """The resident tapped a field: the keyboard types into it now."""
        if name not in ("reference", "national_id"):
            raise ValueError(f"no booking field {name!r}")
        self.visit.booking_field = name

    def booking_scanned(self, text: str) -> None:
        """The camera read a code on the appointment screen: a booking's QR fills in its
        reference (as it is typed) and the keyboard moves to the national ID; another
        centre's booking, or a code that is no booking's, is said so."""
        v = self.visit
        scanned = booking_codes.parse_qr(text)
        v.booking_opens_at = None
        if scanned is None:
            v.booking_problem = "malformed_reference"
            return
        office, reference = scanned
        if office != self.backend.settings.office.code:
            v.booking_problem = "other_office"
            return
        v.booking_typed = booking_codes.shown(reference)
        v.booking_problem = None
        v.booking_field = "national_id"

    @slow
    def check_in(self) -> None:
        """The reference (or the scanned QR) and the national ID typed: the ticket, queued
        at the slot's start and printed here like any ticket, or why not, said on the
        screen."""
        v = self.visit
        v.booking_problem = v.booking_opens_at = None
        try:
            ticket = self.backend.check_in_appointment(v.booking_typed.strip(),
                                                       v.booking_national_id.strip())
        except (NotFound, InvalidState, ValidationError, PermissionDenied) as exc:
            reason = exc.details.get("reason") or (
                "national_id_format" if exc.details.get("field") == "national_id" else None)
            if reason not in CHECK_IN_PROBLEMS:
                raise
            v.booking_problem = reason
            v.booking_opens_at = exc.details.get("opens_at")
            if reason in ("national_id_mismatch", "national_id_format"):
                v.booking_field = "national_id"
            return
        v.ticket, v.service = ticket, ticket["service_code"]
        v.print_ok = self.devices.print_document("ticket", ticket["id"], self.lang).printed
        self.go("ticket")

    # --- faults ------------------------------------------------------------------------------
    def failed(self, exc: BaseException) -> None:
        """A slow step raised: say so plainly, keep what the resident entered."""
        if isinstance(exc, ValidationError) and self.screen == "review" and \
                exc.field in [f.key for f in self.fields()]:
            # Refused as a whole (the name too long for the licence's QR code): back to
            # that answer, with the reason under it.
            self.edit(exc.field)
        if isinstance(exc, ValidationError) and self.screen == "form":
            self.visit.error = exc
            return
        log.error("kiosk step failed on %s: %s", self.screen,
                  exc.message if isinstance(exc, NafithaError) else repr(exc))
        if is_disk_full(exc):
            self._disk_full_seen = self.out_of_service = True
        if self.screen == "payment" and self.visit.payment_state == "waiting":
            self.visit.payment_state = "offline"
            return
        if self.screen == "payment" and self.visit.payment_state == "recording":
            # The card was charged but the store refused the record: the next attempt finds
            # the approval at the terminal and records it (next_reference), never charging
            # twice; meanwhile the resident is sent to the counter.
            self.visit.payment_state = "unrecorded"
            return
        self.visit.fault = fault_of(exc)
