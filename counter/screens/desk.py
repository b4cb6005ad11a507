"""The clerk's desk: the queue (call next, search, a walk-in, verify), the ticket being
served, and the application on screen with what can be done next."""
from __future__ import annotations

from core.errors import NafithaError
from ui.screens import load_kv

from .base import CounterScreen, CounterViewModel


# Services nobody waits for are listed one by one up to this many (an office's few), else
# counted on one line (a ministry's catalogue would bury the busy ones).
IDLE_ROWS_LISTED = 8


class DeskViewModel(CounterViewModel):

    def screen(self) -> dict:
        return {"title": "", "columns": [self._queue_column(), self._ticket_column(),
                                         self._application_column()]}


    def key(self, name: str) -> str:
        """The shortcut after a button's label in English; Arabic labels stay Arabic only
        (the shortcut bar lists the keys)."""
        return f"  {name}" if self.lang == "en" else ""


    def _queue_column(self) -> list[dict]:
        d = self.desk
        serves = set(d.counter_services)
        items = [{"type": "heading", "text": self.t("desk.queue")}]
        if d.away:  # first: what the counter is doing, and the way back
            items += self._away_items()
        items += [{"type": "buttons", "key": "queue", "vertical": True, "buttons": [
                     self.button("call_next", self.t("desk.call_next") + self.key("F2"),
                                 "call_next", kind="go", enabled=d.can("call_next")),
                     self.button("open_search", self.t("desk.search") + self.key("F6"),
                                 "open_search", kind="secondary"),
                     self.button("start_apply", self.t("desk.new_application"),
                                 "start_apply", kind="secondary"),
                     self.button("open_verify", self.t("desk.verify") + self.key("F7"),
                                 "open_verify", kind="secondary")]},
                 ]
        if d.can("step_away"):  # only while nobody is called or served here
            items += [{"type": "buttons", "key": "step_away", "buttons": [
                self.button(f"away:{state}", self.t(f"desk.{state}"), "start_away", state,
                            kind="secondary") for state in ("break", "back_office")]}]
        items.append({"type": "text", "text": self.t("desk.waiting_hint"), "tone": "hint"})
        items += self.queue_rows([row for row in d.overview
                                  if not serves or row["service"] in serves])
        return items

    def queue_rows(self, overview: list[dict]) -> list[dict]:
        """One row per service: its name on a line of its own, then how many wait and the
        longest wait in words; services with people waiting first, the longest wait first."""
        waiting = sorted((r for r in overview if r["waiting"]),
                         key=lambda r: -r["longest_wait_minutes"])
        idle = [r for r in overview if not r["waiting"]]
        if len(idle) > IDLE_ROWS_LISTED:  # a ministry's catalogue: one line for the rest
            idle_line = {"type": "text", "tone": "hint",
                         "text": self.t("desk.nobody_others", n=len(idle))}
            idle = []
        else:
            idle_line = None
        rows = []
        for row in waiting + idle:
            detail = self.t("desk.waiting", n=row["waiting"],
                            m=self.minutes(row["longest_wait_minutes"])) \
                if row["waiting"] else self.t("desk.nobody")
            rows.append({"type": "queue_row", "key": row["service"],
                         "name": self.service_name(row["service"]), "detail": detail,
                         "busy": bool(row["waiting"])})
        return rows + ([idle_line] if idle_line else [])

    def minutes(self, m: int) -> str:
        """A wait in words; Arabic counts minutes as دقيقة واحدة, دقيقتين, 3-10 دقائق,
        11+ دقيقة. A clock a little ahead on another box can make a wait negative: none."""
        m = max(0, int(m))
        if m <= 2:
            return self.t(f"desk.minutes_{m}")
        return self.t("desk.minutes_few" if m <= 10 else "desk.minutes_many", n=m)


    def _away_items(self) -> list[dict]:
        """On a break or in back-office work: what, since when, and the way back."""
        state = self.desk.counter_state
        why = self.t(f"away.{state['reason']}") if state["reason"] != "other" \
            else state["note"] or self.t("away.other")
        return [{"type": "banner", "tone": "warn", "text": self.t(
                    "away.since", state=self.t(f"away.state_{state['state']}"), reason=why,
                    time=self.when(state["since"])[-5:])},
                {"type": "buttons", "key": "away", "vertical": True, "buttons": [
                    self.button("back_to_serving", self.t("away.back"), "back_to_serving",
                                kind="go")]},
                {"type": "text", "text": self.t("desk.away_hint"), "tone": "hint"}]

    def _ticket_column(self) -> list[dict]:
        d = self.desk
        items = [{"type": "heading", "text": self.t("desk.serving")}]
        ticket = d.ticket
        if ticket is None:  # no buttons that could do nothing: what to do instead
            items.append({"type": "text", "text": self.t("desk.no_ticket")})
            items.append({"type": "text", "text": self.t("desk.no_ticket_hint"),
                          "tone": "hint"})
        else:
            items.append({"type": "banner", "tone": "info", "text": ticket["number"],
                          "big": True})
            items.append(self._fact(self.t("app.service"),
                                    self.service_name(ticket["service_code"])))
            items.append(self._fact(self.t("app.state"),
                                    self.t(f"ticket_state.{ticket['state']}")))
            items.append({"type": "text", "tone": "hint",
                          "text": self.t("desk.calls", n=ticket["call_count"])})
            if ticket["priority"]:
                items.append(self._fact(self.t("desk.priority"),
                                        self.t(f"priority.{ticket['priority']}")))
            if ticket["transferred_from"]:
                items.append({"type": "text", "tone": "hint", "text": self.t(
                    "desk.transferred", service=self.service_name(ticket["transferred_from"]))})
        buttons = [("recall", "desk.recall", "F3", "secondary"),
                   ("no_show", "desk.no_show", "", "secondary"),
                   ("park", "desk.park", "F5", "secondary"),
                   ("start_transfer", "desk.transfer", "", "secondary"),
                   ("finish", "desk.finish", "F4", "go")]
        if ticket is not None:
            items.append({"type": "buttons", "key": "ticket", "grid": 2, "buttons": [
                self.button(action, self.t(label) + (self.key(key) if key else ""), action,
                            kind=kind,
                            enabled=d.can("transfer" if action == "start_transfer"
                                          else action))
                for action, label, key, kind in buttons]})
        parked = [t for t in d.mine if t["state"] == "parked"]
        if parked:
            items.append({"type": "heading", "text": self.t("desk.parked"), "small": True})
            items.append({"type": "buttons", "key": "parked", "vertical": True,
                          "tall": self.lang == "ar", "buttons": [
                self.button(f"resume:{t['number']}", self.t("desk.resume", ticket=t["number"]),
                            "resume", t["id"], kind="secondary") for t in parked]})
        return items


    def _application_column(self) -> list[dict]:
        d = self.desk
        app = d.application
        items = [{"type": "heading", "text": self.t("desk.application")}]
        if app is None:
            items.append({"type": "text", "text": self.t("desk.no_application"),
                          "tone": "hint"})
            return items
        items.append(self._fact("app.number", app["number"], latin=True))
        items.append(self._fact("app.service", self.service_name(app["service_code"])))
        items.append({"type": "banner", "text": self.state_text(app),
                      "tone": "error" if app["state"] in ("rejected", "withdrawn") else
                      "ok" if app["state"] in ("approved", "issued") else "info"})
        for asked in d.requested_documents():  # the back office waits for these
            items.append({"type": "banner", "tone": "warn", "text": self.t(
                "documents.asked_for", name=asked.get(self.lang) or asked["key"])})
        # The next step first: the clerk should not have to scroll for it.
        actions = [("pay", "go"), ("issue", "go"), ("approve", "go"), ("print_receipt",
                                                                        "secondary"),
                   ("reprint", "secondary"), ("reject", "danger"), ("void", "danger"),
                   ("revoke", "danger")]
        buttons, undoing = [], []
        for action, kind in actions:
            if not d.can(action):
                continue
            step = {"pay": "start_payment", "issue": "issue",
                    "print_receipt": "print_receipt"}.get(action, "request")
            args = [action] if step == "request" else []
            (undoing if kind == "danger" else buttons).append(
                self.button(action, self.t(f"app.{action}"), step, *args, kind=kind))
        if buttons:
            items.append({"type": "buttons", "key": "application", "grid": 2,
                          "buttons": buttons})
        if d.can_open_documents():  # what the service asks the resident to bring
            items.append({"type": "buttons", "key": "documents", "buttons": [
                self.button("documents", self.t("documents.open"), "open_documents",
                            kind="secondary")]})
        if undoing:  # Reject, Void, Revoke: a row apart from the next step, each confirmed
            items.append({"type": "buttons", "key": "application_undo", "grid": 2,
                          "buttons": undoing})
        service = None
        try:
            service = d.backend.service(app["service_code"])
        except NafithaError:
            pass
        for label, value in self.answers(app, service):
            items.append(self._fact(label, value))
        items.append(self._fact("app.fee", self.money(app["fee_minor"], app["currency"])))
        bill = app.get("bill")
        if bill:  # what the resident pays with later, at a bank app, ATM or agent
            items.append(self._fact("app.bill", bill["number"], latin=True))
            items.append({"type": "text", "tone": "hint", "text": self.t(
                f"bill.{bill['state']}", amount=self.money(bill["amount_minor"],
                                                          bill["currency"]),
                due=self.when(bill["due_at"]), paid=self.when(bill["paid_at"]))})
        if app.get("payment"):
            p = app["payment"]
            items.append(self._fact("app.receipt", f"{p['receipt_number']} · "
                                    f"{self.t('method.' + p['method'])}", latin=True))
        if app.get("decided_by") and app["decided_by"] != "auto":
            who = app["decided_by"]
            items.append(self._fact("app.decided", self.t(
                "app.decided_by", state=self.t(f"state.{app['state']}") if app["state"]
                in ("approved", "rejected") else self.t("state.approved"),
                who=self.t("app.back_office") if who == "central" else who)))
        if app.get("reason"):
            items.append(self._fact("app.reason", app["reason"]))
        licence = app.get("licence")
        if licence:
            items.append(self._fact("app.licence", licence["number"], latin=True))
            if licence["reprint_count"]:
                items.append({"type": "text", "tone": "hint",
                              "text": self.t("app.copies", n=licence["reprint_count"])})
            if licence["revoked_at"]:
                items.append({"type": "banner", "tone": "error", "text": self.t(
                    "app.revoked", reason=licence["revoke_reason"])})
        return items


    def answers(self, app: dict, service) -> list[tuple[str, str]]:
        """The resident's answers in the form's order (the catalogue's), each under its
        label; a field the catalogue no longer has comes last, under its key."""
        fields = app["fields"]
        order = [f.key for f in service.fields if f.key in fields] if service else []
        order += sorted(k for k in fields if k not in order)
        out = []
        for key in order:
            label = key
            if service is not None:
                try:
                    label = service.field(key).label.get(self.lang)
                except KeyError:
                    pass
            out.append((label, str(fields[key])))
        return out


class DeskScreen(CounterScreen):
    view_model_class = DeskViewModel


load_kv(__file__)
