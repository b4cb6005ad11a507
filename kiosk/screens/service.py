"""One service before applying: the fee, how it is issued, the documents to bring."""
from __future__ import annotations

from ui.screens import AppScreen, ViewModel, load_kv

from .services import fee_text


class ServiceViewModel(ViewModel):
    def compute(self, flow, tr):
        lang = flow.lang
        if not flow.visit.service:
            return {}, [], {}
        s = flow.service()
        docs = [d.get(lang) for d in s.documents]
        texts = {"name": s.name.get(lang),
                 "fee": f"{tr.get('common.fee', lang)}: {fee_text(s, flow, tr)}",
                 "issue": tr.get("common.instant" if s.instant else "common.review", lang),
                 "documents": tr.get("service.documents", lang),
                 "list": "\n".join(f"•  {d}" for d in docs) or
                         tr.get("service.no_documents", lang),
                 "steps": tr.get("service.steps", lang, n=len(s.fields)),
                 "start": tr.get("service.start", lang), "back": tr.get("common.back", lang)}
        return texts, [], {"instant": s.instant}


class ServiceScreen(AppScreen):
    view_model_class = ServiceViewModel


load_kv(__file__)
