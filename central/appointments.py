"""Appointments: central owns each office's slots (docs/appointments.md).

An operator gives an office's service a plan (`nafitha central appointments set`): opening
hours per weekday in the office's time zone, the slot length, how many people a slot takes
and how far ahead it may be booked. A resident books a slot (the API, or the booking page
central/booking_page.py) with their national ID: a reference (core/booking_codes.py) and its
QR come back. Each booking and each cancellation is published to its office as reference
data (kind "appointment": reference, service, slot, the national ID's salted hash, state),
where the kiosk checks the resident in (core/appointments.py); the office's
appointment.checked_in and appointment.no_show events come back here (record()).

A booking takes a seat (1..capacity) of its slot; a unique constraint on (office, service,
slot, seat) is what never gives the last place to two people, on SQLite (writers queue,
BEGIN IMMEDIATE) and PostgreSQL (the second insert of a seat waits for the first and fails:
it tries the next free seat, or is refused slot_full). A cancellation frees its seat.

The national ID is never stored, logged, or put in a URL: a salted scrypt hash (matched at
the office) and a keyed tag (search.key: one live booking per person, service and day)."""
from __future__ import annotations

import json
import re
import secrets
from datetime import date, datetime, timedelta
from typing import Literal

import sqlalchemy as sa
from fastapi import FastAPI, Path as PathParam, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

import core.booking_codes as booking_codes
from core.clock import iso, parse_iso
from core.errors import ValidationError
from core.text import NATIONAL_ID_CHECK, NATIONAL_ID_PATTERN, check_national_id

from .db import appointment_plans, appointments, offices
from .reports import office_zone
from .service import CODE_RE, Central, CentralError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # Python's weekday() order
STATES = ("booked", "cancelled", "checked_in", "no_show")
SLOT_MINUTES = (5, 10, 15, 20, 30, 45, 60, 90, 120)
MAX_CAPACITY = 50
MAX_DAYS_AHEAD = 180
SEAT_TRIES = 5  # a seat taken meanwhile: try the next free one (each a new transaction)
EVENTS = ("appointment.checked_in", "appointment.no_show")
_HOURS_PART = re.compile(r"^([a-z]{3})(?:-([a-z]{3}))?\s+(\d{1,2}:\d{2})-(\d{1,2}:\d{2})$")


def _refuse(status: int, code: str, message: str, **details) -> CentralError:
    return CentralError(status, code, message, **details)


# --- plans ---------------------------------------------------------------------------------------
def parse_hours(text: str) -> dict[str, list[str]]:
    """"sun-thu 08:00-14:00; sat 09:00-12:00" -> {"6": ["08:00", "14:00"], ...} (Monday 0).
    One opening a day; a day not named is closed."""
    if not isinstance(text, str) or not text.strip():
        raise _refuse(422, "invalid_hours", "hours: e.g. 'sun-thu 08:00-14:00; sat 09:00-12:00'",
                      field="hours")
    hours: dict[str, list[str]] = {}
    for part in (p.strip().lower() for p in text.split(";") if p.strip()):
        found = _HOURS_PART.match(part)
        if not found or found.group(1) not in WEEKDAYS or \
                (found.group(2) and found.group(2) not in WEEKDAYS):
            raise _refuse(422, "invalid_hours", f"hours: {part!r} is not like "
                          f"'sun-thu 08:00-14:00' (days: {', '.join(WEEKDAYS)})", field="hours")
        first = WEEKDAYS.index(found.group(1))
        last = WEEKDAYS.index(found.group(2) or found.group(1))
        opens, closes = (_hhmm(found.group(3)), _hhmm(found.group(4)))
        if opens >= closes:
            raise _refuse(422, "invalid_hours", f"hours: {part!r} closes before it opens",
                          field="hours")
        day = first
        while True:  # sun-thu wraps over the week's end
            if str(day) in hours:
                raise _refuse(422, "invalid_hours", f"hours: {WEEKDAYS[day]} is named twice",
                              field="hours")
            hours[str(day)] = [opens, closes]
            if day == last:
                break
            day = (day + 1) % 7
    return dict(sorted(hours.items()))


