"""The proof of issue 23's "Health": a device reports paper out (through central's real HTTP
route, with an office's device token) and the console's offices page, open in Chromium,
shows the alert within a minute, with no reload by the officer (live.js refreshes #live every
15 s; the page's clock is moved, not waited for). Arabic RTL and English, desktop and phone;
the screenshots go to $NAFITHA_SHOTS (default: the test's tmp dir)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import requests

from central.app import create_app
from central.service import Central
from core.clock import FrozenClock
from core.credentials import keys

from central_servers import ServerThread

START = "2026-11-24T08:00:00+00:00"
PASSWORD = "correct horse battery"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def site(tmp_path):
    clock = FrozenClock(START)
    central, _ = Central.init_root(tmp_path / "central", None, clock=clock)
    code = central.enrol_code("MUH", role="hub")["code"]
    token = central.enrol(code, "MUH", "H01", keys.public_bytes(keys.generate()).hex())["token"]
    app = create_app(central)
    server = ServerThread(app).start()
    staff = app.state.staff
    for name, lang in (("ops_ar", "ar"), ("ops_en", "en")):
        staff.add("test", name, f"{name} Test", "operations", None, PASSWORD, lang)
    yield {"central": central, "url": server.url, "token": token, "clock": clock}
    server.stop()
    central.close()


def heartbeat(site, device: str, printer: str, **changes) -> None:
    report = {"role": "kiosk", "version": "1.4.0", "uptime_s": 3600, "printer": printer,
              "camera": "ok", "disk_free_mb": 12_000, "store_bytes": 0, "backlog": 0,
              "backlog_age_s": None, "clock": site["central"].now(), "last_backup_at": None,
              "disk_full": False, **changes}
    reply = requests.post(f"{site['url']}/v1/health", timeout=10,
                          headers={"Authorization": f"Bearer {site['token']}"},
                          json={"sent_at": site["central"].now(), "reports": [
                              {"device": device, "age_s": 0, "skew_s": 0, "report": report}]})
    assert reply.status_code == 200, reply.text


def shots_dir(tmp_path) -> Path:
    where = Path(os.environ.get("NAFITHA_SHOTS") or tmp_path / "shots")
    where.mkdir(parents=True, exist_ok=True)
    return where


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_paper_out_shows_in_the_console_within_a_minute_without_a_reload(browser, site, lang,
                                                                        tmp_path):
    heartbeat(site, "kiosk-1", "ok")
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.clock.install()  # live.js's timer runs when the test moves the page's clock
    page.goto(f"{site['url']}/console/sign-in")
    page.fill("#username", f"ops_{lang}")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit] >> text=/دخول|Sign in/")
    page.goto(f"{site['url']}/console/offices")
    assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    row = page.locator("tr[data-health='MUH/kiosk-1']")
    assert row.locator("[data-alert]").evaluate_all("e => e.map(x => x.dataset.alert)") == \
        ["ok"]
    page.evaluate("() => { window.__notReloaded = true; }")

    heartbeat(site, "kiosk-1", "paper_out")  # the report
    page.clock.run_for(16_000)  # one period of live.js: well within the minute
    page.wait_for_selector("tr[data-health='MUH/kiosk-1'] [data-alert='paper_out']")
    assert page.evaluate("() => window.__notReloaded === true")  # no reload
    alert = row.locator("[data-alert='paper_out']")
    # Text, not colour alone: the words, and a sign before them.
    assert alert.inner_text().strip() == ("⚠ نفد الورق" if lang == "ar" else "⚠ Paper out")
    assert "trouble" in (row.get_attribute("class") or "")
    assert row.locator(".printer").get_attribute("data-printer") == "paper_out"
    assert page.locator("#office-MUH .alert-count").is_visible()

    where = shots_dir(tmp_path)
    page.screenshot(path=str(where / f"console-paper-out-{lang}-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.reload()  # laid out afresh at the phone's width (the assertions are done)
    page.evaluate("() => window.scrollTo(0, document.getElementById('health-MUH-title')"
                  ".getBoundingClientRect().top + window.scrollY - 8)")
    page.screenshot(path=str(where / f"console-paper-out-{lang}-phone.png"))
    # Nothing cut off at a phone's width: the tables scroll inside their box, the page not
    # (a hidden caption once widened it, cutting the start of the Arabic page).
    assert page.evaluate("() => document.documentElement.scrollWidth "
                         "<= document.documentElement.clientWidth")
    context.close()
    assert (where / f"console-paper-out-{lang}-phone.png").stat().st_size > 0
    shutil.rmtree(tmp_path / "central", ignore_errors=True)


def test_a_silent_device_alerts_with_no_new_report(browser, site, tmp_path):
    heartbeat(site, "counter-3", "ok", role="counter")
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{site['url']}/console/sign-in")
    page.fill("#username", "ops_en")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit] >> text=/دخول|Sign in/")
    site["clock"].advance(minutes=5)  # no heartbeat for 5 minutes (silent after 3)
    page.goto(f"{site['url']}/console/offices")
    alert = page.locator("tr[data-health='MUH/counter-3'] [data-alert='silent']")
    assert alert.inner_text().strip() == "⚠ Silent for 5 minutes"
    context.close()
