"""The answer to "is this licence genuine?" in large clear words, the reason in plain
language, and the licence's key fields."""
from __future__ import annotations

from datetime import datetime, timezone

from ui.screens import RowsScreen, ViewModel, load_kv


def _date(epoch, tz) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).astimezone(tz).strftime("%Y-%m-%d")


class VerifiedViewModel(ViewModel):
    def compute(self, flow, tr):
        lang, result = flow.lang, flow.visit.verification
        if result is None:
            return {}, [], {}
        valid, claims = result["valid"], result.get("claims") or {}
        reason = result["reason"]
        texts = {"verdict": tr.get("verify.genuine" if valid else "verify.not_genuine", lang),
                 "reason": tr.get(f"reason.{reason}", lang) if f"reason.{reason}" in
                 tr.entries else tr.get("reason.malformed", lang),
                 "again": tr.get("verify.again", lang), "done": tr.get("common.done", lang)}
        rows = []
        if claims.get("number"):
            tz = flow.backend.settings.tz
            kind = next((s.name.get(lang) for s in flow.backend.services()
                         if s.licence_type == claims.get("type")), claims.get("type", ""))
            office = flow.backend.settings.office
            office_name = (office.name_ar if lang == "ar" else office.name_en) \
                if claims.get("office") == office.code else claims.get("office", "")
            rows = [{"label": tr.get("verify.licence_type", lang), "value": kind},
                    {"label": tr.get("verify.number", lang), "value": claims["number"]},
                    {"label": tr.get("verify.holder", lang), "value": claims.get("holder", "")},
                    {"label": tr.get("verify.issued", lang),
                     "value": tr.digits_of(_date(claims["issued_at"], tz), lang)},
                    {"label": tr.get("verify.valid_until", lang),
                     "value": tr.digits_of(_date(claims["valid_until"], tz), lang)},
                    {"label": tr.get("verify.office", lang), "value": office_name}]
        return texts, rows, {"valid": valid, "reason": reason}


class VerifiedScreen(RowsScreen):
    view_model_class = VerifiedViewModel
    rows_in = "facts"

    def row_widget(self, row):
        return "FactRow", row


load_kv(__file__)
