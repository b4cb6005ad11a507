"""The front page in Chromium: BackOffice.alerts from real devices (a refused batch, a
backlog waiting too long, an office gone silent), each linking to its office, the counts
(applications awaiting a decision, devices in touch in the last hour, offices), the
thresholds stated, the page updating itself, and one municipality not seeing another's."""
from __future__ import annotations

from pathlib import Path

import pytest
import requests
from central_offices import PERMIT, nid, working_office
from ops_devices import Devices

from sync.agent import SyncAgent

SHOTS = Path("/tmp/console_shots")


@pytest.fixture
def devices(site, tmp_path):
    made = Devices(site, tmp_path)
    yield made
    made.close()


@pytest.fixture
def two_municipalities(site, tmp_path):
    """CAP owns MUH (D01 from the site, never in touch; D02 working), NOR owns NRT (D01
    working). Two building permits await a decision at MUH, one at NRT; all pushed."""
    site.municipality("CAP", ("MUH",))
    site.municipality("NOR", ("NRT",))
    opened = [working_office(tmp_path, site.url, site.central, code, "D09" if code == "NRT"
                             else "D02", site.clock, seed) for seed, code in
              enumerate(("MUH", "NRT"), start=1)]
    muh, nrt = opened
    for n, office in enumerate((muh, muh, nrt)):
        office.applications.submit("building-permit-small", {
            **PERMIT, "full_name": "فاطمة علي", "national_id": nid(n)})
    for office in opened:
        SyncAgent(office).once()
    yield muh, nrt
    for office in opened:
        office.close()


def _alerts(page) -> list[tuple[str, str]]:
    return page.locator("#alerts li").evaluate_all(
        "els => els.map(e => [e.dataset.kind, e.dataset.office])")


def _alert(page, kind):
    return page.locator(f"#alerts li[data-kind='{kind}']")


def _refuse_a_batch(site, office):
    token = Devices.token(office)
    answer = requests.post(f"{site.url}/v1/events", data=b"this is not a batch", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"}, timeout=10)
    assert answer.status_code in (400, 422)


def _count(page, name) -> str:
    return page.locator(f"#count-{name} .number").inner_text()


def test_the_front_page_shows_counts_and_alerts_that_clear(site, two_municipalities, devices,
                                                           page, sign_in):
    muh, nrt = two_municipalities
    site.person("ops", "operations", "CAP")
    page.clock.install()  # live.js's timer runs when the test moves the page's clock
    sign_in(page, "ops")
    assert (_count(page, "awaiting"), _count(page, "online"), _count(page, "offices")) == \
        ("2", "1", "1")  # CAP's own: not NRT's permit, device or office
    assert page.locator("#count-awaiting a").get_attribute("href") == "/console/applications"
    assert page.locator("#no-alerts").inner_text() == "لا تنبيهات الآن."
    thresholds = page.locator(".alerts-section p.muted").inner_text()
    assert "منذ 24 ساعة" in thresholds and "أكثر من 6 ساعات" in thresholds

    # A batch refused (MUH's and NRT's); a backlog left waiting seven hours at MUH/D03.
    _refuse_a_batch(site, muh)
    _refuse_a_batch(site, nrt)
    d03 = devices.add("MUH", "D03", batch_size=2)
    devices.events(d03, 5)
    site.clock.advance(hours=7)
    devices.push_one_batch(d03)
    sign_in(page, "ops")  # (the session ended meanwhile)
    assert _alerts(page) == [["backlog", "MUH"], ["refused", "MUH"]]
    backlog = _alert(page, "backlog")
    assert "الجهاز MUH/D03: أحداث لم تصل بعد (العدد: 3)، أقدمها منذ 7 ساعات." in \
        backlog.inner_text()
    refused = _alert(page, "refused")
    assert "الجهاز MUH/D02: رُفض ما أرسله (العدد: 1) خلال آخر 24 ساعة، آخرها منذ 7 ساعات." \
        in refused.inner_text()
    assert refused.locator("code").inner_text()  # central's reason, as text
    assert _count(page, "online") == "1"  # D03, a moment ago; D02 was seven hours ago
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "home-alerts-ar.png"), full_page=True)
    refused.locator("a").click()
    assert page.url == f"{site.url}/console/offices#office-MUH"
    assert page.locator("#office-MUH").is_visible()

    # A day later: the refusal is over 24 hours old, the office is silent, the backlog waits.
    site.clock.advance(hours=25)
    sign_in(page, "ops")
    page.select_option("#lang-select", "en")
    page.click("form.lang button")
    assert _alerts(page) == [["silent", "MUH"], ["backlog", "MUH"]]
    assert _alert(page, "silent").locator(".text").inner_text() == \
        "Office MUH is silent: no device in touch since \u20662026-11-24 15:00\u2069 " \
        "(25 hours ago)."
    assert _alert(page, "silent").locator("a").get_attribute("href") == \
        "/console/offices#office-MUH"
    assert _count(page, "online") == "0"
    page.screenshot(path=str(SHOTS / "home-alerts-en.png"), full_page=True)
    # MUH/D03 gets through: the page, left open, clears itself within 15 seconds.
    assert SyncAgent(d03).once()["sent"] == 3
    page.clock.run_for(16_000)  # one period of live.js
    page.wait_for_selector("#no-alerts", timeout=10_000)
    assert page.locator("#count-online .number").inner_text() == "1"
    assert page.locator("#no-alerts").inner_text() == "No alerts now."


def test_national_staff_see_every_municipalitys_alerts(site, two_municipalities, page,
                                                       sign_in):
    _, nrt = two_municipalities
    site.person("aud", "auditor", None)
    _refuse_a_batch(site, nrt)
    sign_in(page, "aud")
    assert (_count(page, "awaiting"), _count(page, "online"), _count(page, "offices")) == \
        ("3", "2", "2")
    assert _alerts(page) == [["refused", "NRT"]]
    assert "NRT/D09" in _alert(page, "refused").inner_text()
    assert page.locator("main form").count() == 0  # an auditor reads


def test_the_pause_button_stops_the_updates(site, two_municipalities, page, sign_in):
    muh, _ = two_municipalities
    site.person("ops", "operations", "CAP")
    page.clock.install()  # the page's timers run when the test moves its clock, not in real time
    sign_in(page, "ops")
    toggle = page.locator("#live-toggle")
    assert toggle.inner_text() == "إيقاف التحديث التلقائي"
    toggle.click()
    assert toggle.inner_text() == "استئناف التحديث التلقائي"
    _refuse_a_batch(site, muh)
    page.clock.run_for(17_000)  # past one period: paused, nothing changed
    page.wait_for_timeout(500)  # (a fetch it had started would have landed by now)
    assert page.locator("#no-alerts").count() == 1
    toggle.click()  # resumed: updates at once
    page.wait_for_selector("#alerts li[data-kind='refused']", timeout=10_000)
    # A session that ended stops the updates and says so.
    site.clock.advance(minutes=31)
    page.clock.run_for(16_000)  # the next period's refresh finds the session over
    page.wait_for_selector("#live-stale:not([hidden])", timeout=10_000)
    assert page.locator("#live-stale").inner_text().startswith("تعذّر تحديث الصفحة")
