"""Checking an appointment in at the kiosk (KioskFace.check_in_appointment), the same
in-process and through a hub on loopback: the ticket, its print, and each refusal with its
stable reason, changing nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest

from core import booking_codes, reference
from core.clock import iso, parse_iso
from core.errors import InvalidState, NotFound, PermissionDenied, ValidationError

RES = "residence-certificate"
SLOT = "2026-11-24T09:00:00.000+00:00"  # the clock starts at 08:00 UTC


def published(office, n: int, nid: str) -> str:
    ref = booking_codes.make_reference(lambda k: bytes((n * 11 + i * 5) % 256
                                                       for i in range(k)))
    body = {"reference": ref, "office": "MUH", "service_code": RES, "slot_start": SLOT,
            "slot_end": iso(parse_iso(SLOT) + timedelta(minutes=15)),
            "national_id_hash": booking_codes.hash_national_id(nid), "state": "booked"}
    with office.store.atomic():
        reference.put(office.store, {"kind": "appointment", "key": ref, "version": n,
                                     "body": body}, office.store.now(), None)
    return ref


def test_check_in_gives_a_ticket_the_kiosk_prints(kiosk, office, clock, valid_nid):
    ref = published(office, 1, valid_nid(1))
    clock.set("2026-11-24T08:45:00+00:00")
    ticket = kiosk.check_in_appointment(booking_codes.qr_text("MUH", ref), valid_nid(1))
    assert ticket["appointment"]["reference"] == ref
    assert office.queue.ticket_row(ticket["id"])["queue_key"] == SLOT
    assert "national_id_hash" not in str(ticket)
    job = kiosk.enqueue_print("ticket", ticket["id"], "ar")
    assert job["kind"] == "ticket"


@pytest.mark.parametrize("typed, nid_n, error, reason", [
    ("7K3Q-W9X", 2, ValidationError, "malformed_reference"),
    (None, 3, PermissionDenied, "national_id_mismatch"),
    ("NFB:RIF:{ref}", 2, NotFound, "other_office"),
])
def test_refusals_change_nothing(kiosk, office, clock, valid_nid, db_state, typed, nid_n,
                                 error, reason):
    ref = published(office, 2, valid_nid(2))
    clock.set("2026-11-24T09:00:00+00:00")
    before = db_state()
    with pytest.raises(error) as exc:
        kiosk.check_in_appointment((typed or ref).format(ref=ref), valid_nid(nid_n))
    assert exc.value.details["reason"] == reason
    assert db_state() == before


def test_too_early_and_already_checked_in(kiosk, office, clock, valid_nid):
    ref = published(office, 4, valid_nid(4))
    clock.set("2026-11-24T08:00:00+00:00")
    with pytest.raises(InvalidState) as exc:
        kiosk.check_in_appointment(ref, valid_nid(4))
    assert exc.value.details["reason"] == "too_early"
    assert exc.value.details["opens_at"].startswith("2026-11-24T11:30")
    clock.set("2026-11-24T08:31:00+00:00")
    kiosk.check_in_appointment(ref, valid_nid(4))
    with pytest.raises(InvalidState) as exc:
        kiosk.check_in_appointment(ref, valid_nid(4))
    assert exc.value.details["reason"] == "already_checked_in"
