"""Heartbeats in a service centre: a kiosk reports to its hub over HTTPS (the face's
`heartbeat` operation), the hub keeps the latest per paired device, and the hub's sync agent
forwards them, with the hub's own, to central (docs/operations/health.md)."""
from __future__ import annotations

import random

import pytest

from central.app import create_app
from central.fleet import Fleet
from central.service import Central
from core import health
from core.clock import UlidFactory
from core.errors import PermissionDenied, ValidationError
from core.office import Office
from core.settings import load_settings
from sync.agent import SyncAgent, enrol

from central_servers import ServerThread
from hubrig import RunningHub


@pytest.fixture
def centre(tmp_path, clock):
    """central (served), an enrolled hub office, its running hub."""
    central, _ = Central.init_root(tmp_path / "central", None, clock=clock)
    server = ServerThread(create_app(central)).start()
    settings = load_settings(tmp_path / "hub", environ={"NAFITHA_OFFICE__CODE": "MUH",
                                                        "NAFITHA_DEVICE__ID": "H01"})
    enrol(settings, server.url, central.enrol_code("MUH", role="hub")["code"])
    office = Office.open(settings, clock=clock, ids=UlidFactory(clock, random.Random(3)))
    hub = RunningHub(office)
    yield central, office, hub
    hub.stop()
    office.close()
    server.stop()
    central.close()


def kiosk_report(settings, now, **changes) -> dict:
    report = health.collect(None, settings, role="kiosk", uptime_s=60, printer="ok",
                            camera="ok", clock=now)
    return {**report, **changes}


def test_a_kiosks_paper_out_reaches_central_through_the_hub_and_its_agent(centre, tmp_path,
                                                                          clock):
    central, office, hub = centre
    kiosk = hub.kiosk(tmp_path, "kiosk-1")
    answer = kiosk.heartbeat(kiosk_report(kiosk.settings, clock, printer="paper_out"))
    assert answer["device"] == "kiosk-1" and answer["skew_s"] == 0
    kept = health.latest(office.store)
    assert [(r["device"], r["report"]["printer"]) for r in kept] == [("kiosk-1", "paper_out")]

    clock.advance(seconds=20)
    stored = SyncAgent(office).push_health()
    assert stored == 2  # the kiosk's, and the hub's own (its agent's)
    seen = {d["key"]: d for d in Fleet(central).devices()}
    assert seen["MUH/kiosk-1"]["alerts"] == ["paper_out"]
    assert seen["MUH/kiosk-1"]["via"] == "MUH/H01"
    # Last seen: when the hub received it (20 s before it forwarded), by central's clock.
    assert seen["MUH/kiosk-1"]["silent_s"] == 20
    assert seen["MUH/H01"]["role"] == "agent"
    assert "no_backup" in seen["MUH/H01"]["alerts"]


def test_a_kiosk_with_a_clock_years_off_is_kept_with_its_skew(centre, tmp_path, clock):
    central, office, hub = centre
    kiosk = hub.kiosk(tmp_path, "kiosk-1")
    answer = kiosk.heartbeat(kiosk_report(kiosk.settings, clock,
                                          clock="2031-01-01T00:00:00+00:00"))
    assert answer["skew_s"] > 4 * 365 * 86400
    SyncAgent(office).push_health()
    k = {d["key"]: d for d in Fleet(central).devices()}["MUH/kiosk-1"]
    assert "clock_wrong" in k["alerts"]
    assert k["seen_at"] == central.now()  # never the kiosk's 2031


def test_an_unreadable_heartbeat_is_refused_by_the_hub_and_nothing_is_stored(centre,
                                                                           tmp_path, clock):
    _central, office, hub = centre
    kiosk = hub.kiosk(tmp_path, "kiosk-1")
    kiosk.heartbeat(kiosk_report(kiosk.settings, clock, printer="paper_low"))
    before = health.latest(office.store)
    for bad in ({"clock": "not a time"}, {"backlog": -1}, {"printer": "smoking"}):
        with pytest.raises(ValidationError) as caught:
            kiosk.heartbeat(kiosk_report(kiosk.settings, clock, **bad))
        assert caught.value.code == "invalid_input"
    assert health.latest(office.store) == before


def test_a_board_may_not_send_a_heartbeat(centre, clock, tmp_path):
    _central, office, hub = centre
    session = hub.client(hub.token("board", "tv-1"))
    reply = session.post(f"{hub.url}/api/v1/kiosk/heartbeat", json={"report": kiosk_report(
        load_settings(tmp_path / "tv", environ={}), clock)}, timeout=10)
    assert reply.status_code == 403, reply.text
    assert health.latest(office.store) == []
    assert PermissionDenied.code == reply.json()["error"]


def test_the_apps_read_their_printer_and_camera_into_the_reports_states():
    from types import SimpleNamespace

    from devices.printing.fakes import status_for_state
    from ui.heartbeat import camera_state, printer_state

    def devices(state):
        return SimpleNamespace(printer=SimpleNamespace(status=SimpleNamespace(
            printer=None if state is None else status_for_state(state))))
    assert {s: printer_state(devices(s)) for s in
            ("ok", "paper_low", "paper_out", "offline", "silent", None)} == {
        "ok": "ok", "paper_low": "paper_low", "paper_out": "paper_out",
        "offline": "cover_open", "silent": "unknown", None: "unknown"}
    assert printer_state(SimpleNamespace(printer=None)) == "none"
    running = SimpleNamespace(camera=SimpleNamespace(service=SimpleNamespace(
        status=SimpleNamespace(state="running"))))
    gone = SimpleNamespace(camera=SimpleNamespace(service=SimpleNamespace(
        status=SimpleNamespace(state="no_camera"))))
    assert (camera_state(running), camera_state(gone), camera_state(object())) == \
        ("ok", "missing", "none")


def test_a_kiosks_heartbeat_loop_reports_through_the_hub_off_the_ui_thread(centre, tmp_path,
                                                                          clock):
    import threading
    from types import SimpleNamespace

    from devices.printing.fakes import status_for_state
    from ui.heartbeat import start_heartbeat, stop_heartbeat

    _central, office, hub = centre
    kiosk = hub.kiosk(tmp_path, "kiosk-7")
    sent = threading.Event()
    threads = []
    real = kiosk.heartbeat

    def spy(report):
        threads.append(threading.current_thread())
        answer = real(report)
        sent.set()
        return answer
    kiosk.heartbeat = spy
    app = SimpleNamespace(backend=kiosk, settings=kiosk.settings, translations="kiosk",
                          clock=clock, devices=SimpleNamespace(printer=SimpleNamespace(
                              status=SimpleNamespace(printer=status_for_state("paper_out")))))
    assert start_heartbeat(app) is not None
    try:
        assert sent.wait(10)
    finally:
        stop_heartbeat(app)
    assert threads[0] is not threading.main_thread()
    assert [(r["device"], r["report"]["printer"]) for r in health.latest(office.store)] == \
        [("kiosk-7", "paper_out")]
    # A face that takes no heartbeat (a test's fake backend): nothing starts.
    assert start_heartbeat(SimpleNamespace(backend=object(), settings=kiosk.settings,
                                           translations="kiosk")) is None
