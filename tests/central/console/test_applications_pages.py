"""The officer's application pages in Chromium (central/console/applications.py): two real
offices (tests/central_offices.py) push their applications to a served central; officers of
their municipalities read, search and decide them through the console.

Central.decide refuses control characters (below U+0020) and lengths; it accepts the
bidirectional controls (U+202E ...), which the console refuses in a reason or conditions
(they are printed on the licence and shown to the resident). HTML in them is kept as typed
and shown escaped."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from central import db
from central.console import applications as pages
from central.staff import Person
from sync.agent import SyncAgent

from axe_check import axe_violations
from central_offices import PEOPLE, attach_required, nid

SHOTS = Path("/tmp/console_shots")


def everything(central) -> dict:
    """Every row of every table but the sessions (each request touches its own), to prove a
    refused request changed nothing."""
    with central.engine.connect() as conn:
        return {t.name: sorted(tuple(map(str, r)) for r in conn.execute(sa.select(t)))
                for t in db.metadata.sorted_tables if t.name != "console_sessions"}


def decision_of(central, number: str):
    with central.engine.connect() as conn:
        return conn.execute(sa.select(db.decisions.c.state, db.decisions.c.reason,
                                      db.decisions.c.conditions, db.decisions.c.decided_by)
                            .join(db.applications,
                                  db.applications.c.id == db.decisions.c.application_id)
                            .where(db.applications.c.number == number)).first()


def listed(page) -> list[str]:
    return page.locator("#awaiting tbody tr[data-number]").evaluate_all(
        "rows => rows.map(r => r.dataset.number)")


def submit(page, selector: str):
    """Click a submit button; the answer to the form's POST (its status)."""
    with page.expect_navigation() as answer:
        page.click(selector)
    return answer.value


def csrf_of(page) -> str:
    return page.locator("input[name=csrf]").first.input_value()


def officer(site, sign_in, page, municipality="NORTH", role="officer", name="maryam"):
    someone = site.person(name, role=role, municipality=municipality,
                          full_name="مريم أحمد")
    sign_in(page, someone.username)
    return someone


def test_an_officer_approves_a_permit_with_conditions_and_it_leaves_the_list(
        site, work, page, sign_in):
    permits = work["permits"]
    officer(site, sign_in, page)
    page.goto(f"{site.url}/console/applications")
    assert "NORTH" in page.inner_text("#scope")
    # Oldest first, only NORTH's; the instant certificate needs no decision.
    assert listed(page) == [permits[w]["number"] for w in ("ahmad", "fatima", "john")]
    first = page.locator(f"tr[data-number='{permits['ahmad']['number']}']")
    assert PEOPLE["ahmad"] in first.inner_text() and "مدفوعة" in first.inner_text()
    assert "24 نوفمبر 2026، 11:00" in first.inner_text()  # 08:00 UTC, the office's time
    first.locator("a").click()
    page.wait_for_url(f"**/console/applications/{permits['ahmad']['number']}")
    fields = page.inner_text("#fields")
    assert "الاسم الكامل" in fields and PEOPLE["ahmad"] in fields and nid(0) in fields
    assert "رقم العقار" in fields and "02-1234" in fields
    assert "نقدًا" in page.inner_text("#receipts")
    history = page.locator("#history tbody tr").all_inner_texts()
    assert [h.split("\t")[0] for h in history] == ["قُدِّم الطلب", "دُفعت الرسوم"]
    assert "لم يُتخذ قرار بعد" in page.inner_text("#decision")

    # The title deed and the drawing reach central (approving waits for them).
    attach_required(work["north"], permits["ahmad"]["id"])
    SyncAgent(work["north"]).once()
    page.fill("#conditions", "no work after 5 pm")
    answer = submit(page, "#approve button")
    assert answer.status == 200 and page.url.endswith("?done=approved")
    assert "تمت الموافقة" in page.inner_text("#notice")
    assert "موافَق عليه" in page.inner_text("#decision-state")
    assert page.inner_text("#decision-text") == "no work after 5 pm"
    assert "بانتظار مزامنة المكتب" in page.inner_text("#reached")
    assert page.locator("#approve, #reject").count() == 0
    assert tuple(decision_of(site.central, permits["ahmad"]["number"])) == \
        ("approved", None, "no work after 5 pm", "maryam")
    audit = site.staff.audit_log(Person("reader", "Reader", "auditor", None))
    assert audit[0]["action"] == "application.approve" and audit[0]["municipality"] == "NORTH"
    assert audit[0]["detail"] == {"office": "MUH", "service": "building-permit-small",
                                  "with_conditions": True}
    assert PEOPLE["ahmad"] not in json.dumps(audit, ensure_ascii=False)

    page.click("text=العودة إلى الطلبات")
    page.wait_for_url("**/console/applications")  # the list, not the page being left
    page.wait_for_selector("#awaiting")
    assert listed(page) == [permits[w]["number"] for w in ("fatima", "john")]
    # The office pulls the decision, approves, and pushes: "reached the office at ...".
    SyncAgent(work["north"]).once()
    SyncAgent(work["north"]).once()
    page.goto(f"{site.url}/console/applications/{permits['ahmad']['number']}")
    assert "وصل القرار إلى المكتب في 27 نوفمبر 2026" in page.inner_text("#reached")


