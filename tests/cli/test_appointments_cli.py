"""`nafitha central appointments book` (nafitha/appointments_cli.py): a booking takes the
national ID and nothing else personal; `--phone` is no option (no phone is asked: messages
are asked for, with consent, on the follow page; docs/appointments.md)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from central.db import appointments as booking_rows
from central.service import Central
from core.text import with_check_digit

SERVICE = "residence-certificate"
NID = with_check_digit("85040001", "luhn")


def test_book_takes_no_phone(run, tmp_path):
    home = str(tmp_path / "central")
    run("central", "--home", home, "init-root")
    run("central", "--home", home, "appointments", "set", "MUH", SERVICE,
        "--hours", "sun-sat 08:00-12:00", "--slot-minutes", "60", "--capacity", "2")
    # Tomorrow at 09:00 in the office's zone (the default, Asia/Bahrain): the real clock.
    tomorrow = datetime.now(ZoneInfo("Asia/Bahrain")).date() + timedelta(days=1)
    slot = f"{tomorrow.isoformat()}T09:00:00+03:00"
    book = ["central", "--home", home, "appointments", "book", "MUH", SERVICE, slot,
            "--national-id", NID]
    refused = run(*book, "--phone", "36001234", expect=2)
    assert "No such option '--phone'" in refused.stderr
    booked = json.loads(run(*book, "--json").stdout)
    assert booked["slot_start"] == slot and booked["state"] == "booked"
    central = Central.open(tmp_path / "central", None)
    try:
        with central.engine.connect() as conn:
            rows = conn.execute(sa.select(booking_rows)).mappings().all()
    finally:
        central.close()
    assert [r["reference"] for r in rows] == [booked["reference"]]
    assert "phone" not in rows[0]


def test_today_and_no_shows_read_as_sentences(run, tmp_path):
    """The office's list by local time and shown reference, and what no-shows marked; each
    says so when there is nothing (a newcomer's walk-through found a blank line)."""
    from core import booking_codes, reference
    from core.office import Office
    from core.settings import load_settings
    assert run("appointments", "today").stdout == "no bookings today\n"
    assert run("appointments", "no-shows").stdout == "no booking was missed\n"
    office = Office.open(load_settings(tmp_path / "data", environ={}))
    try:
        zone = office.settings.tz
        now = office.store.clock.now().astimezone(zone)
        # Two bookings of today: one an hour from now, one whose window closed long ago.
        def booking(ref: str, start: datetime) -> None:
            body = {"reference": ref, "office": office.settings.office.code,
                    "service_code": SERVICE, "slot_start": start.isoformat(),
                    "slot_end": (start + timedelta(minutes=15)).isoformat(),
                    "national_id_hash": booking_codes.hash_national_id(NID),
                    "state": "booked"}
            with office.store.atomic():
                reference.put(office.store, {"kind": "appointment", "key": ref, "version": 1,
                                             "body": body}, office.store.now(), None)
        later = min((now + timedelta(hours=1)).replace(second=0, microsecond=0),
                    now.replace(hour=23, minute=45, second=0, microsecond=0))  # still today
        missed = now.replace(hour=0, minute=0, second=0, microsecond=0)
        refs = [booking_codes.make_reference(lambda n, s=s: bytes([s] * n)) for s in (1, 2)]
        booking(refs[0], later)
        if now - missed > timedelta(minutes=20):  # after 00:20 local: the first slot missed
            booking(refs[1], missed)
    finally:
        office.close()
    lines = run("appointments", "today").stdout.splitlines()
    assert f"{later:%H:%M}  {booking_codes.shown(refs[0])}  {SERVICE}  booked" in lines
    marked = run("appointments", "no-shows").stdout
    if now - missed > timedelta(minutes=20):
        assert marked == f"no-shows marked: {booking_codes.shown(refs[1])}\n"
