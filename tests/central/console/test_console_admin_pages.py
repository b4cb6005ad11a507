"""The administration pages in Chromium: staff, municipalities, API keys, the audit log and
"my account"; hostile names; axe-core on every page in both languages."""
from __future__ import annotations

import pytest

from axe_check import axe_violations

SCRIPT_NAME = "<script>window.pwned=1</script><img src=x onerror=\"window.pwned=1\">"


@pytest.fixture
def admin_page(site, page, sign_in):
    admin = site.person("huda", "admin", full_name="هدى صالح")
    sign_in(page, "huda", secret=admin.secret)
    assert page.url == f"{site.url}/console"
    return page


def test_an_admin_adds_disables_and_resets_staff(site, admin_page):
    page = admin_page
    site.municipality("CAP")
    page.goto(f"{site.url}/console/staff")
    page.fill("#new-username", "sara")
    page.fill("#new-full-name", "سارة علي")
    page.select_option("#new-role", "officer")
    page.select_option("#new-municipality", "CAP")
    page.fill("#new-password", "short")
    page.evaluate("document.querySelector('#new-password').removeAttribute('minlength')")
    page.click("#add-staff button[type=submit]")
    assert "12 حرفًا" in page.locator("#problem").inner_text()
    assert page.locator("#new-full-name").input_value() == "سارة علي"  # kept, not the password
    assert [r["username"] for r in site.staff.list()] == ["huda"]
    page.fill("#new-password", "a long first password")
    page.click("#add-staff button[type=submit]")
    assert page.url.endswith("/console/staff?done=1")
    row = page.locator("tr[data-username=sara]")
    assert row.locator(".full-name").inner_text() == "سارة علي"
    assert "CAP" in row.inner_text()
    row.locator("input[type=password]").fill("the replacement password")
    row.locator("button >> text=تعيين كلمة المرور").click()
    assert site.staff.sign_in("sara", "the replacement password")
    page.locator("tr[data-username=sara] button >> text=تعطيل").click()
    assert page.locator("tr[data-username=sara] .badge.off").inner_text() == "معطّل"
    assert [r["active"] for r in site.staff.list() if r["username"] == "sara"] == [False]
    page.goto(f"{site.url}/console/audit")
    text = page.locator("#audit").inner_text()
    for action in ("staff.add", "staff.reset_password", "staff.disable"):
        assert action in text
    assert "huda" in text


def test_an_admin_resets_a_second_factor(site, admin_page):
    site.person("omar", "finance", two_step=True)
    admin_page.goto(f"{site.url}/console/staff")
    admin_page.locator("tr[data-username=omar] button >> text=إعادة ضبط").click()
    assert not next(r for r in site.staff.list() if r["username"] == "omar")["has_totp"]


def test_municipalities_and_offices(site, admin_page):
    page = admin_page
    page.goto(f"{site.url}/console/municipalities")
    assert "MUH" in page.locator("main").inner_text()  # not yet assigned
    page.fill("#m-code", "CAP")
    page.fill("#m-ar", "أمانة العاصمة")
    page.fill("#m-en", "Capital")
    page.click("form[action='/console/municipalities'] button")
    page.fill("#a-office", "MUH")
    page.select_option("#a-muni", "CAP")
    page.click("form[action='/console/municipalities/assign'] button")
    row = page.locator("#municipalities tbody tr").first
    assert row.inner_text().split("\t") == ["CAP", "أمانة العاصمة", "Capital", "MUH"]
    page.fill("#m-code", "CAP")
    page.fill("#m-ar", "ثانية")
    page.fill("#m-en", "Again")
    page.click("form[action='/console/municipalities'] button")
    assert page.locator("#problem").inner_text() == "توجد بلدية بهذا الرمز من قبل."


def test_an_api_key_is_shown_once_then_revoked(site, admin_page):
    page = admin_page
    page.goto(f"{site.url}/console/api-keys")
    page.fill("#k-name", "reports")
    page.select_option("#k-role", "auditor")
    page.click("form[action='/console/api-keys'] button")
    secret = page.locator("#new-key").inner_text()
    assert site.staff.authenticate_key(f"Bearer {secret}").role == "auditor"
    page.goto(f"{site.url}/console/api-keys")
    assert secret not in page.content()
    page.locator("tr[data-key=reports] button").click()
    assert "ملغى" in page.locator("tr[data-key=reports]").inner_text()


