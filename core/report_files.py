"""Reports as files people open: every table of a report (core.kpis.report's dict) as CSV or
XLSX, and the printable PDF day report of one centre. Also the path of the web assets the hub
and the console both serve for charts (assets/web/: Chart.js and report-charts.js).

`labels` names what the report only gives as codes (docs/reports-files.md):
    {"office": {code: {"ar", "en"}}, "service": {code: {"ar", "en"}},
     "counter": {key: {"ar", "en"}} (optional), "clerk": {key: {"ar", "en"}} (optional),
     "digits": "latin" | "arabic" (optional, the office's setting; the PDF's Arabic numbers)}
A code with no label is shown as the code itself.

Numbers stay numbers: minutes with one decimal for every duration a person reads (the report
keeps whole seconds), the share within target as a percentage in CSV and a 0..1 number
formatted as % in XLSX, money in major units (1.500 for 1500 fils) with the currency in the
column's title. Text that a spreadsheet would take for a formula is escaped (see `_safe`).

fpdf2 (and with it Pillow) is imported only inside `day_report_pdf`: core stays importable
without them (tests/core/test_import_rules.py)."""
from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from .errors import InvalidState, ValidationError
from .money import currency_name, exponent, format_amount, format_digits, format_number
from .text import LANGUAGES

# Served at /shared/ by the hub and /console/shared/ by the console (each face mounts it).
SHARED_WEB_DIR = Path(__file__).resolve().parents[1] / "assets" / "web"

# ---------------------------------------------------------------- words (Arabic first)

WORDS: dict[str, tuple[str, str]] = {
    # tables
    "summary": ("الملخص", "Summary"),
    "visits_by_service": ("الزيارات حسب الخدمة", "Visits by service"),
    "visits_by_counter": ("الزيارات حسب الشباك", "Visits by counter"),
    "visits_by_clerk": ("الزيارات حسب الموظف", "Visits by clerk"),
    "visits_by_hour": ("الزيارات حسب الساعة", "Visits by hour"),
    "visits_by_day": ("الزيارات حسب اليوم", "Visits by day"),
    "visits_by_office": ("الزيارات حسب المكتب", "Visits by office"),
    "visits_by_channel": ("الزيارات حسب القناة", "Visits by channel"),
    "applications_by_service": ("الطلبات حسب الخدمة", "Applications by service"),
    "licences_by_service": ("الرخص حسب الخدمة", "Licences by service"),
    "revenue_by_service": ("الإيرادات حسب الخدمة", "Revenue by service"),
    "revenue_by_method": ("الإيرادات حسب طريقة الدفع", "Revenue by method"),
    "revenue_by_channel": ("الإيرادات حسب القناة", "Revenue by channel"),
    "staff_time_by_clerk": ("وقت الموظفين", "Staff time by clerk"),
    # key columns
    "code": ("الرمز", "Code"),
    "service": ("الخدمة", "Service"),
    "office": ("المكتب", "Office"),
    "counter": ("الشباك", "Counter"),
    "clerk": ("الموظف", "Clerk"),
    "hour": ("الساعة", "Hour"),
    "day": ("اليوم", "Day"),
    "channel": ("القناة", "Channel"),
    "method": ("طريقة الدفع", "Method"),
    "figure": ("المؤشر", "Figure"),
    "value": ("القيمة", "Value"),
    # visits
    "tickets": ("التذاكر", "Tickets"),
    "served": ("تمت خدمتها", "Served"),
    "no_show": ("لم يحضر", "No-shows"),
    "cancelled": ("تذاكر أُلغيت", "Cancelled"),
    "left": ("غادر دون خدمة", "Left unserved"),
    "open": ("ما زالت مفتوحة", "Still open"),
    "wait_mean": ("متوسط الانتظار (دقيقة)", "Mean wait (min)"),
    "wait_median": ("وسيط الانتظار (دقيقة)", "Median wait (min)"),
    "wait_p90": ("المئين 90 للانتظار (دقيقة)", "90th percentile wait (min)"),
    "wait_n": ("تذاكر نوديت", "Tickets called"),
    "within_target": ("ضمن الوقت المستهدف (٪)", "Within target (%)"),
    "service_mean": ("متوسط مدة الخدمة (دقيقة)", "Mean service time (min)"),
    "service_median": ("وسيط مدة الخدمة (دقيقة)", "Median service time (min)"),
    "service_p90": ("المئين 90 لمدة الخدمة (دقيقة)", "90th percentile service time (min)"),
    "rating_mean": ("متوسط التقييم (من 5)", "Mean rating (of 5)"),
    "rating_n": ("عدد التقييمات", "Ratings"),
    "rating_short": ("التقييم", "Rating"),
    # applications and licences
    "submitted": ("الطلبات المقدمة", "Applications submitted"),
    "approved": ("الموافق عليها", "Approved"),
    "rejected": ("المرفوضة", "Rejected"),
    "withdrawn": ("المسحوبة", "Withdrawn"),
    "pending": ("قيد النظر", "Pending"),
    "decision_mean": ("متوسط مدة القرار (دقيقة)", "Mean time to decision (min)"),
    "decision_median": ("وسيط مدة القرار (دقيقة)", "Median time to decision (min)"),
    "decision_p90": ("المئين 90 لمدة القرار (دقيقة)", "90th percentile time to decision (min)"),
    "issued": ("الرخص الصادرة", "Licences issued"),
    "reprinted": ("أعيدت طباعتها", "Reprinted"),
    "revoked": ("رخص أُلغيت", "Revoked"),
    # money
    "amount": ("المبلغ ({currency})", "Amount ({currency})"),
    "payments": ("عدد الدفعات", "Payments"),
    "revenue": ("الإيرادات ({currency})", "Revenue ({currency})"),
    # staff time
    "open_s": ("الشباك مفتوح (دقيقة)", "Counter open (min)"),
    "serving_s": ("في خدمة الزوار (دقيقة)", "Serving (min)"),
    "break_s": ("استراحة (دقيقة)", "Break (min)"),
    "back_office_s": ("أعمال مكتبية (دقيقة)", "Back office (min)"),
    "idle_s": ("بلا زوار (دقيقة)", "Idle (min)"),
    # the period
    "from": ("من", "From"),
    "to": ("إلى", "To"),
    "offices": ("المكاتب", "Offices"),
    "generated_at": ("أُعد في", "Generated at"),
    # the PDF
    "day_report": ("التقرير اليومي", "Day report"),
    "wait_by_hour": ("متوسط الانتظار حسب ساعة أخذ التذكرة (دقيقة)",
                     "Mean wait by hour the ticket was taken (min)"),
    "volume_by_service": ("عدد التذاكر حسب الخدمة", "Tickets by service"),
    "per_service": ("حسب الخدمة", "By service"),
    "headline": ("أهم الأرقام", "Headline figures"),
    "page": ("صفحة {n} من {total}", "Page {n} of {total}"),
    "no_tickets": ("لا تذاكر في هذا اليوم.", "No tickets this day."),
    "total": ("المجموع", "Total"),
}
# Values of the report's own keys (channels, payment methods).
KEY_WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "channel": {"kiosk": ("الكشك", "Kiosk"), "counter": ("الشباك", "Counter"),
                "appointment": ("موعد مسبق", "Appointment"),
                "network": ("شبكة المدفوعات الوطنية", "National payments network")},
    "method": {"cash": ("نقداً", "Cash"), "card": ("بطاقة", "Card"),
               "online": ("دفع إلكتروني", "Online"),
               "network": ("شبكة المدفوعات الوطنية", "National payments network")},
}
MONTHS_AR = ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر",
             "أكتوبر", "نوفمبر", "ديسمبر")