def _hhmm(text: str) -> str:
    hour, minute = (int(x) for x in text.split(":"))
    if not (0 <= hour <= 24 and 0 <= minute < 60) or (hour == 24 and minute):
        raise _refuse(422, "invalid_hours", f"hours: {text} is not a time of day", field="hours")
    return f"{hour:02d}:{minute:02d}"


def _minutes(hhmm: str) -> int:
    hour, minute = hhmm.split(":")
    return int(hour) * 60 + int(minute)


def hours_text(hours: dict) -> str:
    return "; ".join(f"{WEEKDAYS[int(d)]} {o}-{c}" for d, (o, c) in sorted(
        hours.items(), key=lambda kv: (int(kv[0]) + 1) % 7))  # the week from Sunday


def set_plan(central: Central, office: str, service: str, hours: str, slot_minutes: int,
             capacity: int, days_ahead: int = 30, by: str = "cli") -> dict:
    """Give OFFICE's SERVICE its appointment plan (replacing the one it had). Bookings
    already made keep their seats; a smaller capacity only stops new ones."""
    office = _office_code(office)
    svc = _service(central, service)
    parsed = parse_hours(hours)
    if slot_minutes not in SLOT_MINUTES:
        raise _refuse(422, "invalid_slot_minutes", f"slot_minutes: one of "
                      f"{', '.join(map(str, SLOT_MINUTES))}", field="slot_minutes")
    if isinstance(capacity, bool) or not isinstance(capacity, int) or \
            not 1 <= capacity <= MAX_CAPACITY:
        raise _refuse(422, "invalid_capacity", f"capacity: 1 to {MAX_CAPACITY} people a slot",
                      field="capacity")
    if isinstance(days_ahead, bool) or not isinstance(days_ahead, int) or \
            not 1 <= days_ahead <= MAX_DAYS_AHEAD:
        raise _refuse(422, "invalid_days_ahead", f"days_ahead: 1 to {MAX_DAYS_AHEAD}",
                      field="days_ahead")
    row = {"office": office, "service_code": svc["code"], "hours": json.dumps(parsed),
           "slot_minutes": slot_minutes, "capacity": capacity, "days_ahead": days_ahead,
           "updated_at": central.now(), "updated_by": by}
    with central.engine.begin() as conn:
        central._ensure_office(conn, office)
        conn.execute(sa.delete(appointment_plans).where(
            appointment_plans.c.office == office,
            appointment_plans.c.service_code == svc["code"]))
        conn.execute(sa.insert(appointment_plans).values(**row))
    return _plan_view(row)


def remove_plan(central: Central, office: str, service: str) -> dict:
    """OFFICE's SERVICE takes no new bookings (those made stay)."""
    with central.engine.begin() as conn:
        removed = conn.execute(sa.delete(appointment_plans).where(
            appointment_plans.c.office == office,
            appointment_plans.c.service_code == service)).rowcount
    if not removed:
        raise _refuse(404, "no_appointments", f"office {office} takes no appointments for "
                                              f"{service}")
    return {"office": office, "service_code": service, "removed": True}


def plans(central: Central, office: str | None = None) -> list[dict]:
    """Every plan (or one office's), with the service's names: what the booking page lists."""
    names = {s["code"]: s.get("name") or {} for s in central.services()}
    query = sa.select(appointment_plans).order_by(appointment_plans.c.office,
                                                  appointment_plans.c.service_code)
    if office is not None:
        query = query.where(appointment_plans.c.office == _office_code(office))
    with central.engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
        zones = {r["office"]: office_zone(conn, r["office"]).key for r in rows}
    return [{**_plan_view(r), "timezone": zones[r["office"]],
             "name": names.get(r["service_code"], {})} for r in rows]


def _plan_view(row) -> dict:
    hours = json.loads(row["hours"])
    return {"office": row["office"], "service_code": row["service_code"], "hours": hours,
            "hours_text": hours_text(hours), "slot_minutes": row["slot_minutes"],
            "capacity": row["capacity"], "days_ahead": row["days_ahead"]}


def _office_code(office) -> str:
    if not isinstance(office, str) or not CODE_RE.match(office):
        raise _refuse(422, "invalid_office", "office: 1-8 capital letters or digits (e.g. MUH)",
                      field="office")
    return office