def test_a_rejection_needs_a_reason_and_the_resident_is_told_it(site, work, page, sign_in):
    number = work["permits"]["john"]["number"]
    officer(site, sign_in, page)
    page.goto(f"{site.url}/console/applications/{number}")
    before = everything(site.central)
    page.fill("#reason", "   ")
    answer = submit(page, "#reject button")
    assert answer.status == 422 and "يلزم ذكر سبب" in page.inner_text("#problem")
    assert everything(site.central) == before
    page.fill("#reason", "الموقع خارج المخطط المعتمد")
    assert submit(page, "#reject button").status == 200
    assert "مرفوض" in page.inner_text("#decision-state")
    assert page.inner_text("#decision-text") == "الموقع خارج المخطط المعتمد"
    assert decision_of(site.central, number).state == "rejected"


def test_deciding_twice_is_refused_and_changes_nothing(site, work, page, sign_in, browser):
    number = work["permits"]["john"]["number"]
    attach_required(work["north"], work["permits"]["john"]["id"])
    SyncAgent(work["north"]).once()
    officer(site, sign_in, page)
    page.goto(f"{site.url}/console/applications/{number}")
    second = page.context.new_page()  # the same officer, the page open in another tab
    second.goto(f"{site.url}/console/applications/{number}")
    page.fill("#conditions", "")
    assert submit(page, "#approve button").status == 200
    before = everything(site.central)
    second.fill("#reason", "late")
    answer = submit(second, "#reject button")
    assert answer.status == 409
    assert "سبق اتخاذ قرار في هذا الطلب" in second.inner_text("#problem")
    assert everything(site.central) == before
    assert decision_of(site.central, number).state == "approved"


def test_an_application_the_office_cancelled_cannot_be_decided(site, work, page, sign_in):
    fatima = work["permits"]["fatima"]
    officer(site, sign_in, page)
    page.goto(f"{site.url}/console/applications/{fatima['number']}")  # forms shown
    work["north"].applications.withdraw(fatima["id"], "the resident changed her mind")
    SyncAgent(work["north"]).once()
    before = everything(site.central)
    page.fill("#conditions", "x")
    answer = submit(page, "#approve button")
    assert answer.status == 409
    assert "حالته في المكتب «ملغى»" in page.inner_text("#problem")
    assert everything(site.central) == before
    assert page.locator("#approve, #reject").count() == 0  # the page now shows it closed
    page.goto(f"{site.url}/console/applications")
    assert fatima["number"] not in listed(page)


