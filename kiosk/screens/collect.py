"""Collect a licence paid elsewhere (a payment network, the counter): scan the QR on the
application slip, or type the bill number and the national ID; a refusal says why and
what to do (a bill not paid yet: its number, to pay it with)."""
from __future__ import annotations

from ui.screens import load_kv

from .verify import ScanViewModel, TypedScanScreen

# The keyboard of each field: the bill number's letters, digits and hyphens; the ID's digits.
KEYBOARDS = {"bill": ("en", 36), "national_id": ("numeric", 20)}


class CollectViewModel(ScanViewModel):
    key = "collect"

    def compute(self, flow, tr):
        texts, rows, flags = super().compute(flow, tr)
        lang, v = flow.lang, flow.visit
        problem = v.collect_problem
        texts.update(bill_label=tr.get("collect.bill_label", lang), bill=v.bill_typed,
                     national_id_label=tr.get("collect.national_id_label", lang),
                     national_id=v.national_id_typed,
                     collect=tr.get("collect.collect", lang),
                     problem=tr.get(f"collect.{problem}", lang) if problem else "",
                     problem_bill=v.collect_bill or "",
                     fault=tr.get(f"common.fault_{v.fault}", lang) if v.fault else "")
        return texts, rows, {**flags, "field": v.collect_field,
                             "can_collect": bool(v.bill_typed.strip()
                                                 and v.national_id_typed.strip())}


class CollectScreen(TypedScanScreen):
    view_model_class = CollectViewModel
    keyboards = KEYBOARDS
    type_action = "type_collect"

    def field_and_text(self, visit) -> tuple[str, str]:
        field = visit.collect_field
        return field, (visit.bill_typed.lower() if field == "bill"
                       else visit.national_id_typed)


load_kv(__file__)
