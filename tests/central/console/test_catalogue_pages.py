"""The catalogue and fees pages (central/console/catalogue.py) in Chromium: the catalogue as
central publishes it, a service's page with its kiosk preview in Arabic and English, the fee
form (finance, national) and the validity / documents / offices form (admin). Every refusal
says why and publishes nothing: central's reference head and the audit stay as they were."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from axe_check import axe_violations
from central.catalogue import Catalogue
from central.db import console_audit, reference

RC = "residence-certificate"
SHOTS = Path("/tmp/console_shots")


def head(site) -> int:
    """The latest version in central's reference stream (what offices pull next)."""
    with site.central.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.max(reference.c.version))).scalar() or 0


def published(site, code: str = RC) -> dict:
    return Catalogue(site.central).service(code)


def service_audit(site) -> list[tuple]:
    with site.central.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(
            console_audit.c.actor, console_audit.c.action, console_audit.c.entity_id).where(
            console_audit.c.entity_type == "service").order_by(console_audit.c.id))]


def csrf_of(page) -> str:
    return page.locator("input[name=csrf]").first.get_attribute("value")


def submit(page, button: str):
    """Click a form's button; the answer to its POST (status) once the page has loaded."""
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click(button)
    page.wait_for_load_state()
    return answer.value


def watch_dialogs(page) -> list[str]:
    seen: list[str] = []
    page.on("dialog", lambda d: (seen.append(d.message), d.dismiss()))
    return seen


def test_finance_changes_a_fee_and_the_catalogue_and_preview_show_it(site, page, sign_in):
    site.person("fatima", "finance")
    before = head(site)
    sign_in(page, "fatima")
    page.goto(f"{site.url}/console/catalogue")
    row = page.locator(f"tr[data-code='{RC}']")
    assert row.locator(".service-name").inner_text() == "شهادة إثبات سكن"
    assert row.locator(".service-name-en").inner_text() == "Residence certificate"
    assert row.locator(".fee").inner_text() == "1.000 د.ب"
    assert row.locator(".validity").inner_text() == "90 يومًا"
    assert row.locator(".offices").inner_text() == "كل المكاتب"
    assert page.locator("tr[data-code='building-land-tax'] .fee").inner_text().startswith(
        "حسب التقدير")
    assert page.locator("#catalogue tbody tr").count() == len(Catalogue(site.central).services())

    row.locator("a").click()
    assert page.url.endswith(f"/console/catalogue/{RC}")
    assert page.locator("#settings-form").count() == 0  # documents and offices: admin only
    page.fill("#fee", "1.500")
    assert submit(page, "#fee-form button").status == 303
    assert page.url.endswith(f"/console/catalogue/{RC}?done=1")
    assert head(site) == before + 1
    assert published(site)["fee"] == {"amount": 1500, "currency": "BHD"}
    version = published(site)["version"]
    assert version == head(site)
    assert page.locator("#published").inner_text() == \
        f"تم النشر في إصدار البيانات المرجعية {version}، ويصل إلى المكاتب مع مزامنتها التالية."
    assert page.locator("#fact-fee").inner_text() == "1.500 د.ب"
    assert page.locator("#fact-version").inner_text() == str(version)
    assert page.locator("#preview-ar .k-fee").inner_text() == "الرسوم: 1.500 د.ب"
    assert page.locator("#preview-en .k-fee").inner_text() == "Fee: 1.500 BHD"
    assert page.locator("#preview-en .k-title").inner_text() == "Residence certificate"
    assert page.locator("#preview-ar .k-docs li").all_inner_texts() == \
        ["البطاقة الذكية (الهوية)", "عقد الإيجار أو وثيقة ملكية العقار"]
    assert service_audit(site) == [("fatima", "service.change", RC)]

    # Arabic-Indic digits and the Arabic decimal point, as an Arabic keyboard types them.
    page.fill("#fee", "٢٫٢٥٠")
    assert submit(page, "#fee-form button").status == 303
    assert published(site)["fee"]["amount"] == 2250
    # The same fee again publishes nothing, and says so.
    page.fill("#fee", "2.250")
    submit(page, "#fee-form button")
    assert page.url.endswith("?done=0") and head(site) == before + 2
    assert page.locator("#published").inner_text() == "لم يتغيّر شيء: هذه القيم منشورة من قبل."

    page.goto(f"{site.url}/console/catalogue")
    assert page.locator(f"tr[data-code='{RC}'] .fee").inner_text() == "2.250 د.ب"


