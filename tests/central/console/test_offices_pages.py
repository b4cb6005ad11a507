"""Operations' pages in Chromium: offices and devices (real devices in touch with a real
central), enrolment codes with their QR, revoking a device; role checks, another
municipality's offices, CSRF, bad input, axe-core, screenshots."""
from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
import zxingcpp
from axe_check import axe_violations
from ops_devices import Devices
from PIL import Image

from central import db
from central.service import CentralError
from core.clock import iso
from core.credentials import keys
from sync import protocol
from sync.agent import SyncAgent, SyncError

SHOTS = Path("/tmp/console_shots")
CODE = re.compile(r"^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$")


def _rows(site) -> dict:
    """Everything an enrolment code or a revocation could change (the audit without the
    signing in and out)."""
    with site.central.engine.connect() as conn:
        rows = {t.name: sorted(tuple(map(str, r)) for r in conn.execute(sa.select(t)))
                for t in (db.enrol_codes, db.devices, db.offices, db.reference,
                          db.revocation_lists)}
        rows["console_audit"] = [tuple(map(str, r)) for r in conn.execute(
            sa.select(db.console_audit).where(~db.console_audit.c.action.like("session.%"))
            .order_by(db.console_audit.c.id))]
    return rows


def _audit(site) -> list[dict]:
    with site.central.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(db.console_audit).order_by(
            db.console_audit.c.id)).mappings()]


def _row(page, key):
    return page.locator(f"tr[data-device='{key}']")


def _badges(page, key) -> list[str]:
    return _row(page, key).locator(".badge").evaluate_all(
        "els => els.map(e => e.dataset.badge)")


def _english(page):
    page.select_option("#lang-select", "en")
    page.click("form.lang button")
    assert page.locator("html").get_attribute("lang") == "en"


def _shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _submit_raw(page, values: dict, form="#enrol-form"):
    """Submit the form with these values, past the browser's own checks (so the server's
    answer is what is tested): a select gets the option it needs."""
    page.evaluate("""([sel, values]) => {
        const form = document.querySelector(sel);
        form.noValidate = true;
        for (const [name, value] of Object.entries(values)) {
            const field = form.elements[name];
            if (field.tagName === 'SELECT' && ![...field.options].some(o => o.value === value)) {
                field.add(new Option(value, value));
            }
            for (const a of ['pattern', 'maxlength', 'min', 'max', 'required']) field.removeAttribute(a);
            field.value = value;
        }
    }""", [form, values])
    page.click(f"{form} button[type=submit]")


@pytest.fixture
def devices(site, tmp_path):
    made = Devices(site, tmp_path)
    yield made
    made.close()


@pytest.fixture
def capital(site):
    """Municipality CAP owns MUH (with D01 from the site); NOR owns NRT with a device."""
    site.municipality("CAP", ("MUH",))
    site.municipality("NOR", ("NRT",))
    code = site.central.enrol_code("NRT", role="counter")["code"]
    site.central.enrol(code, "NRT", "D01", keys.public_bytes(keys.generate()).hex())
    return site


