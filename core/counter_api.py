"""What a counter asks of the office: the one interface the counter app calls.

`CounterApi` runs on the in-process core: directly in a field office (one box, one SQLite
file), and inside the service centre's hub for every paired counter, which the counter
reaches through `hub.client.CounterHubClient` (same methods). Every method is safe on a worker thread and raises core errors (NafithaError subclasses)
having changed nothing. Operations are recorded under the clerk who does them (`actor`);
supervisor operations check the supervisor's PIN here, whoever is signed in."""
from __future__ import annotations

from datetime import datetime

from . import codes
from .errors import NotFound, PermissionDenied, ValidationError

# What only a supervisor may do; a clerk's screen asks for a supervisor's name and PIN.
SUPERVISOR_ACTIONS = ("approve", "reject", "void", "revoke")


class CounterApi:
    def __init__(self, office, counter: str, services: list[str] | None = None,
                 printer: str = "main"):
        self.office = office
        self.settings = office.settings
        self.counter = counter
        # The services this counter serves (codes); empty: every service.
        self._services = [office.catalog.get(s).code for s in services or ()]
        self.printer = printer  # the print queue this counter's printer drains

    def close(self) -> None:
        """Nothing to let go of in-process (the caller owns the office)."""

    remote = False  # in-process: quick enough for the UI thread's instant steps

    def hub_online(self) -> bool | None:
        """None: there is no hub in a field office (the status bars say nothing of it)."""
        return None

    def counter_services(self) -> list[str]:
        return list(self._services)

    # --- people ---------------------------------------------------------------------------
    def sign_out(self, clerk: str) -> None:
        """In-process there is no session to end (the hub's client ends its own)."""
    def sign_in(self, username: str, pin: str) -> dict:
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
        return self.office.users.authenticate(username, pin)

    def supervisor(self, username: str, pin: str) -> dict:
        """A supervisor's authorisation (PermissionDenied for a clerk or a wrong PIN)."""
        username = (username or "").strip().lower()
        if not username or not pin:
            raise ValidationError("supervisor and PIN are needed", field="supervisor",
                                  problem="required")
        return self.office.users.authenticate(username, pin, role="supervisor")

    # --- the catalogue --------------------------------------------------------------------
    def services(self) -> list:
        return list(self.office.catalog)

    def service(self, code: str):
        return self.office.catalog.get(code)

    # --- queue ----------------------------------------------------------------------------
    def queue_overview(self) -> list[dict]:
        """Waiting tickets per service: how many and the longest wait in minutes."""
        now = self.office.store.clock.now()
        out = []
        for svc in self.office.catalog:
            waiting = self.office.queue.list(("waiting",), service=svc.code)
            longest = max(((now - datetime.fromisoformat(t["created_at"])).total_seconds()
                           // 60 for t in waiting), default=0)
            out.append({"service": svc.code, "prefix": svc.prefix, "waiting": len(waiting),
                        "longest_wait_minutes": int(longest),
                        "next": waiting[0]["number"] if waiting else None})
        return out

    def my_tickets(self) -> list[dict]:
        """Tickets at this counter now: called, serving or parked."""
        return [t for t in self.office.queue.list(("called", "serving", "parked"))
                if t["counter"] == self.counter]

    def call_next(self, clerk: str, services: list[str] | None) -> dict | None:
        """The next waiting ticket of `services` (default: all this counter serves). A
        service this counter does not serve is refused (PermissionDenied)."""
        wanted = [self.office.catalog.get(s).code for s in services or ()]
        if self._services:
            foreign = [s for s in wanted if s not in self._services]
            if foreign:
                raise PermissionDenied(f"counter {self.counter} does not serve "
                                       f"{', '.join(foreign)}", reason="service_not_served",
                                       service=foreign[0])
            wanted = wanted or self._services
        with self.office.acting_as(clerk):
            return self.office.queue.call_next(self.counter, wanted or None)

    def watch(self, on_change, stop, every_s: float = 0.5):
        """on_change(marker) on a thread whenever the queue changes (a kiosk in another
        process of this box took a ticket): the hub client's live updates, in-process."""
        import threading

        def run():
            seen = None
            while not stop.is_set():
                try:
                    marker = self.office.queue.change_marker()
                except Exception:  # noqa: BLE001 - a busy store: look again next time
                    marker = seen
                if marker != seen:
                    seen = marker
                    on_change(marker)
                stop.wait(every_s)
        thread = threading.Thread(target=run, name="queue-watch", daemon=True)
        thread.start()
        return thread

    def ticket_step(self, clerk: str, step: str, ticket: str, *args) -> dict:
        """recall, no_show, park, resume, finish, start_serving or transfer(service)."""
        if step not in ("recall", "no_show", "park", "resume", "finish", "start_serving",
                        "transfer"):
            raise ValidationError(f"no ticket step {step!r}", field="step")
        queue = self.office.queue
        with self.office.acting_as(clerk):
            if step == "recall":
                return queue.recall(ticket, self.counter)
            if step == "resume":
                return queue.resume(ticket, self.counter)
            return getattr(queue, step)(ticket, *args)

    def ticket_application(self, ticket_id: str) -> dict | None:
        row = self.office.store.one("SELECT number FROM applications WHERE ticket_id = ? "
                                    "ORDER BY created_at DESC LIMIT 1", (ticket_id,))
        return self.application(row["number"]) if row else None

    # --- applications ---------------------------------------------------------------------
    def application(self, number: str) -> dict:
        """The application with its live payment and its licence (None when there is none)."""
        app = self.office.applications.get(number)
        store = self.office.store
        app["payment"] = store.one("SELECT * FROM payments WHERE application_id = ? AND "
                                   "voided_at IS NULL", (app["id"],))
        app["licence"] = store.one("SELECT id, number, issued_at, valid_until, revoked_at, "
                                   "revoke_reason, reprint_count FROM licences WHERE "
                                   "application_id = ?", (app["id"],))
        return app

    def find(self, query: str) -> list[dict]:
        """What a clerk types or scans: an application number (or its last digits), a
        national ID, an application slip's code or a ticket's code."""
        text = (query or "").strip()
        if not text:
            raise ValidationError("type a number, a national ID or scan a code",
                                  field="query", problem="required")
        parsed = codes.parse(text)
        if parsed is not None:
            kind, office, reference = parsed
            if office != self.settings.office.code:
                raise NotFound(f"a code of office {office}", other_office=office)
            if kind == "ticket":
                found = self.ticket_application(reference)
                if found is None:
                    raise NotFound("this ticket has no application", ticket=reference)
                return [found]
            return [self.application(reference)]
        text = text.upper()
        store = self.office.store
        rows = store.all("SELECT number FROM applications WHERE number = ?", (text,))
        if not rows and text.isdigit():
            rows = store.all("SELECT number FROM applications WHERE json_extract(fields, "
                             "'$.national_id') = ? ORDER BY created_at DESC LIMIT 20", (text,))
            if not rows and len(text) <= 6:
                rows = store.all("SELECT number FROM applications WHERE number LIKE ? ORDER "
                                 "BY created_at DESC LIMIT 20", (f"%-{int(text):06d}",))
        if not rows:
            raise NotFound(f"nothing found for {query!r}")
        return [self.application(r["number"]) for r in rows]

    def check_fields(self, service: str, values: dict) -> dict:
        return self.office.applications.check(service, values)

    def submit(self, clerk: str, service: str, fields: dict, ticket: str | None) -> dict:
        with self.office.acting_as(clerk):
            app = self.office.applications.submit(service, fields, ticket=ticket)
        return self.application(app["number"])

    def decide(self, supervisor: str, pin: str, decision: str, application: str,
               reason: str) -> dict:
        """approve or reject, authorised by a supervisor (their PIN is checked here)."""
        self.supervisor(supervisor, pin)
        apps = self.office.applications
        with self.office.acting_as(supervisor):
            if decision == "approve":
                apps.approve(application, reason=reason or None)
            elif decision == "reject":
                apps.reject(application, reason)
            else:
                raise ValidationError(f"no decision {decision!r}", field="decision")
        return self.application(application)

    # --- payments and shifts ----------------------------------------------------------------
    def take_payment(self, clerk: str, application: str, method: str,
                     tendered_minor: int | None, reference: str | None) -> dict:
        with self.office.acting_as(clerk):
            return self.office.payments.take(application, method, clerk,
                                             tendered_minor=tendered_minor,
                                             reference=reference)

    def void_payment(self, supervisor: str, pin: str, receipt: str, reason: str) -> dict:
        return self.office.payments.void(receipt, supervisor, pin, reason)

    def open_shift(self, clerk: str, float_minor: int) -> dict:
        return self.office.payments.open_shift(clerk, float_minor, self.currency())

    def current_shift(self, clerk: str) -> dict | None:
        return self.office.store.one("SELECT * FROM shifts WHERE clerk = ? AND closed_at IS "
                                     "NULL", (clerk,))

    def close_shift(self, clerk: str, counted_minor: int) -> dict:
        return self.office.payments.close_shift(clerk, counted_minor)

    def z_report(self, shift: str) -> dict:
        return self.office.payments.z_report(shift)

    def currency(self) -> str:
        first = next(iter(self.office.catalog), None)
        return first.currency if first else "BHD"

    # --- licences ---------------------------------------------------------------------------
    def issue_licence(self, clerk: str, application: str) -> dict:
        with self.office.acting_as(clerk):
            return self.office.licences.issue(application)

    def reprint_licence(self, clerk: str, licence: str, reason: str) -> dict:
        with self.office.acting_as(clerk):
            return self.office.licences.record_reprint(licence, reason)

    def revoke_licence(self, supervisor: str, pin: str, licence: str, reason: str) -> dict:
        self.supervisor(supervisor, pin)
        with self.office.acting_as(supervisor):
            return self.office.licences.revoke(licence, reason)

    def verify_licence(self, text: str):
        return self.office.verify_licence(text)

    # --- printing and status -----------------------------------------------------------------
    @property
    def print_source(self):
        """What this counter's print worker reads jobs and documents from (the office)."""
        return self.office

    def enqueue_print(self, kind: str, ref: str, lang: str, copy: bool = False) -> dict:
        return self.office.printing.enqueue(kind, ref, lang=lang, copy=copy,
                                            printer=self.printer)

    def print_job(self, job_id: str) -> dict:
        return self.office.printing.get(job_id)

    def sync_status(self) -> dict:
        return self.office.sync_status()