def test_an_assessed_fee_has_no_fee_form(site, page, sign_in):
    site.person("fatima", "finance")
    sign_in(page, "fatima")
    before = head(site)
    page.goto(f"{site.url}/console/catalogue/building-land-tax")
    assert page.locator("#fee-form").count() == 0
    assert "فلا رسوم ثابتة لتعديلها" in page.locator("main").inner_text()
    assert page.locator("#preview-en .k-fee").inner_text() == "Fee: As assessed"
    answer = page.request.post(f"{site.url}/console/catalogue/building-land-tax/fee", form={
        "csrf": csrf_of(page), "based_on": str(published(site, "building-land-tax")["version"]),
        "fee": "1.000"})
    assert answer.status == 422
    assert "رسوم هذه الخدمة مبلغ مقدَّر" in answer.text()
    assert head(site) == before


@pytest.mark.parametrize("role, municipality", [("officer", None), ("auditor", None),
                                                ("finance", "CAP"), ("operations", None)])
def test_who_may_not_change_sees_no_form_and_a_forged_post_is_403(site, page, sign_in, role,
                                                                   municipality):
    if municipality:
        site.municipality(municipality)
    site.person("sam", role, municipality)
    sign_in(page, "sam")
    page.goto(f"{site.url}/console/catalogue/{RC}")
    assert page.locator("h1").inner_text() == "شهادة إثبات سكن"
    assert page.locator("form#fee-form, form#settings-form, #fee, #validity").count() == 0
    expected = "الدليل وطني" if municipality else "للاطلاع فقط"
    assert page.locator("#view-only").inner_text().startswith(expected)
    before, audit = head(site), service_audit(site)
    version = str(published(site)["version"])
    token = csrf_of(page)  # the person's own, valid token
    fee = page.request.post(f"{site.url}/console/catalogue/{RC}/fee",
                            form={"csrf": token, "based_on": version, "fee": "9.000"})
    settings = page.request.post(f"{site.url}/console/catalogue/{RC}/settings", form={
        "csrf": token, "based_on": version, "validity": "10", "documents_ar": "",
        "documents_en": "", "offices": "all"})
    assert (fee.status, settings.status) == (403, 403)
    assert "صلاحية" in fee.text() or "الوطني" in fee.text()
    assert head(site) == before and service_audit(site) == audit
    assert published(site)["fee"]["amount"] == 1000 and published(site)["validity_days"] == 90
    # An unknown service is a 404 page, for anyone.
    assert page.goto(f"{site.url}/console/catalogue/no-such-service").status == 404


def test_admin_changes_validity_documents_and_offices(site, page, sign_in):
    site.municipality("CAP", offices=("MUH", "SIT"))
    admin = site.person("amina", "admin", two_step=True)
    sign_in(page, "amina", secret=admin.secret)
    before = head(site)
    page.goto(f"{site.url}/console/catalogue/{RC}")
    assert page.locator("#fee-form").count() == 1  # an admin may do everything
    assert page.locator("#offices-all").is_checked()
    page.fill("#validity", "180")
    page.fill("#documents-ar", "البطاقة الذكية\n\nعقد إيجار موثّق\n")
    page.fill("#documents-en", "Smart card\nCertified lease\n")
    page.check("#offices-some")
    page.check("#office-SIT")
    assert not page.locator("#office-MUH").is_checked()
    assert submit(page, "#settings-form button").status == 303
    assert head(site) == before + 1  # one change, all three settings
    raw = published(site)
    assert raw["validity_days"] == 180 and raw["offices"] == ["SIT"]
    assert raw["documents"] == [{"ar": "البطاقة الذكية", "en": "Smart card"},
                                {"ar": "عقد إيجار موثّق", "en": "Certified lease"}]
    assert page.locator("#fact-validity").inner_text() == "180 يومًا"
    assert page.locator("#fact-offices").inner_text() == "SIT"
    assert page.locator("#fact-version").inner_text() == str(head(site))
    assert page.locator("#preview-ar .k-docs li").all_inner_texts() == \
        ["البطاقة الذكية", "عقد إيجار موثّق"]
    assert page.locator("#preview-en .k-docs li").all_inner_texts() == \
        ["Smart card", "Certified lease"]
    assert page.locator("#office-SIT").is_checked() and page.locator("#offices-some").is_checked()
    assert service_audit(site) == [("amina", "service.change", RC)]
    page.goto(f"{site.url}/console/catalogue")
    assert page.locator(f"tr[data-code='{RC}'] .offices").inner_text() == "SIT"
    assert page.locator(f"tr[data-code='{RC}'] .validity").inner_text() == "180 يومًا"

    # Back to every office; no documents at all is allowed too.
    page.goto(f"{site.url}/console/catalogue/{RC}")
    page.check("#offices-all")
    page.fill("#documents-ar", "")
    page.fill("#documents-en", "")
    submit(page, "#settings-form button")
    assert "offices" not in published(site) and published(site)["documents"] == []
    assert page.locator("#fact-offices").inner_text() == "كل المكاتب"
    assert page.locator("#preview-en .k-none").inner_text() == "No documents needed."
    assert head(site) == before + 2