def _service(central: Central, code) -> dict:
    from .catalogue import Catalogue  # it imports central.service, as this module does
    return Catalogue(central).service(code)


def _plan(conn, office, service) -> tuple[dict, object]:
    """The plan and the office's zone; unknown_office, unknown_service or no_appointments."""
    from .catalogue import Catalogue
    _office_code(office)
    if not isinstance(service, str) or len(service) > 64:
        raise _refuse(404, "unknown_service", "no such service", field="service")
    if conn.execute(sa.select(offices.c.code).where(offices.c.code == office)).first() is None:
        raise _refuse(404, "unknown_office", f"no office {office}", field="office")
    Catalogue(None)._latest(conn, service)  # unknown_service
    row = conn.execute(sa.select(appointment_plans).where(
        appointment_plans.c.office == office,
        appointment_plans.c.service_code == service)).mappings().first()
    if row is None:
        raise _refuse(404, "no_appointments", f"office {office} takes no appointments for "
                      f"service {service}", field="service")
    return dict(row), office_zone(conn, office)


# --- slots ---------------------------------------------------------------------------------------
def _day(text) -> date:
    try:
        if isinstance(text, str) and len(text) == 10:
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise _refuse(422, "invalid_day", "day: a date such as 2026-12-08", field="day")


def _slot_starts(plan: dict, zone, day: date) -> list[datetime]:
    opening = json.loads(plan["hours"]).get(str(day.weekday()))
    if not opening:
        return []
    start, end, step = _minutes(opening[0]), _minutes(opening[1]), plan["slot_minutes"]
    midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
    return [midnight + timedelta(minutes=m) for m in range(start, end - step + 1, step)]


def _check_window(central: Central, plan: dict, zone, day: date) -> None:
    today = central.clock.now().astimezone(zone).date()
    if day < today:
        raise _refuse(422, "slot_in_past", f"{day} has passed", field="day")
    if day > today + timedelta(days=plan["days_ahead"]):
        raise _refuse(422, "too_far_ahead", f"bookings open {plan['days_ahead']} days "
                      f"ahead: {day} is later", field="day")


def _taken(conn, office: str, service: str, starts: list[str]) -> dict[str, int]:
    if not starts:
        return {}
    rows = conn.execute(sa.select(appointments.c.slot_start, sa.func.count()).where(
        appointments.c.office == office, appointments.c.service_code == service,
        appointments.c.seat.is_not(None), appointments.c.slot_start.in_(starts))
        .group_by(appointments.c.slot_start)).all()
    return {r[0]: r[1] for r in rows}


def free_slots(central: Central, office: str, service: str, day: str) -> dict:
    """The slots of OFFICE's SERVICE on DAY (the office's local date), each with its free
    places; slots already begun are not offered."""
    with central.engine.connect() as conn:
        plan, zone = _plan(conn, office, service)
        when = _day(day)
        _check_window(central, plan, zone, when)
        now = central.clock.now()
        starts = [s for s in _slot_starts(plan, zone, when) if s > now]
        taken = _taken(conn, office, service, [iso(s) for s in starts])
    step = timedelta(minutes=plan["slot_minutes"])
    return {"office": office, "service_code": service, "day": when.isoformat(),
            "timezone": zone.key, "capacity": plan["capacity"],
            "slots": [{"start": s.isoformat(), "end": (s + step).isoformat(),
                       "free": max(0, plan["capacity"] - taken.get(iso(s), 0))}
                      for s in starts]}


# --- booking -------------------------------------------------------------------------------------
def _national_id(text) -> str:
    try:
        return check_national_id(text, NATIONAL_ID_PATTERN, NATIONAL_ID_CHECK)
    except ValidationError as exc:
        # The message names the value: never echo it (it would reach logs and proxies).
        raise _refuse(422, "invalid_national_id", "national_id: not a national ID (9 digits, "
                      "the last a check digit)", field="national_id",
                      problem=exc.details.get("problem")) from None