# --- the offices page -------------------------------------------------------------------------
def test_devices_in_touch_show_their_backlog_then_it_drains(capital, devices, page, sign_in):
    site = capital
    site.person("ops", "operations", "CAP")
    office = devices.add("MUH", "D02", batch_size=2)
    devices.events(office, 5)
    site.clock.advance(hours=7)  # the events wait seven hours before the device gets through
    devices.push_one_batch(office)  # two arrive, three still wait
    page.clock.install()  # live.js's timer runs when the test moves the page's clock
    sign_in(page, "ops")
    page.goto(f"{site.url}/console/offices")
    # Only CAP's office; MUH first (it has trouble), with its municipality.
    assert page.locator("section.office").evaluate_all("e => e.map(s => s.dataset.office)") \
        == ["MUH"]
    assert "CAP" in page.locator("#office-MUH .office-head").inner_text()
    row = _row(page, "MUH/D02")
    assert row.locator(".backlog .count").inner_text() == "3"
    assert row.locator(".backlog").inner_text().endswith("أقدمها منذ 7 ساعات")
    assert row.locator(".contact .age").inner_text() == "منذ أقل من دقيقة"
    assert _badges(page, "MUH/D02") == ["backlog_old"]
    assert row.locator(".version").inner_text() not in ("", "غير معروف")
    assert row.locator(".clock").inner_text() == "مضبوطة"
    assert row.locator("th").inner_text().startswith("D02")
    # The trouble is on top; D01 never said anything: "never", version unknown, no badge yet.
    assert page.locator("#office-MUH tbody tr").first.get_attribute("data-device") == "MUH/D02"
    d01 = _row(page, "MUH/D01")
    assert d01.locator(".contact").inner_text().startswith("لم يتصل بعد")
    assert d01.locator(".version").inner_text() == "غير معروف"
    assert _badges(page, "MUH/D01") == ["ok"]
    _shoot(page, "offices-ar")
    # The page updates itself (live.js, every 15 s): the backlog drains with no reload.
    before = page.evaluate("() => performance.getEntriesByType('navigation').length")
    assert SyncAgent(office).once()["sent"] == 3
    page.clock.run_for(16_000)  # one period of live.js
    page.wait_for_function(
        "() => document.querySelector(\"tr[data-device='MUH/D02'] .backlog .count\")"
        ".textContent === '0'", timeout=10_000)
    assert _badges(page, "MUH/D02") == ["ok"]
    assert page.evaluate("() => performance.getEntriesByType('navigation').length") == before
    assert page.locator("#live").get_attribute("data-updated")
    _english(page)
    assert _row(page, "MUH/D02").locator(".contact .age").inner_text() == \
        "less than a minute ago"
    assert page.locator("#updated").inner_text().startswith("Last updated 15:00:00 UTC.")
    _shoot(page, "offices-en")


def test_a_device_that_is_silent_skewed_or_missing_events_is_marked(capital, devices, page,
                                                                     sign_in):
    site = capital
    site.person("ops", "operations", "CAP")
    office = devices.add("MUH", "D02")
    devices.events(office, 3)
    SyncAgent(office).once()
    # D03 says its clock is 10 minutes ahead and that it sent up to seq 4 but only 1 arrived.
    devices.add("MUH", "D03")
    late = devices.opened[-1]
    devices.events(late, 4)
    bodies = [r["body"] for r in late.store.all("SELECT body FROM outbox ORDER BY seq")]
    ahead = iso(site.clock.now() + timedelta(minutes=10))
    batch = protocol.encode_batch("D03", "MUH", ahead, [bodies[3]], pending=1)
    reply = requests.post(f"{site.url}/v1/events", data=batch, headers={
        "Authorization": f"Bearer {devices.token(late)}", "Content-Encoding": "gzip",
        "Content-Type": "application/json"}, timeout=10)
    assert reply.status_code == 200 and reply.json()["gaps"] == [[1, 3]]
    site.clock.advance(hours=2)
    sign_in(page, "ops")
    page.goto(f"{site.url}/console/offices")
    assert _badges(page, "MUH/D03") == ["skew", "gaps"]
    assert _row(page, "MUH/D03").locator(".clock").inner_text() == "متقدّمة بمقدار 10 دقائق"
    assert "1–3" in _row(page, "MUH/D03").locator(".gaps").inner_text()
    assert _row(page, "MUH/D03").locator(".version").inner_text() == "غير معروف"
    assert _badges(page, "MUH/D02") == ["ok"]
    site.clock.advance(hours=23)  # D02 last spoke 25 hours ago, D01 was enrolled 25 hours ago
    sign_in(page, "ops")  # (the session ended meanwhile)
    page.goto(f"{site.url}/console/offices")
    assert _badges(page, "MUH/D02") == ["silent"]
    assert _badges(page, "MUH/D01") == ["silent"]
    assert _row(page, "MUH/D02").locator(".contact .age").inner_text() == "منذ 25 ساعة"


