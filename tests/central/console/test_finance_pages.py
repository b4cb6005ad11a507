"""The finance pages in Chromium (central/console/finance.py), in Arabic and English: a real
office's payments (counter, kiosk, network; tests/central/bills_world.py) and the network's
settlement file uploaded through the page; the differences listed in words with amounts as
money, a refused file named in plain words with nothing imported, the revenue by channel;
only finance and admins may open them (403 otherwise, and no link), CSRF checked."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from central.db import settlement_lines
from central.staff import Person

from axe_check import axe_violations
from bills_world import PayingOffice
from central_offices import working_office
from test_applications_pages import csrf_of, everything, submit
from test_every_page import OUTSIDE

DAY = "2026-11-24"  # the payments' day; the pages are opened the day after
HEADER = "date,transaction_id,bill_number,amount_minor,paid_at,network\n"
PHONE = {"width": 390, "height": 844}
SHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots" / "console"
WORDS = {  # what each language's page says
    "ar": {"nav": "المالية", "differs": "المبلغ مختلف", "missing": "وصل إشعار بها وليست في الملف",
           "no_difference": "لا فروق", "imported": "استُورد ملف يوم 24 نوفمبر 2026",
           "header": "السطر الأول ليس عناوين ملف التسوية", "again": "سبق استيراد ملف تسوية ليوم "
           "2026-11-24", "money": "د.ب", "cash": "نقدًا في المكتب", "kiosk": "بطاقة في الكشك",
           "network": "شبكة الدفع الوطنية", "refund": "دُفعت في المكتب أيضًا",
           "range": "تاريخ البداية بعد تاريخ النهاية"},
    "en": {"nav": "Finance", "differs": "Amount differs", "missing": "Notified, missing from "
           "the file", "no_difference": "No difference", "imported": "The file for 24 Nov "
           "2026 was imported", "header": "The first line is not the settlement file's header",
           "again": "A settlement file for 2026-11-24 was already imported", "money": "BHD",
           "cash": "Counter cash", "kiosk": "Kiosk card", "network": "Payment network",
           "refund": "also paid at the office", "range": "The first day is after the last"}}


@pytest.fixture
def paid(site, tmp_path):
    """Office MUH (municipality NORTH) on DAY: a permit paid in cash, one with the kiosk's
    card, two bills paid through a network (SADAD-1, SADAD-2) and one paid at the counter
    and then through the network (SADAD-3, a refund due); then a day passes."""
    office = working_office(tmp_path, site.url, site.central, "MUH", "D02", site.clock, seed=1)
    site.municipality("NORTH", ("MUH",))
    paying = PayingOffice(site.central, site.url, office)
    twice = paying.submit()
    done = {"cash": paying.counter("cash"), "kiosk": paying.kiosk_card(), "twice": twice,
            "counter_twice": paying.counter("cash", twice)}
    paying.sync()
    done["bills"] = []
    for n in (1, 2):
        app = paying.submit()
        paying.sync()
        assert paying.network(f"SADAD-{n}", app).status_code == 200
        done["bills"].append(paying.bill_of(app))
    assert paying.network("SADAD-3", twice).status_code == 200
    paying.sync()
    site.clock.advance(hours=24)
    yield {**done, "paying": paying}
    office.close()


def settlement(paid: dict, second_amount_extra: int = 0) -> bytes:
    """DAY's file: SADAD-1 and SADAD-3 as notified, SADAD-2 with `second_amount_extra`
    fils more."""
    (one, two), twice = paid["bills"], paid["paying"].bill_of(paid["twice"])
    rows = [("SADAD-1", one, 0), ("SADAD-2", two, second_amount_extra), ("SADAD-3", twice, 0)]
    return (HEADER + "".join(f"{DAY},{txn},{b['number']},{b['amount_minor'] + extra},"
                             f"{DAY}T09:00:00+00:00,sadad\n" for txn, b, extra in rows)).encode()


def lines_of(central) -> list:
    with central.engine.connect() as conn:
        return conn.execute(sa.select(settlement_lines)).all()


def upload(page, content: bytes, name: str = "sadad.csv"):
    page.set_input_files("#f-file", files=[{"name": name, "mimeType": "text/csv",
                                            "buffer": content}])
    return submit(page, "#upload button[type=submit]")


def rows_of(page, table: str) -> list[tuple[str, str]]:
    return [tuple(r) for r in page.locator(f"#{table} tbody tr[data-transaction]").evaluate_all(
        "rows => rows.map(r => [r.dataset.kind || '', r.dataset.transaction])")]


def look(page, lang: str, name: str, tmp_path) -> None:
    """Arabic right to left, no serious axe finding, nothing wider than the window; a
    screenshot at desktop and phone width."""
    html = page.locator("html")
    assert (html.get_attribute("lang"), html.get_attribute("dir")) == \
        (lang, "rtl" if lang == "ar" else "ltr")
    out = SHOTS if os.environ.get("NAFITHA_WRITE_SCREENSHOTS") == "1" else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    for size, suffix in (({"width": 1366, "height": 900}, ""), (PHONE, "-phone")):
        page.set_viewport_size(size)
        page.screenshot(path=str(out / f"finance-{name}-{lang}{suffix}.png"), full_page=True)
        assert axe_violations(page) == [], (name, lang, suffix)
        wide = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert wide <= 0, (name, lang, suffix, wide, page.evaluate(OUTSIDE))
    page.set_viewport_size({"width": 1366, "height": 900})


@pytest.fixture
def finance_page(browser, site, sign_in):
    """A finance person of the national level, signed in, in `lang`; a context where the
    axe script may be injected."""
    opened = []

    def open_as(lang: str, username: str = "fatima", role: str = "finance",
                municipality: str | None = None):
        site.person(username, role, municipality, language=lang, two_step=False)
        context = browser.new_context(bypass_csp=True, viewport={"width": 1366, "height": 900})
        context.set_default_timeout(10_000)
        opened.append(context)
        return sign_in(context.new_page(), username)
    yield open_as
    for context in opened:
        context.close()


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_an_uploaded_file_s_difference_is_listed(site, paid, finance_page, lang, tmp_path):
    words = WORDS[lang]
    page = finance_page(lang)
    page.click(f"nav.menu a >> text={words['nav']}")
    page.wait_for_url("**/console/finance/reconciliation")
    assert page.input_value("#f-date") == DAY  # yesterday, by default
    # Before the file: every notification is "not in the file".
    assert sorted(rows_of(page, "differences")) == [
        ("notified_not_in_file", f"SADAD-{n}") for n in (1, 2, 3)]
    assert words["missing"] in page.inner_text("#differences")
    answer = upload(page, settlement(paid, second_amount_extra=1))
    assert answer.status == 200 and page.url.endswith(f"?date={DAY}&imported=1")
    assert words["imported"] in page.inner_text("#notice")
    assert rows_of(page, "differences") == [("amount_differs", "SADAD-2")]
    row = page.inner_text("#differences tr[data-transaction='SADAD-2']")
    amount = paid["bills"][1]["amount_minor"]
    assert words["differs"] in row and paid["bills"][1]["number"] in row
    assert f"{(amount + 1) / 1000:.3f} {words['money']}" in row
    assert f"{amount / 1000:.3f} {words['money']}" in row
    assert len(lines_of(site.central)) == 3
    audit = site.staff.audit_log(Person("reader", "Reader", "auditor", None))
    assert (audit[0]["action"], audit[0]["entity_id"], audit[0]["detail"]) == \
        ("settlement.import", DAY, {"lines": 3, "duplicate_lines": 0, "unknown_bills": 0})
    look(page, lang, "reconciliation", tmp_path)


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_a_wrong_header_or_a_day_imported_twice_is_refused_and_nothing_is_kept(
        site, paid, finance_page, lang):
    words = WORDS[lang]
    page = finance_page(lang)
    page.goto(f"{site.url}/console/finance/reconciliation")
    before = everything(site.central)
    wrong = settlement(paid).replace(b"transaction_id", b"txn", 1)
    answer = upload(page, wrong)
    assert answer.status == 422 and words["header"] in page.inner_text("#problem")
    assert page.inner_text("#header") == HEADER.strip()  # what the file must start with
    assert everything(site.central) == before and lines_of(site.central) == []
    assert upload(page, settlement(paid)).status == 200
    assert page.inner_text("#no-difference").startswith(words["no_difference"])
    kept = everything(site.central)
    answer = upload(page, settlement(paid, second_amount_extra=5))
    assert answer.status == 409 and words["again"] in page.inner_text("#problem")
    assert everything(site.central) == kept


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_revenue_by_channel_with_totals_and_refunds(site, paid, finance_page, lang, tmp_path):
    words = WORDS[lang]
    page = finance_page(lang)
    page.goto(f"{site.url}/console/finance/reconciliation")
    page.click("#finance-tabs a[href$='/revenue']")
    page.wait_for_url("**/console/finance/revenue")
    row = page.locator(f"#revenue tr[data-date='{DAY}'][data-office='MUH']")
    cash = paid["cash"]["amount_minor"] + paid["counter_twice"]["amount_minor"]
    network = sum(b["amount_minor"] for b in paid["bills"])
    kiosk = paid["kiosk"]["amount_minor"]
    for channel, amount in (("counter_cash", cash), ("kiosk_card", kiosk),
                            ("network", network), ("total", cash + kiosk + network)):
        assert row.locator(f"td[data-channel={channel}]").inner_text() == \
            f"{amount / 1000:.3f} {words['money']}", channel
    head = page.inner_text("#revenue thead")
    assert words["cash"] in head and words["kiosk"] in head and words["network"] in head
    assert page.locator("#revenue tfoot td[data-channel=total]").inner_text() == \
        f"{(cash + kiosk + network) / 1000:.3f} {words['money']}"
    assert rows_of(page, "refunds") == [("", "SADAD-3")]
    assert words["refund"] in page.inner_text("#refunds")
    look(page, lang, "revenue", tmp_path)
    # A range the wrong way round: the words, and no table.
    page.fill("#f-from", "2026-11-25")
    page.fill("#f-to", DAY)
    answer = submit(page, "#range button[type=submit]")
    assert answer.status == 422 and words["range"] in page.inner_text("#problem")
    assert page.locator("#revenue").count() == 0
    page.goto(f"{site.url}/console/finance/revenue?from={DAY}&to={DAY}&office=RIF")
    assert page.locator("#problem").count() == 1


@pytest.mark.parametrize("role", ["officer", "operations"])
def test_other_roles_get_403_and_no_finance_link(site, paid, page, sign_in, role):
    site.person("sami", role, two_step=False)
    sign_in(page, "sami")
    assert page.locator("nav.menu a[href='/console/finance']").count() == 0
    for path in ("/console/finance", "/console/finance/reconciliation",
                 "/console/finance/revenue"):
        assert page.goto(site.url + path).status == 403, path
    before = everything(site.central)
    answer = page.request.post(f"{site.url}/console/finance/reconciliation", multipart={
        "csrf": csrf_of(page), "date": DAY, "file": {
            "name": "s.csv", "mimeType": "text/csv", "buffer": settlement(paid)}})
    assert answer.status == 403
    assert everything(site.central) == before


def test_a_post_without_the_csrf_token_is_refused(site, paid, finance_page):
    page = finance_page("ar")
    page.goto(f"{site.url}/console/finance/reconciliation")
    before = everything(site.central)
    for csrf in ({}, {"csrf": "forged"}):
        answer = page.request.post(f"{site.url}/console/finance/reconciliation", multipart={
            **csrf, "date": DAY, "file": {"name": "s.csv", "mimeType": "text/csv",
                                          "buffer": settlement(paid)}})
        assert answer.status == 403
    assert everything(site.central) == before and lines_of(site.central) == []


def test_municipal_finance_sees_its_offices_and_does_not_upload(site, paid, finance_page):
    site.municipality("SOUTH", ())
    north = finance_page("en", "nadia", municipality="NORTH")
    north.goto(f"{site.url}/console/finance/reconciliation")
    assert north.locator("#upload").count() == 0 and north.locator("#national-only").count()
    assert len(rows_of(north, "differences")) == 3
    before = everything(site.central)
    answer = north.request.post(f"{site.url}/console/finance/reconciliation", multipart={
        "csrf": csrf_of(north), "date": DAY, "file": {
            "name": "s.csv", "mimeType": "text/csv", "buffer": settlement(paid)}})
    assert answer.status == 403 and everything(site.central) == before
    south = finance_page("en", "samir", municipality="SOUTH")
    south.goto(f"{site.url}/console/finance/reconciliation")
    assert rows_of(south, "differences") == []
    south.goto(f"{site.url}/console/finance/revenue?from={DAY}&to={DAY}")
    assert south.locator("#revenue tbody tr[data-date]").count() == 0
    assert south.locator("#no-refunds").count() == 1


def test_a_settlement_file_over_the_old_64_kib_reaches_the_page_and_over_8_mib_does_not(site):
    """A busy network's day is larger than the console's usual body limit: the upload has its
    own (8 MiB, central/app.py), refused before the route reads anything beyond it."""
    import requests

    url = f"{site.url}/console/finance/reconciliation"
    mid = requests.post(url, files={"file": ("s.csv", b"x" * 200_000)}, timeout=30,
                        allow_redirects=False)
    assert mid.status_code != 413  # through to the route: signed out, so refused there
    big = requests.post(url, data=b"x" * (8 * 1024 * 1024 + 1), timeout=30,
                        headers={"Content-Type": "text/csv"}, allow_redirects=False)
    assert big.status_code == 413
    with site.central.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(settlement_lines)).scalar() \
            == 0
