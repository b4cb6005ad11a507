"""The reports across offices and the monthly open data (docs/console/reports.md,
docs/open-data.md).

- /console/reports: a period (day, week from Sunday, month, or a range of at most 366 days),
  a municipality (national staff only: municipal staff always get their own, server-side),
  offices and a service; the figures of core.kpis.report over central's facts
  (central/reports.py) as headline numbers, charts (the shared Chart.js script, mounted at
  /console/shared/) and the tables core.report_files makes, the same tables the CSV and
  XLSX downloads hold. Every role reads it; downloads need `reports_export` (operations,
  finance, auditor, admin). A bad choice (a backwards or too long range, an unknown office or
  service, another municipality's office) is a 422 page saying what is wrong; nothing is
  computed or written.
- /console/open-data: the month's anonymised files (central/open_data.py) for the offices
  the person sees, checked against their own dictionary, and their downloads (permission
  `open_data`: operations and admin). Each download is in the console audit log.

Only codes, days and a month reach a URL: no personal data."""
from __future__ import annotations

import csv
import io
from datetime import date

from fastapi import Request
from fastapi.responses import Response

import core.report_files as report_files  # noqa: PLR0402  (tests/test_layering.py reads it)
from central import open_data
from central import reports as figures
from central.service import CentralError
from central.staff import Person
from core.errors import ValidationError
from core.kpis import Period

from . import i18n
from .finance import day_text
from .web import PageError, audit, console, page, render, require

KINDS = ("day", "week", "month", "range")
# The tables shown, in this order (core.report_files.tables' keys); each only when it has rows.
SHOWN = ("visits_by_office", "visits_by_service", "visits_by_day", "visits_by_hour",
         "visits_by_channel", "visits_by_counter", "visits_by_clerk",
         "applications_by_service", "licences_by_service", "revenue_by_service",
         "revenue_by_method", "revenue_by_channel", "staff_time_by_clerk")
PROBLEMS = ("backwards_range", "range_too_long", "not_a_date", "not_a_month", "unknown_kind",
            "unknown_office", "unknown_service", "unknown_municipality")
