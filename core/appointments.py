"""Checking in an appointment booked at central (docs/appointments.md).

Central owns the slots and publishes each of this office's bookings as reference data (kind
"appointment": reference, service, slot start and end, the national ID's salted hash, booked
or cancelled; sync/reference.py checks its shape with check_booking). This module owns what
became of a booking here (table appointment_visits, m025): checked in with its ticket, or a
no-show.

The arrival rule ([appointments] early_minutes, grace_minutes; defaults 30 and 15), by the
time of check-in against the slot's start S:
- before S - early: refused, too_early, with the time to come back (nothing changes);
- from S - early to S + grace: a ticket (channel "appointment") that queues at S, i.e. ahead
  of everyone who joined after S and behind everyone who joined before it, however early or
  late within the window the resident came;
- after S + grace: refused, appointment_missed (take a walk-in ticket); the booking is a
  no-show from then on (mark_no_shows, event appointment.no_show).
Each refusal changes nothing; a check-in writes the ticket, the visit, one audit entry each
and the events ticket.taken and appointment.checked_in in one transaction."""
from __future__ import annotations

from datetime import datetime, timedelta

from . import booking_codes, reference
from .clock import iso, parse_iso
from .errors import InvalidState, NotFound, PermissionDenied
from .text import check_national_id

APPOINTMENTS_SCHEMA = 25  # core.migrations.m025_appointments
KIND = "appointment"  # the reference rows central publishes
BOOKING_STATES = ("booked", "cancelled")
# A booking missed more than this long ago is left as it is (an office switched off for a
# while does not mark a month of no-shows at once; central's own list is the record).
NO_SHOW_LOOKBACK_DAYS = 7


def check_booking(body: dict, key: str) -> None:
    """A booking as central publishes it holds together (AssertionError, KeyError or
    ValueError otherwise: sync/reference.py refuses the whole bundle)."""
    assert body["reference"] == key and booking_codes.parse_reference(key) == key
    assert all(isinstance(body[k], str) for k in ("office", "service_code", "slot_start",
                                                  "slot_end", "national_id_hash"))
    assert body["state"] in BOOKING_STATES
    assert parse_iso(body["slot_start"]) < parse_iso(body["slot_end"])


