"""The counter keeps its doors shut: five wrong PINs lock the account, an idle desk locks
itself, a clerk cannot approve on her own; and `nafitha counter` refuses a counter set up
for a service nobody offers."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from counter_rig import CLERK, SUPERVISOR, CounterRig

pytestmark = pytest.mark.ui


def test_lockout_idle_lock_and_a_clerk_asking_for_a_supervisor(xvfb_display, tmp_path):
    with CounterRig(tmp_path / "rig", lang="en") as rig:
        p = rig.pilot
        app = rig.kiosk_application({"full_name": "Ali Ahmed", "national_id": "880101233",
                                     "phone": "36001234", "block": "338", "road": "3803",
                                     "building": "12", "area_m2": "40", "parcel": "02-1234",
                                     "description": "A garden store"},
                                    service="building-permit-small", with_ticket=False)
        for _ in range(5):
            state = rig.sign_in(("sara", "9999"))
            assert state["screen"] == "signin" and state["form"]["values"]["pin"] == ""
            rig.clear_field("username")
        assert "locked for 5 minutes" in rig.notice()
        state = rig.sign_in(CLERK)
        assert state["user"] is None and "locked until" in rig.notice()
        p.advance(301)  # five minutes later (the app's clock)
        rig.clear_field("username")
        assert rig.sign_in(CLERK)["screen"] == "shift_open"
        p.keys("0")
        assert rig.enter()["screen"] == "desk", rig.notice()
        # Idle for the lock time: the screen locks, the desk's work is kept.
        p.press_key("f6")
        p.keys(app["application"]["number"])
        p.advance(301)
        assert rig.state()["screen"] == "locked"
        p.keys(CLERK[1])
        state = rig.enter()
        assert state["screen"] == "search"
        assert state["form"]["values"]["query"] == app["application"]["number"]
        rig.enter()
        # A review service: only a supervisor approves; sara's own PIN is refused.
        p.tap("approve")
        state = rig.wait_screen("authorise")
        assert "needs a supervisor" in rig.notice()
        rig.type_fields(*CLERK)
        state = rig.enter()
        assert state["screen"] == "authorise" and "not a supervisor" in rig.notice()
        office = rig.office()
        assert office.applications.get(app["application"]["number"])["state"] == "submitted"
        office.close()
        rig.clear_field("supervisor")
        p.keys(SUPERVISOR[0])
        p.tap("field:pin")
        p.keys(SUPERVISOR[1])
        assert rig.enter()["application"]["state"] == "approved"
        office = rig.office()
        assert office.applications.get(app["application"]["number"])["decided_by"] == "huda"
        office.close()


def test_counter_for_an_unknown_service_is_refused(tmp_path):
    nafitha = str(Path(sys.executable).with_name("nafitha"))
    done = subprocess.run([nafitha, "--data", str(tmp_path / "data"), "counter"],
                          env={"NAFITHA_COUNTER__SERVICES": "residence-certificate,no-such",
                               "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "no-such" in done.stderr and "Traceback" not in done.stderr
