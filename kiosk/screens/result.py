"""The end of an application: the certificate issued, or the application received (paid or
to be paid at the counter), its number, and whether the paper came out. When the service
lets residents capture documents at the kiosk, it offers to add them now (the documents
screen) or to skip; after them, how many pages were added."""
from __future__ import annotations

from kiosk.screens.services import finished_text
from ui.screens import AppScreen, ViewModel, load_kv


class ResultViewModel(ViewModel):
    def compute(self, flow, tr):
        lang, v = flow.lang, flow.visit
        app = v.application
        if app is None:
            return {}, [], {}
        if v.licence:
            title = "result.certificate_title"
            body = "result.certificate_body_paid" if v.payment else "result.certificate_body"
            label, number = tr.get("result.licence_number", lang), v.licence["number"]
        else:
            title = "result.received_title"
            body = "result.received_paid" if v.payment else "result.received_unpaid"
            label, number = tr.get("result.number", lang), app["number"]
        printed = bool(v.print_ok)
        # Found by its slip and left unpaid: the slip is in the resident's hand already.
        nothing_printed = v.print_ok is None and v.found is not None
        # With a certificate, its application's number too: the status look-up asks for it.
        also = tr.get("result.application_also", lang, number=app["number"]) \
            if v.licence else ""
        texts = {"title": tr.get(title, lang), "body": tr.get(body, lang),
                 "number_label": label, "number": number, "application_number": also,
                 "printed": tr.get("result.take_slip", lang) if printed and not v.licence
                 else "" if printed or nothing_printed
                 else tr.get("result.printer_fault", lang),
                 "done": tr.get("common.done", lang)}
        texts.update(self.documents(flow, tr))
        # To pay at the counter: a queue ticket for it, once the documents are dealt with
        # (flow.ticket_to_pay); none left today for the service: said instead.
        ticket_offer = not v.payment and not v.licence and not flow.documents_offered and \
            app["fee_minor"] > 0
        code = app["service_code"]
        if ticket_offer and code in v.finished and v.finished_notice == code:
            ticket_offer = False
            texts["documents"] = " ".join(filter(None, (texts["documents"], finished_text(
                flow.backend.service(code), v.finished[code], flow, tr))))
        texts["queue_ticket"] = tr.get("result.queue_ticket", lang) if ticket_offer else ""
        return texts, [], {"printed": printed, "licence": bool(v.licence),
                           "documents_offer": flow.documents_offered,
                           "ticket_offer": ticket_offer}

    @staticmethod
    def documents(flow, tr) -> dict:
        """The offer to add the at_kiosk documents now (kiosk/documents.py), or once gone
        through, how many pages were added."""
        lang, docs = flow.lang, flow.visit.documents
        if flow.documents_offered:
            names = "، ".join(d[lang] for d in flow.kiosk_documents()) if lang == "ar" \
                else ", ".join(d[lang] for d in flow.kiosk_documents())
            return {"documents": tr.get("result.documents_offer", lang, names=names),
                    "documents_add": tr.get("result.documents_add", lang),
                    "documents_skip": tr.get("result.documents_skip", lang)}
        if docs is not None and docs.finished:
            n = docs.pages_saved
            return {"documents": tr.get("result.documents_added", lang, n=n) if n
                    else tr.get("result.documents_none", lang)}
        return {"documents": ""}


class ResultScreen(AppScreen):
    view_model_class = ResultViewModel


load_kv(__file__)
