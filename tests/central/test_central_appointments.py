"""Central owns the slots (central/appointments.py, docs/appointments.md): plans, free slots,
booking and cancelling over HTTP, the bad input of the issue (each refused, changing nothing),
the last place taken by two at once (real threads, on SQLite and PostgreSQL), and each
booking published to its office as reference data."""
from __future__ import annotations

import json
import threading

import pytest
import requests
import sqlalchemy as sa

from central import appointments as ap
from central.app import create_app
from central.db import appointments as appointment_rows
from central.service import Central, CentralError
from core import booking_codes
from core.clock import FrozenClock
from core.credentials import keys
from core.text import with_check_digit

from central_servers import ServerThread

START = "2026-11-24T08:00:00+00:00"  # a Tuesday, 11:00 in Bahrain
SERVICE = "residence-certificate"
TOMORROW = "2026-11-25"


def nid(n: int) -> str:
    return with_check_digit(f"{85010000 + n:08d}", "luhn")


@pytest.fixture
def central(tmp_path, central_db):
    made, _token = Central.init_root(tmp_path / "central", central_db, clock=FrozenClock(START))
    ap.set_plan(made, "MUH", SERVICE, "sun-thu 08:00-12:00", 30, 2, days_ahead=14)
    yield made
    made.close()


@pytest.fixture
def served(central):
    server = ServerThread(create_app(central, booking_rate=(1000, 60.0))).start()
    yield central, server.url
    server.stop()


def booking_rows(central) -> list[dict]:
    with central.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(appointment_rows).order_by(
            appointment_rows.c.reference)).mappings()]


def test_book_list_cancel_over_http(served):
    central, url = served
    plans = requests.get(f"{url}/v1/appointments/plans", timeout=10).json()
    assert plans[0]["hours_text"] == "sun 08:00-12:00; mon 08:00-12:00; tue 08:00-12:00; " \
                                     "wed 08:00-12:00; thu 08:00-12:00"
    slots = requests.get(f"{url}/v1/appointments/slots", timeout=10, params={
        "office": "MUH", "service": SERVICE, "day": TOMORROW}).json()
    assert [s["start"] for s in slots["slots"]][:2] == ["2026-11-25T08:00:00+03:00",
                                                       "2026-11-25T08:30:00+03:00"]
    assert len(slots["slots"]) == 8 and {s["free"] for s in slots["slots"]} == {2}
    answer = requests.post(f"{url}/v1/appointments", timeout=10, json={
        "office": "MUH", "service": SERVICE, "slot_start": "2026-11-25T08:30:00+03:00",
        "national_id": nid(1)})
    assert answer.status_code == 200, answer.text
    booking = answer.json()
    assert booking_codes.parse_reference(booking["shown"]) == booking["reference"]
    assert booking["qr"] == f"NFB:MUH:{booking['reference']}"
    assert booking["slot_end"] == "2026-11-25T09:00:00+03:00"
    slots = requests.get(f"{url}/v1/appointments/slots", timeout=10, params={
        "office": "MUH", "service": SERVICE, "day": TOMORROW}).json()
    assert slots["slots"][1]["free"] == 1
    row = booking_rows(central)[0]
    # never the national ID in clear, and no phone number at all (none is asked)
    assert nid(1) not in json.dumps(row) and "phone" not in row
    assert booking_codes.national_id_matches(nid(1), row["national_id_hash"])
    wrong = requests.post(f"{url}/v1/appointments/{booking['reference']}/cancel", timeout=10,
                          json={"national_id": nid(2)})
    assert wrong.status_code == 404 and wrong.json()["error"] == "unknown_booking"
    cancelled = requests.post(f"{url}/v1/appointments/{booking['shown']}/cancel",
                              timeout=10, json={"national_id": nid(1)})
    assert cancelled.json()["state"] == "cancelled"
    assert booking_rows(central)[0]["seat"] is None
    slots = requests.get(f"{url}/v1/appointments/slots", timeout=10, params={
        "office": "MUH", "service": SERVICE, "day": TOMORROW}).json()
    assert slots["slots"][1]["free"] == 2


def test_bookings_reach_only_their_office_in_the_bundle(central):
    booking = ap.book(central, "MUH", SERVICE, "2026-11-25T08:00:00+03:00", nid(3))
    ap.cancel(central, booking["reference"], nid(3))
    changes = {}
    for office in ("MUH", "RIF"):
        code = central.enrol_code(office, role="kiosk")["code"]
        token = central.enrol(code, office, "K1", keys.public_bytes(keys.generate()).hex())
        device = central.authenticate(f"Bearer {token['token']}")
        payload = json.loads(central.bundle(device, 0)["payload"])
        changes[office] = [c for c in payload["changes"] if c["kind"] == "appointment"]
    assert changes["RIF"] == []
    assert [c["body"]["state"] for c in changes["MUH"]] == ["booked", "cancelled"]
    body = changes["MUH"][-1]["body"]
    assert body["state"] == "cancelled" and body["reference"] == booking["reference"]
    assert set(body) == {"reference", "office", "service_code", "slot_start", "slot_end",
                         "national_id_hash", "state"}


