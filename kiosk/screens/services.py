"""Choose a service: its name, fee and how it is issued (for a ticket or an application)."""
from __future__ import annotations


from ui.messages import format_money

from ui.screens import RowsScreen, ViewModel, load_kv


def fee_text(service, flow, tr) -> str:
    if service.fee_from_field:
        return tr.get("common.fee_assessed", flow.lang)
    return format_money(service.fee_minor, service.currency, flow.lang, tr.digits)


class ServicesViewModel(ViewModel):
    def compute(self, flow, tr):
        lang = flow.lang
        rows = [{"code": s.code, "name": s.name.get(lang),
                 "fee": f"{tr.get('common.fee', lang)}: {fee_text(s, flow, tr)}",
                 "issue": tr.get("common.instant" if s.instant else "common.review", lang),
                 "instant": s.instant}
                for s in flow.backend.services()]
        mode = flow.visit.mode or "apply"
        return {"title": tr.get(f"services.title_{mode}", lang),
                "back": tr.get("common.back", lang)}, rows, {"ticket": mode == "ticket"}


class ServicesScreen(RowsScreen):
    view_model_class = ServicesViewModel
    rows_in = "grid"

    def row_widget(self, row):
        return "ServiceCard", {"pilot_id": f"service:{row['code']}", **row}


load_kv(__file__)
