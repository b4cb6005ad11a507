"""The finance pages (docs/bills.md, "Finance: reconciliation and revenue"), for the finance
role and admins (permission "fees"; anyone else gets the 403 page):

- Reconciliation: a day (UTC; yesterday by default), the network's settlement file for it
  uploaded (multipart, with the CSRF token) through Bills.import_settlement, and the
  differences Bills.reconcile finds, each kind in words. A refused file is named in plain
  words and nothing of it is kept. The file covers every municipality, so only national
  staff upload it; municipal staff see the differences for their own offices' bills.
- Revenue: a range of days and an office, central/revenue.py's table by channel with
  totals, and the refunds due apart.

Amounts are shown as money (applications.money); no resident's name or ID is on either page,
and nothing but days and an office code reaches a URL."""
from __future__ import annotations

from datetime import date, timedelta

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from central.bills import SETTLEMENT_HEADER
from central.revenue import revenue
from central.service import CentralError
from central.staff import Person
from core.clock import parse_iso

from . import i18n
from .applications import MONTHS, money
from .web import audit, console, form, page, redirect, render, require

# central/app.py's HttpPolicy refuses a body over this before the route reads it (a day's
# file of the busiest network is some 100 bytes a line, tens of thousands of lines).
UPLOAD_PATH = "/console/finance/reconciliation"
UPLOAD_LIMIT = 8 * 1024 * 1024
FILE_LIMIT = UPLOAD_LIMIT - 2048  # the form's other fields and the multipart boundaries
# Bills.import_settlement's refusals a line's number goes with; a bill number's own codes
# (bad_check_digit, malformed, ...) are "the bill number is not valid".
FILE_PROBLEMS = ("bad_header", "empty_file", "too_many_lines", "bad_line", "invalid_amount",
                 "invalid_time", "mixed_dates", "already_imported")
RANGE_PROBLEMS = ("invalid_date", "invalid_range", "range_too_long", "unknown_office")
REVENUE_DAYS = 7  # the revenue page opens on the last week


def day_text(text: str, lang: str) -> str:
    """"2026-11-24" -> "24 Nov 2026" / "24 نوفمبر 2026" (a UTC day as it is)."""
    try:
        day = date.fromisoformat(text)
    except (TypeError, ValueError):
        return str(text)
    return f"{day.day} {MONTHS[lang][day.month - 1]} {day.year}"


def _today(request: Request) -> date:
    return parse_iso(console(request).central.now()).date()


def _currency(request: Request) -> str:
    """A national network settles in the country's currency: the catalogue's."""
    try:
        services = console(request).central.services()
    except CentralError:
        services = []
    return next((s["fee"]["currency"] for s in services
                 if isinstance(s.get("fee"), dict) and s["fee"].get("currency")), "BHD")


def _helpers(request: Request, person: Person) -> dict:
    lang, currency = person.language, _currency(request)
    return {"money": lambda minor, cur=None: money(minor, cur or currency, lang),
            "day_text": lambda text: day_text(text, lang), "REASONS": i18n.STRINGS}


def _file_day(text: str) -> str:
    """The day a settlement file's first line is for (what a refusal names)."""
    lines = text.lstrip("\ufeff").splitlines()
    return lines[1].split(",", 1)[0].strip()[:10] if len(lines) > 1 else ""


def _file_problem(exc: CentralError, text: str, lang: str) -> str:
    line = exc.details.get("line")
    if exc.code in FILE_PROBLEMS:
        key = f"fin.error.{exc.code}"
    elif line is not None:
        key = "fin.error.bad_bill"
    else:
        return exc.message
    return i18n.t(key, lang, line=line, date=_file_day(text))


def _offices(request: Request, person: Person) -> list[str]:
    return [o["code"] for o in console(request).staff.offices(person)]


# --- reconciliation ----------------------------------------------------------------------------
def _reconciliation(request: Request, person: Person, day: str, status_code: int = 200,
                    error: str = "", imported: bool = False):
    lang = person.language
    report = None
    try:
        report = console(request).central.bills.reconcile(day)
    except CentralError:
        if not error:
            error, status_code = i18n.t("fin.error.invalid_date", lang), 422
    differences = []
    if report is not None:
        mine = None if person.municipality is None else set(_offices(request, person))
        differences = [d for d in report["differences"]
                       if mine is None or d["bill_number"].split("-", 1)[0] in mine]
    return render(request, person, "finance_reconciliation.html", status_code=status_code,
                  error=error, day=day, report=report, differences=differences,
                  imported=imported, can_upload=person.municipality is None,
                  header=SETTLEMENT_HEADER, kb=UPLOAD_LIMIT // 1024, tab="reconciliation",
                  **_helpers(request, person))


@page("/finance")
def finance(request: Request, person: Person = require("fees")):
    return redirect("/console/finance/reconciliation")


@page("/finance/reconciliation")
def reconciliation(request: Request, person: Person = require("fees")):
    day = request.query_params.get("date") or (_today(request) - timedelta(days=1)).isoformat()
    return _reconciliation(request, person, day,
                           imported=request.query_params.get("imported") == "1")


@page("/finance/reconciliation", methods=("POST",))
async def upload_settlement(request: Request, person: Person = require("fees")):
    fields = await form(request, person)  # 403 unless the csrf field matches
    day = fields.get("date", "")
    lang = person.language
    if person.municipality is not None:
        return await run_in_threadpool(_reconciliation, request, person, day, 403,
                                       i18n.t("fin.national_upload", lang))
    upload = (await request.form()).get("file")  # Starlette keeps the form it parsed
    data = await upload.read(FILE_LIMIT + 1) if hasattr(upload, "read") else b""
    problem, status = "", 422
    if not data:
        problem = i18n.t("fin.error.choose_file", lang)
    elif len(data) > FILE_LIMIT:
        problem, status = i18n.t("fin.error.too_large", lang, kb=UPLOAD_LIMIT // 1024), 413
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            problem = i18n.t("fin.error.not_text", lang)
    if problem:
        return await run_in_threadpool(_reconciliation, request, person, day, status, problem)
    try:
        done = await run_in_threadpool(console(request).central.bills.import_settlement, text)
    except CentralError as exc:
        return await run_in_threadpool(_reconciliation, request, person, day, exc.status,
                                       _file_problem(exc, text, lang))
    await run_in_threadpool(audit, request, person, "settlement.import", "settlement",
                            done["date"], None, {k: done[k] for k in (
                                "lines", "duplicate_lines", "unknown_bills")})
    return redirect(f"/console/finance/reconciliation?date={done['date']}&imported=1")


# --- revenue -----------------------------------------------------------------------------------
@page("/finance/revenue")
def revenue_page(request: Request, person: Person = require("fees")):
    query, lang = request.query_params, person.language
    today = _today(request)
    first = query.get("from") or (today - timedelta(days=REVENUE_DAYS - 1)).isoformat()
    last = query.get("to") or (first if query.get("from") else today.isoformat())
    office = (query.get("office") or "").strip().upper() or None
    report, error, status_code = None, "", 200
    try:
        report = revenue(console(request).central, first, last, office=office,
                         municipality=person.municipality)
    except CentralError as exc:
        status_code = 422
        error = i18n.t(f"fin.error.{exc.code}", lang) if exc.code in RANGE_PROBLEMS \
            else i18n.t("fin.error.unknown_office", lang)
    return render(request, person, "finance_revenue.html", status_code=status_code,
                  error=error, report=report, first=first, last=last, office=office or "",
                  offices=_offices(request, person), tab="revenue",
                  **_helpers(request, person))