def _slot(central: Central, plan: dict, zone, slot_start) -> tuple[datetime, datetime]:
    """The slot that starts at `slot_start` (ISO with an offset), or the refusal."""
    try:
        start = parse_iso(slot_start) if isinstance(slot_start, str) else None
    except ValueError:
        start = None
    if start is None or start.tzinfo is None:
        raise _refuse(422, "invalid_slot", "slot_start: a time with its offset, as the slot "
                      "list gives it (2026-12-08T08:30:00+03:00)", field="slot_start")
    if start <= central.clock.now():
        raise _refuse(422, "slot_in_past", "this slot has begun or passed; choose a later one",
                      field="slot_start")
    local = start.astimezone(zone)
    _check_window(central, plan, zone, local.date())
    if local not in _slot_starts(plan, zone, local.date()):
        raise _refuse(422, "not_a_slot", f"no slot starts at {local:%H:%M} on {local:%a %d %b}"
                      f": outside the opening hours or not on a slot boundary "
                      f"({plan['slot_minutes']} minutes)", field="slot_start")
    return start, start + timedelta(minutes=plan["slot_minutes"])


def book(central: Central, office: str, service: str, slot_start: str, national_id: str,
         random_bytes=secrets.token_bytes) -> dict:
    """Book a place in a slot: {reference, shown, qr, office, service_code, slot_start,
    slot_end, state}. Refused, changing nothing: unknown_office, unknown_service,
    no_appointments (404); invalid_slot, slot_in_past, too_far_ahead, not_a_slot,
    invalid_national_id (422); already_booked, slot_full (409). No phone number is asked:
    nothing would use it; messages are asked for, with consent, on the follow page once
    checked in (docs/phone.md)."""
    nid = _national_id(national_id)
    with central.engine.connect() as conn:
        plan, zone = _plan(conn, office, service)
    start, end = _slot(central, plan, zone, slot_start)
    nid_hash = booking_codes.hash_national_id(nid)  # slow (scrypt): outside the transaction
    tag = central.search_key.tag("appointment-nid", nid)
    local_day = start.astimezone(zone).date()
    day_from = iso(datetime(local_day.year, local_day.month, local_day.day, tzinfo=zone))
    day_to = iso(datetime(local_day.year, local_day.month, local_day.day, tzinfo=zone)
                 + timedelta(days=1))
    for _ in range(SEAT_TRIES):
        reference = booking_codes.make_reference(random_bytes)
        try:
            with central.engine.begin() as conn:
                plan, zone = _plan(conn, office, service)  # as it stands in this transaction
                held = conn.execute(sa.select(appointments.c.seat).where(
                    appointments.c.office == office, appointments.c.service_code == service,
                    appointments.c.slot_start == iso(start),
                    appointments.c.seat.is_not(None))).scalars().all()
                free = [s for s in range(1, plan["capacity"] + 1) if s not in set(held)]
                if not free:
                    raise _refuse(409, "slot_full", "this slot is full; choose another",
                                  field="slot_start")
                if conn.execute(sa.select(appointments.c.reference).where(
                        appointments.c.national_id_tag == tag,
                        appointments.c.service_code == service,
                        appointments.c.state == "booked",
                        appointments.c.slot_start >= day_from,
                        appointments.c.slot_start < day_to)).first() is not None:
                    raise _refuse(409, "already_booked", "this national ID already has an "
                                  "appointment for this service that day; cancel it first",
                                  field="national_id")
                row = {"reference": reference, "office": office, "service_code": service,
                       "slot_start": iso(start), "slot_end": iso(end), "seat": free[0],
                       "national_id_hash": nid_hash, "national_id_tag": tag,
                       "state": "booked", "booked_at": central.now()}
                conn.execute(sa.insert(appointments).values(**row))
                central._add_change(conn, "appointment", reference, office, published(row))
        except IntegrityError:
            continue  # the seat (or, once in 10^10, the reference) was taken meanwhile
        return _booking_view(row, zone)
    raise _refuse(409, "slot_full", "this slot is full; choose another", field="slot_start")


def published(row: dict) -> dict:
    """What the office holds of a booking (reference kind "appointment")."""
    return {"reference": row["reference"], "office": row["office"],
            "service_code": row["service_code"], "slot_start": row["slot_start"],
            "slot_end": row["slot_end"], "national_id_hash": row["national_id_hash"],
            "state": "cancelled" if row["state"] == "cancelled" else "booked"}