class Appointments:
    def __init__(self, office):
        self.office = office
        self.store = office.store
        self.settings = office.settings

    # --- reading ----------------------------------------------------------------------------
    def _reference_of(self, text) -> str:
        """A booking's QR text (NFB:office:reference) or its typed reference, normalised."""
        scanned = booking_codes.parse_qr(text)
        if scanned is not None:
            office, ref = scanned
            if office != self.settings.office.code:
                raise NotFound(f"a booking at office {office}, not here", reason="other_office",
                               field="reference", other_office=office)
            return ref
        return booking_codes.parse_reference(text)

    def booking(self, reference_or_qr) -> dict:
        """A booking of this office as central published it, with what became of it here
        (`visit`: its appointment_visits row, or None). It holds the national ID's hash:
        for this module's checks, never for a screen or an answer."""
        ref = self._reference_of(reference_or_qr)
        row = reference.one(self.store, KIND, ref)
        if row is None or row["body"].get("office") != self.settings.office.code:
            raise NotFound("no booking with this reference at this office; check the "
                           "reference, or the booking may not have reached the office yet",
                           reason="unknown_booking", field="reference")
        visit = self.store.one("SELECT * FROM appointment_visits WHERE reference = ?", (ref,)) \
            if self.store.has_schema(APPOINTMENTS_SCHEMA) else None
        return {**row["body"], "visit": visit}

    def window(self, slot_start: str) -> tuple[datetime, datetime, datetime]:
        """(opens, slot start, closes) of a slot's check-in window."""
        start = parse_iso(slot_start)
        a = self.settings.appointments
        return (start - timedelta(minutes=a.early_minutes), start,
                start + timedelta(minutes=a.grace_minutes))

    # --- checking in ------------------------------------------------------------------------
    def check_in(self, reference_or_qr, national_id, taken_by: str | None = None) -> dict:
        """Check a resident in: the booking (its QR text or typed reference) must be this
        office's, booked, not checked in, and `national_id` the one it was made with; the
        time must be in its window (module docstring). Returns the ticket (as take_ticket)
        with `appointment`: {reference, slot_start, slot_end}. Refused, changing nothing:
        ValidationError (reason malformed_reference, bad_check_character; problem
        national_id_format, national_id_check); NotFound (reason unknown_booking,
        other_office); PermissionDenied (reason national_id_mismatch); InvalidState (reason
        appointment_cancelled, already_checked_in, too_early with `opens_at`,
        appointment_missed)."""
        if not self.store.has_schema(APPOINTMENTS_SCHEMA):
            raise InvalidState("this store predates appointments (schema 25); upgrade it",
                               reason="no_appointments")
        v = self.settings.validation
        nid = check_national_id(national_id, v.national_id_pattern, v.national_id_check)
        booking = self.booking(reference_or_qr)
        # scrypt: slow on purpose, so outside the transaction
        if not booking_codes.national_id_matches(nid, booking["national_id_hash"]):
            raise PermissionDenied("this national ID is not the one the appointment was "
                                   "booked with", reason="national_id_mismatch",
                                   field="national_id")
        self.mark_no_shows()
        ref = booking["reference"]
        with self.store.atomic():
            self._check_can_check_in(self.booking(ref))
            opens, start, closes = self.window(booking["slot_start"])
            now = self.store.clock.now()
            if now < opens:
                local = opens.astimezone(self.settings.tz)
                raise InvalidState(f"too early for this appointment: check in from "
                                   f"{local:%H:%M}", reason="too_early",
                                   opens_at=local.isoformat(), field="reference")
            if now > closes:
                raise InvalidState("this appointment's time has passed: take a walk-in "
                                   "ticket", reason="appointment_missed", field="reference")
            ticket = self.office.queue.take_ticket(booking["service_code"], taken_by=taken_by,
                                                   channel="appointment", joins_at=start)
            self.store.insert("appointment_visits", {
                "reference": ref, "service_code": booking["service_code"],
                "slot_start": booking["slot_start"], "state": "checked_in",
                "at": self.store.now(), "ticket_id": ticket["id"]})
            self.store.record("appointment.checked_in", "appointment", ref, {
                "reference": ref, "service_code": booking["service_code"],
                "slot_start": booking["slot_start"], "ticket_id": ticket["id"],
                "ticket_number": ticket["number"]})
        return {**ticket, "appointment": {"reference": ref, "shown": booking_codes.shown(ref),
                                          "slot_start": booking["slot_start"],
                                          "slot_end": booking["slot_end"]}}

    @staticmethod
    def _check_can_check_in(booking: dict) -> None:
        if booking["state"] == "cancelled":
            raise InvalidState("this appointment was cancelled", reason="appointment_cancelled",
                               field="reference")
        visit = booking["visit"]
        if visit is not None and visit["state"] == "checked_in":
            raise InvalidState("this appointment is already checked in",
                               reason="already_checked_in", field="reference")
        if visit is not None:
            raise InvalidState("this appointment's time has passed: take a walk-in ticket",
                               reason="appointment_missed", field="reference")

    # --- no-shows ---------------------------------------------------------------------------
    def mark_no_shows(self, now: datetime | None = None) -> dict:
        """Every booked appointment of this office whose window closed without a check-in
        (in the last NO_SHOW_LOOKBACK_DAYS) becomes a no-show, once, with its event
        appointment.no_show. Run at each check-in and each sync cycle (sync/agent.py)."""
        if not self.store.has_schema(APPOINTMENTS_SCHEMA):
            return {"no_shows": []}
        now = now or self.store.clock.now()
        grace = timedelta(minutes=self.settings.appointments.grace_minutes)
        marked = []
        with self.store.atomic():
            rows = self._with_visits(iso(now - timedelta(days=NO_SHOW_LOOKBACK_DAYS)),
                                     iso(now - grace))
            for row, visit in rows:
                body = row["body"]
                if visit is not None or body["state"] != "booked" or \
                        body["office"] != self.settings.office.code or \
                        self.window(body["slot_start"])[2] >= now:
                    continue
                self.store.insert("appointment_visits", {
                    "reference": row["key"], "service_code": body["service_code"],
                    "slot_start": body["slot_start"], "state": "no_show",
                    "at": iso(now), "ticket_id": None})
                self.store.record("appointment.no_show", "appointment", row["key"], {
                    "reference": row["key"], "service_code": body["service_code"],
                    "slot_start": body["slot_start"]})
                marked.append(row["key"])
        return {"no_shows": marked}

    def _with_visits(self, low: str, high: str) -> list[tuple[dict, dict | None]]:
        """The bookings whose slot starts in [low, high), each with its visit here."""
        rows = reference.rows_between(self.store, KIND, "slot_start", low, high)
        visits = {}
        for i in range(0, len(rows), 500):
            keys = [r["key"] for r in rows[i:i + 500]]
            marks = ",".join("?" for _ in keys)
            visits.update({v["reference"]: v for v in self.store.all(
                f"SELECT * FROM appointment_visits WHERE reference IN ({marks})", tuple(keys))})
        return [(r, visits.get(r["key"])) for r in rows]

    def today(self) -> list[dict]:
        """This office's bookings of its local today, by slot: reference, service, slot,
        state (booked, cancelled, checked_in, no_show) and ticket; nothing personal (for
        the CLI and the counter)."""
        if not self.store.has_schema(APPOINTMENTS_SCHEMA):
            return []
        tz = self.settings.tz
        now = self.store.clock.now().astimezone(tz)
        first = datetime(now.year, now.month, now.day, tzinfo=tz)
        return [{"reference": r["key"], "service_code": r["body"]["service_code"],
                 "slot_start": r["body"]["slot_start"], "slot_end": r["body"]["slot_end"],
                 "state": visit["state"] if visit else r["body"]["state"],
                 "ticket_id": visit["ticket_id"] if visit else None}
                for r, visit in self._with_visits(iso(first), iso(first + timedelta(days=1)))
                if r["body"]["office"] == self.settings.office.code]
