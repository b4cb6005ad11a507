"""Check a licence by camera: genuine or not, and why."""
from __future__ import annotations

from ui.screens import load_kv

from .base import CounterViewModel, PanelScreen


class VerifyViewModel(CounterViewModel):

    def screen(self) -> dict:
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


class VerifyScreen(PanelScreen):
    view_model_class = VerifyViewModel


load_kv(__file__)
