"""The ticket taken: its number in large type, people ahead and the estimated wait."""
from __future__ import annotations

from core.clock import parse_iso
from ui.screens import AppScreen, ViewModel, load_kv


def wait_text(ticket: dict, lang: str, tr) -> str:
    """The wait in words: nobody ahead is "you are next", not "about 0 min"."""
    if ticket["people_ahead"] <= 0:
        return tr.get("ticket.wait_next", lang)
    if ticket["estimated_wait_minutes"] <= 0:
        return tr.get("ticket.wait_under", lang)
    return tr.get("ticket.wait", lang, n=ticket["estimated_wait_minutes"])


def appointment_text(ticket: dict, flow, tr) -> str:
    """An appointment's ticket says its slot (the office's local time): it is called around
    then, not in the order of arrival."""
    booked = ticket.get("appointment")
    if not booked:
        return ""
    start = parse_iso(booked["slot_start"]).astimezone(flow.backend.settings.tz)
    return tr.get("ticket.appointment_note", flow.lang, time=f"{start:%H:%M}")


class TicketViewModel(ViewModel):
    def compute(self, flow, tr):
        lang, ticket = flow.lang, flow.visit.ticket
        if ticket is None:
            return {}, [], {}
        texts = {"your_number": tr.get("ticket.your_number", lang),
                 "number": ticket["number"],
                 "service": flow.service().name.get(lang),
                 "ahead": tr.get("ticket.ahead", lang, n=ticket["people_ahead"]),
                 "wait": wait_text(ticket, lang, tr),
                 "printed": tr.get("ticket.printed" if flow.visit.print_ok
                                   else "ticket.not_printed", lang),
                 "priority": tr.get("ticket.priority_note", lang) if ticket["priority"]
                 else appointment_text(ticket, flow, tr),
                 "done": tr.get("common.done", lang)}
        return texts, [], {"printed": bool(flow.visit.print_ok)}


class TicketScreen(AppScreen):
    view_model_class = TicketViewModel


load_kv(__file__)