def _booking_view(row: dict, zone) -> dict:
    return {"reference": row["reference"], "shown": booking_codes.shown(row["reference"]),
            "qr": booking_codes.qr_text(row["office"], row["reference"]),
            "office": row["office"], "service_code": row["service_code"],
            "slot_start": parse_iso(row["slot_start"]).astimezone(zone).isoformat(),
            "slot_end": parse_iso(row["slot_end"]).astimezone(zone).isoformat(),
            "state": row["state"]}


def _booking_row(conn, reference) -> dict:
    try:
        ref = booking_codes.parse_reference(reference)
    except ValidationError as exc:
        raise _refuse(422, "invalid_reference", exc.message, field="reference",
                      reason=exc.details.get("reason")) from None
    row = conn.execute(sa.select(appointments).where(
        appointments.c.reference == ref)).mappings().first()
    if row is None:
        raise _refuse(404, "unknown_booking", "no booking with this reference",
                      field="reference")
    return dict(row)


def cancel(central: Central, reference: str, national_id: str) -> dict:
    """Cancel a booking (the national ID it was made with proves it is the resident's): its
    seat is free again, and the office is told. Refused: unknown_booking (also for a
    national ID that does not match: the same answer), not_cancellable (checked in, a
    no-show, or its slot has begun)."""
    nid = _national_id(national_id)
    with central.engine.connect() as conn:
        row = _booking_row(conn, reference)
    if not booking_codes.national_id_matches(nid, row["national_id_hash"]):
        raise _refuse(404, "unknown_booking", "no booking with this reference",
                      field="reference")
    with central.engine.begin() as conn:
        row = _booking_row(conn, reference)
        zone = office_zone(conn, row["office"])
        if row["state"] == "cancelled":
            return _booking_view(row, zone)
        if row["state"] != "booked" or parse_iso(row["slot_start"]) <= central.clock.now():
            raise _refuse(409, "not_cancellable", f"this booking is {row['state']} and its "
                          f"slot has begun; it can no longer be cancelled", state=row["state"])
        row.update(state="cancelled", seat=None, cancelled_at=central.now())
        conn.execute(sa.update(appointments).where(
            appointments.c.reference == row["reference"]).values(
            state="cancelled", seat=None, cancelled_at=row["cancelled_at"]))
        central._add_change(conn, "appointment", row["reference"], row["office"],
                            published(row))
    return _booking_view(row, zone)


def bookings(central: Central, office: str, day: str) -> list[dict]:
    """OFFICE's bookings on DAY (its local date), by slot: for the operator, no personal data."""
    with central.engine.connect() as conn:
        zone = office_zone(conn, office)
        when = _day(day)
        first = datetime(when.year, when.month, when.day, tzinfo=zone)
        rows = conn.execute(sa.select(appointments).where(
            appointments.c.office == office, appointments.c.slot_start >= iso(first),
            appointments.c.slot_start < iso(first + timedelta(days=1)))
            .order_by(appointments.c.slot_start, appointments.c.seat)).mappings().all()
    return [{**_booking_view(dict(r), zone), "checked_in_at": r["checked_in_at"],
             "ticket_number": r["ticket_number"], "no_show_at": r["no_show_at"]}
            for r in rows]


# --- what the office reports (central/service.py calls this at ingest) ---------------------------
def record(conn, office: str, new: list[dict]) -> None:
    """appointment.checked_in / appointment.no_show from OFFICE's devices: the booking's
    state, once (a booking of another office is left alone)."""
    for event in new:
        data = event["data"]
        where = sa.and_(appointments.c.reference == data["reference"],
                        appointments.c.office == office,
                        appointments.c.state.in_(("booked", "no_show")))
        if event["type"] == "appointment.checked_in":
            conn.execute(sa.update(appointments).where(where).values(
                state="checked_in", checked_in_at=event["at"],
                ticket_number=data.get("ticket_number")))
        else:
            conn.execute(sa.update(appointments).where(
                where, appointments.c.state == "booked").values(
                state="no_show", no_show_at=event["at"]))


