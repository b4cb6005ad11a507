"""What every counter screen shares: its view-model's helpers (the clerk's language, money,
times, buttons, a form's fields, refusals in words) and a Screen that shows the view-model's
columns of items (counter/screens/items.py) in the layout of its .kv (one column or three).

A counter view-model's rows are the screen's columns, each a list of items; its texts hold
the title. counter/desk.py is the state every view-model reads."""
from __future__ import annotations

from datetime import datetime, timezone

from core.errors import InvalidState, NafithaError
from ui.messages import document_error, error_text, format_money
from ui.screens import AppScreen, ViewModel, load_kv

from . import items

# core/counter_states.py's refusals, each with its words (error.<reason>).
COUNTER_STATE_REFUSALS = ("counter_away", "counter_closed", "ticket_at_counter")


class CounterViewModel(ViewModel):
    def compute(self, desk, tr):
        self.desk, self.tr, self.settings = desk, tr, desk.settings
        screen = self.screen()
        return {"title": screen["title"]}, screen["columns"], {}

    def screen(self) -> dict:
        """{"title": ..., "columns": [[item, ...], ...]} for the desk as it is now."""
        raise NotImplementedError

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

    def error_text(self, exc: Exception | None) -> str:
        """A refusal in the clerk's language (core's English message is for the log)."""
        reason = getattr(exc, "details", {}).get("reason")
        if isinstance(exc, InvalidState) and reason in COUNTER_STATE_REFUSALS:
            return self.t(f"error.{reason}", ticket=exc.details.get("ticket", ""),
                          reason=self.t(f"away.{exc.details.get('away_reason') or 'other'}"),
                          state=self.t(f"away.state_{exc.details.get('state', 'break')}"))
        # A refused page or file: the words the kiosk uses too (ui.messages.PAGE_ERRORS).
        return document_error(exc, self.lang) or \
            error_text(exc, self.t, self.lang, self.settings.office.digits, self.when)

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

    # --- forms and panels ------------------------------------------------------------------

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
                    # More than a few options (the services to transfer to): one a row,
                    # each name whole; side by side they were cut to a few letters.
                    items.append({"type": "buttons", "key": f"choice:{f.key}",
                                  "vertical": len(f.options) > 3, "buttons": [
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
        if text.startswith(("payment.", "away.")):
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


    def _fact(self, label: str, value: str, latin: bool = False,
              compact: bool = False) -> dict:
        """A label and its value on one row; compact: a long label and a short value."""
        if label.startswith(("z.", "app.", "verify.")) and " " not in label:
            label = self.t(label)
        return {"type": "fact", "label": label, "value": value, "latin": latin,
                "compact": compact}


    def state_text(self, app: dict) -> str:
        state = app["state"]
        if state == "approved" and not app.get("paid_at"):
            state = "approved_unpaid"
        return self.t(f"state.{state}")


class CounterScreen(AppScreen):
    """Fills its .kv's columns (ids.columns: col0, col1, col2) with the view-model's."""
    view_model_class = CounterViewModel

    def on_vm(self, *_):
        self.vm.bind(rows=self._fill)

    def on_kv_post(self, *args):
        super().on_kv_post(*args)
        for index in range(3):
            box = self.column(index)
            scroll = box.parent

            def fits(*_, box=box, scroll=scroll):
                # A column shorter than its view has nothing to scroll: it sits at the top.
                # (A ScrollView's effect can leave scroll_y at 0 when its own height changes
                # at start-up, which drew the sign-in form at the bottom now and then.)
                if box.height <= scroll.height and scroll.scroll_y != 1:
                    scroll.scroll_y = 1
            scroll.bind(scroll_y=fits, height=fits)
            box.bind(height=fits)

    def _fill(self, *_):
        for index in range(3):
            items.fill(self.column(index),
                       self.vm.rows[index] if index < len(self.vm.rows) else [])

    def column(self, index: int):
        return self.ids.columns.ids[f"col{index}"]


class PanelScreen(CounterScreen):
    """A form or a report: one column in the middle."""


load_kv(__file__)