def refused(call, *args, **kwargs) -> CentralError:
    with pytest.raises(CentralError) as exc:
        call(*args, **kwargs)
    return exc.value


@pytest.mark.parametrize("office, service, slot, national_id, status, code", [
    ("MUH", SERVICE, "2026-11-24T09:00:00+03:00", nid(1), 422, "slot_in_past"),
    ("MUH", SERVICE, "2026-11-23T09:00:00+03:00", nid(1), 422, "slot_in_past"),
    ("MUH", SERVICE, "2026-11-25T07:30:00+03:00", nid(1), 422, "not_a_slot"),
    ("MUH", SERVICE, "2026-11-25T12:00:00+03:00", nid(1), 422, "not_a_slot"),
    ("MUH", SERVICE, "2026-11-25T08:15:00+03:00", nid(1), 422, "not_a_slot"),
    ("MUH", SERVICE, "2026-11-27T08:00:00+03:00", nid(1), 422, "not_a_slot"),  # Friday
    ("MUH", SERVICE, "2026-12-30T08:00:00+03:00", nid(1), 422, "too_far_ahead"),
    ("MUH", SERVICE, "2026-11-25T08:00:00", nid(1), 422, "invalid_slot"),
    ("MUH", SERVICE, "tomorrow", nid(1), 422, "invalid_slot"),
    ("XYZ", SERVICE, "2026-11-25T08:00:00+03:00", nid(1), 404, "unknown_office"),
    ("muh", SERVICE, "2026-11-25T08:00:00+03:00", nid(1), 422, "invalid_office"),
    ("MUH", "no-such", "2026-11-25T08:00:00+03:00", nid(1), 404, "unknown_service"),
    ("MUH", "excavation-permit", "2026-11-25T08:00:00+03:00", nid(1), 404,
     "no_appointments"),
    ("MUH", SERVICE, "2026-11-25T08:00:00+03:00", "12345678", 422,
     "invalid_national_id"),
    ("MUH", SERVICE, "2026-11-25T08:00:00+03:00", nid(1)[:-1] + str((int(nid(1)[-1]) + 1) % 10),
     422, "invalid_national_id"),
])
def test_bad_bookings_are_refused_and_change_nothing(central, office, service, slot,
                                                     national_id, status, code):
    exc = refused(ap.book, central, office, service, slot, national_id)
    assert (exc.status, exc.code) == (status, code)
    assert national_id not in exc.message
    assert booking_rows(central) == []


@pytest.mark.parametrize("office", ["muh", "M\x00H", "ÑÛfn\x00", "TOOLONGCODE"])
def test_plans_of_a_malformed_office_code_are_refused_clearly(served, office):
    """Found by schemathesis on PostgreSQL: a NUL in ?office= reached the query (a 500)."""
    central, url = served
    answer = requests.get(f"{url}/v1/appointments/plans", params={"office": office},
                          timeout=10)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == \
        ("invalid_request" if len(office) > 8 else "invalid_office")


def test_a_booking_with_a_phone_number_is_refused_as_an_unknown_field(served):
    """No phone is asked (nothing would use it, no consent is asked): a request that still
    sends one is refused by the model (extra="forbid"), and nothing is booked."""
    central, url = served
    answer = requests.post(f"{url}/v1/appointments", timeout=10, json={
        "office": "MUH", "service": SERVICE, "slot_start": "2026-11-25T08:30:00+03:00",
        "national_id": nid(1), "phone": "36001234"})
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["error"] == "invalid_request"
    # the unknown field named, by where it is and why (pydantic's extra_forbidden)
    assert problem["message"] == "body.phone: Extra inputs are not permitted"
    assert nid(1) not in answer.text and "36001234" not in answer.text
    assert booking_rows(central) == []
    with pytest.raises(TypeError):
        ap.book(central, "MUH", SERVICE, "2026-11-25T08:30:00+03:00", nid(1), phone="36001234")
    assert booking_rows(central) == []


def test_a_full_slot_and_one_booking_per_person_a_day(central):
    slot = "2026-11-25T09:00:00+03:00"
    ap.book(central, "MUH", SERVICE, slot, nid(1))
    assert refused(ap.book, central, "MUH", SERVICE, "2026-11-25T10:00:00+03:00",
                   nid(1)).code == "already_booked"
    ap.book(central, "MUH", SERVICE, slot, nid(2))
    exc = refused(ap.book, central, "MUH", SERVICE, slot, nid(3))
    assert (exc.status, exc.code) == (409, "slot_full")
    assert len(booking_rows(central)) == 2


