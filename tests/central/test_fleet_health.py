"""Central's side of the heartbeats (central/fleet.py): an office's agent POSTs /v1/health with
the latest report of each device; central keeps the latest per device, with "last seen" by
its own clock, and derives the alerts when read (docs/operations/health.md)."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest
import requests
import sqlalchemy as sa

from central import db
from central.fleet import CLOCK_WRONG_S, Fleet, Thresholds
from core.settings import HealthSettings


def report(**changes) -> dict:
    base = {"role": "kiosk", "version": "1.2.3", "uptime_s": 600, "printer": "ok",
            "camera": "ok", "disk_free_mb": 20_000, "store_bytes": 4_000_000, "backlog": 2,
            "backlog_age_s": 30, "clock": "2026-11-24T08:00:00+00:00",
            "last_backup_at": None, "disk_full": False}
    return {**base, **changes}


def batch(*items, sent_at="2026-11-24T08:00:00+00:00") -> dict:
    return {"sent_at": sent_at, "reports": list(items)}


def item(device: str, age_s: int = 0, skew_s: int = 0, **changes) -> dict:
    return {"device": device, "age_s": age_s, "skew_s": skew_s, "report": report(**changes)}


@pytest.fixture(scope="module")
def served(start_central):
    return start_central()


def post(served, body, headers=None):
    return requests.post(f"{served.url}/v1/health", json=body, timeout=10,
                         headers=served.device if headers is None else headers)


def rows(served) -> list[tuple]:
    with served.central.engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(sa.select(db.device_health)))


def health_of(served, key: str) -> dict:
    return next(d for d in Fleet(served.central).devices() if d["key"] == key)


def test_thresholds_are_the_devices_settings_defaults():
    ours = dataclasses.asdict(Thresholds())
    theirs = dataclasses.asdict(HealthSettings())
    assert ours == {k: theirs[k] for k in ours}


def test_a_paper_out_report_is_stored_per_device_with_its_alert(served):
    now = served.central.clock.now()
    reply = post(served, batch(item("K1", printer="paper_out"), item("C1", role="counter")))
    assert reply.status_code == 200, reply.text
    assert reply.json()["stored"] == 2
    k1 = health_of(served, "MUH/K1")
    assert k1["alerts"] == ["paper_out"]
    assert k1["via"] == "MUH/D01" and k1["role"] == "kiosk"
    assert datetime.fromisoformat(k1["seen_at"]) == now
    assert health_of(served, "MUH/C1")["alerts"] == []


def test_last_seen_is_centrals_time_minus_the_reports_age(served):
    now = served.central.clock.now()
    # The hub's clock is 2 hours ahead: its sent_at says so; its kiosk is 60 s ahead of it.
    ahead = (now + timedelta(hours=2)).isoformat()
    assert post(served, batch(item("K2", age_s=40, skew_s=60), sent_at=ahead)).status_code \
        == 200
    k2 = health_of(served, "MUH/K2")
    assert datetime.fromisoformat(k2["seen_at"]) == now - timedelta(seconds=40)
    assert k2["skew_s"] == 2 * 3600 + 60
    assert "clock_wrong" in k2["alerts"]


def test_a_device_that_stops_reporting_turns_silent_by_centrals_clock(served):
    assert post(served, batch(item("K3"))).status_code == 200
    assert "silent" not in health_of(served, "MUH/K3")["alerts"]
    served.central.clock.advance(seconds=HealthSettings().silent_after_s + 1)
    assert health_of(served, "MUH/K3")["alerts"][0] == "silent"


def test_an_older_report_never_replaces_a_newer_one_and_a_resend_is_harmless(served):
    assert post(served, batch(item("K4", printer="paper_out"))).status_code == 200
    before = rows(served)
    assert post(served, batch(item("K4", printer="paper_out"))).status_code == 200
    assert next(r for r in rows(served) if r[0] == "MUH/K4")[1:6] == \
        next(r for r in before if r[0] == "MUH/K4")[1:6]
    # A stale copy (it reached the hub 10 minutes ago) after the fresh one: kept as it was.
    assert post(served, batch(item("K4", age_s=600, printer="ok"))).status_code == 200
    assert health_of(served, "MUH/K4")["report"]["printer"] == "paper_out"


def test_a_clock_years_off_is_accepted_with_a_clock_wrong_alert(served):
    now = served.central.clock.now()
    assert post(served, batch(item("K5", skew_s=-7 * 365 * 86400,
                                   clock="2019-11-24T08:00:00+00:00"))).status_code == 200
    k5 = health_of(served, "MUH/K5")
    assert "clock_wrong" in k5["alerts"]
    assert k5["skew_s"] < -CLOCK_WRONG_S
    # Never its time for "last seen": central's.
    assert datetime.fromisoformat(k5["seen_at"]) == now


@pytest.mark.parametrize("bad", [
    {"clock": "last tuesday"},                     # does not parse
    {"clock": "2026-11-24T08:00:00"},              # no offset
    {"backlog": -1},                               # impossible
    {"printer": "on_fire"},                        # a state nobody defined
    {"disk_free_mb": 10 ** 15},
    {"national_id": "850101234"},                  # not a field of a heartbeat
])
def test_an_unreadable_report_is_refused_and_nothing_is_stored(served, bad):
    before = rows(served)
    reply = post(served, batch(item("K1"), item("BAD", **bad)))
    assert reply.status_code == 422
    assert reply.json()["error"] == "invalid_request"
    assert rows(served) == before


def zone_of(served, office: str = "MUH"):
    with served.central.engine.connect() as conn:
        return conn.execute(sa.select(db.offices.c.timezone).where(
            db.offices.c.code == office)).scalar()


def test_the_offices_box_tells_central_its_time_zone(served):
    """The hub's report names the office's zone: central counts the office's days and hours
    in it from then on (central/reports.py set_timezone); the default zone changes nothing."""
    assert zone_of(served) is None
    assert post(served, batch(item("H1", role="hub", timezone="Asia/Bahrain"))).status_code \
        == 200
    assert zone_of(served) is None  # already counted in Asia/Bahrain: nothing projected again
    assert post(served, batch(item("H1", role="hub", timezone="Asia/Riyadh"),
                              item("K1"))).status_code == 200
    assert zone_of(served) == "Asia/Riyadh"
    post(served, batch(item("H1", role="hub", timezone="Asia/Bahrain")))
    assert zone_of(served) == "Asia/Bahrain"


@pytest.mark.parametrize("zones", [("Mars/Olympus",), ("Asia/Bahrain", "Asia/Riyadh"),
                                   (" Asia/Bahrain",)])
def test_a_wrong_or_doubled_zone_is_refused_and_nothing_is_stored(served, zones):
    before, zone = rows(served), zone_of(served)
    reply = post(served, batch(*(item(f"H{i}", role="hub", timezone=z)
                                 for i, z in enumerate(zones))))
    assert reply.status_code == 422, reply.text
    assert (rows(served), zone_of(served)) == (before, zone)


def test_without_the_device_token_nothing_is_stored(served):
    before = rows(served)
    reply = post(served, batch(item("K9")), headers={})
    assert reply.status_code == 401 and reply.json()["error"] == "no_token"
    reply = post(served, batch(item("K9")), headers={"Authorization": "Bearer nope"})
    assert reply.status_code == 401 and reply.json()["error"] == "bad_token"
    assert rows(served) == before


def test_alerts_for_disk_backup_printer_and_camera():
    fleet = Fleet(None)
    now = datetime.fromisoformat("2026-11-24T08:00:00+00:00")
    alerts = fleet.alerts(report(role="hub", disk_free_mb=100, printer="cover_open",
                                 camera="missing"), 0, 0, now)
    assert alerts == ["cover_open", "disk_low", "no_backup", "camera"]
    fresh = (now - timedelta(hours=1)).isoformat()
    assert fleet.alerts(report(role="hub", last_backup_at=fresh, disk_free_mb=10,
                               printer="offline"), 0, 0, now) == \
        ["disk_full", "printer_offline"]
    stale = (now - timedelta(hours=27)).isoformat()
    assert fleet.alerts(report(role="agent", last_backup_at=stale, disk_full=True,
                               printer="paper_low"), 0, 0, now) == \
        ["disk_full", "no_backup", "paper_low"]
    # A kiosk holds no store worth a backup: no "no backup" for it.
    assert fleet.alerts(report(), 0, 0, now) == []
