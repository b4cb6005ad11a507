"""Choose a service: its name, fee and how it is issued (for a ticket or an application)."""
from __future__ import annotations


from ui.messages import format_money

from ui.screens import RowsScreen, ViewModel, load_kv


def fee_text(service, flow, tr) -> str:
    if service.fee_from_field:
        return tr.get("common.fee_assessed", flow.lang)
    return format_money(service.fee_minor, service.currency, flow.lang, tr.digits)


def finished_text(service, finished: dict, flow, tr) -> str:
    """Why a service gives no more tickets today, in a sentence (core/ticket_limits.py)."""
    lang, name = flow.lang, service.name.get(flow.lang)
    if finished["state"] == "closed" and finished.get("cutoff"):
        return tr.get("services.closed_today", lang, service=name,
                      time=tr.digits_of(finished["cutoff"], lang))
    return tr.get("services.full_today", lang, service=name)


class ServicesViewModel(ViewModel):
    def compute(self, flow, tr):
        lang, visit = flow.lang, flow.visit
        mode = visit.mode or "apply"
        # Only tickets have a daily cap and a cut-off; an application can be made any time.
        finished = visit.finished if mode == "ticket" else {}
        rows, notice = [], ""
        for s in flow.backend.services():
            rows.append({"code": s.code, "name": s.name.get(lang),
                         "fee": f"{tr.get('common.fee', lang)}: {fee_text(s, flow, tr)}",
                         "issue": tr.get("services.finished_tag", lang) if s.code in finished
                         else tr.get("common.instant" if s.instant else "common.review",
                                     lang),
                         "instant": s.instant, "finished": s.code in finished})
            if s.code == visit.finished_notice and s.code in finished:
                notice = finished_text(s, finished[s.code], flow, tr)
        return {"title": tr.get(f"services.title_{mode}", lang), "notice": notice,
                "back": tr.get("common.back", lang)}, rows, {"ticket": mode == "ticket"}


class ServicesScreen(RowsScreen):
    view_model_class = ServicesViewModel
    rows_in = "grid"

    def row_widget(self, row):
        return "ServiceCard", {"pilot_id": f"service:{row['code']}", **row}


load_kv(__file__)
