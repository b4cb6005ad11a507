"""core.report_files: a report's tables as CSV and XLSX read back equal to the report, in
Arabic and English; spreadsheet formulas escaped; the PDF day report carries the figures, is
shaped right-to-left in Arabic and renders (pages under /tmp/shots-report-files/, looked at).

The report is tests/web/report_charts_demo/demo-report.json (a hand-made day of one centre in the shape of
core.kpis.report; the chart tests draw the same one)."""
from __future__ import annotations

import copy
import csv
import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import report_files as rf
from core.errors import ValidationError

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path("/tmp/shots-report-files")
DEMO = json.loads((Path(__file__).resolve().parents[1] / "web/report_charts_demo/demo-report.json")
                  .read_text(encoding="utf-8"))


@pytest.fixture
def report():
    return copy.deepcopy(DEMO["report"])


@pytest.fixture
def labels():
    return copy.deepcopy(DEMO["labels"])


def minutes(seconds):
    # tenths of a minute, half up (as the charts' Math.round)
    return None if seconds is None else math.floor(seconds / 6 + 0.5) / 10


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads the Arabic as UTF-8
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"))))


def num(text: str):
    return None if text == "" else float(text)


# ---------------------------------------------------------------- CSV

@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_service_table_as_csv_reads_back_equal(report, labels, lang):
    rows = csv_rows(rf.report_csv(report, labels, lang, table="visits_by_service"))
    header, body = rows[0], rows[1:]
    expected_header = ([rf.word("code", lang), rf.word("service", lang)]
                       + [rf.word(k, lang) for k, _ in rf.VISIT_COLUMNS])
    assert header == expected_header
    assert len(body) == len(report["visits"]["by_service"])
    for line, want in zip(body, report["visits"]["by_service"]):
        got = dict(zip(header, line))
        assert line[0] == want["key"]
        assert line[1] == labels["service"][want["key"]][lang]
        assert int(got[rf.word("tickets", lang)]) == want["tickets"]
        assert int(got[rf.word("served", lang)]) == want["served"]
        assert int(got[rf.word("no_show", lang)]) == want["no_show"]
        for stat in ("mean", "median", "p90"):
            assert num(got[rf.word(f"wait_{stat}", lang)]) == minutes(want["wait_s"][stat])
            assert num(got[rf.word(f"service_{stat}", lang)]) == minutes(want["service_s"][stat])
        assert num(got[rf.word("within_target", lang)]) == round(want["within_target"] * 100, 1)
        rating = want["rating"]["mean"]
        assert num(got[rf.word("rating_mean", lang)]) == (None if rating is None
                                                          else math.floor(rating * 10 + 0.5) / 10)
    # words a person reads are in the chosen language
    assert ("الخدمة" in header) == (lang == "ar") and ("Service" in header) == (lang == "en")


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_whole_csv_has_every_table_and_money_in_major_units(report, labels, lang):
    rows = csv_rows(rf.report_csv(report, labels, lang))
    titles = [t.title for t in rf.tables(report, labels, lang)]
    assert [r[0] for r in rows if len(r) == 1] == titles  # one title line per table
    assert len(titles) == 14
    # the revenue by method section: amounts with the currency's three decimals
    start = rows.index([rf.word("revenue_by_method", lang)])
    header = rows[start + 1]
    assert header[2] == rf.word("amount", lang, currency="د.ب" if lang == "ar" else "BHD")
    methods = {r[0]: (r[2], int(r[3])) for r in rows[start + 2:start + 2 + 3]}
    assert methods == {"card": ("301.500", 60), "cash": ("146.000", 45), "online": ("40.000", 2)}
    # the summary: total revenue, tickets, decision time in minutes
    summary = {r[0]: r[1] for r in rows[2:rows.index([])]}
    assert summary[rf.word("revenue", lang, currency="د.ب" if lang == "ar" else "BHD")] == \
        "487.500"
    assert summary[rf.word("tickets", lang)] == "160"
    assert summary[rf.word("decision_mean", lang)] == "90.0"  # 5400 s
    assert summary[rf.word("from", lang)] == "2026-03-05"
    # staff time in minutes
    start = rows.index([rf.word("staff_time_by_clerk", lang)])
    fatima = next(r for r in rows[start:] if r[0] == "fatima")
    assert [num(v) for v in fatima[2:]] == [390.0, 275.5, 40.0, 0.0, 74.5]


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_every_title_says_one_thing(report, labels, lang):
    summary, *others = rf.tables(report, labels, lang)
    names = [row[0] for row in summary.rows]
    assert len(names) == len(set(names)) == 32
    assert all(len({c.title for c in t.columns}) == len(t.columns) for t in others)