MEDIA = {"csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
OPEN_DATA_MEDIA = {open_data.CSV_FILE: "text/csv; charset=utf-8",
                   open_data.JSON_FILE: "application/json", open_data.SCHEMA_FILE:
                   "application/json", open_data.PACKAGE_FILE: "application/json"}


def _today(request: Request) -> date:
    central = console(request).central
    return central.clock.now().astimezone(figures.zone(None)).date()


def _period(query, today: date) -> Period:
    kind = query.get("period") or "month"
    if kind not in KINDS:
        raise ValidationError("period: day, week, month or range", field="period",
                              reason="unknown_kind")
    if kind == "month":
        text = query.get("month") or today.strftime("%Y-%m")
        try:
            year, month = (int(part) for part in text.split("-"))
        except ValueError:
            raise ValidationError("month: YYYY-MM", field="month",
                                  reason="not_a_month") from None
        return Period.month(year, month)
    if kind == "range":
        first = query.get("from") or today.replace(day=1).isoformat()
        return Period.parse(first, query.get("to") or today.isoformat())
    day = query.get("date") or today.isoformat()
    return Period.day(day) if kind == "day" else Period.week(day)


def _problem(exc, lang: str) -> str:
    """A refused choice in the person's words (its code or reason names them)."""
    reason = exc.code if isinstance(exc, CentralError) else exc.details.get("reason")
    if reason in PROBLEMS:
        return i18n.t(f"rep.error.{reason}", lang, office=exc.details.get("office", ""))
    return exc.message


def _cell(value, kind: str, lang: str) -> str:
    if value is None:
        return "—"
    if kind == "share":
        return f"{value * 100:.1f}%" if lang == "en" else f"{value * 100:.1f}٪"
    if kind in ("minutes", "rating"):
        return f"{value:.1f}"
    return str(value)


def _shown_tables(report: dict, labels: dict, lang: str) -> list[dict]:
    made = {t.key: t for t in report_files.tables(report, labels, lang)}
    out = []
    for key in SHOWN:
        table = made.get(key)
        if table is None or not table.rows:
            continue
        kinds = [c.kind for c in table.columns]
        out.append({"key": key, "title": table.title,
                    "columns": [c.title for c in table.columns],
                    "numeric": [k not in ("text",) for k in kinds],
                    "rows": [[_cell(v, k, lang) for v, k in zip(row, kinds)]
                             for row in table.rows]})
    return out


def _choices(request: Request, person: Person) -> dict:
    """What the form offers: municipalities (national staff), offices seen, services."""
    staff = console(request).staff
    seen = staff.offices(person)
    return {"municipalities": [] if person.municipality else
            [m["code"] for m in staff.municipalities()],
            "offices": [o["code"] for o in seen],
            "services": figures.service_labels(console(request).central)}


def _compute(request: Request, person: Person):
    """(report, error text, status) for the query's choices."""
    query, lang = request.query_params, person.language
    try:
        period = _period(query, _today(request))
        report = figures.report(console(request).central, period,
                                person_municipality=person.municipality,
                                municipality=query.get("municipality"),
                                offices=query.getlist("office"),
                                services=[s for s in query.getlist("service") if s] or None)
        return report, "", 200
    except (ValidationError, CentralError) as exc:
        return None, _problem(exc, lang), 422


@page("/reports")
def reports_page(request: Request, person: Person = require("read")):
    lang, query = person.language, request.query_params
    today = _today(request)
    report, error, status = _compute(request, person)
    choices = _choices(request, person)
    labels = figures.labels(console(request).central, choices["offices"])
    tables = _shown_tables(report, labels, lang) if report else []
    chart_data = {"report": report, "labels": labels, "lang": lang} if report else None
    return render(request, person, "reports.html", status_code=status, error=error,
                  report=report, tables=tables, chart_data=chart_data, kinds=KINDS,
                  kind=query.get("period") or "month",
                  date=query.get("date") or today.isoformat(),
                  month=query.get("month") or today.strftime("%Y-%m"),
                  first=query.get("from") or today.replace(day=1).isoformat(),
                  last=query.get("to") or today.isoformat(),
                  municipality=(query.get("municipality") or "").upper(),
                  chosen_offices=[o.upper() for o in query.getlist("office")],
                  service=query.get("service") or "", query=str(request.url.query),
                  can_export=person.can("reports_export"), day_text=lambda d: day_text(d, lang),
                  **choices)


@page("/reports/export.{fmt}")
def export_report(request: Request, fmt: str, person: Person = require("reports_export")):
    if fmt not in MEDIA:
        raise PageError(404, "error.not_found", person)
    report, error, status = _compute(request, person)
    if report is None:
        raise PageError(status, "", person, error)
    lang = person.language
    labels = figures.labels(console(request).central, report["offices"])
    body = report_files.report_csv(report, labels, lang) if fmt == "csv" \
        else report_files.report_xlsx(report, labels, lang)
    period = report["period"]
    audit(request, person, "report.export", "report", f"{period['from']}..{period['to']}",
          report.get("municipality"), {"format": fmt, "offices": report["offices"],
                                       "kind": period["kind"]})
    name = f"nafitha-report-{period['from']}-{period['to']}.{fmt}"
    return Response(body, media_type=MEDIA[fmt], headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


# --- open data -----------------------------------------------------------------------------------
def _last_month(today: date) -> str:
    return (date(today.year - 1, 12, 1) if today.month == 1
            else date(today.year, today.month - 1, 1)).strftime("%Y-%m")


def _open_data(request: Request, person: Person, month: str):
    try:
        files = open_data.export(console(request).central, month,
                                 person_municipality=person.municipality)
        return files, "", 200
    except CentralError as exc:
        key = f"od.error.{exc.code}"
        return None, (i18n.t(key, person.language) if key in i18n.STRINGS
                      else exc.message), exc.status


@page("/open-data")
def open_data_page(request: Request, person: Person = require("open_data")):
    month = request.query_params.get("month") or _last_month(_today(request))
    files, error, status = _open_data(request, person, month)
    rows, suppressed = [], 0
    if files:
        rows = list(csv.DictReader(io.StringIO(files[open_data.CSV_FILE].decode("utf-8"))))
        suppressed = sum(len(r[open_data.FLAG].split()) for r in rows)
    return render(request, person, "open_data.html", status_code=status, error=error,
                  month=month, files=files, rows=rows[:20], count=len(rows),
                  suppressed=suppressed, fields=open_data.FIELD_NAMES,
                  threshold=open_data.min_count(), names=list(open_data.FILES))


@page("/open-data/{month}/{name}")
def open_data_file(request: Request, month: str, name: str,
                   person: Person = require("open_data")):
    if name not in (*open_data.FILES, "all.zip"):
        raise PageError(404, "od.error.unknown_file", person)
    files, error, status = _open_data(request, person, month)
    if files is None:
        raise PageError(status, "", person, error)
    body = open_data.as_zip(files, month) if name == "all.zip" else files[name]
    audit(request, person, "open_data.download", "open_data", f"{month}/{name}",
          person.municipality, {"bytes": len(body)})
    media = "application/zip" if name == "all.zip" else OPEN_DATA_MEDIA[name]
    filename = f"nafitha-open-data-{month}.zip" if name == "all.zip" else \
        f"nafitha-{month}-{name}"
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})