@pytest.mark.parametrize("role", ["auditor", "finance"])
def test_who_may_not_decide_sees_no_forms_and_a_forged_post_is_forbidden(
        site, work, page, sign_in, role):
    number = work["permits"]["ahmad"]["number"]
    officer(site, sign_in, page, role=role, name="rashid")
    page.goto(f"{site.url}/console/applications/{number}")
    assert PEOPLE["ahmad"] in page.inner_text("#fields")  # they read it
    assert page.locator("#approve, #reject, #conditions, #reason").count() == 0
    token = csrf_of(page)  # a real token, from their own page
    before = everything(site.central)
    answer = page.request.post(f"{site.url}/console/applications/{number}/decision",
                               form={"csrf": token, "decision": "approve", "conditions": ""})
    assert answer.status == 403 and "ليست لديك صلاحية" in answer.text()
    assert everything(site.central) == before


def test_another_municipality_s_application_is_not_found(site, work, page, sign_in):
    north_number = work["permits"]["ahmad"]["number"]
    officer(site, sign_in, page, municipality="SOUTH", name="khalid")
    page.goto(f"{site.url}/console/applications")
    assert listed(page) == [work["permits"]["south"]["number"]]
    answer = page.goto(f"{site.url}/console/applications/{north_number}")
    assert answer.status == 404 and PEOPLE["ahmad"] not in page.content()
    before = everything(site.central)
    answer = page.request.post(f"{site.url}/console/applications/{north_number}/decision",
                               form={"csrf": csrf_of(page), "decision": "approve"})
    assert answer.status == 404
    assert everything(site.central) == before


def test_a_decision_without_or_with_a_wrong_csrf_token_changes_nothing(
        site, work, page, sign_in):
    number = work["permits"]["ahmad"]["number"]
    officer(site, sign_in, page)
    page.goto(f"{site.url}/console/applications/{number}")
    before = everything(site.central)
    for fields in ({"decision": "approve"}, {"decision": "approve", "csrf": "forged"},
                   {"decision": "reject", "reason": "x", "csrf": ""}):
        answer = page.request.post(f"{site.url}/console/applications/{number}/decision",
                                   form=fields)
        assert answer.status == 403 and "رمز الحماية" in answer.text()
    assert everything(site.central) == before
    # A decision that is neither approve nor reject.
    answer = page.request.post(f"{site.url}/console/applications/{number}/decision",
                               form={"csrf": csrf_of(page), "decision": "maybe"})
    assert answer.status == 422 and everything(site.central) == before


def test_a_search_by_national_id_or_name_is_a_post_and_never_in_a_url(
        site, work, page, sign_in):
    fatima = work["permits"]["fatima"]["number"]
    officer(site, sign_in, page)
    seen = []
    page.on("request", lambda request: seen.append(request))
    page.goto(f"{site.url}/console/applications")
    for typed, found in ((nid(1), [fatima]), ("فاطمة علي", [fatima]),
                         (work["permits"]["john"]["number"].lower(),
                          [work["permits"]["john"]["number"]])):
        page.fill("#q", typed)
        answer = submit(page, "#search button")
        assert answer.request.method == "POST" and answer.status == 200
        assert listed(page) == found
        assert page.url == f"{site.url}/console/applications"
    assert seen and all(nid(1) not in r.url and "فاطمة" not in r.url and
                        "%D9%81" not in r.url for r in seen)
    assert any(r.method == "POST" and nid(1) in (r.post_data or "") for r in seen)
    # A search that is not one line is refused clearly, on the same page.
    answer = page.request.post(f"{site.url}/console/applications",
                               form={"csrf": csrf_of(page), "search": "Ahmad\x00"})
    assert answer.status == 422 and "البحث: رقم أو رقم شخصي" in answer.text()