# --- enrolment codes ---------------------------------------------------------------------------
def test_an_enrolment_code_is_shown_with_its_qr_and_enrols_a_device(capital, page, sign_in):
    site = capital
    site.person("ops", "operations", "CAP")
    sign_in(page, "ops")
    page.goto(f"{site.url}/console/offices")
    page.click("#make-code")
    assert page.locator("#e-office option").evaluate_all("o => o.map(x => x.value)") == ["MUH"]
    assert page.locator("#e-new").count() == 0  # only national staff make new offices
    page.select_option("#e-role", "counter")
    page.fill("#e-hours", "48")
    page.click("#enrol-form button[type=submit]")
    assert page.url == f"{site.url}/console/offices/enrol"  # no code in the URL
    code = page.locator("#code").inner_text()
    assert CODE.match(code)
    assert page.locator("#expires").inner_text() == \
        "ينتهي \u20662026-11-26 08:00\u2069 بالتوقيت العالمي (بعد يومين)."
    # The QR, as Chromium draws it, holds the code.
    shot = Image.open(io.BytesIO(page.locator("#code-qr").screenshot()))
    assert [r.text for r in zxingcpp.read_barcodes(shot)] == [code]
    _shoot(page, "enrol-code-ar")
    # Audited without the code; the code is not kept in clear anywhere.
    last = _audit(site)[-1]
    assert (last["action"], last["entity_id"], last["municipality"], last["actor"]) == \
        ("device.enrol_code", "MUH", "CAP", "ops")
    assert code not in str(last) and code.replace("-", "") not in str(_rows(site))
    assert '"role": "counter"' in last["detail"] and '"hours": 48' in last["detail"]
    enrolled = site.central.enrol(code, "MUH", "D07", keys.public_bytes(keys.generate()).hex())
    assert enrolled["role"] == "counter"
    with pytest.raises(CentralError) as again:
        site.central.enrol(code, "MUH", "D08", keys.public_bytes(keys.generate()).hex())
    assert again.value.code == "code_used"


def test_national_operations_make_a_code_for_a_new_office_in_english(site, page, sign_in):
    site.person("nat", "operations", None)
    sign_in(page, "nat")
    _english(page)
    page.goto(f"{site.url}/console/offices/enrol?office=MUH")
    assert page.locator("#e-office").input_value() == "MUH"
    page.fill("#e-new", "NEW1")
    page.select_option("#e-role", "kiosk")
    page.click("#enrol-form button[type=submit]")
    code = page.locator("#code").inner_text()
    assert page.locator("#made-title").inner_text() == \
        "Enrolment code for office NEW1: Kiosk"
    assert page.locator("#expires").inner_text() == \
        "Expires \u20662026-11-27 08:00\u2069 UTC (in 3 days)."
    shot = Image.open(io.BytesIO(page.locator("#code-qr").screenshot()))
    assert [r.text for r in zxingcpp.read_barcodes(shot)] == [code]
    _shoot(page, "enrol-code-en")
    assert site.central.enrol(code, "NEW1", "K1", keys.public_bytes(keys.generate()).hex())[
        "role"] == "kiosk"
    page.goto(f"{site.url}/console/offices")
    assert page.locator("#office-NEW1 .office-head").inner_text().count(
        "not yet given to a municipality") == 1


@pytest.mark.parametrize("values, error", [
    ({"hours": "0"}, "Valid for: a whole number of hours from 1 to 720 (30 days)."),
    ({"hours": "10000"}, "Valid for: a whole number of hours from 1 to 720 (30 days)."),
    ({"hours": "2.5"}, "Valid for: a whole number of hours from 1 to 720 (30 days)."),
    ({"new_office": "muh2"}, "Office code: 1-8 capital letters or digits."),
    ({"new_office": "ABCDEFGHI"}, "Office code: 1-8 capital letters or digits."),
    ({"new_office": "<script>alert(1)</script>"},
     "Office code: 1-8 capital letters or digits."),
    ({"office": "<script>alert(1)</script>"}, "Office code: 1-8 capital letters or digits."),
    ({"role": "toaster"}, "Unknown role."),
])
def test_bad_input_is_refused_clearly_and_nothing_is_made(site, page, sign_in, values, error):
    site.person("nat", "operations", None)
    sign_in(page, "nat")
    _english(page)
    page.goto(f"{site.url}/console/offices/enrol")
    before = _rows(site)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    _submit_raw(page, {"office": "MUH", "role": "hub", "hours": "24", **values})
    assert page.locator("#problem").inner_text() == error
    assert page.locator("#code").count() == 0
    assert page.locator("main script").count() == 0 and dialogs == []
    if "new_office" in values:  # what was typed comes back, as text
        assert page.locator("#e-new").input_value() == values["new_office"]
    assert _rows(site) == before


