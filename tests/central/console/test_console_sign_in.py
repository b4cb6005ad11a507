"""Signing in to the console in Chromium: passwords, the second factor, lockout, sessions,
CSRF (docs/console.md)."""
from __future__ import annotations

from core import totp


def _submit(page):
    page.click("main button[type=submit]")


def test_an_officer_with_a_second_factor_signs_in_and_out(site, page, sign_in):
    someone = site.person("sara", "officer", two_step=True, full_name="سارة أحمد")
    sign_in(page, "sara", secret=someone.secret)
    assert page.url == f"{site.url}/console"
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("header .who .name").inner_text() == "سارة أحمد"
    assert "موظف ترخيص" in page.locator("header .who .role").inner_text()
    cookie = next(c for c in page.context.cookies() if c["name"] == "nafitha_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/console"
    assert not cookie["secure"]  # plain http here; Secure when the request is https
    page.click("#sign-out")
    assert page.url.endswith("/console/sign-in?signed_out=1")
    page.goto(f"{site.url}/console")
    assert page.url.endswith("/console/sign-in")
    actions = [r["action"] for r in site.staff.audit_log(site.staff.authenticate_key(
        f"Bearer {site.admin_token}"))]
    assert actions[:3] == ["session.sign_out", "session.second_factor", "session.sign_in"]


def test_without_a_second_factor_an_officer_is_in_after_the_password(site, page, sign_in):
    site.person("omar", "finance", two_step=False)
    sign_in(page, "omar")
    assert page.url == f"{site.url}/console"
    assert page.locator("h1").inner_text().startswith("مرحبًا")


def test_an_admin_without_a_second_factor_must_set_one_up_first(site, page, sign_in):
    site.person("huda", "admin", two_step=False)
    sign_in(page, "huda")
    assert page.url.endswith("/console/second-factor/set-up")
    assert page.locator("nav.menu").count() == 0  # nothing else before the second factor
    for path in ("/console", "/console/staff", "/console/audit"):
        page.goto(site.url + path)
        assert page.url.endswith("/console/second-factor/set-up")
    secret = page.locator("#secret").inner_text().replace(" ", "")
    assert totp.valid_secret(secret)
    assert page.locator("img.qr").get_attribute("src").startswith("data:image/svg+xml")
    page.fill("#code", "000000" if site.code(secret) != "000000" else "111111")
    _submit(page)
    assert page.locator("[role=alert]").inner_text().startswith("الرمز غير صحيح")
    assert site.staff.list()[0]["has_totp"] is False
    page.fill("#code", site.code(secret))
    _submit(page)
    assert page.url == f"{site.url}/console"
    assert next(r for r in site.staff.list() if r["username"] == "huda")["has_totp"]


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(site, page, sign_in):
    site.person("sara", "officer", two_step=False)
    sign_in(page, "sara", "not the password at all")
    wrong = page.locator("[role=alert]").inner_text()
    assert page.url.endswith("/console/sign-in")
    sign_in(page, "nobody", "not the password at all")
    assert page.locator("[role=alert]").inner_text() == wrong == \
        "اسم المستخدم أو كلمة المرور غير صحيحة."
    assert not any(c["name"] == "nafitha_console" for c in page.context.cookies())


def test_five_failures_lock_the_account_for_fifteen_minutes(site, page, sign_in):
    someone = site.person("sara", "officer", two_step=False)
    for _ in range(4):
        sign_in(page, "sara", "wrong password 123")
    sign_in(page, "sara", "wrong password 123")
    assert "حتى الساعة 08:15" in page.locator("[role=alert]").inner_text()
    sign_in(page, "sara", someone.password)  # the right password is refused while locked
    assert page.url.endswith("/console/sign-in")
    assert "مقفل" in page.locator("[role=alert]").inner_text()
    site.clock.advance(minutes=15)
    sign_in(page, "sara", someone.password)
    assert page.url == f"{site.url}/console"


def test_a_wrong_code_and_a_code_used_twice_are_refused(site, page, sign_in, browser):
    someone = site.person("sara", "officer", two_step=True)
    sign_in(page, "sara")
    assert page.url.endswith("/console/second-factor")
    good = site.code(someone.secret)
    page.fill("#code", "123456" if good != "123456" else "654321")
    _submit(page)
    assert page.locator("[role=alert]").inner_text().startswith("الرمز غير صحيح")
    page.goto(f"{site.url}/console/staff")
    assert page.url.endswith("/console/second-factor")  # still half signed in
    page.fill("#code", good)
    _submit(page)
    assert page.url == f"{site.url}/console"
    other = browser.new_context().new_page()
    sign_in(other, "sara")
    other.fill("#code", good)  # the same code, in the same 30 seconds
    _submit(other)
    assert other.url.endswith("/console/second-factor")
    assert other.locator("[role=alert]").count() == 1
    site.clock.advance(30)
    other.fill("#code", site.code(someone.secret))
    _submit(other)
    assert other.url == f"{site.url}/console"
    other.context.close()


def test_a_session_expires_after_30_idle_minutes_and_after_12_hours(site, page, sign_in):
    site.person("sara", "officer", two_step=False)
    sign_in(page, "sara")
    site.clock.advance(minutes=29)
    page.goto(f"{site.url}/console")
    assert page.url == f"{site.url}/console"
    site.clock.advance(minutes=30, seconds=1)
    page.goto(f"{site.url}/console")
    assert page.url.endswith("/console/sign-in")
    sign_in(page, "sara")
    for _ in range(25):  # busy all day: still ends 12 hours after signing in
        site.clock.advance(minutes=29)
        page.goto(f"{site.url}/console/audit")
        if page.url.endswith("/console/sign-in"):
            break
    assert page.url.endswith("/console/sign-in")
    assert 11.5 * 60 <= 29 * (_ + 1) <= 12.5 * 60


def test_forms_without_or_with_a_wrong_csrf_token_change_nothing(site, page, sign_in,
                                                                 db_rows):
    admin = site.person("huda", "admin")
    site.clock.advance(30)
    sign_in(page, "huda", secret=admin.secret)
    page.goto(f"{site.url}/console/staff")
    before = db_rows(site.central)
    for token in (None, "forged-token"):
        fields = {"username": "mallory", "full_name": "M", "role": "admin",
                  "municipality": "", "password": "a long enough password", "language": "ar"}
        if token:
            fields["csrf"] = token
        answer = page.request.post(f"{site.url}/console/staff", form=fields)
        assert answer.status == 403
        assert "رمز الحماية" in answer.text()
    # the language form too, and the sign-in form without its pre-session token
    answer = page.request.post(f"{site.url}/console/language", form={"lang": "en"})
    assert answer.status == 403
    assert db_rows(site.central) == before
    fresh = page.context.browser.new_context()
    answer = fresh.request.post(f"{site.url}/console/sign-in",
                                form={"username": "huda", "password": admin.password,
                                      "csrf": "guess"})
    assert answer.status == 403
    fresh.close()
    assert db_rows(site.central) == before


def test_a_finance_person_cannot_open_staff_admin(site, page, sign_in):
    site.person("omar", "finance", two_step=False)
    sign_in(page, "omar")
    answer = page.goto(f"{site.url}/console/staff")
    assert answer.status == 403
    assert "ليست لديك صلاحية" in page.locator("#error-text").inner_text()
    assert page.locator("nav.menu a[href='/console/staff']").count() == 0
    answer = page.goto(f"{site.url}/console/api-keys")
    assert answer.status == 403
    answer = page.goto(f"{site.url}/console/audit")
    assert answer.status == 200


def test_an_unknown_console_page_is_a_404_page(site, page, sign_in):
    site.person("omar", "finance", two_step=False)
    sign_in(page, "omar")
    answer = page.goto(f"{site.url}/console/no-such-page")
    assert answer.status == 404
    assert page.locator("html").get_attribute("lang") == "ar"
    assert "غير موجود" in page.locator("#error-text").inner_text()


def test_the_language_switch_mirrors_the_layout(site, page, sign_in):
    site.person("omar", "finance", two_step=False)
    sign_in(page, "omar")
    page.goto(f"{site.url}/console/audit")
    ar_box = page.locator("header .brand").bounding_box()
    assert ar_box["x"] > 600  # Arabic: the brand on the right
    page.select_option("#lang-select", "en")
    page.click("header form.lang button")
    assert page.url == f"{site.url}/console/audit"
    assert page.locator("html").get_attribute("dir") == "ltr"
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Audit log"
    assert page.locator("header .brand").bounding_box()["x"] < 100
    assert next(r for r in site.staff.list() if r["username"] == "omar")["language"] == "en"
    # and it stays with the person: a new sign-in is in English
    page.click("#sign-out")
    page.goto(f"{site.url}/console/sign-in")
    assert page.locator("html").get_attribute("dir") == "rtl"
    page.goto(f"{site.url}/console/sign-in?lang=en")
    assert page.locator("h1").inner_text() == "Sign in"


def test_the_sign_in_page_works_without_a_session_in_english(site, page):
    page.goto(f"{site.url}/console/sign-in?lang=en")
    page.fill("#username", "nobody")
    page.fill("#password", "wrong password")
    _submit(page)
    assert page.locator("html").get_attribute("dir") == "ltr"
    assert page.locator("[role=alert]").inner_text() == \
        "The username or the password is not right."


def test_the_session_cookie_is_secure_over_https(site):
    from starlette.testclient import TestClient

    from central.app import create_app
    site.person("omar", "finance", two_step=False)
    client = TestClient(create_app(site.central), base_url="https://console.example")
    page = client.get("/console/sign-in")
    assert "secure" in page.headers["set-cookie"].lower()
    csrf = client.cookies.get("nafitha_console_pre")
    answer = client.post("/console/sign-in", follow_redirects=False,
                         data={"csrf": csrf, "username": "omar",
                               "password": "correct horse battery"})
    assert answer.status_code == 303
    cookie = next(h for h in answer.headers.get_list("set-cookie")
                  if h.startswith("nafitha_console="))
    assert all(part in cookie.lower() for part in ("secure", "httponly", "samesite=strict",
                                                   "path=/console"))


def test_a_live_pages_own_refresh_does_not_keep_an_idle_session_alive(site):
    """static/live.js sends X-Nafitha-Refresh: those fetches are answered but are not the
    person at work, so the session still ends 30 minutes after the last real request."""
    import requests

    from central.staff import COOKIE
    site.person("mariam", "officer")
    token = site.staff.sign_in("mariam", "correct horse battery")
    cookies = {COOKIE: token}
    refresh = {"X-Nafitha-Refresh": "1"}
    for _ in range(3):
        site.clock.advance(minutes=9)
        answer = requests.get(f"{site.url}/console/offices", cookies=cookies, headers=refresh,
                              allow_redirects=False)
        assert answer.status_code == 200
    site.clock.advance(minutes=4)  # 31 minutes since signing in, the last real request
    answer = requests.get(f"{site.url}/console/offices", cookies=cookies, headers=refresh,
                          allow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/sign-in"
    # A real request, by contrast, counts as activity.
    token = site.staff.sign_in("mariam", "correct horse battery")
    for _ in range(4):
        site.clock.advance(minutes=9)
        assert requests.get(f"{site.url}/console/offices", cookies={COOKIE: token},
                            allow_redirects=False).status_code == 200