def test_text_a_spreadsheet_would_run_is_escaped(report, labels):
    labels["service"]["address-form"] = {"ar": "=HYPERLINK(\"http://x\",\"y\")",
                                         "en": "+1+cmd|' /C calc'!A0"}
    for lang, bad in (("ar", "=HYPERLINK(\"http://x\",\"y\")"), ("en", "+1+cmd|' /C calc'!A0")):
        rows = csv_rows(rf.report_csv(report, labels, lang))
        cells = [c for r in rows for c in r]
        assert "'" + bad in cells and bad not in cells
        assert "'-ahmed" in cells and "-ahmed" not in cells  # a clerk named -ahmed
        assert not [c for c in cells if c[:1] in ("=", "+", "@")]
        assert not [c for c in cells if c[:1] == "-" and not _is_number(c)]


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


# ---------------------------------------------------------------- XLSX

@pytest.mark.parametrize("lang", ["ar", "en"])
def test_xlsx_has_a_sheet_per_table_with_numbers_as_numbers(report, labels, lang):
    from openpyxl import load_workbook
    book = load_workbook(io.BytesIO(rf.report_xlsx(report, labels, lang)))
    tables = rf.tables(report, labels, lang)
    assert len(book.sheetnames) == len(tables) == 14
    assert book.sheetnames[0] == rf.word("summary", lang)
    assert all(sheet.sheet_view.rightToLeft is (lang == "ar") for sheet in book.worksheets)
    sheet = book[rf.word("visits_by_service", lang)[:31]]
    header = [c.value for c in sheet[1]]
    assert header[:2] == [rf.word("code", lang), rf.word("service", lang)]
    col = {name: i for i, name in enumerate(header)}
    for row, want in zip(sheet.iter_rows(min_row=2), report["visits"]["by_service"]):
        assert row[1].value == labels["service"][want["key"]][lang]
        tickets = row[col[rf.word("tickets", lang)]]
        assert tickets.value == want["tickets"] and tickets.data_type == "n"
        wait = row[col[rf.word("wait_mean", lang)]]
        assert wait.value == minutes(want["wait_s"]["mean"]) and wait.number_format == "0.0"
        share = row[col[rf.word("within_target", lang)]]
        assert share.value == want["within_target"] and share.number_format == "0.0%"
    assert sheet.max_row == 1 + len(report["visits"]["by_service"])
    money = book[rf.word("revenue_by_service", lang)[:31]]
    amounts = {r[0].value: r[2] for r in money.iter_rows(min_row=2)}
    assert amounts["residence-certificate"].value == 225.0
    assert amounts["residence-certificate"].number_format == "#,##0.000"
    summary = {r[0].value: r[1].value for r in book.worksheets[0].iter_rows(min_row=2)}
    assert summary[rf.word("tickets", lang)] == 160
    assert summary[rf.word("within_target", lang)] == 0.756
    hours = book[rf.word("visits_by_hour", lang)[:31]]
    assert [r[0].value for r in hours.iter_rows(min_row=2)] == [
        f"{h:02d}:00" for h in range(7, 15)]


def test_xlsx_never_writes_a_formula(report, labels):
    from openpyxl import load_workbook
    labels["service"]["road-works-permit"]["en"] = "=1+1"
    book = load_workbook(io.BytesIO(rf.report_xlsx(report, labels, "en")))
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert not [c for c in cells if c.data_type == "f"]
    assert "'=1+1" in [c.value for c in cells]
    assert "'-ahmed" in [c.value for c in cells]