# --- revoking a device -------------------------------------------------------------------------
def test_revoking_a_device_needs_a_confirmation_then_its_token_is_refused(capital, devices,
                                                                          page, sign_in):
    site = capital
    site.person("ops", "operations", "CAP")
    office = devices.add("MUH", "D02")
    devices.events(office, 2)
    SyncAgent(office).once()
    sign_in(page, "ops")
    page.goto(f"{site.url}/console/offices")
    page.click("tr[data-device='MUH/D02'] a.danger-link")
    assert page.url == f"{site.url}/console/offices/MUH/devices/D02/revoke"
    _shoot(page, "revoke-ar")
    before = _rows(site)
    _submit_raw(page, {}, form="#revoke-form")  # the box not ticked
    assert page.locator("#problem").inner_text() == \
        "ضع علامة على «أفهم» لتأكيد الإلغاء. لم يتغيّر شيء."
    assert _rows(site) == before
    page.check("#r-confirm")
    page.click("#revoke-form button[type=submit]")
    assert page.url == f"{site.url}/console/offices?revoked=MUH/D02"
    assert page.locator("#done").inner_text() == "أُلغي الجهاز MUH/D02: لم يعد رمز دخوله يعمل."
    assert _badges(page, "MUH/D02") == ["revoked"]
    assert _row(page, "MUH/D02").locator("a.danger-link").count() == 0
    last = _audit(site)[-1]
    assert (last["action"], last["entity_id"], last["municipality"]) == \
        ("device.revoke", "MUH/D02", "CAP")
    # The device's token now gets 401.
    devices.events(office, 1)
    with pytest.raises(SyncError) as refused:
        SyncAgent(office).once()
    assert refused.value.kind == "auth"
    assert requests.get(f"{site.url}/v1/reference", params={"cursor": 0}, headers={
        "Authorization": f"Bearer {devices.token(office)}"}, timeout=10).status_code == 401
    # Revoking twice is refused clearly, and changes nothing.
    before = _rows(site)
    page.goto(f"{site.url}/console/offices/MUH/devices/D02/revoke")
    assert page.locator("#revoke-form").count() == 0
    answer = page.request.post(f"{site.url}/console/offices/MUH/devices/D02/revoke",
                               form={"csrf": _csrf(page), "confirm": "yes"})
    assert answer.status == 409
    assert "هذا الجهاز ملغى من قبل، ولم يتغيّر شيء." in answer.text()
    assert _rows(site) == before


def _csrf(page) -> str:
    return page.locator("input[name=csrf]").first.get_attribute("value")


# --- who may do what ---------------------------------------------------------------------------
def test_finance_cannot_make_codes_or_revoke_and_an_auditor_sees_no_forms(capital, page,
                                                                          sign_in):
    site = capital
    site.person("fin", "finance", "CAP")
    site.person("aud", "auditor", None)
    before = _rows(site)
    sign_in(page, "fin")
    page.goto(f"{site.url}/console/offices")
    assert page.locator("#office-MUH").count() == 1
    assert page.locator("#make-code, a.danger-link, main form").count() == 0
    for path in ("/console/offices/enrol", "/console/offices/MUH/devices/D01/revoke"):
        assert page.goto(site.url + path).status == 403
    csrf = _csrf(page)
    assert page.request.post(f"{site.url}/console/offices/enrol", form={
        "csrf": csrf, "office": "MUH", "role": "hub", "hours": "24"}).status == 403
    assert page.request.post(f"{site.url}/console/offices/MUH/devices/D01/revoke", form={
        "csrf": csrf, "confirm": "yes"}).status == 403
    page.context.clear_cookies()
    sign_in(page, "aud")
    page.goto(f"{site.url}/console/offices")
    assert page.locator("section.office").count() == 2  # national: both municipalities
    assert page.locator("#make-code, a.danger-link, main form, th:has-text('إجراءات')") \
        .count() == 0
    assert page.goto(f"{site.url}/console/offices/enrol").status == 403
    assert _rows(site) == before


