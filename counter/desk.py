"""The clerk's desk as a state machine, without Kivy: who is signed in, the ticket being
served, the application on screen, the form being filled in, the last notice. Screens
render it (counter/screens/); taps and keyboard shortcuts call its methods.

Steps marked @slow talk to the store or a device; the app runs them on a worker thread one
at a time (a second tap meanwhile is ignored); ui/steps.py has the marks. The submit_<form>
steps behind Enter run inside `submit`, so on the worker too. Every failure is kept in `notice` as the
exception itself; the screen phrases it in the clerk's language. A failed step changes
nothing: core refuses before writing.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from core import money
from core.counter_states import AWAY, REASONS
from core.errors import InvalidState, NafithaError, NotFound, PermissionDenied, ValidationError
from core.faces.counter import SUPERVISOR_ACTIONS
from ui.steps import slow

from .documents import DocumentSteps

log = logging.getLogger("nafitha.counter")

# Views of a signed-in clerk (sign-in and the lock screen come from the session itself).
VIEWS = ("shift_open", "desk", "search", "apply", "payment", "authorise", "reason",
         "transfer", "verify", "shift_close", "z_report", "documents", "away")
SCREENS = ("signin", "locked") + VIEWS
# The keyboard shortcuts, listed on screen (counter/screens/chrome.kv) and in docs/counter.md.
SHORTCUTS = (("f2", "call_next"), ("f3", "recall"), ("f4", "finish"), ("f5", "park"),
             ("f6", "open_search"), ("f7", "open_verify"), ("f9", "lock"))
# Actions a reason is asked for, and whether a supervisor must authorise them.
REASON_ACTIONS = {"approve": False, "reject": True, "void": True, "revoke": True,
                  "reprint": True}


@dataclass
class FormField:
    key: str
    label: str  # translation key ("form.username") or, for service fields, the label itself
    kind: str = "text"  # text | pin | amount | choice
    value: str = ""
    options: tuple = ()  # (value, label) pairs for a choice
    required: bool = True
    error: NafithaError | None = None


@dataclass
class Form:
    name: str  # what Enter does: the desk method submit_<name>
    fields: list[FormField]
    focus: int = 0
    subject: dict = field(default_factory=dict)  # what the form acts on (action, numbers)

    def get(self, key: str) -> FormField:
        return next(f for f in self.fields if f.key == key)

    def values(self) -> dict:
        return {f.key: f.value for f in self.fields}

    @property
    def focused(self) -> FormField | None:
        return self.fields[self.focus] if self.fields else None


@dataclass
class Notice:
    """The line at the top of the work area: ("ok", translation key, params) or an error."""
    kind: str  # "ok" | "error"
    key: str = ""
    params: dict = field(default_factory=dict)
    error: Exception | None = None


class Desk(DocumentSteps):
    def __init__(self, backend, devices, lang: str = "ar", services: list[str] | None = None):
        self.backend = backend
        self.settings = backend.settings
        self.devices = devices
        self.lang = lang
        self.counter = backend.counter
        self.counter_services = services or []  # empty: every service
        self.user: dict | None = None
        self.locked = False
        self.view = "desk"
        self.shift: dict | None = None
        self.ticket: dict | None = None
        self.mine: list[dict] = []
        self.overview: list[dict] = []
        # This counter's state (core/counter_states.py): open, or away on a break or in
        # back-office work with a reason; None until the first refresh after sign-in.
        self.counter_state: dict | None = None
        self.application: dict | None = None
        self.results: list[dict] = []
        self.verification = None
        self.z: dict | None = None
        self.notice: Notice | None = None
        self.form: Form | None = None
        self._saved_form: Form | None = None  # what the lock screen covers
        self.apply_service: str | None = None
        # A licence this counter's printer was printing when it stopped may have come out:
        # the clerk says whether it did (print_question, asked after sign-in).
        self.print_question: dict | None = None
        self._signin_form()

    # --- what is shown ----------------------------------------------------------------------
    @property
    def screen(self) -> str:
        if self.user is None:
            return "signin"
        if self.locked:
            return "locked"
        return self.view

    @property
    def is_supervisor(self) -> bool:
        return bool(self.user) and self.user["role"] == "supervisor"

    def can(self, action: str) -> bool:
        """Whether the desk offers the action now (buttons are disabled otherwise)."""
        app, ticket = self.application, self.ticket
        paid = bool(app and app.get("payment"))
        licence = app.get("licence") if app else None
        return {
            "call_next": self.ticket is None and not self.away,
            "step_away": self.ticket is None and not self.away,
            "recall": bool(ticket and ticket["state"] == "called"),
            "no_show": bool(ticket and ticket["state"] == "called"),
            "park": bool(ticket),
            "finish": bool(ticket),
            "transfer": bool(ticket),
            "approve": bool(app and app["state"] in ("submitted", "paid")
                            and app["issue_mode"] != "instant"),
            "reject": bool(app and app["state"] in ("submitted", "paid", "approved")
                           and not licence),
            "pay": bool(app and app["state"] in ("submitted", "approved") and not paid),
            "void": bool(paid and not licence),
            "issue": bool(app and app["state"] == "approved" and paid and not licence),
            "reprint": bool(licence and not licence["revoked_at"]),
            "revoke": bool(licence and not licence["revoked_at"]),
            "print_receipt": paid,
        }.get(action, False)

    # --- typing (main thread, instant) ------------------------------------------------------
    def type_text(self, text: str) -> None:
        f = self.form.focused if self.form else None
        if f is None or f.kind == "choice":
            return
        if f.kind in ("pin", "amount"):
            allowed = "0123456789" + ("." if f.kind == "amount" else "")
            text = "".join(ch for ch in text.translate(_LATIN_DIGITS) if ch in allowed)
        limit = 8 if f.kind == "pin" else 100
        f.value = (f.value + text)[:limit]
        f.error = None

    def backspace(self) -> None:
        f = self.form.focused if self.form else None
        if f is not None and f.value:
            from ui.keyboard import drop_last_character
            f.value = drop_last_character(f.value)
            f.error = None

    def focus(self, key: str) -> None:
        if self.form:
            self.form.focus = next(i for i, f in enumerate(self.form.fields) if f.key == key)

    def next_field(self, step: int = 1) -> None:
        if self.form and self.form.fields:
            self.form.focus = (self.form.focus + step) % len(self.form.fields)

    def choose(self, key: str, value: str) -> None:
        """A choice field's option (payment method, service, decision)."""
        if self.form is None:
            return
        if self.form.name == "apply" and key == "service":
            self.choose_service(value)
            return
        if self.form.name == "payment" and key == "method":
            self.choose_method(value)
            return
        if self.form.name == "away" and key == "reason":
            self.choose_away_reason(value)
            return
        self.form.get(key).value = value
        self.form.get(key).error = None

    @slow
    def submit(self):
        """Enter: the current form's action (slow)."""
        if self.form is None:
            return
        return getattr(self, f"submit_{self.form.name}")()

    # --- signing in and out ---------------------------------------------------------------------
    def _signin_form(self) -> None:
        self.form = Form("signin", [FormField("username", "form.username"),
                                    FormField("pin", "form.pin", "pin")])

    def submit_signin(self) -> None:
        """Slow: scrypt on purpose."""
        values = self.form.values()
        try:
            self.user = self.backend.sign_in(values["username"], values["pin"])
        except NafithaError as exc:
            self.form.get("pin").value = ""
            self._fail(exc, "pin" if isinstance(exc, PermissionDenied) else None)
            return
        self.locked = False
        self.notice = None
        log.info("%s signed in at counter %s", self.user["username"], self.counter)
        self.shift = self.backend.current_shift(self.user["username"])
        if self.shift is None:
            self._shift_form()
        else:
            self._to_desk()
        self._ask_about_prints()

    # --- a licence that may have come out before a stop -----------------------------------
    def _ask_about_prints(self) -> None:
        """Licences left printing by a stop are never sent again by themselves (recover):
        the signed-in clerk is asked about the first."""
        waiting = self.backend.print_jobs().recover()
        self.print_question = waiting[0] if waiting else None

    @slow
    def answer_print(self, came_out: str) -> None:
        """yes: done; no: the original prints now (none exists); unsure: no other original,
        a reprint is a counted COPY. Audited under the clerk."""
        asked = self.print_question
        try:
            job = self.backend.answer_print(self.user["username"], asked["id"], came_out)
        except NafithaError as exc:
            self._fail(exc)
            return
        if job["state"] == "pending":
            self.devices.queued(job)
        self.notice = Notice("ok", f"notice.print_answer_{came_out}",
                             {"licence": asked["licence_number"]})
        self._ask_about_prints()

    def lock(self) -> None:
        """The clerk stepped away (or was idle): the desk stays, a PIN opens it again."""
        if self.user is None or self.locked:
            return
        self.locked = True
        self._saved_form = self.form
        self.form = Form("unlock", [FormField("pin", "form.pin", "pin")])
        self.notice = None

    def submit_unlock(self) -> None:
        try:
            self.backend.sign_in(self.user["username"], self.form.get("pin").value)
        except NafithaError as exc:
            self.form.get("pin").value = ""
            self._fail(exc, "pin")
            return
        self.locked = False
        self.form, self._saved_form = self._saved_form, None
        self.notice = None

    @slow
    def sign_out(self) -> None:
        """Forget the clerk and everything on screen (the shift stays open for them)."""
        if self.user:
            log.info("%s signed out at counter %s", self.user["username"], self.counter)
            try:
                self.backend.sign_out(self.user["username"])  # a hub ends the session
            except NafithaError as exc:  # the hub is away: the session ends with the token
                log.warning("sign-out not recorded on the hub: %s", exc.message)
        self.user, self.locked, self.shift, self._saved_form = None, False, None, None
        self.counter_state = None
        self.ticket, self.application, self.results = None, None, []
        self.verification, self.z, self.notice, self.view = None, None, None, "desk"
        self.documents = None
        self._signin_form()

    # --- the shift --------------------------------------------------------------------------
    def _shift_form(self) -> None:
        self.view = "shift_open"
        self.form = Form("shift_open", [FormField("float", "form.float", "amount")])

    def submit_shift_open(self) -> None:
        f = self.form.get("float")
        try:
            minor = _cash_amount(f.value or "0", self.backend.currency(), "float")
            self.shift = self.backend.open_shift(self.user["username"], minor)
        except NafithaError as exc:
            self._fail(exc, "float")
            return
        self._to_desk(Notice("ok", "notice.shift_opened", {"shift": self.shift["number"]}))

    def start_close_shift(self) -> None:
        self.view = "shift_close"
        self.form = Form("shift_close", [FormField("counted", "form.counted", "amount")])
        self.notice = None

    def submit_shift_close(self) -> None:
        """Closes the shift and prints the Z report."""
        f = self.form.get("counted")
        if not f.value:
            self._fail(ValidationError("count the cash", field="counted", problem="required"),
                       "counted")
            return
        try:
            minor = _cash_amount(f.value, self.backend.currency(), "counted")
            self.z = self.backend.close_shift(self.user["username"], minor)
        except NafithaError as exc:
            self._fail(exc, "counted")
            return
        self.shift = None
        self.view, self.form = "z_report", None
        self.print_z()

    @slow
    def print_z(self) -> None:
        if self.z:
            self._print("z_report", self.z["shift_id"])

    def new_shift(self) -> None:
        """After the Z report: the next shift for the same clerk."""
        self.z = None
        self._shift_form()
        self.notice = None

    # --- the desk and the queue ---------------------------------------------------------------
    def _to_desk(self, notice: Notice | None = None) -> None:
        self.view, self.form, self.documents = "desk", None, None
        self.notice = notice
        self.refresh()

    @slow
    def back(self) -> None:
        """(Refreshes) back to the desk from any view."""
        if self.user is None or self.locked:
            return
        if self.view in ("shift_open", "z_report"):
            return  # a shift must be open to work at the desk
        self._to_desk(self.notice if self.notice and self.notice.kind == "ok" else None)

    @slow
    def refresh(self) -> None:
        """The queue, this counter's tickets, the application shown (a back-office
        decision may have arrived)."""
        self.apply_refresh(self.fetch_refresh())

    def fetch_refresh(self) -> dict:
        """Reads only (the app's background refresh runs it beside the clerk's
        steps and applies it only if no step ran meanwhile)."""
        number = self.application["number"] if self.application else None
        app = self.backend.application(number) if number else None
        return {"overview": self.backend.queue_overview(), "mine": self.backend.my_tickets(),
                "application": app, "requested": self.fetch_requested(app),
                "counter_state": self.backend.counter_state()}

    def apply_refresh(self, data: dict) -> bool:
        """Take a background refresh; False when it changed nothing the clerk sees (most
        don't: the app then draws nothing, bench/counter.py)."""
        seen = self._refreshed_view()
        self.overview, self.mine = data["overview"], data["mine"]
        self.counter_state = data.get("counter_state", self.counter_state)
        current = [t for t in self.mine if t["state"] in ("called", "serving")]
        self.ticket = current[0] if current else None
        if self.application and data["application"] and \
                data["application"]["number"] == self.application["number"]:
            self.application = data["application"]
        self.requested = data.get("requested")
        return self._refreshed_view() != seen

    def _refreshed_view(self) -> tuple:
        return (self.overview, self.mine, self.counter_state, self.ticket, self.application,
                self.requested)

    def _show_ticket_application(self) -> None:
        self.application = self.backend.ticket_application(self.ticket["id"]) \
            if self.ticket else None

    @slow
    def call_next(self) -> None:
        if self.ticket is not None:
            return
        try:  # on a break (F2 still works): core refuses, and the notice says why
            ticket = self.backend.call_next(self.user["username"], self.counter_services)
        except InvalidState as exc:
            self._fail(exc)
            self.refresh()  # the state may have changed elsewhere (another session)
            return
        if ticket is None:
            self.notice = Notice("ok", "notice.nobody_waiting")
        else:
            self.notice = Notice("ok", "notice.called", {"ticket": ticket["number"]})
        self.refresh()
        self._show_ticket_application()

    # --- a break or back-office work, and back ---------------------------------------------
    @property
    def away(self) -> bool:
        """On a break or in back-office work: nobody is called here meanwhile."""
        return bool(self.counter_state and self.counter_state["state"] in AWAY)

    def start_away(self, state: str) -> None:
        """Break or back-office: first the reason (REASONS; "other" asks for a note)."""
        if state not in AWAY or not self.can("step_away"):
            return
        self.view = "away"
        self.form = Form("away", [FormField("reason", "form.away_reason", "choice",
                                            options=tuple((r, f"away.{r}") for r in REASONS))],
                         subject={"state": state})
        self.notice = None

    def choose_away_reason(self, reason: str) -> None:
        self.form.fields[:] = [self.form.get("reason")]
        self.form.get("reason").value, self.form.get("reason").error = reason, None
        if reason == "other":  # a few words of what the clerk is doing
            self.form.fields.append(FormField("note", "form.away_note"))
            self.form.focus = 1

    def submit_away(self) -> None:
        state, values = self.form.subject["state"], self.form.values()
        if not values["reason"]:
            self._fail(ValidationError("choose a reason", field="reason", problem="required"),
                       "reason")
            return
        try:
            self.counter_state = self.backend.set_counter_state(
                self.user["username"], state, values["reason"], values.get("note") or None)
        except NafithaError as exc:
            self._fail(exc, _field_of(exc, self.form))
            return
        log.info("counter %s: %s (%s)", self.counter, state, values["reason"])
        self._to_desk(Notice("ok", f"notice.{state}"))

    @slow
    def back_to_serving(self) -> None:
        """The clerk is back: the counter opens and calls again."""
        if not self.away:
            return
        try:
            self.counter_state = self.backend.set_counter_state(self.user["username"], "open")
        except NafithaError as exc:
            self._fail(exc)
            return
        self._to_desk(Notice("ok", "notice.back_to_serving"))

    def _ticket_step(self, step: str, *args, notice: str | None = None) -> None:
        ticket = self.ticket
        try:
            result = self.backend.ticket_step(self.user["username"], step, ticket["id"], *args)
        except NafithaError as exc:
            self._fail(exc)
            return
        if result["state"] == "no_show" and step == "recall":
            notice = "notice.no_show_limit"
        self.notice = Notice("ok", notice or f"notice.{step}", {"ticket": result["number"]})
        self.refresh()
        if self.ticket is None:
            self.application = None

    @slow
    def recall(self) -> None:
        if self.can("recall"):
            self._ticket_step("recall")

    @slow
    def no_show(self) -> None:
        if self.can("no_show"):
            self._ticket_step("no_show")

    @slow
    def park(self) -> None:
        if self.can("park"):
            self._ticket_step("park")

    @slow
    def finish(self) -> None:
        if self.can("finish"):
            self._ticket_step("finish")

    @slow
    def resume(self, ticket_id: str) -> None:
        """A parked ticket back to this counter (the one being served is parked)."""
        if self.ticket is not None:
            self.park()
        try:
            self.backend.ticket_step(self.user["username"], "resume", ticket_id)
        except NafithaError as exc:
            self._fail(exc)
            return
        self.refresh()
        self._show_ticket_application()
        if self.ticket:
            self.notice = Notice("ok", "notice.resume", {"ticket": self.ticket["number"]})

    def start_transfer(self) -> None:
        if not self.can("transfer"):
            return
        here = self.ticket["service_code"]
        options = tuple((s.code, s.code) for s in self.backend.services() if s.code != here)
        self.view = "transfer"
        self.form = Form("transfer", [FormField("service", "form.service", "choice",
                                                options=options)])
        self.notice = None

    def submit_transfer(self) -> None:
        service = self.form.get("service").value
        if not service:
            self._fail(ValidationError("choose a service", field="service",
                                       problem="required"), "service")
            return
        self._ticket_step("transfer", service)
        if self.notice and self.notice.kind == "ok":
            self.view, self.form = "desk", None

    # --- finding and entering applications --------------------------------------------------
    def open_search(self) -> None:
        self.view = "search"
        self.form = Form("search", [FormField("query", "form.query")])
        self.results = []
        self.notice = None

    def submit_search(self) -> None:
        """A number, a national ID or a scanned code; failing those, a holder's name."""
        query = self.form.get("query").value
        try:
            try:
                self.results = self.backend.find(query)
            except NotFound as exc:
                if exc.details.get("other_office") or not any(ch.isalpha() for ch in query):
                    raise
                self.results = self.backend.find_by_name(query)
        except NafithaError as exc:
            self.results = []
            self._fail(exc, "query")
            return
        self.notice = None
        if len(self.results) == 1:
            self.show_application(self.results[0]["number"])

    @slow
    def scanned(self, text: str) -> None:
        """A code in front of the camera (search: a slip or ticket; verify: a
        licence)."""
        if self.view == "verify":
            self.verify(text)
        elif self.view == "search":
            self.form.get("query").value = text
            self.submit_search()

    @slow
    def show_application(self, number: str) -> None:
        try:
            self.application = self.backend.application(number)
        except NafithaError as exc:
            self._fail(exc)
            return
        self._to_desk()

    def start_apply(self) -> None:
        """A walk-in's application: first the service."""
        self.view = "apply"
        self.apply_service = None
        options = tuple((s.code, s.code) for s in self.backend.services())
        self.form = Form("apply", [FormField("service", "form.service", "choice",
                                             options=options)])
        self.notice = None

    def choose_service(self, code: str) -> None:
        service = self.backend.service(code)
        self.apply_service = code
        fields = [FormField("service", "form.service", "choice", value=code,
                            options=((code, code),))]
        for f in service.fields:
            fields.append(FormField(f.key, f.label.get(self.lang),
                                    "choice" if f.options else "text",
                                    options=tuple((o.value, o.label.get(self.lang))
                                                  for o in f.options),
                                    required=f.required))
        self.form = Form("apply", fields, focus=1 if len(fields) > 1 else 0)

    def submit_apply(self) -> None:
        """Every field is checked; the first wrong one gets the focus."""
        if self.apply_service is None:
            service = self.form.get("service").value
            if service:
                self.choose_service(service)
            return
        values = {f.key: f.value.strip() for f in self.form.fields[1:] if f.value.strip()}
        for index, f in enumerate(self.form.fields[1:], start=1):
            f.error = None
            if f.required and not f.value.strip():
                f.error = ValidationError(f"{f.key} is required", field=f.key,
                                          problem="required")
            elif f.value.strip():
                try:
                    self.backend.check_fields(self.apply_service, {f.key: f.value.strip()})
                except ValidationError as exc:
                    f.error = exc
            if f.error is not None and all(g.error is None
                                           for g in self.form.fields[1:index]):
                self.form.focus = index
        if any(f.error for f in self.form.fields):
            self.notice = Notice("error", error=next(f.error for f in self.form.fields
                                                     if f.error))
            return
        ticket = self.ticket["id"] if self.ticket else None
        try:
            app = self.backend.submit(self.user["username"], self.apply_service, values, ticket)
        except NafithaError as exc:
            self._fail(exc)
            return
        self.application = app
        self.apply_service = None
        self._to_desk(Notice("ok", "notice.submitted", {"application": app["number"]}))

    # --- payments -----------------------------------------------------------------------------
    def start_payment(self) -> None:
        if not self.can("pay"):
            return
        self.view = "payment"
        self.form = Form("payment", [
            FormField("method", "form.method", "choice", value="cash",
                      options=(("cash", "payment.cash"), ("card", "payment.card"))),
            FormField("tendered", "form.tendered", "amount")], focus=1)
        self.notice = None

    def choose_method(self, method: str) -> None:
        self.form.get("method").value = method
        if method == "cash":
            self.form.fields[1:] = [FormField("tendered", "form.tendered", "amount")]
        else:
            self.form.fields[1:] = [FormField("reference", "form.reference")]
        self.form.focus = 1

    def submit_payment(self) -> None:
        """The payment, then its receipt printed."""
        values = self.form.values()
        method, app = values["method"], self.application
        try:
            tendered = None
            if method == "cash":
                if not values.get("tendered"):
                    raise ValidationError("tendered amount needed", field="tendered",
                                          problem="required")
                tendered = money.parse_amount(values["tendered"], app["currency"], "tendered")
            payment = self.backend.take_payment(self.user["username"], app["number"], method,
                                                tendered, values.get("reference") or None)
        except NafithaError as exc:
            self._fail(exc, "tendered" if method == "cash" else "reference")
            return
        self._print("receipt", payment["id"])
        self.application = self.backend.application(app["number"])
        self._to_desk(Notice("ok", "notice.paid_change" if payment["change_minor"]
                             else "notice.paid",
                             {"receipt": payment["receipt_number"],
                              "change": payment["change_minor"] or 0,
                              "currency": payment["currency"]}))

    @slow
    def print_receipt(self) -> None:
        """The receipt again (e.g. the first one jammed)."""
        if self.can("print_receipt"):
            self._print("receipt", self.application["payment"]["id"], copy=True)
            self.notice = Notice("ok", "notice.printing")

    # --- licences ------------------------------------------------------------------------------
    @slow
    def issue(self) -> None:
        """Sign the licence and print it with its QR."""
        if not self.can("issue"):
            return
        try:
            # Issued and queued for printing in one transaction.
            licence = self.backend.issue_licence(self.user["username"],
                                                 self.application["number"],
                                                 self.print_language)
        except NafithaError as exc:
            self._fail(exc)
            return
        self.devices.queued(licence["print_job"])
        self.application = self.backend.application(self.application["number"])
        self.notice = Notice("ok", "notice.issued", {"licence": licence["number"]})

    # --- actions that need a reason (and some a supervisor) ---------------------------------
    def request(self, action: str) -> None:
        """approve / reject / void / revoke / reprint: a form for the reason, and for a
        supervisor's name and PIN where the action needs one. A supervisor signed in
        still confirms with their PIN (the record names who authorised it)."""
        if action not in REASON_ACTIONS or not self.can(action):
            return
        fields = []
        if action in SUPERVISOR_ACTIONS:
            fields += [FormField("supervisor", "form.supervisor",
                                 value=self.user["username"] if self.is_supervisor else ""),
                       FormField("pin", "form.supervisor_pin", "pin")]
        fields.append(FormField("reason", "form.reason", required=REASON_ACTIONS[action]))
        self.view = "authorise" if action in SUPERVISOR_ACTIONS else "reason"
        focus = 1 if self.is_supervisor and action in SUPERVISOR_ACTIONS else 0
        self.form = Form("authorise", fields, focus=focus, subject={"action": action})
        self.notice = Notice("ok", "notice.needs_supervisor") \
            if action in SUPERVISOR_ACTIONS and not self.is_supervisor else None

    def submit_authorise(self) -> None:
        action = self.form.subject["action"]
        values = {k: v.strip() if k != "pin" else v for k, v in self.form.values().items()}
        app = self.application
        for f in self.form.fields:
            f.error = None
        if REASON_ACTIONS[action] and not values["reason"]:
            self._fail(ValidationError("a reason is needed", field="reason",
                                       problem="required"), "reason")
            return
        try:
            if action in ("approve", "reject"):
                self.application = self.backend.decide(values["supervisor"], values["pin"],
                                                       action, app["number"], values["reason"])
                notice = Notice("ok", "notice.approved" if action == "approve"
                                else "notice.rejected", {"application": app["number"]})
            elif action == "void":
                payment = self.backend.void_payment(values["supervisor"], values["pin"],
                                                    app["payment"]["receipt_number"],
                                                    values["reason"])
                notice = Notice("ok", "notice.voided", {"receipt": payment["receipt_number"]})
            elif action == "revoke":
                licence = self.backend.revoke_licence(values["supervisor"], values["pin"],
                                                      app["licence"]["number"],
                                                      values["reason"])
                notice = Notice("ok", "notice.revoked", {"licence": licence["number"]})
            else:  # reprint: a COPY, counted, same number, queued with the count
                licence = self.backend.reprint_licence(self.user["username"],
                                                       app["licence"]["number"],
                                                       values["reason"], self.print_language)
                self.devices.queued(licence["print_job"])
                notice = Notice("ok", "notice.reprinted", {"licence": licence["number"]})
        except NafithaError as exc:
            if "pin" in self.form.values():
                self.form.get("pin").value = ""
            self._fail(exc, _field_of(exc, self.form))
            return
        self.application = self.backend.application(app["number"])
        self._to_desk(notice)

    # --- verifying a licence ----------------------------------------------------------------
    def open_verify(self) -> None:
        self.view = "verify"
        self.form = None
        self.verification = None
        self.notice = None

    def verify(self, text: str) -> None:
        self.verification = self.backend.verify_licence(text)

    # --- helpers ----------------------------------------------------------------------------
    @property
    def print_language(self) -> str:
        """Paper in the printer's language (printer.language), else the clerk's."""
        return self.devices.print_language or self.lang

    def _print(self, kind: str, ref: str, copy: bool = False) -> None:
        try:
            self.devices.print_document(kind, ref, self.print_language, copy=copy)
        except NafithaError as exc:  # the document stays in the store; reprint later
            log.error("could not queue %s %s for printing: %s", kind, ref, exc)

    def _session_ended(self, exc: Exception) -> bool:
        """The hub ended the clerk's session (idle, or the day is over): the desk locks,
        keeping the work, and the clerk's PIN starts a new session."""
        if isinstance(exc, PermissionDenied) and exc.details.get("reason") == "signed_out" \
                and self.user is not None and not self.locked:
            self.lock()
            self.notice = Notice("error", error=exc)
            return True
        return False

    def _fail(self, exc: Exception, field_key: str | None = None) -> None:
        if self._session_ended(exc):
            return
        self.notice = Notice("error", error=exc)
        if self.form is not None and field_key:
            try:
                target = self.form.get(field_key)
            except StopIteration:
                return
            target.error = exc if isinstance(exc, NafithaError) else None
            self.focus(field_key)

    def failed(self, exc: Exception) -> None:
        """A step raised something unexpected (the store is unusable, a bug): shown, kept."""
        if self._session_ended(exc):
            return
        log.exception("counter step failed", exc_info=exc)
        self.notice = Notice("error", error=exc)


def _cash_amount(text: str, currency: str, field_key: str) -> int:
    """Cash in a drawer: an amount, and an empty drawer (0, 0.000) is one too."""
    if text.strip() and set(text.strip()) <= set("0."):
        return 0
    return money.parse_amount(text, currency, field_key)


def _field_of(exc: NafithaError, form: Form) -> str | None:
    if isinstance(exc, PermissionDenied) and "pin" in form.values():
        return "pin"
    field_key = getattr(exc, "field", None)
    if field_key in form.values():
        return field_key
    return "reason" if field_key == "reason" else None


# Arabic-Indic and Persian digits typed on an Arabic keyboard count as digits.
_LATIN_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫", "01234567890123456789.")
