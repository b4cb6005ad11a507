"""Check the application before it is sent: every answer with a button to change it, the
fee, then pay now by card or pay at the counter."""
from __future__ import annotations


from ui.messages import format_money

from ui.screens import RowsScreen, ViewModel, load_kv


def shown_value(field, value: str, lang: str) -> str:
    if field.type == "choice":
        return next((o.label.get(lang) for o in field.options if o.value == value), value)
    return value


class ReviewViewModel(ViewModel):
    def compute(self, flow, tr):
        lang, v = flow.lang, flow.visit
        if not v.service:
            return {}, [], {}
        s = flow.service()
        rows = [{"key": f.key, "label": f.label.get(lang),
                 "value": shown_value(f, v.values[f.key], lang) if f.key in v.values
                 else tr.get("review.empty", lang)} for f in s.fields]
        fee = int(v.values.get(s.fee_from_field, 0)) if s.fee_from_field else s.fee_minor
        can_pay = flow.devices.can_pay
        texts = {"title": tr.get("review.title", lang), "service": s.name.get(lang),
                 "fee": f"{tr.get('common.fee', lang)}: "
                        f"{format_money(fee, s.currency, lang, tr.digits)}",
                 "edit": tr.get("review.edit", lang),
                 "pay_now": tr.get("review.pay_now", lang),
                 "pay_counter": tr.get("review.pay_counter", lang),
                 "unavailable": "" if can_pay else tr.get("payment.unavailable", lang),
                 "back": tr.get("common.back", lang)}
        return texts, rows, {"can_pay": can_pay}


class ReviewScreen(RowsScreen):
    view_model_class = ReviewViewModel
    rows_in = "answers"

    def row_widget(self, row):
        return "AnswerRow", {**row, "edit": self.vm.texts.get("edit", "")}


load_kv(__file__)
