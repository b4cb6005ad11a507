"""An application's state in plain words, and what the resident does next: its bill (to
pay through a payment network), and for one approved and paid, "Print my licence"."""
from __future__ import annotations

from datetime import datetime

from ui.messages import format_money
from ui.screens import AppScreen, ViewModel, load_kv


def state_key(app: dict) -> str:
    if app["state"] == "approved" and not app["paid_at"]:
        return "approved_unpaid"
    return app["state"]


class StatusResultViewModel(ViewModel):
    def compute(self, flow, tr):
        lang, app = flow.lang, flow.visit.found
        if app is None:
            return {}, [], {}
        key = state_key(app)
        service = flow.backend.service(app["service_code"])
        nxt = {"submitted": "status.next_submitted", "paid": "status.next_paid",
               "approved": "status.next_approved", "approved_unpaid": "status.next_submitted",
               "issued": "status.next_issued"}.get(key)
        if key == "rejected":
            next_text = tr.get("status.next_rejected", lang, reason=app.get("reason") or "—")
        else:
            next_text = tr.get(nxt, lang) if nxt else ""
        can_pay = key in ("submitted", "approved_unpaid") and flow.devices.can_pay
        # Approved and paid (by any channel), no licence yet: it prints here.
        can_collect = key == "approved"
        if can_collect:
            next_text = tr.get("status.next_collect", lang)
        texts = {"title": tr.get("status.title", lang), "service": service.name.get(lang),
                 "number_label": tr.get("result.number", lang), "number": app["number"],
                 "state_label": tr.get("status.state", lang),
                 "state": tr.get(f"status.{key}", lang), "next": next_text,
                 "pay": tr.get("status.pay", lang), "done": tr.get("common.done", lang),
                 "print_licence": tr.get("status.print_licence", lang),
                 **self.bill(flow, tr, app.get("bill"))}
        return texts, [], {"can_pay": can_pay, "can_collect": can_collect, "state": key,
                           "good": key in ("approved", "issued", "paid"),
                           "bill": (app.get("bill") or {}).get("state", "")}

    @staticmethod
    def bill(flow, tr, bill: dict | None) -> dict:
        """The bill's number (Latin, its own line), amount, due date and state in words."""
        if not bill:
            return {"bill_label": "", "bill_number": "", "bill_amount": "", "bill_state": ""}
        lang = flow.lang
        due = datetime.fromisoformat(bill["due_at"]).astimezone(flow.backend.settings.tz)
        # The Arabic font has no "-": the day first, dotted, reads as one number run.
        date = due.strftime("%d.%m.%Y" if lang == "ar" else "%Y-%m-%d")
        amount = format_money(bill["amount_minor"], bill["currency"], lang, tr.digits)
        # A paid or cancelled bill has no date to pay by.
        amount_key = "status.bill_amount_due" if bill["state"] in ("open", "expired") \
            else "status.bill_amount"
        return {"bill_label": tr.get("status.bill_label", lang),
                "bill_number": bill["number"],
                "bill_amount": tr.get(amount_key, lang, amount=amount,
                                      date=tr.digits_of(date, lang)),
                "bill_state": tr.get(f"status.bill_{bill['state']}", lang)}


class StatusResultScreen(AppScreen):
    view_model_class = StatusResultViewModel


load_kv(__file__)
