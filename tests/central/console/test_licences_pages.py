"""The officer's licence pages in Chromium (central/console/licences.py): the licence an office
issued and pushed is listed, searched (a POST), opened and revoked through
Central.revoke_licence, audited; twice, without a reason, by a role that may not, or from
another municipality, it is refused and nothing changes."""
from __future__ import annotations

from pathlib import Path

import pytest

from central.staff import Person

from axe_check import axe_violations
from test_applications_pages import csrf_of, everything, submit

SHOTS = Path("/tmp/console_shots")


def listed(page) -> list[str]:
    return page.locator("#licences tbody tr[data-number]").evaluate_all(
        "rows => rows.map(r => r.dataset.number)")


def test_an_officer_finds_opens_and_revokes_a_licence_once(site, work, page, sign_in):
    licence, certificate = work["licence"]["number"], work["certificate"]["number"]
    site.person("maryam", municipality="NORTH")
    sign_in(page, "maryam")
    page.goto(f"{site.url}/console/licences")
    assert listed(page) == [licence]
    assert "سارية" in page.inner_text(f"tr[data-number='{licence}']")
    for typed in (licence, certificate.lower()):
        page.fill("#q", typed)
        answer = submit(page, "#search button")
        assert answer.request.method == "POST" and listed(page) == [licence]
        assert page.url == f"{site.url}/console/licences"
    page.goto(f"{site.url}/console/licences?status=revoked")
    assert listed(page) == []
    page.goto(f"{site.url}/console/licences?status=valid")
    page.click(f"tr[data-number='{licence}'] a >> nth=0")
    page.wait_for_url(f"**/console/licences/{licence}")
    summary = page.inner_text("#summary")
    assert "شهادة" in summary and "MUH" in summary and certificate in summary
    assert "27 نوفمبر 2026، 11:00" in summary and "25 فبراير 2027" in summary  # 90 days
    assert page.get_attribute("#application", "href") == f"/console/applications/{certificate}"

    second = page.context.new_page()  # the same page, open in another tab
    second.goto(page.url)
    before = everything(site.central)
    page.fill("#reason", "")
    answer = submit(page, "#revoke button")
    assert answer.status == 422 and "يلزم ذكر سبب الإلغاء" in page.inner_text("#problem")
    assert everything(site.central) == before
    page.fill("#reason", "صدرت خطأً <b>bold</b>")
    assert submit(page, "#revoke button").status == 200
    assert "أُلغيت الرخصة" in page.inner_text("#notice")
    assert "ملغاة" in page.inner_text("#status")
    assert page.inner_text("#revoke-reason") == "صدرت خطأً <b>bold</b>"
    assert page.locator("#revoke").count() == 0
    assert site.central.licence_status(licence)["status"] == "revoked"
    audit = site.staff.audit_log(Person("reader", "Reader", "auditor", None))
    assert (audit[0]["action"], audit[0]["entity_id"], audit[0]["municipality"]) == \
        ("licence.revoke", licence, "NORTH")
    assert "صدرت" not in str(audit[0]["detail"])

    before = everything(site.central)
    second.fill("#reason", "again")
    answer = submit(second, "#revoke button")
    assert answer.status == 409 and "ملغاة من قبل" in second.inner_text("#problem")
    assert everything(site.central) == before
    page.goto(f"{site.url}/console/licences?status=revoked")
    assert listed(page) == [licence]
    answer = page.goto(f"{site.url}/console/licences?status=lost")
    assert answer.status == 422 and "سارية أو ملغاة أو منتهية" in page.inner_text("#problem")


def test_a_reason_with_a_direction_override_is_refused(site, work, page, sign_in):
    licence = work["licence"]["number"]
    site.person("maryam", municipality="NORTH")
    sign_in(page, "maryam")
    page.goto(f"{site.url}/console/licences/{licence}")
    before = everything(site.central)
    page.fill("#reason", "fraud \u202edetcefed")
    assert submit(page, "#revoke button").status == 422
    assert "رموز تغيير اتجاه النص" in page.inner_text("#problem")
    assert everything(site.central) == before


@pytest.mark.parametrize("role", ["auditor", "finance"])
def test_who_may_not_revoke_sees_no_form_and_a_forged_post_is_forbidden(
        site, work, page, sign_in, role):
    licence = work["licence"]["number"]
    site.person("rashid", role=role, municipality="NORTH")
    sign_in(page, "rashid")
    page.goto(f"{site.url}/console/licences/{licence}")
    assert "سارية" in page.inner_text("#status") and page.locator("#revoke").count() == 0
    before = everything(site.central)
    answer = page.request.post(f"{site.url}/console/licences/{licence}/revoke",
                               form={"csrf": csrf_of(page), "reason": "forged"})
    assert answer.status == 403
    assert everything(site.central) == before
    assert site.central.licence_status(licence)["status"] == "valid"


def test_another_municipality_s_licence_is_not_found_and_csrf_is_checked(
        site, work, page, sign_in):
    licence = work["licence"]["number"]
    site.person("khalid", municipality="SOUTH")
    sign_in(page, "khalid")
    page.goto(f"{site.url}/console/licences")
    assert listed(page) == []
    assert page.goto(f"{site.url}/console/licences/{licence}").status == 404
    before = everything(site.central)
    answer = page.request.post(f"{site.url}/console/licences/{licence}/revoke",
                               form={"csrf": csrf_of(page), "reason": "not mine"})
    assert answer.status == 404
    for fields in ({"reason": "x"}, {"reason": "x", "csrf": "wrong"}):
        answer = page.request.post(f"{site.url}/console/licences/{licence}/revoke",
                                   form=fields)
        assert answer.status == 403
    assert everything(site.central) == before


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_licence_pages_pass_axe_and_are_screenshotted(site, work, browser, sign_in, lang):
    licence = work["licence"]["number"]
    site.person("maryam", municipality="NORTH")
    site.staff.set_language(Person("maryam", "", "officer", "NORTH"), lang)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, bypass_csp=True)
    page = context.new_page()
    try:
        sign_in(page, "maryam")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.goto(f"{site.url}/console/licences")
        assert page.get_attribute("html", "lang") == lang
        assert axe_violations(page) == []
        page.screenshot(path=str(SHOTS / f"licences-{lang}.png"), full_page=True)
        page.goto(f"{site.url}/console/licences/{licence}")
        assert axe_violations(page) == []
        page.screenshot(path=str(SHOTS / f"licence-{lang}.png"), full_page=True)
        page.fill("#reason", "issued in error")
        submit(page, "#revoke button")
        assert axe_violations(page) == []
        page.screenshot(path=str(SHOTS / f"licence-revoked-{lang}.png"), full_page=True)
    finally:
        context.close()