def test_an_auditor_reads_the_audit_log_and_changes_nothing(site, page, sign_in, db_rows):
    site.person("amal", "auditor", two_step=False)
    sign_in(page, "amal")
    assert page.goto(f"{site.url}/console/audit").status == 200
    assert "session.sign_in" in page.locator("#audit").inner_text()
    assert page.goto(f"{site.url}/console/municipalities").status == 200
    assert page.locator("#m-code").count() == 0
    before = db_rows(site.central)
    csrf = page.locator("input[name=csrf]").first.input_value()
    answer = page.request.post(f"{site.url}/console/municipalities",
                               form={"csrf": csrf, "code": "X", "name_ar": "س", "name_en": "X"})
    assert answer.status == 403
    assert db_rows(site.central) == before


def test_my_account_changes_the_password(site, page, sign_in):
    someone = site.person("omar", "finance", two_step=False)
    sign_in(page, "omar")
    page.goto(f"{site.url}/console/account")
    page.fill("#current", "not my password")
    page.fill("#new", "my brand new password")
    page.click("main button[type=submit]")
    assert page.locator("[role=alert]").inner_text() == "كلمة المرور الحالية غير صحيحة."
    page.fill("#current", someone.password)
    page.fill("#new", "my brand new password")
    page.click("main button[type=submit]")
    assert page.locator("[role=status]").count() == 1
    assert site.staff.sign_in("omar", "my brand new password")
    page.goto(f"{site.url}/console")  # this session stays
    assert page.url == f"{site.url}/console"


def test_hostile_names_are_escaped_or_refused(site, page, sign_in, admin_page):
    site.staff.add("test", "omar", SCRIPT_NAME, "finance", None, "a long first password")
    # the person themselves: header, home and account
    other = page.context.browser.new_context().new_page()
    sign_in(other, "omar", "a long first password")
    for path in ("/console", "/console/account", "/console/audit"):
        other.goto(site.url + path)
        assert other.locator("header .who .name").inner_text() == SCRIPT_NAME
        assert other.evaluate("window.pwned") is None
    other.goto(f"{site.url}/console/account")
    assert other.locator("main dd").nth(1).inner_text() == SCRIPT_NAME
    other.context.close()
    admin_page.goto(f"{site.url}/console/staff")
    assert admin_page.locator("tr[data-username=omar] .full-name").inner_text() == SCRIPT_NAME
    assert admin_page.evaluate("window.pwned") is None
    # a right-to-left override would rewrite the line it is shown in: refused
    admin_page.fill("#new-username", "mallory")
    admin_page.fill("#new-full-name", "Mallory \u202etxt.exe")
    admin_page.fill("#new-password", "a long first password")
    admin_page.click("#add-staff button[type=submit]")
    assert "رموز تغيير اتجاه النص" in admin_page.locator("#problem").inner_text()
    assert "mallory" not in [r["username"] for r in site.staff.list()]


PAGES = ("/console", "/console/staff", "/console/municipalities", "/console/api-keys",
         "/console/audit", "/console/account", "/console/no-such-page")


def test_axe_finds_nothing_serious_on_any_page_in_either_language(site, browser):
    admin = site.person("huda", "admin", full_name="هدى صالح")
    site.municipality("CAP")
    site.person("sara", "officer", "CAP", two_step=True)
    for lang in ("ar", "en"):
        context = browser.new_context(bypass_csp=True, viewport={"width": 1366, "height": 900})
        page = context.new_page()
        page.goto(f"{site.url}/console/sign-in?lang={lang}")
        assert axe_violations(page) == [], f"sign-in ({lang})"
        page.fill("#username", "huda")
        page.fill("#password", admin.password)
        page.click("main button[type=submit]")
        assert page.url.endswith("/console/second-factor")
        assert axe_violations(page) == [], f"second factor ({lang})"
        site.clock.advance(30)
        page.fill("#code", site.code(admin.secret))
        page.click("main button[type=submit]")
        site.staff.set_language(site.staff.session(
            next(c["value"] for c in context.cookies() if c["name"] == "nafitha_console"))[0],
            lang)
        for path in PAGES:
            page.goto(site.url + path)
            assert page.locator("html").get_attribute("lang") == lang
            assert axe_violations(page) == [], f"{path} ({lang})"
        context.close()
    fresh = browser.new_context(bypass_csp=True).new_page()
    site.person("nada", "admin", two_step=False)
    fresh.goto(f"{site.url}/console/sign-in")
    fresh.fill("#username", "nada")
    fresh.fill("#password", admin.password)
    fresh.click("main button[type=submit]")
    assert fresh.url.endswith("/set-up")
    assert axe_violations(fresh) == [], "set-up"
    fresh.context.close()
