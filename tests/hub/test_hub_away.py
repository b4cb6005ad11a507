"""The hub goes away in the middle of a resident's application and of a clerk's walk-in
form: the kiosk and the counter say so plainly, keep what was typed, store nothing, and the
same step works once the hub is back (the kiosk flow and the counter desk on the real hub
client; their windows are tested in tests/ui)."""
from __future__ import annotations

import sys
from pathlib import Path

from core.errors import HubUnreachable
from counter.desk import Desk
from counter_screens import Shown
from hubrig import RunningHub
from kiosk.flow import KioskFlow
from ui.i18n import Translations

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "kiosk"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "counter"))
from test_desk import RecordingPrinter, count, sign_in  # noqa: E402
from test_flow import FakeDevices, fill, start_apply  # noqa: E402


def test_a_residents_form_survives_the_hub_going_away(office, tmp_path, valid_fields):
    running = RunningHub(office)
    client = running.kiosk(tmp_path, "kiosk-1")
    flow = KioskFlow(client, FakeDevices(), "ar")
    start_apply(flow)
    values = valid_fields()
    fill(flow, values)
    assert flow.screen == "review"
    port = running.port
    running.stop()
    try:
        flow.submit(pay_now=False)
    except HubUnreachable as exc:
        flow.failed(exc)  # what the app does with a slow step's error
    assert flow.visit.fault == "hub" and flow.screen == "review"
    assert flow.visit.values == {k: v for k, v in values.items() if k in flow.visit.values}
    assert flow.visit.values["full_name"] == values["full_name"]
    text = Translations.load("kiosk", "latin").get("common.fault_hub", "ar")
    assert "محفوظ" in text  # "kept", in the resident's language
    assert count(office, "applications") == 0
    back = RunningHub(office, port=port)
    try:
        flow.visit.fault = None  # the next tap clears the banner
        flow.submit(pay_now=False)
        assert flow.screen != "review" and flow.visit.application is not None
        assert count(office, "applications") == 1
    finally:
        back.stop()


def test_a_clerks_walk_in_form_survives_the_hub_going_away(office, till, tmp_path, valid_nid):
    running = RunningHub(office)
    client = running.counter(tmp_path, "3")
    desk = Desk(client, RecordingPrinter(client), "en")
    views = Shown(desk, Translations.load("counter", "latin"))
    sign_in(desk)
    desk.start_apply()
    desk.choose("service", "residence-certificate")
    desk.submit()
    for key, value in (("full_name", "Mariam Hasan"), ("national_id", valid_nid(3)),
                       ("phone", "36001234"), ("block", "338"), ("road", "3803"),
                       ("building", "12")):
        desk.form.get(key).value = value
    port = running.port
    running.stop()
    try:
        desk.submit()
    except HubUnreachable as exc:
        desk.failed(exc)  # what the app does with a slow step's error
    assert desk.view == "apply" and desk.form.get("full_name").value == "Mariam Hasan"
    assert isinstance(desk.notice.error, HubUnreachable)
    assert "cannot be reached" in views.notice()["text"]
    assert "not reachable" in views.chrome({"hub": client.hub_online()})["online"]
    assert count(office, "applications") == 0
    back = RunningHub(office, port=port)
    try:
        desk.submit()
        assert desk.screen == "desk" and count(office, "applications") == 1
        assert views.chrome({"hub": client.hub_online()})["online"] != \
            views.t("status.hub_offline")
    finally:
        back.stop()
