"""What each counter screen shows, as plain data (no Kivy): a title and columns of items.
counter/screens/items.py turns each item into a widget; tests read these directly.

Items: {"type": "heading" | "text" | "fact" | "field" | "buttons" | "banner" | "camera", ...}
A button is {"id": pilot id, "label", "action", "args", "kind", "enabled"}: tapping it runs
`app.act(action, *args)`."""
from __future__ import annotations

from datetime import datetime, timezone

from core.errors import (HubUnreachable, NafithaError, NotFound, PermissionDenied,
                         ValidationError)
from ui.messages import field_error, format_money

from .desk import REASON_ACTIONS, SHORTCUTS


class Views:
    def __init__(self, desk, tr, settings):
        self.desk = desk
        self.tr = tr
        self.settings = settings

    # --- helpers -------------------------------------------------------------------------
    @property
    def lang(self) -> str:
        return self.desk.lang

    def t(self, key: str, **params) -> str:
        return self.tr.get(key, self.lang, **params)

    def money(self, minor: int, currency: str) -> str:
        return format_money(minor, currency, self.lang, self.settings.office.digits)

    def service_name(self, code: str) -> str:
        try:
            return self.desk.backend.service(code).name.get(self.lang)
        except NafithaError:
            return code

    def when(self, iso_text: str | None) -> str:
        if not iso_text:
            return ""
        moment = datetime.fromisoformat(iso_text).astimezone(self.settings.tz)
        return self.tr.digits_of(moment.strftime("%Y-%m-%d %H:%M"), self.lang)

    def day(self, epoch) -> str:
        if not epoch:
            return ""
        moment = datetime.fromtimestamp(epoch, timezone.utc).astimezone(self.settings.tz)
        return self.tr.digits_of(moment.strftime("%Y-%m-%d"), self.lang)

    @staticmethod
    def button(id_: str, label: str, action: str, *args, kind: str = "primary",
               enabled: bool = True) -> dict:
        return {"id": id_, "label": label, "action": action, "args": list(args),
                "kind": kind, "enabled": enabled}

    def error_text(self, exc: Exception | None, label: str = "") -> str:
        """A refusal in the clerk's language (core's English message is for the log)."""
        if exc is None:
            return ""
        if isinstance(exc, ValidationError):
            if exc.problem == "required":
                return self.t("error.required")
            return field_error(exc, None, self.lang, digits_setting=self.settings.office.digits)
        if isinstance(exc, PermissionDenied):
            reason = exc.details.get("reason", "")
            if reason == "wrong_pin":
                return self.t("error.wrong_pin", n=exc.details.get("attempts_left", 0))
            if reason == "locked":
                return self.t("error.locked", time=self.when(exc.details["locked_until"])[-5:])
            if reason in ("locked_now", "disabled", "role", "not_staff",
                          "service_not_served", "not_signed_in", "signed_out",
                          "token_revoked", "token_wrong", "token_missing"):
                return self.t(f"error.{reason}")
        if isinstance(exc, HubUnreachable):
            return self.t("error.hub_unreachable")
        if isinstance(exc, NotFound):
            if exc.details.get("other_office"):
                return self.t("error.other_office", office=exc.details["other_office"])
            if exc.details.get("field") == "username":
                return self.t("error.unknown_user")
            return self.t("error.not_found")
        if isinstance(exc, NafithaError):
            # A state the buttons should have prevented (another counter got there first):
            # the translated heading, and core's sentence, which names the numbers.
            return f"{self.t('error.invalid_state')}\n{exc.message}"
        return self.t("error.failed")

    def notice(self) -> dict:
        n = self.desk.notice
        if n is None:
            return {"text": "", "tone": "ok"}
        if n.kind == "error":
            return {"text": self.error_text(n.error), "tone": "error"}
        params = dict(n.params)
        if "change" in params:
            params["change"] = self.money(params["change"], params.pop("currency"))
        params.pop("currency", None)
        return {"text": self.t(n.key, **params), "tone": "ok"}

    # --- the frame ------------------------------------------------------------------------
    def chrome(self, status: dict) -> dict:
        d, s = self.desk, self.settings
        office = s.office.name_ar if self.lang == "ar" else s.office.name_en
        clerk = ""
        if d.user:
            clerk = self.t("common.clerk", user=d.user["username"],
                           role=self.t(f"role.{d.user['role']}"))
        sync = status.get("sync") or {}
        if status.get("hub") is False:  # a service centre's counter: the hub is away
            online = self.t("status.hub_offline")
        elif sync.get("online") is None:
            online = self.t("status.never")
        else:
            online = self.t("status.online" if sync["online"] else "status.offline")
        last = self.t("status.last_sync", time=self.when(sync["last_success_at"])) \
            if sync.get("last_success_at") else ""
        printer = status.get("printer", "ok")
        camera = status.get("camera", "closed")
        return {
            "office": office, "counter": self.t("common.counter", name=s.counter.name),
            "clerk": clerk, "language": self.t("common.language"),
            "lock": self.t("common.lock"), "sign_out": self.t("common.sign_out"),
            "close_shift": self.t("common.close_shift"),
            "signed_in": bool(d.user) and not d.locked,
            "at_work": bool(d.user) and not d.locked and d.shift is not None,
            "online": online,
            "online_tone": "ok" if sync.get("online") and status.get("hub") is not False
            else "warn",
            "pending": self.t("status.pending", n=int(sync.get("pending") or 0)),
            "last_sync": last,
            "printer": self.t(f"status.printer_{printer}"),
            "printer_tone": "ok" if printer == "ok" else "warn",
            "camera": self.t("status.camera_on" if camera in ("starting", "running")
                             else "status.camera_off" if camera in ("closed", "ended", "stopped")
                             else "status.camera_unavailable"),
            "shortcuts": [[key.upper() if len(key) < 4 else key.capitalize(),
                           self.t(f"shortcut.{step}")]
                          for key, step in SHORTCUTS + (("esc", "back"), ("enter", "enter"))]
            if d.user and not d.locked else [],
            "notice": self.notice(),
        }

    # --- screens ----------------------------------------------------------------------------
    def screen(self) -> dict:
        """{"title": ..., "columns": [[item, ...], ...]} for the desk's current screen."""
        name = self.desk.screen
        return getattr(self, f"_{name}")()

    def _form_items(self) -> list[dict]:
        form = self.desk.form
        items = []
        if form is None:
            return items
        for index, f in enumerate(form.fields):
            label = self.t(f.label) if f.label.startswith(("form.",)) else f.label
            if f.kind == "choice":
                if len(f.options) > 1 or form.name != "apply":
                    items.append({"type": "text", "text": label, "tone": "hint"})
                    items.append({"type": "buttons", "key": f"choice:{f.key}", "buttons": [
                        self.button(f"choose:{f.key}:{value}", self._option_label(f, text),
                                    "choose", f.key, value,
                                    kind="go" if value == f.value else "secondary")
                        for value, text in f.options]})
                continue
            shown = "•" * len(f.value) if f.kind == "pin" else f.value
            if not f.required:
                label = f"{label} · {self.t('form.optional')}"
            items.append({"type": "field", "key": f.key, "label": label, "value": shown,
                          "focused": index == form.focus,
                          "error": self.error_text(f.error) if f.error else "",
                          "latin": f.kind in ("pin", "amount")})
        return items

    def _option_label(self, f, text: str) -> str:
        if f.key == "service":
            return self.service_name(text)
        if text.startswith("payment."):
            return self.t(text)
        return text

    def _panel(self, title: str, hint: str, buttons: list[dict], before=(), after=()) -> dict:
        items = [{"type": "heading", "text": title}]
        if hint:
            items.append({"type": "text", "text": hint, "tone": "hint"})
        items += list(before) + self._form_items() + list(after)
        items.append({"type": "buttons", "key": "actions", "buttons": buttons})
        return {"title": title, "columns": [items]}

    def _back(self) -> dict:
        return self.button("back", self.t("common.back"), "back", kind="secondary")

    def _signin(self):
        return self._panel(self.t("signin.title"), self.t("signin.hint"),
                           [self.button("submit", self.t("signin.button"), "submit")])

    def _locked(self):
        return self._panel(self.t("locked.title"),
                           self.t("locked.hint", user=self.desk.user["username"]),
                           [self.button("submit", self.t("locked.button"), "submit"),
                            self.button("sign_out", self.t("common.sign_out"), "sign_out",
                                        kind="secondary")])

    def _shift_open(self):
        return self._panel(self.t("shift_open.title"), self.t("shift_open.hint"),
                           [self.button("submit", self.t("shift_open.button"), "submit"),
                            self.button("sign_out", self.t("common.sign_out"), "sign_out",
                                        kind="secondary")])

    def _shift_close(self):
        return self._panel(self.t("shift_close.title"), self.t("shift_close.hint"),
                           [self.button("submit", self.t("shift_close.button"), "submit",
                                        kind="danger"), self._back()])

    def _z_report(self):
        z = self.desk.z
        cur = z["currency"]
        facts = [("z.clerk", z["clerk"]), ("z.opened", self.when(z["opened_at"])),
                 ("z.closed", self.when(z["closed_at"])),
                 ("z.float", self.money(z["float_minor"], cur))]
        for method in ("cash", "card", "online"):
            m = z["by_method"][method]
            facts.append((self.t(f"z.{method}", n=m["count"]), self.money(m["total_minor"], cur)))
        facts += [(self.t("z.total", n=z["payments"]), self.money(z["total_minor"], cur)),
                  (self.t("z.voids", n=z["voids"]["count"]),
                   self.money(z["voids"]["total_minor"], cur)),
                  ("z.expected", self.money(z["expected_cash_minor"], cur)),
                  ("z.counted", self.money(z["counted_minor"], cur)),
                  ("z.difference", self._signed(z["difference_minor"], cur))]
        items = [self._fact(label, value) for label, value in facts]
        diff = z["difference_minor"]
        banner = {"type": "banner", "tone": "ok" if diff == 0 else "error",
                  "text": self.t("z.balanced" if diff == 0 else "z.over" if diff > 0
                                 else "z.short")}
        title = self.t("z.title", shift=z["shift"])
        return {"title": title, "columns": [[
            {"type": "heading", "text": title}, banner, *items,
            {"type": "buttons", "key": "actions", "buttons": [
                self.button("print_z", self.t("z.print"), "print_z", kind="secondary"),
                self.button("new_shift", self.t("z.new_shift"), "new_shift"),
                self.button("sign_out", self.t("common.sign_out"), "sign_out",
                            kind="secondary")]}]]}

    def _signed(self, minor: int, currency: str) -> str:
        text = self.money(abs(minor), currency)
        return text if minor == 0 else ("+" if minor > 0 else "−") + text

    def _fact(self, label: str, value: str, latin: bool = False,
              compact: bool = False) -> dict:
        """A label and its value on one row; compact: a long label and a short value."""
        if label.startswith(("z.", "app.", "verify.")) and " " not in label:
            label = self.t(label)
        return {"type": "fact", "label": label, "value": value, "latin": latin,
                "compact": compact}

    def _search(self):
        results = []
        for app in self.desk.results:
            results.append(self.button(
                f"result:{app['number']}", self.t(
                    "search.result", number=app["number"],
                    name=app["fields"].get("full_name", ""), state=self.state_text(app)),
                "show_application", app["number"], kind="secondary"))
        after = [{"type": "buttons", "key": "results", "vertical": True, "tall": True,
                  "buttons": results}] \
            if results else []
        return self._panel(self.t("search.title"), self.t("search.hint"),
                           [self.button("submit", self.t("search.button"), "submit"),
                            self.button("new_application", self.t("desk.new_application"),
                                        "start_apply", kind="secondary"), self._back()],
                           before=[{"type": "camera"}], after=after)

    def _apply(self):
        d = self.desk
        if d.apply_service is None:
            return self._panel(self.t("apply.title"), self.t("apply.choose"),
                               [self.button("submit", self.t("apply.next"), "submit"),
                                self._back()])
        service = d.backend.service(d.apply_service)
        title = f"{self.t('apply.title')}: {service.name.get(self.lang)}"
        return self._panel(title, self.t("apply.hint"),
                           [self.button("submit", self.t("apply.button"), "submit"),
                            self._back()])

    def _payment(self):
        app = self.desk.application
        due = self.t("payment.due", amount=self.money(app["fee_minor"], app["currency"]))
        after = []
        form = self.desk.form
        if form.get("method").value == "cash":
            from core import money
            try:
                tendered = money.parse_amount(form.fields[1].value, app["currency"])
            except NafithaError:
                tendered = None
            if tendered is not None and tendered >= app["fee_minor"]:
                after.append({"type": "banner", "tone": "ok", "text": self.t(
                    "payment.change", amount=self.money(tendered - app["fee_minor"],
                                                        app["currency"]))})
        return self._panel(self.t("payment.title"), "",
                           [self.button("submit", self.t("payment.button"), "submit",
                                        kind="go"), self._back()],
                           before=[self._fact("app.number", app["number"], latin=True),
                                   {"type": "banner", "tone": "info", "text": due}],
                           after=after)

    def _authorise(self):
        d = self.desk
        action = d.form.subject["action"]
        app = d.application
        params = {"number": app["number"],
                  "receipt": (app.get("payment") or {}).get("receipt_number", ""),
                  "licence": (app.get("licence") or {}).get("number", "")}
        title = self.t(f"authorise.{action}")
        hint = self.t("authorise.hint_supervisor") if d.view == "authorise" \
            else self.t("authorise.hint_reason")
        subject = {"approve": ("app.number", params["number"]),
                   "reject": ("app.number", params["number"]),
                   "void": ("app.receipt", params["receipt"]),
                   "revoke": ("app.licence", params["licence"]),
                   "reprint": ("app.licence", params["licence"])}[action]
        return self._panel(title, hint, before=[self._fact(*subject, latin=True)], buttons=
                           [self.button("submit", self.t("authorise.button"), "submit",
                                        kind="danger" if action in ("reject", "void", "revoke")
                                        else "go"), self._back()])

    _reason = _authorise

    def _transfer(self):
        return self._panel(self.t("transfer.title"), self.t("transfer.hint"),
                           [self.button("submit", self.t("transfer.button"), "submit"),
                            self._back()],
                           before=[self._fact(self.t("desk.serving"),
                                              self.desk.ticket["number"], latin=True)])

    def _verify(self):
        result = self.desk.verification
        items = [{"type": "heading", "text": self.t("verify.title")},
                 {"type": "text", "text": self.t("verify.hint"), "tone": "hint"},
                 {"type": "camera"}]
        if result is not None:
            reason = result.reason or "valid"
            if f"reason.{reason}" not in self.tr.entries:
                reason = "malformed"
            items.append({"type": "banner", "tone": "ok" if result.valid else "error",
                          "text": self.t("verify.genuine" if result.valid
                                         else "verify.not_genuine")})
            items.append({"type": "text", "text": self.t(f"reason.{reason}"), "tone": "body"})
            claims = result.claims or {}
            if claims.get("number"):
                office = self.settings.office
                kind = next((s.name.get(self.lang) for s in self.desk.backend.services()
                             if s.licence_type == claims.get("type")), claims.get("type", ""))
                issuer = (office.name_ar if self.lang == "ar" else office.name_en) \
                    if claims.get("office") == office.code else claims.get("office", "")
                for key, value, latin in (
                        ("verify.type", kind, False),
                        ("verify.number", claims["number"], True),
                        ("verify.holder", claims.get("holder", ""), False),
                        ("verify.issued", self.day(claims.get("issued_at")), True),
                        ("verify.valid_until", self.day(claims.get("valid_until")), True),
                        ("verify.issuer", issuer, False)):
                    items.append(self._fact(key, str(value), latin=latin))
        items.append({"type": "buttons", "key": "actions", "buttons": [self._back()]})
        return {"title": self.t("verify.title"), "columns": [items]}

    # --- the desk -------------------------------------------------------------------------------
    def state_text(self, app: dict) -> str:
        state = app["state"]
        if state == "approved" and not app.get("paid_at"):
            state = "approved_unpaid"
        return self.t(f"state.{state}")

    def _desk(self):
        return {"title": "", "columns": [self._queue_column(), self._ticket_column(),
                                         self._application_column()]}

    def key(self, name: str) -> str:
        """The shortcut after a button's label in English; Arabic labels stay Arabic only
        (the shortcut bar lists the keys)."""
        return f"  {name}" if self.lang == "en" else ""

    def _queue_column(self) -> list[dict]:
        d = self.desk
        serves = set(d.counter_services)
        items = [{"type": "heading", "text": self.t("desk.queue")},
                 {"type": "buttons", "key": "queue", "vertical": True, "buttons": [
                     self.button("call_next", self.t("desk.call_next") + self.key("F2"),
                                 "call_next", kind="go", enabled=d.can("call_next")),
                     self.button("open_search", self.t("desk.search") + self.key("F6"),
                                 "open_search", kind="secondary"),
                     self.button("start_apply", self.t("desk.new_application"),
                                 "start_apply", kind="secondary"),
                     self.button("open_verify", self.t("desk.verify") + self.key("F7"),
                                 "open_verify", kind="secondary")]},
                 {"type": "text", "text": self.t("desk.waiting_hint"), "tone": "hint"}]
        for row in d.overview:
            if serves and row["service"] not in serves:
                continue
            text = self.t("desk.waiting", n=row["waiting"], m=row["longest_wait_minutes"]) \
                if row["waiting"] else self.t("desk.nobody")
            items.append(self._fact(self.service_name(row["service"]), text, compact=True))
        return items

    def _ticket_column(self) -> list[dict]:
        d = self.desk
        items = [{"type": "heading", "text": self.t("desk.serving")}]
        ticket = d.ticket
        if ticket is None:
            items.append({"type": "text", "text": self.t("desk.no_ticket"), "tone": "hint"})
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
        items.append({"type": "buttons", "key": "ticket", "grid": 2, "buttons": [
            self.button(action, self.t(label) + (self.key(key) if key else ""), action,
                        kind=kind,
                        enabled=d.can("transfer" if action == "start_transfer" else action))
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
        # The next step first: the clerk should not have to scroll for it.
        actions = [("pay", "go"), ("issue", "go"), ("approve", "go"), ("print_receipt",
                                                                        "secondary"),
                   ("reprint", "secondary"), ("reject", "danger"), ("void", "danger"),
                   ("revoke", "danger")]
        buttons = []
        for action, kind in actions:
            if not d.can(action):
                continue
            step = {"pay": "start_payment", "issue": "issue",
                    "print_receipt": "print_receipt"}.get(action, "request")
            args = [action] if step == "request" else []
            buttons.append(self.button(action, self.t(f"app.{action}"), step, *args,
                                       kind=kind))
        if buttons:
            items.append({"type": "buttons", "key": "application", "grid": 2,
                          "buttons": buttons})
        service = None
        try:
            service = d.backend.service(app["service_code"])
        except NafithaError:
            pass
        for key, value in app["fields"].items():
            label = key
            if service is not None:
                try:
                    label = service.field(key).label.get(self.lang)
                except KeyError:
                    pass
            items.append(self._fact(label, str(value)))
        items.append(self._fact("app.fee", self.money(app["fee_minor"], app["currency"])))
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


__all__ = ["Views", "REASON_ACTIONS"]
