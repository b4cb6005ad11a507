"""Check in an appointment booked at central: scan the booking's QR or type its reference,
then type the national ID it was booked with; the ticket prints like any ticket, queued at
the slot's start. A refusal says why and what to do (too early: the time to come back;
missed: take a walk-in ticket)."""
from __future__ import annotations

from core.clock import parse_iso
from ui.screens import load_kv

from .verify import ScanViewModel, TypedScanScreen

# The keyboard of each field: the reference's letters and digits; the ID's digits.
KEYBOARDS = {"reference": ("en", 12), "national_id": ("numeric", 20)}


class AppointmentViewModel(ScanViewModel):
    key = "appointment"

    def compute(self, flow, tr):
        texts, rows, flags = super().compute(flow, tr)
        lang, v = flow.lang, flow.visit
        problem = ""
        if v.booking_problem == "too_early" and v.booking_opens_at:
            opens = parse_iso(v.booking_opens_at).astimezone(flow.backend.settings.tz)
            problem = tr.get("appointment.too_early", lang, time=f"{opens:%H:%M}")
        elif v.booking_problem:
            problem = tr.get(f"appointment.{v.booking_problem}", lang)
        texts.update(reference_label=tr.get("appointment.reference_label", lang),
                     reference=v.booking_typed,
                     national_id_label=tr.get("appointment.national_id_label", lang),
                     national_id=v.booking_national_id,
                     check_in=tr.get("appointment.check_in", lang), problem=problem,
                     fault=tr.get(f"common.fault_{v.fault}", lang) if v.fault else "")
        return texts, rows, {**flags, "field": v.booking_field,
                             "can_check_in": bool(v.booking_typed.strip()
                                                  and v.booking_national_id.strip())}


class AppointmentScreen(TypedScanScreen):
    view_model_class = AppointmentViewModel
    keyboards = KEYBOARDS
    type_action = "type_booking"

    def field_and_text(self, visit) -> tuple[str, str]:
        field = visit.booking_field
        return field, (visit.booking_typed.lower() if field == "reference"
                       else visit.booking_national_id)


load_kv(__file__)