# --- the API (central/app.py mounts it; public: a resident books without an account) -----------
BOOKING_RATE = (10, 60.0)  # bookings and cancellations per client address per window (s)


class Slot(BaseModel):
    start: str = Field(description="ISO 8601 with the office's offset: book with this text")
    end: str
    free: int = Field(description="places left in the slot")


class SlotList(BaseModel):
    office: str
    service_code: str
    day: str
    timezone: str
    capacity: int
    slots: list[Slot]


class Plan(BaseModel):
    office: str
    service_code: str
    name: dict[str, str]
    hours: dict[str, list[str]] = Field(description="weekday (Monday 0) -> [opens, closes]")
    hours_text: str
    slot_minutes: int
    capacity: int
    days_ahead: int
    timezone: str


class BookingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    office: str = Field(max_length=8)
    service: str = Field(max_length=64)
    slot_start: str = Field(max_length=40, description="a slot's `start` as listed")
    national_id: str = Field(max_length=32)


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    national_id: str = Field(max_length=32, description="the one the booking was made with")


class Booking(BaseModel):
    reference: str = Field(description="8 characters: 7 random and a check character")
    shown: str = Field(description="as printed and typed: 7K3Q-W9XC")
    qr: str = Field(description="the booking's QR text, NFB:<office>:<reference>")
    office: str
    service_code: str
    slot_start: str
    slot_end: str
    state: Literal["booked", "cancelled"]


def add_appointment_routes(app: FastAPI, central, rate) -> None:
    """GET the plans and a day's free slots; POST a booking or a cancellation (rate-limited
    per client address). The national ID travels only in request bodies."""
    from .app import ERRORS, Problem  # the documented error shapes (central/app.py imports this)
    limited = {**ERRORS, 429: {"model": Problem, "description": "too many requests from this "
                                                                "address; Retry-After says when"}}

    def too_many(request: Request):
        wait = rate.take(request.client.host if request.client else "unknown")
        if wait is None:
            return None
        return JSONResponse({"error": "too_many_requests", "message": "too many bookings from "
                             "this address; retry later"}, status_code=429,
                            headers={"Retry-After": str(max(1, int(wait + 0.999)))})

    @app.get("/v1/appointments/plans", response_model=list[Plan], responses=ERRORS,
             tags=["appointments"])
    def appointment_plans_route(office: str | None = Query(None, max_length=8)):
        """The offices' services that take appointments, with their hours (one office's
        with ?office=; 422 invalid_office for a code that is not one)."""
        return plans(central, office)

    @app.get("/v1/appointments/slots", response_model=SlotList, responses=ERRORS,
             tags=["appointments"])
    def appointment_slots(office: str = Query(max_length=8),
                          service: str = Query(max_length=64),
                          day: str = Query(max_length=10, description="the office's local "
                                                                      "date, 2026-12-08")):
        """A day's slots of an office's service with their free places (begun ones left
        out). 404 unknown_office, unknown_service, no_appointments; 422 invalid_day,
        slot_in_past, too_far_ahead."""
        return free_slots(central, office, service, day)

    @app.post("/v1/appointments", response_model=Booking, responses=limited,
              tags=["appointments"])
    def appointment_book(body: BookingRequest, request: Request):
        """Book a place: the reference and its QR text. 409 slot_full or already_booked;
        422 slot_in_past, not_a_slot, too_far_ahead, invalid_national_id, or
        invalid_request for a field not listed (a phone number: none is asked)."""
        refused = too_many(request)
        if refused is not None:
            return refused
        return book(central, body.office, body.service, body.slot_start, body.national_id)

    @app.post("/v1/appointments/{reference}/cancel", response_model=Booking,
              responses=limited, tags=["appointments"])
    def appointment_cancel(body: CancelRequest, request: Request,
                           reference: str = PathParam(max_length=20)):
        """Cancel with the national ID the booking was made with (404 unknown_booking for
        another ID, as for no booking); 409 not_cancellable once its slot has begun."""
        refused = too_many(request)
        if refused is not None:
            return refused
        return cancel(central, reference, body.national_id)
