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