@pytest.mark.parametrize("typed", ["1.5000", "-1.000", "100000.001", "ten dinars", "0"])
def test_a_bad_fee_is_refused_clearly_and_nothing_is_published(site, page, sign_in, typed):
    site.person("fatima", "finance")
    sign_in(page, "fatima")
    before, audit = head(site), service_audit(site)
    page.goto(f"{site.url}/console/catalogue/{RC}")
    page.fill("#fee", typed)
    assert submit(page, "#fee-form button").status == 422
    problem = page.locator("#problem")
    assert problem.locator("p").first.inner_text() == (
        "الرسوم: مبلغ أكبر من صفر ولا يزيد على 100,000.000 د.ب، وعدد منازله العشرية 3 على "
        "الأكثر، مثل 1.500. لم يُنشر شيء.")
    assert problem.locator(".detail").inner_text()  # and the loader's own words
    assert page.locator("#fee").input_value() == typed  # kept, to correct
    assert page.locator("#fee").get_attribute("aria-invalid") == "true"
    assert page.locator("#fact-fee").inner_text() == "1.000 د.ب"
    assert head(site) == before and service_audit(site) == audit
    assert published(site)["fee"]["amount"] == 1000


def test_bad_settings_are_refused_clearly_and_nothing_is_published(site, page, sign_in):
    admin = site.person("amina", "admin", two_step=True)
    sign_in(page, "amina", secret=admin.secret)
    dialogs = watch_dialogs(page)
    before, audit, raw = head(site), service_audit(site), published(site)
    page.goto(f"{site.url}/console/catalogue/{RC}")

    def refused(expected: str, status: int = 422):
        answer = submit(page, "#settings-form button")
        assert answer.status == status
        assert page.locator("#problem p").first.inner_text().startswith(expected)
        assert head(site) == before and service_audit(site) == audit
        assert published(site) == raw

    # Markup in a document line: the catalogue refuses it (it is not escaped into the
    # catalogue), the page shows it back literally, and nothing runs.
    script = "<script>alert(1)</script>"
    page.fill("#documents-en", f"Smart card (ID)\n{script}")
    refused("المستندات المطلوبة: لكل سطر نص بالعربية ونص بالإنجليزية")
    assert page.locator("#documents-en").input_value() == f"Smart card (ID)\n{script}"
    assert "'<'" in page.locator("#problem .detail").inner_text()
    assert not page.evaluate(
        "() => [...document.scripts].some(s => s.textContent.includes('alert(1)'))")

    # A right-to-left override hidden in a line.
    page.fill("#documents-en", "Smart card (ID)\nLease \u202econtract")
    refused("المستندات المطلوبة: لكل سطر")
    assert "U+202E" in page.locator("#problem .detail").inner_text()
    assert page.locator("#documents-en").input_value() == "Smart card (ID)\nLease \u202econtract"

    page.fill("#documents-en", "Smart card (ID)")  # two Arabic lines, one English
    refused("المستندات المطلوبة: عدد الأسطر بالعربية يختلف")
    page.fill("#documents-en", "Smart card (ID)\nLease contract or title deed")

    for validity in ("ninety", "0", "36501"):
        page.fill("#validity", validity)
        refused("مدة الصلاحية: عدد صحيح من الأيام من 1 إلى 36500")
        assert page.locator("#validity").input_value() == validity
    page.fill("#validity", "90")

    page.check("#offices-some")
    page.uncheck("#office-MUH")
    refused("المكاتب: اختر مكتبًا واحدًا على الأقل")

    # An office central does not know, posted as a forged form would.
    fields = {"csrf": csrf_of(page), "based_on": str(raw["version"]), "validity": "90",
              "documents_ar": "هوية", "documents_en": "ID", "offices": "some", "office": "XYZ"}
    answer = page.request.post(f"{site.url}/console/catalogue/{RC}/settings", form=fields)
    assert answer.status == 422
    assert "المكاتب: أحد المكاتب المختارة غير معروف للمركز" in answer.text()
    assert "&#39;XYZ&#39;" in answer.text()  # the loader's detail, escaped
    answer = page.request.post(f"{site.url}/console/catalogue/{RC}/settings",
                               form={**fields, "offices": "everywhere"})
    assert answer.status == 422 and "المكاتب: اختر كل المكاتب" in answer.text()
    assert head(site) == before and service_audit(site) == audit and published(site) == raw
    assert dialogs == []