# ---------------------------------------------------------------- bad input

def test_bad_input_is_refused_and_changes_nothing(report, labels):
    before = (copy.deepcopy(report), copy.deepcopy(labels))
    for make in (rf.report_csv, rf.report_xlsx, rf.day_report_pdf):
        with pytest.raises(ValidationError) as err:
            make(report, labels, "fr")
        assert err.value.field == "lang" and err.value.details["reason"] == "unknown_language"
    with pytest.raises(ValidationError) as err:
        rf.report_csv(report, labels, "en", table="visits_by_mood")
    assert err.value.field == "table"
    week = copy.deepcopy(report)
    week["period"] = {"from": "2026-03-01", "to": "2026-03-07", "kind": "week", "days": 7}
    with pytest.raises(ValidationError) as err:
        rf.day_report_pdf(week, labels, "ar")
    assert err.value.details["reason"] == "not_one_day"
    two = copy.deepcopy(report)
    two["offices"] = ["MUH", "ISA"]
    with pytest.raises(ValidationError) as err:
        rf.day_report_pdf(two, labels, "en")
    assert err.value.details["reason"] == "not_one_office"
    assert (report, labels) == before


def test_minutes_are_rounded_half_up_as_on_the_charts(report, labels):
    report["visits"]["by_service"][0]["wait_s"]["mean"] = 615  # 10.25 minutes
    rows = csv_rows(rf.report_csv(report, labels, "en", table="visits_by_service"))
    assert rows[1][rows[0].index("Mean wait (min)")] == "10.3"


def test_a_code_without_a_label_is_shown_as_the_code(report):
    rows = csv_rows(rf.report_csv(report, {}, "ar", table="visits_by_service"))
    assert [r[1] for r in rows[1:]] == [r["key"] for r in report["visits"]["by_service"]]


