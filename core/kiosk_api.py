"""What a kiosk asks of the office: the one interface the kiosk app calls.

`KioskApi` runs on the in-process core. A field office uses it directly (one box, one SQLite
file, the embedded default); a service centre's hub runs it for every paired kiosk, and the
kiosk reaches it through `hub.client.KioskHubClient`, which has the same methods. Every
method is safe to call from a worker thread (the store serialises access) and raises core
errors (NafithaError subclasses) on bad input, having changed nothing."""
from __future__ import annotations

from . import codes
from .errors import NotFound
from .users import pin_matches


class KioskApi:
    def __init__(self, office, printer: str = "main"):
        self.office = office
        self.settings = office.settings
        self.printer = printer  # the print queue this kiosk's printer drains

    def close(self) -> None:
        """Nothing to let go of in-process (the caller owns the office)."""

    remote = False  # in-process: quick enough for the UI thread's instant steps

    def hub_online(self) -> bool | None:
        """None: there is no hub in a field office (the status bars say nothing of it)."""
        return None

    # --- the catalogue -------------------------------------------------------------------------
    def services(self) -> list:
        return list(self.office.catalog)

    def service(self, code: str):
        return self.office.catalog.get(code)

    # --- queue --------------------------------------------------------------------------------
    def take_ticket(self, service: str, priority: str | None) -> dict:
        """The ticket with people_ahead and estimated_wait_minutes."""
        with self.office.acting_as(self.settings.kiosk.account):
            return self.office.queue.take_ticket(service, priority)

    # --- applications ---------------------------------------------------------------------------
    def check_field(self, service: str, key: str, value: str) -> str:
        """The cleaned value of one field, or ValidationError (nothing is stored)."""
        return self.office.applications.check(service, {key: value}).get(key, "")

    def submit(self, service: str, fields: dict) -> dict:
        with self.office.acting_as(self.settings.kiosk.account):
            return self.office.applications.submit(service, fields)

    def application(self, reference: str) -> dict:
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

    def find_application(self, typed: str) -> dict:
        """What a resident types: the whole number, or its last digits (the receipt shows
        the number in large type; the trailing digits are what people copy)."""
        typed = typed.strip().upper()
        try:
            return self.application(typed)
        except NotFound:
            if not typed.isdigit():
                raise
        # Last digits of this device's numbers this year (A2026-000123): unambiguous here.
        rows = self.office.store.all(
            "SELECT number FROM applications WHERE number LIKE ? ORDER BY created_at DESC",
            (f"%-{int(typed):06d}",))
        if len(rows) != 1:
            raise NotFound(f"no application ending in {typed}")
        return self.office.applications.get(rows[0]["number"])

    # --- payment -------------------------------------------------------------------------------
    def record_card_payment(self, application: str, terminal_ref: str) -> dict:
        """The terminal approved: record it on the kiosk's own shift (opened on first use).
        Refused (InvalidState) if the application is already paid: never counted twice."""
        account = self.settings.kiosk.account
        payments = self.office.payments
        with self.office.acting_as(account):
            if self.office.store.one("SELECT 1 FROM shifts WHERE clerk = ? AND closed_at IS "
                                     "NULL", (account,)) is None:
                payments.open_shift(account, 0, self.office.catalog.get(
                    self.office.applications.get(application)["service_code"]).currency)
            return payments.take(application, "card", account, reference=terminal_ref)

    def issue_licence(self, application: str) -> dict:
        with self.office.acting_as(self.settings.kiosk.account):
            return self.office.licences.issue(application)

    # --- printing -----------------------------------------------------------------------------
    @property
    def print_source(self):
        """What this device's print worker reads jobs and documents from (the office)."""
        return self.office

    def enqueue_print(self, kind: str, ref: str, lang: str) -> dict:
        return self.office.printing.enqueue(kind, ref, lang=lang, printer=self.printer)

    def print_job(self, job_id: str) -> dict:
        return self.office.printing.get(job_id)

    def abandon_print(self, job_id: str, reason: str) -> None:
        """The resident has been told to see the counter: the job must not print later for
        the next person at the kiosk. The document stays in the store for a reprint."""
        job = self.office.printing.get(job_id)
        if job["state"] != "done":
            self.office.printing.mark_failed(job_id, reason)

    # --- verification ---------------------------------------------------------------------------
    def verify_licence(self, text: str):
        return self.office.verify_licence(text)

    # --- staff --------------------------------------------------------------------------------
    def check_admin_pin(self, pin: str) -> bool:
        """kiosk.admin_pin_hash if set, else the PIN of any active supervisor account."""
        if not pin.isdigit() or not 4 <= len(pin) <= 8:
            return False
        configured = self.settings.kiosk.admin_pin_hash
        if configured:
            return pin_matches(pin, configured)
        rows = self.office.store.all("SELECT pin_hash FROM users WHERE role = 'supervisor' "
                                     "AND disabled_at IS NULL")
        return any(pin_matches(pin, r["pin_hash"]) for r in rows)