def test_free_slots_refuses_bad_days(central):
    for day, code in (("2026-11-23", "slot_in_past"), ("2026-13-01", "invalid_day"),
                      ("2027-01-30", "too_far_ahead")):
        assert refused(ap.free_slots, central, "MUH", SERVICE, day).code == code
    today = ap.free_slots(central, "MUH", SERVICE, "2026-11-24")["slots"]
    assert [s["start"] for s in today] == ["2026-11-24T11:30:00+03:00"]  # 11:00 now


def test_the_last_place_taken_by_two_at_once(central):
    """Real threads race for one slot's places: never more bookings than places, each seat
    once, the rest refused slot_full."""
    slot = "2026-11-25T10:00:00+03:00"
    ap.set_plan(central, "MUH", SERVICE, "sun-thu 08:00-12:00", 30, 3, days_ahead=14)
    racers = 12
    barrier = threading.Barrier(racers)
    outcomes: list = [None] * racers

    def race(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = ap.book(central, "MUH", SERVICE, slot, nid(100 + i))["reference"]
        except CentralError as exc:
            outcomes[i] = exc.code

    threads = [threading.Thread(target=race, args=(i,)) for i in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    booked = [o for o in outcomes if o != "slot_full"]
    assert len(booked) == 3 and outcomes.count("slot_full") == racers - 3
    seats = sorted(r["seat"] for r in booking_rows(central))
    assert seats == [1, 2, 3]


def test_two_race_for_the_very_last_place(central):
    slot = "2026-11-25T11:00:00+03:00"
    ap.book(central, "MUH", SERVICE, slot, nid(50))  # one of two places left
    for attempt in range(3):  # a few rounds: the race must never let both in
        barrier = threading.Barrier(2)
        results = []

        def race(n, barrier=barrier, results=results):
            barrier.wait()
            try:
                results.append(ap.book(central, "MUH", SERVICE, slot, nid(n))["reference"])
            except CentralError as exc:
                results.append(exc.code)

        pair = [threading.Thread(target=race, args=(60 + 2 * attempt + k,)) for k in (0, 1)]
        for t in pair:
            t.start()
        for t in pair:
            t.join(60)
        winners = [r for r in results if r != "slot_full"]
        assert len(winners) == (1 if attempt == 0 else 0), results
    assert len([r for r in booking_rows(central) if r["seat"]]) == 2


def test_the_office_reports_check_in_and_no_show(central):
    first = ap.book(central, "MUH", SERVICE, "2026-11-25T08:00:00+03:00", nid(7))
    second = ap.book(central, "MUH", SERVICE, "2026-11-25T08:00:00+03:00", nid(8))
    with central.engine.begin() as conn:
        ap.record(conn, "MUH", [
            {"type": "appointment.checked_in", "at": "2026-11-25T04:55:00.000+00:00",
             "data": {"reference": first["reference"], "ticket_number": "A007"}},
            {"type": "appointment.no_show", "at": "2026-11-25T05:16:00.000+00:00",
             "data": {"reference": second["reference"]}},
            {"type": "appointment.no_show", "at": "2026-11-25T05:16:00.000+00:00",
             "data": {"reference": first["reference"]}}])  # too late: it checked in
        ap.record(conn, "RIF", [{"type": "appointment.no_show", "at": "x",
                                 "data": {"reference": first["reference"]}}])  # not RIF's
    rows = {r["reference"]: r for r in booking_rows(central)}
    assert rows[first["reference"]]["state"] == "checked_in"
    assert rows[first["reference"]]["ticket_number"] == "A007"
    assert rows[second["reference"]]["state"] == "no_show"
    listed = ap.bookings(central, "MUH", TOMORROW)
    assert [b["state"] for b in listed] == ["checked_in", "no_show"]
    assert refused(ap.cancel, central, first["reference"], nid(7)).code == "not_cancellable"


def test_plans_refuse_bad_settings(central):
    for hours, minutes, capacity, code in (
            ("sun-thu 08:00-07:00", 30, 2, "invalid_hours"),
            ("someday 08:00-12:00", 30, 2, "invalid_hours"),
            ("sun 08:00-12:00; sun 13:00-14:00", 30, 2, "invalid_hours"),
            ("sun-thu 08:00-12:00", 7, 2, "invalid_slot_minutes"),
            ("sun-thu 08:00-12:00", 30, 0, "invalid_capacity")):
        assert refused(ap.set_plan, central, "MUH", SERVICE, hours, minutes,
                       capacity).code == code
    assert ap.parse_hours("thu-sun 09:00-10:00") == {
        "3": ["09:00", "10:00"], "4": ["09:00", "10:00"], "5": ["09:00", "10:00"],
        "6": ["09:00", "10:00"]}


def test_booking_is_rate_limited_per_address(central):
    server = ServerThread(create_app(central, booking_rate=(2, 60.0))).start()
    try:
        answers = [requests.post(f"{server.url}/v1/appointments", timeout=10, json={
            "office": "MUH", "service": SERVICE, "slot_start": "2026-11-25T08:00:00+03:00",
            "national_id": nid(30 + i)}).status_code for i in range(3)]
    finally:
        server.stop()
    assert answers == [200, 200, 429]