def test_another_municipalitys_office_is_not_found_and_nothing_changes(capital, page,
                                                                       sign_in):
    site = capital
    site.person("ops", "operations", "CAP")
    sign_in(page, "ops")
    page.goto(f"{site.url}/console/offices")
    assert page.locator("#office-NRT").count() == 0
    assert "NRT" not in page.locator("main").inner_text()
    before = _rows(site)
    for path in ("/console/offices/NRT/devices/D01/revoke",
                 "/console/offices/XYZ/devices/D01/revoke",
                 "/console/offices/MUH/devices/D99/revoke"):
        assert page.goto(site.url + path).status == 404
        assert page.locator("#error-text").inner_text() == "الصفحة أو العنصر المطلوب غير موجود."
    page.goto(f"{site.url}/console/offices/enrol?office=NRT")
    assert page.locator("#e-office").input_value() == "MUH"
    csrf = _csrf(page)
    revoke = page.request.post(f"{site.url}/console/offices/NRT/devices/D01/revoke",
                               form={"csrf": csrf, "confirm": "yes"})
    assert revoke.status == 404
    for office in ("NRT", "NEW9"):  # another's, and one CAP's staff cannot create
        made = page.request.post(f"{site.url}/console/offices/enrol", form={
            "csrf": csrf, "office": office, "role": "hub", "hours": "24"})
        assert made.status == 404 and not CODE.search(made.text())
    _submit_raw(page, {"office": "NRT"})  # through the form too
    assert page.locator("#error-text").inner_text() == "الصفحة أو العنصر المطلوب غير موجود."
    assert _rows(site) == before


def test_a_missing_or_wrong_csrf_token_is_refused_and_nothing_changes(capital, page,
                                                                      sign_in):
    site = capital
    site.person("ops", "operations", "CAP")
    sign_in(page, "ops")
    before = _rows(site)
    for form in ({}, {"csrf": "not-the-token"}):
        for path, fields in (("/console/offices/enrol",
                              {"office": "MUH", "role": "hub", "hours": "24"}),
                             ("/console/offices/MUH/devices/D01/revoke", {"confirm": "yes"})):
            answer = page.request.post(site.url + path, form={**fields, **form})
            assert answer.status == 403
            assert "رمز الحماية مفقود أو غير صحيح" in answer.text()
    assert _rows(site) == before
    with site.central.engine.connect() as conn:
        assert conn.execute(sa.select(db.devices.c.revoked_at).where(
            db.devices.c.key == "MUH/D01")).scalar() is None


# --- accessibility -------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["ar", "en"])
def test_axe_finds_no_serious_violation_on_the_operations_pages(capital, devices, browser,
                                                                sign_in, lang):
    site = capital
    site.person("ops", "operations", "CAP")
    office = devices.add("MUH", "D02", batch_size=2)
    devices.events(office, 4)
    site.clock.advance(hours=7)
    devices.push_one_batch(office)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, bypass_csp=True)
    page = context.new_page()
    try:
        sign_in(page, "ops")
        if lang == "en":
            _english(page)
        for path, name in (("/console", "home-ops"), ("/console/offices", "offices-backlog"),
                           ("/console/offices/enrol", "enrol-form"),
                           ("/console/offices/MUH/devices/D02/revoke", "revoke")):
            page.goto(site.url + path)
            assert axe_violations(page) == [], path
            _shoot(page, f"{name}-{lang}")
        page.goto(f"{site.url}/console/offices/enrol")
        page.click("#enrol-form button[type=submit]")
        assert CODE.match(page.locator("#code").inner_text())
        assert axe_violations(page) == [], "the code page"
        _shoot(page, f"enrol-code-made-{lang}")
    finally:
        context.close()
