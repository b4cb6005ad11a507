"""Every console page, in Arabic and in English, on a central with real offices' work in it:

- axe-core finds no serious or critical violation;
- the page has its language and direction (rtl for Arabic) and nothing is wider than the
  window (a phone-sized window too, for the pages an officer may open on a tablet or phone);
- text the staff typed with markup in it (`<script>`, `<img onerror>`) is shown, never run;
- a screenshot of each (NAFITHA_WRITE_SCREENSHOTS=1 writes them to docs/screenshots/console/,
  where they are committed after a person looked at them).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from sync.agent import SyncAgent

from axe_check import axe_violations
from conftest import PASSWORD

SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots" / "console"
# The elements that reach past the window's edges (to say what to fix).
OUTSIDE = """() => Array.from(document.querySelectorAll('body *')).filter(e => {
  const r = e.getBoundingClientRect();
  return r.width && (r.right > window.innerWidth + 1 || r.left < -1);
}).slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().left)
  + '..' + Math.round(e.getBoundingClientRect().right))"""
HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">'


@pytest.fixture
def world(site, work):
    # A decided permit (conditions with markup in them, as an officer might paste) and a
    # revoked licence, so every state of every page has something to show.
    site.central.decide(work["permits"]["fatima"]["number"], "approved", None, HOSTILE,
                        by="mariam")
    SyncAgent(work["north"]).once()
    site.central.revoke_licence(work["licence"]["number"], "issued in error", by="mariam")
    site.clock.advance(hours=30)  # the south is silent by now: an alert on the front page
    return work


def pages(work) -> list[tuple[str, str]]:
    permit, licence = work["permits"]["fatima"]["number"], work["licence"]["number"]
    return [("home", "/console"), ("applications", "/console/applications"),
            ("application", f"/console/applications/{permit}"),
            ("licences", "/console/licences"), ("licence", f"/console/licences/{licence}"),
            ("catalogue", "/console/catalogue"),
            ("service", "/console/catalogue/building-permit-small"),
            ("offices", "/console/offices"), ("enrol-code", "/console/offices/enrol"),
            ("revoke-device", "/console/offices/MUH/devices/D02/revoke"),
            ("staff", "/console/staff"), ("municipalities", "/console/municipalities"),
            ("api-keys", "/console/api-keys"), ("audit", "/console/audit"),
            ("account", "/console/account")]


def to_english(page) -> None:
    """The header's language switch, as a person uses it (kept for them: staff.language)."""
    page.select_option("#lang-select", "en")
    with page.expect_navigation():
        page.locator("form.lang button[type=submit]").click()


def check(page, url: str, lang: str) -> None:
    response = page.goto(url)
    assert response.status == 200, (url, response.status)
    html = page.locator("html")
    assert (html.get_attribute("lang"), html.get_attribute("dir")) == \
        (lang, "rtl" if lang == "ar" else "ltr"), url
    assert axe_violations(page) == [], (url, lang)
    wide = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert wide <= 0, (url, lang, f"{wide} px wider than the window", page.evaluate(OUTSIDE))


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_every_page_is_accessible_mirrored_and_fits(site, browser, sign_in, world, lang,
                                                    tmp_path):
    admin = site.person("huda", "admin", full_name="هدى الكعبي" if lang == "ar"
                        else "Huda Al Kaabi")
    out = SCREENSHOTS if os.environ.get("NAFITHA_WRITE_SCREENSHOTS") == "1" else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, bypass_csp=True,
                                  locale="ar-BH" if lang == "ar" else "en-GB")
    dialogs = []
    context.on("page", lambda p: p.on("dialog", lambda d: (dialogs.append(d.message),
                                                           d.dismiss())))
    page = context.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, admin.username, secret=admin.secret)
    if lang == "en":
        to_english(page)
    for name, path in pages(world):
        check(page, site.url + path, lang)
        page.screenshot(path=str(out / f"{name}-{lang}.png"), full_page=True)
    # The conditions with markup are on the application's page, as text.
    page.goto(f"{site.url}/console/applications/{world['permits']['fatima']['number']}")
    assert HOSTILE in page.locator("main").inner_text()
    assert dialogs == []
    context.close()


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_pages_before_signing_in_are_accessible(site, browser, lang, tmp_path):
    """Sign-in, the second factor, and an admin's first set-up of it."""
    out = SCREENSHOTS if os.environ.get("NAFITHA_WRITE_SCREENSHOTS") == "1" else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    # The second factor's pages speak the person's own language (staff.language).
    officer = site.person("mariam", "officer", two_step=True, language=lang)
    site.person("huda", "admin", two_step=False, language=lang)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, bypass_csp=True)
    page = context.new_page()
    suffix = "" if lang == "ar" else "?lang=en"
    check(page, f"{site.url}/console/sign-in{suffix}", lang)
    page.screenshot(path=str(out / f"sign-in-{lang}.png"), full_page=True)
    for username, shot in ((officer.username, "second-factor"), ("huda", "second-factor-set-up")):
        page.context.clear_cookies()
        page.goto(f"{site.url}/console/sign-in{suffix}")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        with page.expect_navigation():
            page.locator("main button[type=submit]").click()
        assert "/console/second-factor" in page.url, page.url
        check(page, page.url, lang)
        page.screenshot(path=str(out / f"{shot}-{lang}.png"), full_page=True)
    context.close()
    assert requests.get(f"{site.url}/console/static/console.css").status_code == 200


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_an_officers_pages_fit_a_phone(site, browser, sign_in, world, lang):
    officer = site.person("mariam", "officer", two_step=True)
    context = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)
    page = context.new_page()
    sign_in(page, officer.username, secret=officer.secret)
    if lang == "en":
        to_english(page)
    permit = world["permits"]["ahmad"]["number"]
    for path in ("/console", "/console/applications", f"/console/applications/{permit}"):
        check(page, site.url + path, lang)
    context.close()
