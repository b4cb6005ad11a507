"""A device's health report (core/health.py): what it says, how a face records it, and what a
report that cannot be read does (nothing stored)."""
from __future__ import annotations

import pytest

from core import health
from core.errors import ValidationError
from core.faces.kiosk import KioskFace


def test_collect_reports_this_device(office, settings, clock):
    report = health.collect(office.store, settings, role="kiosk", uptime_s=42.7,
                            printer="paper_out", camera="ok", version="9.9.9")
    assert report["role"] == "kiosk" and report["version"] == "9.9.9"
    assert report["uptime_s"] == 42 and report["printer"] == "paper_out"
    assert report["clock"] == office.store.now()
    assert report["disk_free_mb"] > 0
    assert report["store_bytes"] == settings.db_path.stat().st_size > 0
    assert report["backlog"] == 0 and report["backlog_age_s"] is None
    assert report["disk_full"] is False
    assert report["timezone"] == settings.office.timezone == "Asia/Bahrain"
    assert set(report) == set(health.FIELDS)
    # A centre's kiosk keeps no store: the office's zone is the hub's to say, not its own.
    assert health.collect(None, settings, role="kiosk", uptime_s=1)["timezone"] is None


def test_the_backlog_and_its_age_come_from_the_outbox(office, settings, clock, submit_valid):
    submit_valid()
    clock.advance(seconds=90)
    report = health.collect(office.store, settings, role="agent", uptime_s=1)
    assert report["backlog"] >= 1
    assert report["backlog_age_s"] >= 90


def test_a_face_records_the_latest_report_per_device(office, settings, clock):
    face = KioskFace(office)
    first = health.collect(office.store, settings, role="kiosk", uptime_s=1, printer="ok")
    face.heartbeat(first)
    clock.advance(seconds=30)
    second = health.collect(office.store, settings, role="kiosk", uptime_s=31,
                            printer="paper_low")
    answer = face.heartbeat(second)
    assert answer == {"device": "D01-kiosk", "received_at": office.store.now(), "skew_s": 0}
    rows = health.latest(office.store)
    assert [(r["device"], r["report"]["printer"]) for r in rows] == [("D01-kiosk", "paper_low")]
    clock.advance(seconds=12)
    out = health.outgoing(office.store)
    assert out["sent_at"] == office.store.now()
    assert out["reports"] == [{"device": "D01-kiosk", "age_s": 12, "skew_s": 0,
                               "report": rows[0]["report"]}]


def test_through_the_hub_the_paired_devices_name_is_used(office, settings):
    face = KioskFace.for_device(office, {"name": "kiosk-2", "services": "[]"})
    face.heartbeat(health.collect(office.store, settings, role="kiosk", uptime_s=5))
    assert [r["device"] for r in health.latest(office.store)] == ["kiosk-2"]


def test_a_clock_years_off_is_accepted_with_its_skew(office, settings):
    report = health.collect(office.store, settings, role="kiosk", uptime_s=5)
    stored = KioskFace(office).heartbeat({**report, "clock": "2019-11-24T08:00:00+00:00"})
    assert stored["skew_s"] < -6 * 365 * 86400
    # Received by this store's clock, never the device's.
    assert health.latest(office.store)[0]["received_at"] == office.store.now()


@pytest.mark.parametrize("change, field", [
    ({"clock": "yesterday-ish"}, "clock"),
    ({"clock": "2026-11-24T08:00:00"}, "clock"),
    ({"clock": None}, "clock"),
    ({"backlog": -3}, "backlog"),
    ({"uptime_s": "long"}, "uptime_s"),
    ({"printer": "jammed"}, "printer"),
    ({"camera": True}, "camera"),
    ({"role": "toaster"}, "role"),
    ({"last_backup_at": "never"}, "last_backup_at"),
    ({"name": "Fatima Al-Sayed"}, "name"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"timezone": 3}, "timezone"),
])
def test_an_unreadable_report_is_refused_and_nothing_is_stored(office, settings, db_state,
                                                                change, field):
    good = health.collect(office.store, settings, role="kiosk", uptime_s=5)
    before = db_state()
    with pytest.raises(ValidationError) as caught:
        KioskFace(office).heartbeat({**good, **change})
    assert caught.value.field == field
    assert caught.value.details["reason"] == "invalid_heartbeat"
    assert "nothing was stored" in caught.value.message
    assert db_state() == before


def test_a_report_that_is_not_an_object_is_refused(office, db_state):
    before = db_state()
    with pytest.raises(ValidationError):
        health.record(office.store, "k1", ["paper_out"])
    with pytest.raises(ValidationError):
        health.record(office.store, "", {})
    assert db_state() == before


def test_the_last_backup_is_never_until_one_is_taken(office, settings, tmp_path):
    from core import backup

    assert health._last_backup(settings) is None
    (tmp_path / "backups").mkdir()
    made = backup.create(settings, tmp_path / "backups")
    assert health._last_backup(settings) == backup.last_backup(settings)["at"] is not None
    assert health.collect(office.store, settings, role="hub", uptime_s=1)[
        "last_backup_at"] == backup.last_backup(settings)["at"]
    assert made


def test_a_store_older_than_heartbeats_refuses_to_record_and_reads_none(office, settings,
                                                                         monkeypatch, db_state):
    report = health.collect(office.store, settings, role="kiosk", uptime_s=5)
    monkeypatch.setattr(office.store, "has_schema", lambda n: n < health.SCHEMA)
    before = db_state()
    with pytest.raises(ValidationError) as caught:
        health.record(office.store, "k1", report)
    assert caught.value.field == "store"
    assert health.latest(office.store) == []
    assert db_state() == before