def word(key: str, lang: str, **values) -> str:
    ar, en = WORDS[key]
    return (ar if lang == "ar" else en).format(**values)


def _check_lang(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ValidationError(f"lang: must be one of {', '.join(LANGUAGES)}, not {lang!r}",
                              field="lang", reason="unknown_language")


# ---------------------------------------------------------------- tables (one model, two files)

# A column's kind says how its value is written: text, int, minutes (float, 1 decimal),
# share (0..1), money (Decimal, major units), rating (float, 1 decimal), any (summary values).
@dataclass
class Column:
    title: str
    kind: str


@dataclass
class Table:
    key: str  # stable id: "visits_by_service", ...
    title: str
    columns: list[Column]
    rows: list[list] = field(default_factory=list)
    # per row, the kind of its value cell where the kind varies by row (the summary)
    row_kinds: list[str] | None = None


def _tenth(value) -> float | None:
    # half up, as the charts' Math.round: 615 s is 10.3 minutes in the file and on the page
    if value is None:
        return None
    return float(Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _minutes(seconds) -> float | None:
    return None if seconds is None else _tenth(Decimal(str(seconds)) / 60)


def _major(minor: int | None, currency: str) -> Decimal | None:
    return None if minor is None else Decimal(int(minor)).scaleb(-exponent(currency))


def _label(labels: dict, kind: str, key, lang: str) -> str:
    if kind in KEY_WORDS and key in KEY_WORDS[kind]:
        return KEY_WORDS[kind][key][0 if lang == "ar" else 1]
    names = (labels or {}).get(kind, {}).get(str(key)) or (labels or {}).get(kind, {}).get(key)
    if names:
        return names.get(lang) or names.get("en") or names.get("ar") or str(key)
    return str(key)


def _key_columns(kind: str, lang: str) -> list[Column]:
    if kind in ("hour", "day"):
        return [Column(word(kind, lang), "text")]
    return [Column(word("code", lang), "text"), Column(word(kind, lang), "text")]


def _key_cells(kind: str, key, labels: dict, lang: str) -> list:
    if kind == "hour":
        return [f"{int(key):02d}:00"]
    if kind == "day":
        return [str(key)]
    return [str(key), _label(labels, kind, key, lang)]


_STAT = ("mean", "median", "p90")
VISIT_COLUMNS = (("tickets", "int"), ("served", "int"), ("no_show", "int"),
                 ("cancelled", "int"), ("left", "int"), ("open", "int"),
                 ("wait_n", "int"), ("wait_mean", "minutes"), ("wait_median", "minutes"),
                 ("wait_p90", "minutes"), ("within_target", "share"),
                 ("service_mean", "minutes"), ("service_median", "minutes"),
                 ("service_p90", "minutes"), ("rating_mean", "rating"), ("rating_n", "int"))


def _visit_values(m: dict) -> list:
    wait, service, rating = m.get("wait_s") or {}, m.get("service_s") or {}, m.get("rating") or {}
    return [m.get("tickets", 0), m.get("served", 0), m.get("no_show", 0), m.get("cancelled", 0),
            m.get("left", 0), m.get("open", 0), wait.get("n", 0),
            *(_minutes(wait.get(s)) for s in _STAT), m.get("within_target"),
            *(_minutes(service.get(s)) for s in _STAT),
            _tenth(rating.get("mean")),
            rating.get("n", 0)]


def tables(report: dict, labels: dict, lang: str) -> list[Table]:
    """Every table of `report`, titled and labelled in `lang` (CSV, XLSX and the faces'
    downloads all come from here)."""
    _check_lang(lang)
    out = [_summary(report, labels, lang)]
    visits = report.get("visits") or {}
    for kind in ("service", "counter", "clerk", "hour", "day", "office", "channel"):
        rows = visits.get(f"by_{kind}") or []
        table = Table(f"visits_by_{kind}", word(f"visits_by_{kind}", lang),
                      _key_columns(kind, lang)
                      + [Column(word(k, lang), t) for k, t in VISIT_COLUMNS])
        table.rows = [_key_cells(kind, r["key"], labels, lang) + _visit_values(r) for r in rows]
        out.append(table)
    apps = report.get("applications") or {}
    app_cols = (("submitted", "int"), ("approved", "int"), ("rejected", "int"),
                ("withdrawn", "int"), ("pending", "int"), ("decision_mean", "minutes"),
                ("decision_median", "minutes"), ("decision_p90", "minutes"))
    table = Table("applications_by_service", word("applications_by_service", lang),
                  _key_columns("service", lang) + [Column(word(k, lang), t) for k, t in app_cols])
    for r in apps.get("by_service") or []:
        decision = r.get("decision_s") or {}
        table.rows.append(_key_cells("service", r["key"], labels, lang)
                          + [r.get(k, 0) for k, _ in app_cols[:5]]
                          + [_minutes(decision.get(s)) for s in _STAT])
    out.append(table)
    lic = report.get("licences") or {}
    lic_cols = ("issued", "reprinted", "revoked")
    table = Table("licences_by_service", word("licences_by_service", lang),
                  _key_columns("service", lang) + [Column(word(k, lang), "int") for k in lic_cols])
    table.rows = [_key_cells("service", r["key"], labels, lang) + [r.get(k, 0) for k in lic_cols]
                  for r in lic.get("by_service") or []]
    out.append(table)
    revenue = report.get("revenue") or {}
    currency = revenue.get("currency") or "BHD"
    money_title = word("amount", lang, currency=currency_name(currency, lang))
    for kind in ("service", "method", "channel"):
        table = Table(f"revenue_by_{kind}", word(f"revenue_by_{kind}", lang),
                      _key_columns(kind, lang) + [Column(money_title, "money"),
                                                  Column(word("payments", lang), "int")])
        table.rows = [_key_cells(kind, r["key"], labels, lang)
                      + [_major(r.get("amount_minor", 0), currency), r.get("count", 0)]
                      for r in revenue.get(f"by_{kind}") or []]
        out.append(table)
    staff_cols = ("open_s", "serving_s", "break_s", "back_office_s", "idle_s")
    table = Table("staff_time_by_clerk", word("staff_time_by_clerk", lang),
                  _key_columns("clerk", lang) + [Column(word(k, lang), "minutes")
                                                 for k in staff_cols])
    table.rows = [_key_cells("clerk", r["key"], labels, lang) + [_minutes(r.get(k)) for k in
                                                                 staff_cols]
                  for r in (report.get("staff_time") or {}).get("by_clerk") or []]
    out.append(table)
    return out


def _summary(report: dict, labels: dict, lang: str) -> Table:
    period = report.get("period") or {}
    visits = report.get("visits") or {}
    total = visits.get("total") or {}
    apps = report.get("applications") or {}
    lic = report.get("licences") or {}
    revenue = report.get("revenue") or {}
    currency = revenue.get("currency") or "BHD"
    offices = "، ".join if lang == "ar" else ", ".join
    rows: list[tuple[str, object, str]] = [
        ("from", period.get("from"), "text"), ("to", period.get("to"), "text"),
        ("offices", offices(_label(labels, "office", o, lang)
                            for o in report.get("offices") or []), "text"),
        ("generated_at", report.get("generated_at"), "text")]
    names = [k for k, _ in VISIT_COLUMNS]
    kinds = dict(VISIT_COLUMNS)
    rows += [(k, v, kinds[k]) for k, v in zip(names, _visit_values(total))]
    decision = apps.get("decision_s") or {}
    rows += [(k, apps.get(k, 0), "int") for k in ("submitted", "approved", "rejected",
                                                  "withdrawn", "pending")]
    rows += [(f"decision_{s}", _minutes(decision.get(s)), "minutes") for s in _STAT]
    rows += [(k, lic.get(k, 0), "int") for k in ("issued", "reprinted", "revoked")]
    rows.append(("revenue", _major(revenue.get("total_minor", 0), currency), "money"))
    table = Table("summary", word("summary", lang),
                  [Column(word("figure", lang), "text"), Column(word("value", lang), "any")])
    table.rows = [[word(k, lang, currency=currency_name(currency, lang)), v] for k, v, _ in rows]
    table.row_kinds = [kind for _, _, kind in rows]
    return table


def _safe(text: str) -> str:
    """A spreadsheet runs text starting with = + - @ (or a tab / carriage return) as a
    formula: such text gets a leading apostrophe, shown as plain text (OWASP CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_cell(value, kind: str):
    if value is None:
        return ""
    if kind == "share":
        return f"{value * 100:.1f}"
    if kind in ("minutes", "rating"):
        return f"{value:.1f}"
    if isinstance(value, str):
        return _safe(value)
    return str(value)  # int, Decimal ("1.500": the currency's decimals kept)


def report_csv(report: dict, labels: dict, lang: str, table: str | None = None) -> bytes:
    """All tables one after the other (a title line, a header line, the rows, a blank line),
    or only the table named `table` (its key, e.g. "visits_by_service") as a plain CSV.
    UTF-8 with a BOM so that Excel reads Arabic right."""
    chosen = tables(report, labels, lang)
    if table is not None:
        chosen = [t for t in chosen if t.key == table]
        if not chosen:
            raise ValidationError(f"table: no table {table!r} in a report", field="table",
                                  reason="unknown_table")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for i, t in enumerate(chosen):
        if table is None:
            if i:
                writer.writerow([])
            writer.writerow([_safe(t.title)])
        writer.writerow([_safe(c.title) for c in t.columns])
        for n, row in enumerate(t.rows):
            kinds = ([c.kind for c in t.columns[:-1]] + [t.row_kinds[n]] if t.row_kinds
                     else [c.kind for c in t.columns])
            writer.writerow([_csv_cell(v, k) for v, k in zip(row, kinds)])
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


def _number_format(kind: str, currency: str) -> str | None:
    if kind in ("minutes", "rating"):
        return "0.0"
    if kind == "share":
        return "0.0%"
    if kind == "money":
        exp = exponent(currency)
        return "#,##0" + ("." + "0" * exp if exp else "")
    if kind == "int":
        return "0"
    return None


def _sheet_title(title: str, used: set[str]) -> str:
    # Excel: at most 31 characters, none of []:*?/\ , unique in the book
    clean = "".join(" " if ch in "[]:*?/\\" else ch for ch in title)[:31].strip()
    name, n = clean, 2
    while name in used:
        name = f"{clean[:28]} {n}"
        n += 1
    used.add(name)
    return name


def report_xlsx(report: dict, labels: dict, lang: str) -> bytes:
    """One sheet per table, titled in `lang`; Arabic sheets right-to-left; numbers stored as
    numbers with a display format (minutes 0.0, share 0.0%, money with the currency's
    decimals)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    chosen = tables(report, labels, lang)
    currency = (report.get("revenue") or {}).get("currency") or "BHD"
    book = Workbook()
    book.remove(book.active)
    generated = report.get("generated_at")
    if generated:  # the same report gives the same file metadata
        try:
            book.properties.created = book.properties.modified = datetime.fromisoformat(
                generated).replace(tzinfo=None)
        except ValueError:
            pass
    used: set[str] = set()
    bold = Font(bold=True)
    for t in chosen:
        sheet = book.create_sheet(_sheet_title(t.title, used))
        sheet.sheet_view.rightToLeft = lang == "ar"
        sheet.append([_safe(c.title) for c in t.columns])
        for cell in sheet[1]:
            cell.font = bold
        sheet.freeze_panes = "A2"
        for n, row in enumerate(t.rows):
            kinds = ([c.kind for c in t.columns[:-1]] + [t.row_kinds[n]] if t.row_kinds
                     else [c.kind for c in t.columns])
            values = []
            for v, kind in zip(row, kinds):
                if isinstance(v, str):
                    values.append(_safe(v))
                elif isinstance(v, Decimal):
                    values.append(float(v))  # exact at 3 decimals; Excel has no decimal type
                else:
                    values.append(v)
            sheet.append(values)
            for cell, kind in zip(sheet[sheet.max_row], kinds):
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula, whatever the text
                elif (fmt := _number_format(kind, currency)) and cell.value is not None:
                    cell.number_format = fmt
        for i, c in enumerate(t.columns, start=1):
            longest = max([len(str(c.title))] + [len(str(r[i - 1])) for r in t.rows
                                                  if r[i - 1] is not None])
            sheet.column_dimensions[get_column_letter(i)].width = min(max(10, longest + 2), 48)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- the PDF day report

FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts")
# Debian's fonts-noto-core; DejaVu as a last resort (Latin and basic Arabic).
ARABIC_FONTS = ({"": "NotoSansArabic-Regular.ttf", "B": "NotoSansArabic-Bold.ttf"},
                {"": "NotoNaskhArabic-Regular.ttf", "B": "NotoNaskhArabic-Bold.ttf"})
LATIN_FONTS = ({"": "NotoSans-Regular.ttf", "B": "NotoSans-Bold.ttf"},
               {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"})


def _font_files(choices: tuple[dict[str, str], ...]) -> dict[str, str] | None:
    # The same search as devices/fonts.py (core may not import devices): the first family
    # whose regular and bold files are both on the machine.
    found: dict[str, str] = {}
    for top in FONT_DIRS:
        for folder, _, files in sorted(os.walk(top)):
            for name in files:
                found.setdefault(name, os.path.join(folder, name))
    for family in choices:
        if all(name in found for name in family.values()):
            return {style: found[name] for style, name in family.items()}
    return None


class PdfFonts:
    """The Arabic ("ar") and Latin ("latin") font families added to an fpdf2 document, with
    the characters each covers: the day report and the licence's A4 certificate
    (devices/printing/certificate_pdf.py) set their fonts up here."""

    def __init__(self, pdf):
        arabic, latin = _font_files(ARABIC_FONTS), _font_files(LATIN_FONTS)
        if arabic is None or latin is None:
            raise InvalidState("no Arabic and Latin font on this machine (Debian: "
                               "fonts-noto-core)", reason="font_missing")
        for family, files in (("ar", arabic), ("latin", latin)):
            for style, path in files.items():
                pdf.add_font(family, style=style, fname=path)
        from fontTools.ttLib import TTFont  # fpdf2's own dependency

        self.covers = {family: set(TTFont(files[""], lazy=True).getBestCmap())
                       for family, files in (("ar", arabic), ("latin", latin))}
        # Only text that needs both fonts (Arabic words in parentheses) goes through fpdf2's
        # fallback: a text drawn wholly in the fallback font garbles the text drawn after
        # it (fpdf2 2.8.9 with shaping), so `family_for` picks one font whenever one suffices.
        pdf.set_fallback_fonts(["latin"], exact_match=False)

    def family_for(self, text: str, main: str) -> str:
        chars = set(map(ord, text))
        for family in (main, "latin" if main == "ar" else "ar"):
            if chars <= self.covers[family]:
                return family
        return "ar"  # Arabic letters with Latin punctuation: Arabic font, Latin fallback


def _long_date(day: str, lang: str, digits: str) -> str:
    d = date.fromisoformat(day)
    if lang == "ar":  # "5 مارس 2026": a numeric date would be reordered right-to-left
        return format_number(f"{d.day} {MONTHS_AR[d.month - 1]} {d.year}", lang, digits)
    return f"{d.day} {d.strftime('%B')} {d.year}"


def day_report_pdf(report: dict, labels: dict, lang: str) -> bytes:
    """An A4 printable report of one centre's day: title (office, date), the headline
    figures, waiting by hour and volume by service as bar charts, the table by service.
    Arabic is shaped (HarfBuzz) and laid out right-to-left; English left-to-right."""
    _check_lang(lang)
    period = report.get("period") or {}
    if period.get("from") is None or period.get("from") != period.get("to"):
        raise ValidationError("period: a day report covers one day", field="period",
                              reason="not_one_day")
    if len(report.get("offices") or []) != 1:
        raise ValidationError("offices: a day report is of one centre", field="offices",
                              reason="not_one_office")
    return _DayReport(report, labels or {}, lang).render()


class _DayReport:
    """Lays the page out in 'logical' millimetres from the start edge of the text (the right
    edge in Arabic), so one layout serves both directions: `_x` mirrors it."""

    MARGIN = 14.0
    INK = (33, 37, 41)
    MUTED = (100, 106, 112)
    BAR = (31, 119, 180)
    RULE = (206, 212, 218)
    SHADE = (241, 243, 245)

    def __init__(self, report, labels, lang):
        from fpdf import FPDF

        self.report, self.labels, self.lang = report, labels, lang
        self.digits = labels.get("digits", "latin")
        self.rtl = lang == "ar"
        self.currency = (report.get("revenue") or {}).get("currency") or "BHD"
        pdf = FPDF(format="A4", unit="mm")
        pdf.set_margins(self.MARGIN, self.MARGIN, self.MARGIN)
        pdf.set_auto_page_break(False)
        self.fonts = PdfFonts(pdf)
        self.main = "ar" if self.rtl else "latin"
        self.direction = None
        self.family, self.bold = self.main, False
        office = (report.get("offices") or [""])[0]
        self.office_name = _label(labels, "office", office, lang)
        self.day = report["period"]["from"]
        pdf.set_title(f"{word('day_report', 'en')} {office} {self.day}")
        pdf.set_creator("Nafitha")
        pdf.set_lang(lang)
        generated = report.get("generated_at")
        if generated:  # the same report gives the same bytes
            try:
                pdf.set_creation_date(datetime.fromisoformat(generated))
            except ValueError:
                pass
        self.pdf = pdf
        self.width = pdf.w - 2 * self.MARGIN

    # --- helpers
    def _x(self, start: float, w: float) -> float:
        return (self.pdf.w - self.MARGIN - start - w) if self.rtl else (self.MARGIN + start)

    def _font(self, size: float, bold: bool = False, color=INK):
        self.bold = bold
        self.pdf.set_font(self.family, "B" if bold else "", size)
        self.pdf.set_text_color(*color)

    def _family(self, text: str) -> str:
        return self.fonts.family_for(text, self.main)

    def _shape_for(self, text: str) -> None:
        # Arabic right to left: the whole Arabic page, and Arabic names on an English one
        rtl = self.rtl or any("\u0600" <= ch <= "\u06ff" for ch in text)
        if rtl != self.direction:
            if rtl:
                self.pdf.set_text_shaping(use_shaping_engine=True, direction="rtl",
                                          script="arab", language="ara")
            else:
                self.pdf.set_text_shaping(use_shaping_engine=True, direction="ltr")
            self.direction = rtl

    def _text(self, start, y, w, h, text, align="start", **font):
        if font:
            self._font(**font)
        if self.rtl and self.digits == "arabic" and not any("a" <= c.lower() <= "z" for c in text):
            text = format_digits(text, "ar", "arabic")  # the words' digits too ("من 5")
        self._shape_for(text)
        family = self._family(text)
        if family != self.pdf.font_family:
            self.pdf.set_font(family, "B" if self.bold else "", self.pdf.font_size_pt)
        where = {"start": "R" if self.rtl else "L", "end": "L" if self.rtl else "R",
                 "center": "C"}[align]
        # Long text (a service's name) is made smaller, then shortened, never cut off
        size = self.pdf.font_size_pt
        while self.pdf.get_string_width(text) > w and size > 6:
            size -= 0.5
            self.pdf.set_font_size(size)
        while self.pdf.get_string_width(text) > w and len(text) > 2:
            text = text[:-2].rstrip() + "…"
        self.pdf.set_xy(self._x(start, w), y)
        self.pdf.cell(w, h, text, align=where)

    def _num(self, value, decimals: int = 0) -> str:
        if value is None:
            return "—"
        text = f"{value:,.{decimals}f}"
        return format_number(text, self.lang, self.digits)

    def _share(self, share) -> str:
        return "—" if share is None else format_number(f"{share * 100:.1f}", self.lang,
                                                       self.digits) + ("٪" if self.rtl else "%")

    def _money(self, minor) -> str:
        number = format_number(format_amount(int(minor or 0), self.currency, with_code=False),
                               self.lang, self.digits)
        return f"{number} {currency_name(self.currency, self.lang)}"

    def _section(self, y, key) -> float:
        return self._half_section(0, y, self.width, key)

    def _room(self, y, need) -> float:
        if y + need > self.pdf.h - self.MARGIN - 8:
            self.pdf.add_page()
            return self.MARGIN
        return y

    # --- the page
    def render(self) -> bytes:
        self.pdf.add_page()
        y = self._title(self.MARGIN)
        y = self._headline(y)
        y = self._charts(y)
        self._service_table(y)
        total = self.pdf.pages_count
        for n in range(1, total + 1):  # footers once the page count is known
            self.pdf.page = n
            self._text(0, self.pdf.h - self.MARGIN, self.width, 5,
                       f"{self.office_name} · {_long_date(self.day, self.lang, self.digits)}",
                       size=8, color=self.MUTED)
            self._text(0, self.pdf.h - self.MARGIN, self.width, 5,
                       word("page", self.lang, n=self._num(n), total=self._num(total)),
                       align="end", size=8, color=self.MUTED)
        return bytes(self.pdf.output())

    def _title(self, y) -> float:
        self._text(0, y, self.width, 10, f"{word('day_report', self.lang)} — {self.office_name}",
                   size=18, bold=True)
        self._text(0, y + 10, self.width, 7, _long_date(self.day, self.lang, self.digits),
                   size=12, color=self.MUTED)
        return y + 21

    def _headline(self, y) -> float:
        r = self.report
        total = (r.get("visits") or {}).get("total") or {}
        wait = total.get("wait_s") or {}
        apps, lic = r.get("applications") or {}, r.get("licences") or {}
        rating = total.get("rating") or {}
        sep = "، " if self.rtl else " · "
        w = lambda k: word(k, self.lang)
        boxes = [
            (w("tickets"), self._num(total.get("tickets", 0)), ""),
            (w("served"), self._num(total.get("served", 0)), ""),
            (w("no_show"), self._num(total.get("no_show", 0)),
             f"{w('cancelled')} {self._num(total.get('cancelled', 0))}"),
            (w("left"), self._num(total.get("left", 0)),
             f"{w('open')} {self._num(total.get('open', 0))}"),
            (w("wait_mean"), self._num(_minutes(wait.get("mean")), 1), ""),
            (w("wait_median"), self._num(_minutes(wait.get("median")), 1), ""),
            (w("wait_p90"), self._num(_minutes(wait.get("p90")), 1), ""),
            (w("within_target"), self._share(total.get("within_target")), ""),
            (w("submitted"), self._num(apps.get("submitted", 0)),
             sep.join(f"{w(k)} {self._num(apps.get(k, 0))}"
                      for k in ("approved", "rejected", "pending"))),
            (w("issued"), self._num(lic.get("issued", 0)),
             sep.join(f"{w(k)} {self._num(lic.get(k, 0))}" for k in ("reprinted", "revoked"))),
            (word("revenue", self.lang, currency=currency_name(self.currency, self.lang)),
             self._num(_major(r.get("revenue", {}).get("total_minor", 0), self.currency),
                       exponent(self.currency)), ""),
            (w("rating_mean"), self._num(_tenth(rating.get("mean")), 1),
             f"{w('rating_n')} {self._num(rating.get('n', 0))}"),
        ]
        y = self._section(y, "headline")
        gap, per_row, h = 2.5, 4, 18.0
        bw = (self.width - gap * (per_row - 1)) / per_row
        for i, (label, value, note) in enumerate(boxes):
            col, row = i % per_row, i // per_row
            start, top = col * (bw + gap), y + row * (h + gap)
            self.pdf.set_fill_color(*self.SHADE)
            self.pdf.rect(self._x(start, bw), top, bw, h, style="F")
            self._text(start + 2.5, top + 1.2, bw - 5, 5, label, size=8, color=self.MUTED)
            self._text(start + 2.5, top + 6, bw - 5, 7, value, size=14, bold=True)
            if note:
                self._text(start + 2.5, top + 12.8, bw - 5, 4.5, note, size=7, color=self.MUTED)
        y += 3 * (h + gap)
        methods = (r.get("revenue") or {}).get("by_method") or []
        if methods:
            self._text(0, y, self.width, 6,
                       f"{w('revenue_by_method')}: " + sep.join(
                           f"{_label(self.labels, 'method', m['key'], self.lang)} "
                           f"{self._money(m.get('amount_minor', 0))}" for m in methods),
                       size=9)
            y += 8
        return y + 2

    def _charts(self, y) -> float:
        """Waiting by hour at the start half, volume by service at the end half."""
        gap = 8.0
        half = (self.width - gap) / 2
        # the busiest first; past twelve bars the table below has the rest
        services = sorted((r for r in (self.report.get("visits") or {}).get("by_service") or []
                           if r.get("tickets")), key=lambda r: (-r["tickets"], r["key"]))[:12]
        y = self._room(y, 62)
        bottom = max(self._wait_by_hour(0.0, y, half),
                     self._volume_by_service(half + gap, y, half, services))
        return bottom + 4

    def _half_section(self, start, y, w, key) -> float:
        self._text(start, y, w, 7, word(key, self.lang), size=10.5, bold=True)
        self.pdf.set_draw_color(*self.RULE)
        self.pdf.line(self._x(start, 0), y + 7.5, self._x(start + w, 0), y + 7.5)
        return y + 10

    def _wait_by_hour(self, origin, y, width) -> float:
        rows = {int(r["key"]): r for r in (self.report.get("visits") or {}).get("by_hour") or []}
        y = self._half_section(origin, y, width, "wait_by_hour")
        if not rows:
            self._text(origin, y, width, 6, word("no_tickets", self.lang), size=9,
                       color=self.MUTED)
            return y + 10
        hours = list(range(min(rows), max(rows) + 1))
        values = [_minutes(((rows.get(h) or {}).get("wait_s") or {}).get("mean")) or 0.0
                  for h in hours]
        top, chart_h = y + 5, 36.0
        biggest = max(values) or 1.0
        slot = width / len(hours)
        bar_w = min(slot * 0.7, 10)
        base = top + chart_h
        self.pdf.set_draw_color(*self.RULE)
        self.pdf.line(self._x(origin, 0), base, self._x(origin + width, 0), base)
        for i, (hour, value) in enumerate(zip(hours, values)):
            start = origin + i * slot + (slot - bar_w) / 2
            bar_h = chart_h * value / biggest
            if bar_h > 0:
                self.pdf.set_fill_color(*self.BAR)
                self.pdf.rect(self._x(start, bar_w), base - bar_h, bar_w, bar_h, style="F")
            centre = origin + i * slot
            if value:
                self._text(centre, base - bar_h - 4.2, slot, 4, self._num(value, 1),
                           align="center", size=6.5)
            self._text(centre, base + 0.8, slot, 4,
                       format_number(f"{hour:02d}", self.lang, self.digits), align="center",
                       size=6.5, color=self.MUTED)
        return base + 6

    def _volume_by_service(self, origin, y, width, rows) -> float:
        y = self._half_section(origin, y, width, "volume_by_service")
        if not rows:
            self._text(origin, y, width, 6, word("no_tickets", self.lang), size=9,
                       color=self.MUTED)
            return y + 10
        label_w, value_w = width * 0.48, 9.0
        h = min(6.0, 44.0 / len(rows))
        biggest = max(r["tickets"] for r in rows)
        span = width - label_w - value_w - 1.5
        y += 2
        for r in rows:
            self._text(origin, y, label_w - 1.5, h,
                       _label(self.labels, "service", r["key"], self.lang), size=7.5)
            bar = span * r["tickets"] / biggest
            self.pdf.set_fill_color(*self.BAR)
            self.pdf.rect(self._x(origin + label_w, bar), y + 0.8, bar, h - 1.6, style="F")
            self._text(origin + label_w + bar + 1, y, value_w, h, self._num(r["tickets"]),
                       size=7.5)
            y += h
        return y

    def _service_table(self, y) -> None:
        rows = (self.report.get("visits") or {}).get("by_service") or []
        if not rows:
            return
        w = lambda k: word(k, self.lang)
        columns = [(w("service"), 42.0), (w("tickets"), 15.0), (w("served"), 15.0),
                   (w("no_show"), 16.0), (w("wait_mean"), 19.0), (w("wait_median"), 19.0),
                   (w("wait_p90"), 21.0), (w("within_target"), 20.0)]
        columns.append((w("rating_short"), self.width - sum(c for _, c in columns)))
        y = self._room(y, 40)
        y = self._section(y, "per_service")

        def header(y):
            start = 0.0
            self.pdf.set_fill_color(*self.SHADE)
            self.pdf.rect(self.MARGIN, y, self.width, 11, style="F")
            for title, cw in columns:
                self._font(7, bold=True, color=self.MUTED)
                self._shape_for(title)
                self.pdf.set_font(self._family(title), "B", 7)
                self.pdf.set_xy(self._x(start, cw), y + 0.5)
                self.pdf.multi_cell(cw, 3.4, title, align="C", max_line_height=3.4)
                start += cw
            return y + 12

        y = header(y)
        for r in rows:
            if y + 7 > self.pdf.h - self.MARGIN - 8:
                self.pdf.add_page()
                y = header(self.MARGIN)
            wait = r.get("wait_s") or {}
            rating = (r.get("rating") or {}).get("mean")
            cells = [_label(self.labels, "service", r["key"], self.lang),
                     self._num(r.get("tickets", 0)), self._num(r.get("served", 0)),
                     self._num(r.get("no_show", 0)),
                     *(self._num(_minutes(wait.get(s)), 1) for s in _STAT),
                     self._share(r.get("within_target")), self._num(_tenth(rating), 1)]
            start = 0.0
            for i, ((_, cw), text) in enumerate(zip(columns, cells)):
                self._text(start + (1 if i == 0 else 0), y, cw - 1, 6.5, text,
                           align="start" if i == 0 else "center", size=8)
                start += cw
            self.pdf.set_draw_color(*self.RULE)
            self.pdf.line(self.MARGIN, y + 6.8, self.pdf.w - self.MARGIN, y + 6.8)
            y += 7
