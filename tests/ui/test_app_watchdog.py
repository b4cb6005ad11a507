"""The kiosk tells systemd it is alive from its UI thread (ui/shell.py, core/watchdog.py):
READY=1 once its first screen is drawn, WATCHDOG=1 while the UI thread turns, none while
the UI thread is blocked (a hung screen gets restarted), and again once it runs."""
from __future__ import annotations

import time

import pytest

from fake_systemd import FakeSystemd
from kiosk_rig import KioskRig

pytestmark = pytest.mark.ui


def test_kiosk_pings_from_its_ui_thread_and_stops_while_it_is_blocked(xvfb_display,
                                                                      tmp_path):
    systemd = FakeSystemd()
    try:
        # WatchdogSec=0.4 s: a ping every 0.2 s.
        env = {"NOTIFY_SOCKET": systemd.path, "WATCHDOG_USEC": "400000"}
        with KioskRig(tmp_path, lang="en", extra_env=env) as rig:
            rig.wait_screen("home")
            systemd.wait_for(lambda: any(m == "READY=1" for _, m in systemd.messages))
            ready_at = next(t for t, m in systemd.messages if m == "READY=1")
            systemd.wait_for(lambda: len(systemd.pings(since=ready_at)) >= 4)

            rig.pilot.request("block_ui", seconds=2.0)
            blocked_at = time.monotonic()
            time.sleep(2.0)
            # While blocked (after the one ping that may have been on its way): none.
            assert systemd.pings(since=blocked_at + 0.3, until=blocked_at + 1.9) == []
            # Running again: pings resume.
            systemd.wait_for(lambda: len(systemd.pings(since=blocked_at + 2.0)) >= 3,
                             timeout_s=10)
            rig.wait_screen("home")
        # Closing the app says so.
        assert any(m == "STOPPING=1" for _, m in systemd.messages)
    finally:
        systemd.close()


def test_kiosk_without_notify_socket_sends_nothing_and_runs(xvfb_display, tmp_path):
    systemd = FakeSystemd()
    try:
        with KioskRig(tmp_path, lang="en", extra_env={"NOTIFY_SOCKET": None}) as rig:
            rig.wait_screen("home")
            time.sleep(0.5)
        assert systemd.messages == []
    finally:
        systemd.close()