def test_filters_and_the_next_page(site, work, page, sign_in, monkeypatch):
    p = work["permits"]
    officer(site, sign_in, page, municipality=None)  # national: sees both municipalities
    page.goto(f"{site.url}/console/applications")
    assert "كل البلديات" in page.inner_text("#scope")
    assert listed(page) == [p[w]["number"] for w in ("ahmad", "fatima", "john", "south")]
    page.select_option("#f-office", "RIF")
    page.click("#filters button")
    assert listed(page) == [p["south"]["number"]] and "office=RIF" in page.url
    page.goto(f"{site.url}/console/applications?older=1")
    assert listed(page) == [p["ahmad"]["number"], p["fatima"]["number"]]
    answer = page.goto(f"{site.url}/console/applications?older=lots")
    assert answer.status == 422 and "عدد أيام" in page.inner_text("#problem")
    answer = page.goto(f"{site.url}/console/applications?service=x%27%3B")
    assert answer.status == 422 and "رمز الخدمة غير صالح" in page.inner_text("#problem")
    monkeypatch.setattr(pages, "PAGE_SIZE", 3)
    page.goto(f"{site.url}/console/applications")
    assert len(listed(page)) == 3
    page.click("#next")
    assert listed(page) == [p["south"]["number"]] and page.locator("#next").count() == 0


def test_html_and_a_right_to_left_override_are_shown_literally_or_refused(
        site, work, page, sign_in):
    p = work["permits"]
    attach_required(work["north"], p["ahmad"]["id"])
    SyncAgent(work["north"]).once()
    officer(site, sign_in, page)
    dialogs = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message) or dialog.dismiss())
    script = "<script>alert(1)</script>"
    page.goto(f"{site.url}/console/applications/{p['ahmad']['number']}")
    page.fill("#conditions", script)
    assert submit(page, "#approve button").status == 200
    assert page.inner_text("#decision-text") == script
    assert decision_of(site.central, p["ahmad"]["number"]).conditions == script
    page.goto(f"{site.url}/console/applications/{p['john']['number']}")
    page.fill("#reason", f"{script} <img src=x onerror=alert(2)>")
    assert submit(page, "#reject button").status == 200
    assert page.inner_text("#decision-text") == f"{script} <img src=x onerror=alert(2)>"
    assert page.locator("#decision img, #decision script").count() == 0
    # U+202E would make the line read backwards on the licence and to the resident.
    page.goto(f"{site.url}/console/applications/{p['fatima']['number']}")
    before = everything(site.central)
    for selector, text in (("#reason", "refused \u202eTXT"), ("#conditions", "a\u2066b")):
        page.fill(selector, text)
        answer = submit(page, f"#{'reject' if selector == '#reason' else 'approve'} button")
        assert answer.status == 422
        assert "دون رموز تحكم أو رموز تغيير اتجاه النص" in page.inner_text("#problem")
    assert everything(site.central) == before
    assert dialogs == []


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_pages_pass_axe_in_both_languages_and_are_screenshotted(
        site, work, browser, sign_in, lang):
    someone = site.person("maryam", municipality="NORTH", full_name="مريم أحمد")
    site.staff.set_language(site.staff.session(site.staff.sign_in("maryam", someone.password))
                            [0], lang)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, bypass_csp=True)
    page = context.new_page()
    try:
        sign_in(page, "maryam")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.goto(f"{site.url}/console/applications")
        assert page.get_attribute("html", "dir") == ("rtl" if lang == "ar" else "ltr")
        assert axe_violations(page) == []
        page.screenshot(path=str(SHOTS / f"applications-{lang}.png"), full_page=True)
        page.goto(f"{site.url}/console/applications/{work['permits']['ahmad']['number']}")
        assert axe_violations(page) == []
        page.screenshot(path=str(SHOTS / f"application-{lang}.png"), full_page=True)
        page.fill("#reason", "")
        submit(page, "#reject button")  # the refusal, as the officer sees it
        assert axe_violations(page) == []
        page.screenshot(path=str(SHOTS / f"application-refused-{lang}.png"), full_page=True)
        page.fill("#conditions", "لا أعمال بعد الساعة الخامسة مساءً")
        submit(page, "#approve button")
        page.screenshot(path=str(SHOTS / f"application-decided-{lang}.png"), full_page=True)
        assert axe_violations(page) == []
    finally:
        context.close()
