"""The display board read at the moment people look (issue 25, "Board"), in Debian's Chromium
against a real hub: the call highlight's contrast measured from the computed styles during a
call, "recently called" filled as calls happen, long service names whole with 30 services
waiting, the office's clock and date in the office's zone, and the hub's `/` on both ports.
Screenshots at 1920x1080 in both languages go to /tmp/shots-h5/ (idle, a call, 30 services)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import requests
from board_browser import ARGS, CHROMIUM
from playwright import sync_api

from core.catalog import Text, catalog_of

SHOTS = Path("/tmp/shots-h5")
RES = "residence-certificate"
COOKIE = "nafitha_board"
READY = "window.boardTest && window.boardTest.renders > 0 && window.boardTest.connected"


@pytest.fixture(scope="module")
def playwright():
    with sync_api.sync_playwright() as p:
        yield p


@pytest.fixture
def browser(playwright, tmp_path):
    """A TV: 1920x1080, its own zone New York (the board must show the office's, not this).
    The policy is bypassed only for wait_for_function's string predicates (test_board.py
    runs the pages with it enforced)."""
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=ARGS,
        viewport={"width": 1920, "height": 1080}, locale="ar-BH", bypass_csp=True,
        timezone_id="America/New_York")
    context.set_default_timeout(10_000)
    errors = []
    context.on("weberror", lambda error: errors.append(error.error))
    yield context
    context.close()
    assert errors == []


def open_board(browser, hub, lang: str = "ar", before=None):
    browser.add_cookies([{"name": COOKIE, "value": hub.token("board", f"hall-{lang}"),
                          "url": hub.board_url}])
    page = browser.new_page()
    if before is not None:
        before(page)
    assert page.goto(f"{hub.board_url}/board?lang={lang}").status == 200
    page.wait_for_function(READY)
    return page


def wait_for_marker(page, office):
    page.wait_for_function("m => window.boardTest.marker === m", arg=office.queue.change_marker())


def shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 20_000
    return path


# --- the call highlight ------------------------------------------------------------------------
# Every element with text of its own inside a lit call: its computed colour against the
# background it is drawn on (the first ancestor with one, composited over the page's).
CONTRASTS = """() => {
    const rgba = c => { const m = c.match(/[\\d.]+/g).map(Number);
                        return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; };
    const over = (top, under) => top.slice(0, 3).map((v, i) => v * top[3] + under[i] * (1 - top[3]));
    const lum = c => { const [r, g, b] = c.map(v => { v /= 255;
        return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
    const background = el => {
        const chain = [];
        for (let n = el; n; n = n.parentElement) chain.push(rgba(getComputedStyle(n).backgroundColor));
        let base = [11, 29, 48];
        for (const c of chain.reverse()) base = over(c, base);
        return base; };
    const out = [];
    for (const lit of document.querySelectorAll('.flash')) {
        if (lit.hidden || !lit.getClientRects().length) continue;
        for (const el of [lit, ...lit.querySelectorAll('*')]) {
            const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
            if (!own || !el.getClientRects().length) continue;
            const fg = over(rgba(getComputedStyle(el).color), background(el));
            const bg = background(el);
            const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
            out.push({where: (lit.id || lit.className) + ' ' + (el.id || el.className),
                      text: el.textContent.trim(), ratio: (a + 0.05) / (b + 0.05),
                      background: lum(background(lit))});
        }
    }
    return out; }"""


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_every_text_on_a_call_highlight_has_aa_contrast(hub, browser, office, clock, lang):
    for _ in range(4):
        office.queue.take_ticket(RES)
    page = open_board(browser, hub, lang)
    assert page.is_visible("#hero-idle")
    shot(page, f"idle-{lang}")  # people waiting, nobody called yet
    clock.advance(30)
    office.queue.call_next("2")  # lit too, in the tiles under the newest call
    clock.advance(30)
    called = office.queue.call_next("Desk-12")
    page.wait_for_function("n => document.getElementById('hero-number').textContent === n",
                           arg=called["number"])
    page.wait_for_selector("#hero-call.flash")
    samples = []
    for i in range(4):  # across the ring's pulses: the text never changes colour on the way
        samples.append(page.evaluate(CONTRASTS))
        if i == 1:
            shot(page, f"call-{lang}")
        page.wait_for_timeout(700)
    for sample in samples:
        lit = {s["where"].split(" ")[0] for s in sample}
        assert {"hero-call", "call", "row"} <= lit, lit  # the newest, the tiles, the list
        texts = " ".join(s["text"] for s in sample)
        assert called["number"] in texts and "12" in texts  # the counter's name is measured
        assert ("Counter" in texts) and ("الشباك" in texts)  # both languages
        low = [s for s in sample if s["ratio"] < 4.5]
        assert low == [], low
        # The highlight is lit: the yellow, not the panel's navy.
        assert min(s["background"] for s in sample) > 0.5
    page.wait_for_function("!document.querySelector('.flash')", timeout=10_000)  # 6 s, then off


# --- recently called ---------------------------------------------------------------------------
def recent_rows(page) -> list[list[str]]:
    return page.evaluate("""() => [...document.querySelectorAll('#recent li')]
        .filter(li => !li.hidden).map(li => [li.querySelector('.number').textContent,
            li.querySelector('.counter .name').textContent, li.classList.contains('latest')])""")


def test_recently_called_lists_each_call_as_it_happens_newest_first(hub, browser, office,
                                                                    clock):
    tickets = [office.queue.take_ticket(RES)["number"] for _ in range(12)]
    page = open_board(browser, hub, "en")
    assert recent_rows(page) == []
    clock.advance(30)
    first = office.queue.call_next("1")
    wait_for_marker(page, office)
    # The current call is listed at once, marked as the latest: no need to finish it first.
    assert recent_rows(page) == [[tickets[0], "1", True]]
    clock.advance(30)
    office.queue.call_next("2")
    clock.advance(30)
    office.queue.call_next("3")
    wait_for_marker(page, office)
    assert recent_rows(page) == [[tickets[2], "3", True], [tickets[1], "2", False],
                                 [tickets[0], "1", False]]
    clock.advance(30)
    office.queue.recall(first["id"], "1")  # once, moved to the top: not listed twice
    wait_for_marker(page, office)
    assert recent_rows(page) == [[tickets[0], "1", True], [tickets[2], "3", False],
                                 [tickets[1], "2", False]]
    clock.advance(30)
    office.queue.finish(first["id"])  # finished: still among the calls, in its place
    for counter in ("1", "1", "2", "3", "1", "2", "3"):
        clock.advance(30)
        office.queue.call_next(counter)
    wait_for_marker(page, office)
    rows = recent_rows(page)
    # N from the layout: the latest call and the 7 before it on the usual board.
    assert len(rows) == 8
    assert [r[0] for r in rows] == [tickets[i] for i in (9, 8, 7, 6, 5, 4, 3, 0)]
    assert len({r[0] for r in rows}) == 8 and [r[2] for r in rows] == [True] + [False] * 7


# --- 30 services, long names -------------------------------------------------------------------
# The longest kind of name a ministry's 108-service catalogue carries (made here, not read from
# testing/catalog_108.py), and a few short ones.
LONG_NAMES = [
    ("طلب تعديل الرسومات الهندسية المعتمدة لمبنى سكني قائم", "Amendment of approved engineering drawings for an existing residential building"),
    ("شهادة إتمام أعمال البناء وإشغال المبنى", "Building works completion and occupancy certificate"),
    ("رخصة وضع حاوية مواد بناء على الطريق العام", "Building materials skip on a public road permit"),
    ("طلب تقسيم أرض زراعية إلى قطع أصغر", "Application to subdivide agricultural land into smaller plots"),
    ("رخصة تمديد خدمات تحت الأرض في الطريق", "Underground utilities extension permit in a public road"),
    ("تجديد ترخيص قارب صيد تجاري", "Renewal of a commercial fishing boat licence"),
    ("شهادة عدم ممانعة بلدية لنشاط تجاري", "Municipal no-objection certificate for a commercial activity"),
    ("استمارة إضافة وتعديل وحذف عنوان", "Address add / change / delete form"),
    ("رخصة إغلاق طريق مؤقت لأعمال الصيانة", "Temporary road closure permit for maintenance works"),
    ("ضريبة الأبنية والأراضي", "Building and land tax payment"),
    ("طلب ترقيم مبنى جديد", "Numbering request for a new building"),
    ("رخصة لوحة إعلانية على واجهة محل", "Advertising sign on a shop front permit"),
    ("تصريح استيراد أسماك وأحياء مائية حية", "Import permit for live fish and aquatic organisms"),
    ("شهادة صحية للمنتجات الزراعية المصدرة", "Phytosanitary certificate for exported agricultural produce"),
    ("طلب تخصيص أرض للمنفعة العامة", "Allocation of land for public use"),
    ("رخصة هدم مبنى", "Demolition permit"),
    ("رسوم النظافة", "Cleaning fees"),
    ("غرامة مخالفة بلدية", "Municipal violation fine"),
    ("رخصة بناء أقل من 50 م²", "Building permit under 50 m²"),
    ("شهادة إثبات سكن", "Residence certificate"),
    ("طلب استبدال قطعة أرض سكنية بأخرى في منطقة مختلفة", "Exchange of a residential plot for one in another area"),
    ("تسجيل مزرعة وحيازة زراعية", "Registration of a farm and agricultural holding"),
    ("ترخيص مشتل لبيع النباتات والأشجار", "Licence for a nursery selling plants and trees"),
    ("تصريح مزاولة مهنة الصيد البحري", "Permit to practise sea fishing as a profession"),
    ("طلب مراجعة تقدير القيمة الإيجارية", "Request to review the assessed rental value"),
    ("رخصة حفريات", "Excavation permit"),
    ("رخصة أشغال طريق", "Road works permit"),
    ("طلب نسخة طبق الأصل من مخطط الموقع", "Certified copy of a site plan"),
    ("شهادة تصنيف استخدام الأرض حسب المخطط العام", "Land use zoning certificate under the master plan"),
    ("تسوية مخالفة بناء بعد الإنجاز", "Settlement of a building violation after completion"),
]


def thirty_services(office):
    """30 services with the names above, two-letter prefixes past Z; each has people waiting."""
    base = office.shipped_catalog.get(RES)
    prefixes = [chr(65 + i) for i in range(26)] + ["MA", "MB", "UV", "GH"]
    services = [dataclasses.replace(base, code=f"svc-{i:02d}", prefix=prefixes[i],
                                    name=Text(ar, en))
                for i, (ar, en) in enumerate(LONG_NAMES)]
    office.catalog = catalog_of(services)
    for i, s in enumerate(services):
        for _ in range(3 + (i * 7) % 11):
            office.queue.take_ticket(s.code)
    return services


TILES = """() => [...document.querySelectorAll('#waiting li')].map(li => {
    const names = li.querySelector('.names'), panel = li.closest('section').getBoundingClientRect();
    const box = li.getBoundingClientRect();
    const spans = [...names.children].map(s => ({
        text: s.textContent, lines: Math.round(s.getBoundingClientRect().height /
                                                parseFloat(getComputedStyle(s).lineHeight)),
        wide: s.scrollWidth > names.clientWidth + 1, px: parseFloat(getComputedStyle(s).fontSize)}));
    return {prefix: li.querySelector('.prefix').textContent,
            count: li.querySelector('.count').textContent,
            clamped: [...names.children].map(s => s.classList.contains('clamp')),
            cut: names.scrollHeight > names.clientHeight + 1 || li.scrollWidth > li.clientWidth + 1,
            inside: box.left >= panel.left - 1 && box.right <= panel.right + 1 &&
                    box.top >= panel.top - 1 && box.bottom <= panel.bottom + 1,
            spans}; })"""


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_thirty_services_waiting_stay_readable_and_names_are_not_cut(hub, browser, office,
                                                                     clock, lang):
    services = thirty_services(office)
    clock.advance(60)
    office.queue.call_next("1")
    clock.advance(60)
    called = office.queue.call_next("Desk-12")  # the longest name's service: A
    page = open_board(browser, hub, lang)
    wait_for_marker(page, office)
    shot(page, f"services30-{lang}")
    tiles = page.evaluate(TILES)
    assert sorted(t["prefix"] for t in tiles) == sorted(s.prefix for s in services)
    main, other = (0, 1) if lang == "ar" else (1, 0)
    clamped = []
    for tile in tiles:
        assert tile["inside"] and not tile["cut"], tile  # nothing past its box
        # The page's language whole, in whole words, three lines at most and at least 15 px
        # (readable across a hall on a 1080-line TV); the other language's line two lines,
        # or ending in "..." when even that is too long.
        assert not tile["clamped"][main], tile
        assert tile["spans"][main]["lines"] <= 3 and not tile["spans"][main]["wide"], tile
        assert tile["spans"][main]["px"] >= 15, tile
        assert tile["spans"][other]["lines"] <= 2, tile
        assert tile["clamped"][other] or not tile["spans"][other]["wide"], tile
        if tile["clamped"][other]:
            clamped.append(tile["prefix"])
    # A name with "..." is whole in its tile's title ...
    for prefix in clamped:
        ar, en = LONG_NAMES[[s.prefix for s in services].index(prefix)]
        title = page.evaluate("""p => [...document.querySelectorAll('#waiting li')].find(li =>
            li.querySelector('.prefix').textContent === p).title""", prefix)
        assert ar in title and en in title
    # ... and whole on the board when its ticket is called.
    assert called["number"].startswith("A")
    assert page.inner_text("#hero-service-en") == LONG_NAMES[0][1]
    assert page.inner_text("#hero-service-ar") == LONG_NAMES[0][0]
    hero_fits = page.evaluate("""() => { const h = document.getElementById('hero');
        const a = h.getBoundingClientRect();
        return ['hero-call', 'hero-service'].every(id => {
            const b = document.getElementById(id).getBoundingClientRect();
            return b.top >= a.top - 1 && b.bottom <= a.bottom + 1 && b.left >= a.left - 1 &&
                   b.right <= a.right + 1; }) && h.scrollHeight <= h.clientHeight + 1; }""")
    assert hero_fits
    assert page.inner_text("#hero-counter").endswith("12")
    # "Recently called" keeps readable rows (at least 6% of the screen's height each).
    rows = page.evaluate("[...document.querySelectorAll('#recent li')].filter(li => !li.hidden)"
                         ".map(li => li.getBoundingClientRect().height)")
    assert len(rows) == 2 and min(rows) >= 0.06 * 1080 - 1


def test_a_name_too_long_for_any_tile_ends_in_an_ellipsis_with_its_full_text(hub, browser,
                                                                            office):
    base = office.catalog.get(RES)
    words = "Application for the renewal of an expired temporary permit " * 4
    office.catalog = catalog_of([dataclasses.replace(base, name=Text("طلب " * 60, words))] + [
        dataclasses.replace(base, code=f"other-{i}", prefix=f"Q{i}") for i in range(7)])
    office.queue.take_ticket(RES)
    page = open_board(browser, hub, "en")
    wait_for_marker(page, office)
    tile = page.evaluate(TILES)[0]
    assert tile["clamped"] == [True, True] and not tile["cut"]
    title = page.get_attribute("#waiting li", "title")
    assert words.strip() in title and "طلب" in title


def test_a_ministry_catalogue_shows_only_services_someone_waits_for(hub, browser, office):
    base = office.catalog.get(RES)
    idle = [dataclasses.replace(base, code=f"idle-{i}", prefix=f"Z{chr(65 + i)}")
            for i in range(20)]
    office.catalog = catalog_of(idle)
    office.queue.take_ticket(idle[0].code)
    office.queue.call_next("1")  # changes: a fresh picture of this catalogue, nobody waiting
    page = open_board(browser, hub, "ar")
    wait_for_marker(page, office)
    assert page.is_visible("#waiting-none") and page.is_hidden("#waiting")  # nobody waits
    assert "لا أحد في الانتظار" in page.inner_text("#waiting-none")
    thirty = thirty_services(office)
    office.catalog = catalog_of(thirty + idle)
    office.queue.take_ticket(thirty[0].code)  # a change: the board's next picture
    wait_for_marker(page, office)
    assert page.is_hidden("#waiting-none")
    prefixes = [t["prefix"] for t in page.evaluate(TILES)]
    assert prefixes == [s.prefix for s in thirty]  # catalogue order, no idle service


# --- the clock ---------------------------------------------------------------------------------
def clock_text(page) -> dict:
    return page.evaluate("""() => ({time: document.getElementById('clock-time').textContent,
        ar: document.getElementById('clock-date-ar').textContent,
        en: document.getElementById('clock-date-en').textContent})""")


def test_the_clock_shows_the_office_time_and_date_each_minute(hub, browser, office):
    # The hub's clock: 2026-11-24 08:00 UTC, 11:00 in Bahrain; the TV's zone is New York's and
    # its own clock says another day: neither shows.
    page = open_board(browser, hub, "en", before=lambda p: p.clock.install(
        time="2025-01-01T03:00:00Z"))
    shown = clock_text(page)
    assert shown["time"] == "11:00"
    assert shown["en"] == "Tuesday, 24 November 2026"
    assert "الثلاثاء" in shown["ar"] and "نوفمبر" in shown["ar"] and "2026" in shown["ar"]
    page.clock.run_for("01:00")  # a minute later, redrawn by itself
    page.wait_for_function("document.getElementById('clock-time').textContent === '11:01'")
    shot(page, "clock-en")

    office.settings.office.timezone = "Asia/Tokyo"
    office.settings.office.digits = "arabic"
    office.queue.take_ticket(RES)  # a change: the board's next picture carries the digits
    page = open_board(browser, hub, "ar", before=lambda p: p.clock.install(
        time="2025-01-01T03:00:00Z"))
    wait_for_marker(page, office)
    shown = clock_text(page)
    assert shown["time"] == "١٧:٠٠"  # Tokyo's 17:00, in the office's Arabic-Indic digits
    assert "٢٤" in shown["ar"] and "٢٠٢٦" in shown["ar"]
    assert shown["en"] == "Tuesday, 24 November 2026"  # the English line keeps Latin digits
    page.clock.run_for("10:00")
    page.wait_for_function("document.getElementById('clock-time').textContent === '١٧:١٠'")


# --- the hub's / ----------------------------------------------------------------------------------
def test_root_is_a_page_over_https_and_the_board_on_the_board_port(hub, browser, db_state):
    before = db_state()
    reply = requests.get(hub.board_url + "/", allow_redirects=False, timeout=5)
    assert reply.status_code == 307 and reply.headers["location"] == "/board"
    reply = requests.get(hub.board_url + "/?lang=en", allow_redirects=False, timeout=5)
    assert reply.headers["location"] == "/board?lang=en"
    page = browser.new_page()
    page.goto(hub.board_url + "/?lang=en")
    assert page.evaluate("location.pathname") == "/board"
    page.wait_for_selector("#code")  # an unpaired TV lands on the pairing form

    home = hub.http.get(hub.url + "/", timeout=5)
    assert home.status_code == 200 and home.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in home.headers["content-security-policy"]
    text = home.text
    for words in ("لوحة النداء", "Display board", "صفحة مدير المركز", "Centre manager's page",
                  'href="/board"', 'href="/manager"', 'href="/verify/"'):
        assert words in text, words
    assert db_state() == before  # looking changes nothing


def test_the_home_page_in_a_browser(hub, playwright, tmp_path):
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "home"), executable_path=CHROMIUM, headless=True,
        args=ARGS + ["--ignore-certificate-errors"], viewport={"width": 1920, "height": 1080})
    try:
        page = context.new_page()
        console = []
        page.on("console", lambda m: console.append(m.text))
        for lang in ("ar", "en"):
            page.goto(f"{hub.url}/?lang={lang}")
            assert page.evaluate("document.documentElement.dir") == ("rtl" if lang == "ar"
                                                                    else "ltr")
            shot(page, f"home-{lang}")
        page.click("#link-board")
        page.wait_for_selector("#code")
        assert page.evaluate("location.pathname") == "/board"
        assert not [m for m in console if "Content Security Policy" in m], console
    finally:
        context.close()