def test_importing_it_loads_no_pdf_or_spreadsheet_library():
    code = ("import json, sys\nimport core.report_files\n"
            "print(json.dumps([m for m in ('fpdf', 'openpyxl', 'PIL') if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    assert json.loads(out.stdout) == []


# ---------------------------------------------------------------- the PDF day report

def pdf_lines(data: bytes) -> list[str]:
    from pypdf import PdfReader
    reader = PdfReader(io.BytesIO(data))
    return [line.strip() for page in reader.pages for line in page.extract_text().splitlines()]


def render(data: bytes, name: str):
    import pypdfium2
    doc = pypdfium2.PdfDocument(data)
    SHOTS.mkdir(exist_ok=True)
    pages = []
    for i in range(len(doc)):
        image = doc[i].render(scale=1.6).to_pil().convert("L")
        image.save(SHOTS / f"{name}-{i + 1}.png")
        pages.append(image)
    return pages


def ink_span(image, top: float, bottom: float) -> tuple[float, float]:
    """(left, right) of the dark pixels in a band of the page, as shares of its width."""
    w, h = image.size
    band = image.crop((0, int(top * h), w, int(bottom * h))).point(lambda v: 255 if v < 128 else 0)
    box = band.getbbox()
    assert box, "nothing printed in the band"
    return box[0] / w, box[2] / w


def test_the_english_day_report_has_the_figures(report, labels):
    data = rf.day_report_pdf(report, labels, "en")
    assert data.startswith(b"%PDF")
    lines = pdf_lines(data)
    assert lines[0] == "Day report — Muharraq service centre"
    assert lines[1] == "5 March 2026"
    for label, value in (("Tickets", "160"), ("Served", "148"), ("No-shows", "8"),
                         ("Mean wait (min)", "8.3"), ("Median wait (min)", "7.0"),
                         ("90th percentile wait (min)", "19.0"), ("Within target (%)", "75.6%"),
                         ("Applications submitted", "23"), ("Licences issued", "102"),
                         ("Revenue (BHD)", "487.500")):
        assert lines[lines.index(label) + 1] == value
    assert "Revenue by method: Card 301.500 BHD · Cash 146.000 BHD · Online 40.000 BHD" in lines
    assert "Approved 12 · Rejected 2 · Pending 8" in lines
    assert "Residence certificate 96 90 4 6.2 5.5 13.0 88.3% 4.6" in lines
    assert "Road works permit 5 5 0 15.0 14.0 22.0 40.0% —" in lines
    # the bars of waiting by hour: each hour's mean, then the hour
    hours = lines.index("Mean wait by hour the ticket was taken (min)")
    assert lines[hours + 1:hours + 5] == ["3.0", "07", "5.3", "08"]
    pages = render(data, "day-en")
    assert len(pages) == 1
    left, right = ink_span(pages[0], 0.04, 0.08)  # the title starts at the left margin
    assert left < 0.1 and right < 0.75


def test_the_arabic_day_report_is_shaped_and_right_to_left(report, labels):
    data = rf.day_report_pdf(report, labels, "ar")
    lines = pdf_lines(data)
    text = "\n".join(lines)
    for words in ("التقرير اليومي", "مركز خدمات المحرق", "شهادة إثبات سكن", "أهم الأرقام",
                  "مارس"):
        assert words in text
    for label, value in (("التذاكر", "160"), ("تمت خدمتها", "148"), ("لم يحضر", "8"),
                         ("الرخص الصادرة", "102"), ("الطلبات المقدمة", "23")):
        assert lines[lines.index(label) + 1] == value
    for value in ("8.3", "7.0", "19.0", "75.6٪", "487.500", "4.4"):
        assert value in lines
    # shaped: the font's joined forms are used, so the glyphs differ from isolated letters
    from pypdf import PdfReader
    fonts = {f["/BaseFont"] for f in (PdfReader(io.BytesIO(data)).pages[0]["/Resources"]
                                      ["/Font"].values())}
    assert any("NotoSansArabic" in str(f) for f in fonts)
    pages = render(data, "day-ar")
    assert len(pages) == 1
    left, right = ink_span(pages[0], 0.04, 0.08)  # the title ends at the right margin
    assert right > 0.9 and left > 0.25


def test_eight_services_still_fit_one_page(report, labels):
    # the default catalogue has eight services: the day report stays one A4 page
    base = report["visits"]["by_service"][0]
    report["visits"]["by_service"] = [dict(copy.deepcopy(base), key=f"service-{i}")
                                      for i in range(8)]
    for lang in ("ar", "en"):
        data = rf.day_report_pdf(report, labels, lang)
        assert len(render(data, f"day-8-services-{lang}")) == 1
        # codes without a label are Latin text on an Arabic page: what follows them is
        # still whole (fpdf2's font fallback garbled it, see _DayReport._family)
        text = "\n".join(pdf_lines(data))
        rows = [line for line in pdf_lines(data) if "9.0" in line and "21.0" in line]
        assert len(rows) == 8
        assert all(("72.5٪" if lang == "ar" else "72.5%") in row for row in rows)
        assert ("مركز خدمات المحرق" in text) == (lang == "ar")


def test_a_long_table_goes_on_to_a_second_page(report, labels):
    base = report["visits"]["by_service"][0]
    report["visits"]["by_service"] = [dict(copy.deepcopy(base), key=f"service-{i:02d}",
                                           tickets=10 + i) for i in range(40)]
    data = rf.day_report_pdf(report, labels, "en")
    pages = render(data, "day-40-services-en")
    assert len(pages) >= 2
    lines = pdf_lines(data)
    assert f"Page 2 of {len(pages)}" in " ".join(lines)
    assert "service-39 49 37 3 9.0 8.0 21.0 72.5% 4.2" in lines  # the last row, on the last page


def test_an_arabic_name_on_the_english_report_reads_right_to_left(report, labels):
    labels["service"]["road-works-permit"] = {"ar": "رخصة أشغال طريق"}  # no English name
    data = rf.day_report_pdf(report, labels, "en")
    lines = pdf_lines(data)
    assert "رخصة أشغال طريق 5 5 0 15.0 14.0 22.0 40.0% —" in lines
    render(data, "day-en-arabic-name")


# ---------------------------------------------------------------- a real month (H1's generator)

@pytest.fixture(scope="module")
def month(tmp_path_factory):
    """A generated month of a centre through the real core operations, its reports as
    core.kpis.report gives them, and the generator's hand-computed answers."""
    from core import kpis
    from testing.kpi_month import generate_month
    office, expected = generate_month(tmp_path_factory.mktemp("kpi") / "office",
                                      tickets_per_day=(6, 9))
    try:
        facts = kpis.HubFacts(office.store)
        labels = {"office": {"MUH": {"ar": "مركز خدمات المحرق", "en": "Muharraq centre"}},
                  "service": {s.code: {"ar": s.name.ar, "en": s.name.en} for s in office.catalog}}
        yield {"report": kpis.report(facts, kpis.Period.month(2026, 11), today="2026-12-01"),
               "day": kpis.report(facts, kpis.Period.day("2026-11-10"), today="2026-12-01"),
               "expected": expected, "labels": labels}
    finally:
        office.close()


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_a_generated_month_reads_back_with_its_known_answers(month, lang):
    from openpyxl import load_workbook
    report, labels, expected = month["report"], month["labels"], month["expected"]
    rows = csv_rows(rf.report_csv(report, labels, lang, table="visits_by_service"))
    header = rows[0]
    got = {r[0]: dict(zip(header, r)) for r in rows[1:]}
    want = {r["key"]: r for r in expected["visits"]["by_service"]}
    assert set(got) == set(want) and len(want) >= 4
    for code, row in want.items():
        assert got[code][rf.word("service", lang)] == labels["service"][code][lang]
        assert int(got[code][rf.word("tickets", lang)]) == row["tickets"]
        assert int(got[code][rf.word("no_show", lang)]) == row["no_show"]
        assert num(got[code][rf.word("wait_mean", lang)]) == minutes(row["wait_s"]["mean"])
    book = load_workbook(io.BytesIO(rf.report_xlsx(report, labels, lang)))
    staff = book[rf.word("staff_time_by_clerk", lang)[:31]]
    assert {r[0].value: [c.value for c in r[2:]] for r in staff.iter_rows(min_row=2)} == {
        r["key"]: [minutes(r[k]) for k in ("open_s", "serving_s", "break_s", "back_office_s",
                                           "idle_s")]
        for r in expected["staff_time"]["by_clerk"]}
    methods = book[rf.word("revenue_by_method", lang)[:31]]
    assert {r[0].value: round(r[2].value * 1000) for r in methods.iter_rows(min_row=2)} == {
        r["key"]: r["amount_minor"] for r in expected["revenue"]["by_method"]}


def test_a_generated_day_prints(month):
    day, labels = month["day"], month["labels"]
    total = day["visits"]["total"]
    for lang in ("ar", "en"):
        data = rf.day_report_pdf(day, labels, lang)
        lines = pdf_lines(data)
        label = rf.word("tickets", lang)
        assert lines[lines.index(label) + 1] == str(total["tickets"])
        assert len(render(data, f"day-generated-{lang}")) == 1


def test_arabic_digits_when_the_office_shows_them(report, labels):
    import pypdfium2
    data = rf.day_report_pdf(report, dict(labels, digits="arabic"), "ar")
    # pdfium reads the digits in the order they are drawn (pypdf reverses Arabic-Indic runs)
    lines = pypdfium2.PdfDocument(data)[0].get_textpage().get_text_range().splitlines()
    lines = [line.strip() for line in lines]
    assert lines[lines.index("التذاكر") + 1] == "١٦٠"
    assert "٤٨٧٫٥٠٠" in lines
    assert any("المئين ٩٠" in line for line in lines)  # the words' digits too
    assert "160" not in lines
    render(data, "day-ar-arabic-digits")