def test_without_or_with_a_wrong_csrf_token_nothing_changes(site, page, sign_in):
    admin = site.person("amina", "admin", two_step=True)
    sign_in(page, "amina", secret=admin.secret)
    page.goto(f"{site.url}/console/catalogue/{RC}")
    before, audit, raw = head(site), service_audit(site), published(site)
    version = str(raw["version"])
    for token in (None, "", "not-the-token", csrf_of(page)[:-1] + "x"):
        for path, fields in (("fee", {"fee": "3.000"}),
                             ("settings", {"validity": "30", "documents_ar": "هوية",
                                           "documents_en": "ID", "offices": "all"})):
            form = {"based_on": version, **fields}
            if token is not None:
                form["csrf"] = token
            answer = page.request.post(f"{site.url}/console/catalogue/{RC}/{path}", form=form)
            assert answer.status == 403, (token, path)
            assert "رمز الحماية مفقود أو غير صحيح" in answer.text()
    # A form with the token but without the version it was based on is refused as well.
    answer = page.request.post(f"{site.url}/console/catalogue/{RC}/fee",
                               form={"csrf": csrf_of(page), "fee": "3.000"})
    assert answer.status == 422
    assert head(site) == before and service_audit(site) == audit and published(site) == raw


def test_a_change_published_meanwhile_is_not_overwritten(site, page, sign_in):
    site.person("fatima", "finance")
    sign_in(page, "fatima")
    page.goto(f"{site.url}/console/catalogue/{RC}")
    Catalogue(site.central).change(RC, by="someone", fee="4.000")  # another desk, meanwhile
    before = head(site)
    page.fill("#fee", "5.000")
    assert submit(page, "#fee-form button").status == 409
    assert "نشر شخص آخر تعديلًا على هذه الخدمة" in page.locator("#problem").inner_text()
    assert head(site) == before and published(site)["fee"]["amount"] == 4000
    assert page.locator("#fee").input_value() == "4.000"  # the page shows what is published
    page.fill("#fee", "5.000")
    assert submit(page, "#fee-form button").status == 303
    assert published(site)["fee"]["amount"] == 5000


def test_axe_and_screenshots_in_arabic_and_english(site, browser, sign_in):
    SHOTS.mkdir(parents=True, exist_ok=True)
    site.municipality("CAP", offices=("MUH", "SIT"))
    admin = site.person("amina", "admin", two_step=True)
    context = browser.new_context(bypass_csp=True, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, "amina", secret=admin.secret)
        for lang in ("ar", "en"):
            if lang == "en":
                page.select_option("#lang-select", "en")
                submit(page, "form.lang button")
            page.goto(f"{site.url}/console/catalogue")
            assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar"
                                                                 else "ltr")
            assert axe_violations(page) == [], f"catalogue ({lang})"
            page.screenshot(path=str(SHOTS / f"catalogue-{lang}.png"), full_page=True)
            page.goto(f"{site.url}/console/catalogue/address-form")
            assert axe_violations(page) == [], f"service ({lang})"
            page.screenshot(path=str(SHOTS / f"catalogue-service-{lang}.png"), full_page=True)
            # The refusal state too.
            page.fill("#fee", "1.5000")
            submit(page, "#fee-form button")
            assert page.locator("#problem").is_visible()
            assert axe_violations(page) == [], f"service refusal ({lang})"
            page.screenshot(path=str(SHOTS / f"catalogue-refusal-{lang}.png"), full_page=True)
        # Nothing cut off: no part of the page is wider than the window.
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 1366
        assert re.search(r"Fee: 0\.500 BHD", page.locator("#preview-en").inner_text())
    finally:
        context.close()
