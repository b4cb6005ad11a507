"""An application's state in plain words, and what the resident does next."""
from __future__ import annotations

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
        texts = {"title": tr.get("status.title", lang), "service": service.name.get(lang),
                 "number_label": tr.get("result.number", lang), "number": app["number"],
                 "state_label": tr.get("status.state", lang),
                 "state": tr.get(f"status.{key}", lang), "next": next_text,
                 "pay": tr.get("status.pay", lang), "done": tr.get("common.done", lang)}
        return texts, [], {"can_pay": can_pay, "state": key,
                           "good": key in ("approved", "issued", "paid")}


class StatusResultScreen(AppScreen):
    view_model_class = StatusResultViewModel


load_kv(__file__)
