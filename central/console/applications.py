"""The officer's applications: the list awaiting a decision (filters as query parameters;
a search by number, national ID or name only as a POST, so nothing personal reaches a URL
or a log), an application's whole page, and the decision (approve with conditions or
reject with a reason) through Central.decide, audited.

Its supporting documents (central/documents.py holds them): beside the fields, each document
type the service asks for with its pages (thumbnails; static/documents.js opens the viewer)
and its requests; the page images at /applications/{number}/documents/{sha256}, served only
to whoever may open the application page (another municipality's: 404) and only for a page
of that application; "Ask for a document" (officers, audited). Approving is refused while a
required document type has no page central has received; rejecting stays possible.

Central.decide itself refuses control characters and lengths; the console also refuses the
bidirectional overrides, embeddings and isolates (U+202A-202E, U+2066-2069, LRM/RLM/ALM) in
a reason or conditions: they are printed on the licence and shown to the resident, where
they could make the line read otherwise than it was typed."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from central.backoffice import BackOffice
from central.documents import MAX_NOTE, Documents
from central.service import CentralError
from central.staff import Person
from core.catalog import fee_text, parse_service
from core.clock import parse_iso
from core.errors import NafithaError
from core.text import BIDI_CONTROLS

from . import i18n
from .web import (audit, console, form, page, redirect, refusal, render, require,
                  not_found, visible)

# Central does not know each office's time zone; Nafitha's offices default to Bahrain's
# (core/settings.py, office.timezone), so times are shown as the office reads its clock.
OFFICE_TZ = ZoneInfo("Asia/Bahrain")
PAGE_SIZE = 50
OPEN_STATES = ("submitted", "paid")
MAX_CONDITIONS, MAX_REASON = 300, 500
SHA256_HEX = frozenset("0123456789abcdef")
MONTHS = {
    "ar": ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر",
           "أكتوبر", "نوفمبر", "ديسمبر"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")}
CURRENCY_AR = {"BHD": "د.ب", "KWD": "د.ك", "OMR": "ر.ع", "JOD": "د.أ", "SAR": "ر.س",
               "AED": "د.إ", "QAR": "ر.ق"}


# --- shown in the office's terms (also used by licences.py) -----------------------------------
def when(text: str | None, lang: str, with_time: bool = True) -> str:
    """An ISO time as the office reads it: "24 Nov 2026, 11:00" / "24 نوفمبر 2026، 11:00"."""
    if not text:
        return "—"
    try:
        moment = parse_iso(text).astimezone(OFFICE_TZ)
    except (ValueError, OverflowError):
        return str(text)[:16]
    day = f"{moment.day} {MONTHS[lang][moment.month - 1]} {moment.year}"
    if not with_time:
        return day
    return f"{day}{'، ' if lang == 'ar' else ', '}{moment:%H:%M}"


def money(minor: int | None, currency: str | None, lang: str) -> str:
    if minor is None or not currency:
        return "—"
    try:
        amount = fee_text(minor, currency)
    except (KeyError, ValueError):
        amount = str(minor)
    return f"{amount} {CURRENCY_AR.get(currency, currency) if lang == 'ar' else currency}"


def days(n: int, lang: str) -> str:
    """A waiting time in whole days, with Arabic's dual and plural forms."""
    key = "0" if n <= 0 else "1" if n == 1 else "2" if n == 2 else \
        "few" if n <= 10 else "many"
    return i18n.t(f"apps.days.{key}", lang, n=n)


def services_by_code(request: Request) -> dict:
    try:
        return {s["code"]: s for s in console(request).central.services()}
    except CentralError:
        return {}


def service_name(services: dict, code: str, lang: str) -> str:
    name = (services.get(code) or {}).get("name")
    return name.get(lang) or code if isinstance(name, dict) else code


def _helpers(request: Request, person: Person) -> dict:
    lang = person.language
    services = services_by_code(request)
    return {"when": lambda text, with_time=True: when(text, lang, with_time),
            "money": lambda minor, currency: money(minor, currency, lang),
            "days": lambda n: days(n, lang),
            "service_name": lambda code: service_name(services, code, lang),
            "services": services, "STATE_KEYS": i18n.STRINGS}


def backoffice(request: Request) -> BackOffice:
    return BackOffice(console(request).central)


def one_line(text: str, limit: int) -> bool:
    """Text a resident may be shown: one line, no control or direction characters."""
    return len(text) <= limit and not any(ord(c) < 32 or 0x7f <= ord(c) < 0xa0 or
                                          c in BIDI_CONTROLS for c in text)


def scope_label(request: Request, person: Person) -> str:
    if person.municipality is None:
        return i18n.t("header.national", person.language)
    names = {m["code"]: m for m in console(request).staff.municipalities()}
    found = names.get(person.municipality)
    name = (found or {}).get("name_ar" if person.language == "ar" else "name_en")
    return f"{name} ({person.municipality})" if name else person.municipality


# --- the list ------------------------------------------------------------------------------------
def _filters(query) -> tuple[dict, str]:
    """The list's filters from the query string ({} values None) and a problem text key."""
    office = (query.get("office") or "").strip().upper() or None
    service = (query.get("service") or "").strip() or None
    older = (query.get("older") or "").strip()
    problem = ""
    days = None
    if older:
        if older.isascii() and older.isdigit() and len(older) <= 4:
            days = int(older)
        else:
            problem = "apps.bad_age"
    after = query.get("after") or None
    return {"office": office, "service": service, "older": days, "older_text": older,
            "after": after}, problem


def _list_page(request: Request, person: Person, filters: dict, search: str = "",
               status_code: int = 200, error: str = ""):
    items, next_cursor = [], None
    if not error:
        try:
            found = backoffice(request).awaiting(
                person.municipality, office=filters["office"], service=filters["service"],
                older_than_days=filters["older"], search=search or None, limit=PAGE_SIZE,
                after=filters["after"])
            items, next_cursor = found["items"], found["next"]
        except CentralError as exc:
            status_code, error = exc.status if exc.status != 404 else 422, \
                refusal(person, exc)
    query = {k: v for k, v in (("office", filters["office"]), ("service", filters["service"]),
                               ("older", filters["older_text"])) if v}
    return render(request, person, "applications.html", status_code=status_code, error=error,
                  items=items, next_cursor=next_cursor, filters=filters, query=query,
                  search=search, searched=bool(search),
                  offices=[o["code"] for o in console(request).staff.offices(person)],
                  scope=scope_label(request, person), **_helpers(request, person))


@page("/applications")
def applications(request: Request, person: Person = require("read")):
    filters, problem = _filters(request.query_params)
    error = i18n.t(problem, person.language) if problem else ""
    return _list_page(request, person, filters, status_code=422 if error else 200,
                      error=error)


@page("/applications", methods=("POST",))
async def applications_search(request: Request, person: Person = require("read")):
    """A search by number, national ID or name: the results page answers this POST."""
    fields = await form(request, person)
    filters = {"office": None, "service": None, "older": None, "older_text": "",
               "after": fields.get("after") or None}
    response = await run_in_threadpool(_list_page, request, person, filters,
                                       fields.get("search", "").strip())
    response.headers["Cache-Control"] = "no-store"
    return response


# --- one application ---------------------------------------------------------------------------
def _application(request: Request, person: Person, number: str) -> dict:
    return visible(person, backoffice(request).application, number)


def _fields(app: dict, services: dict, lang: str) -> list[tuple[str, str]]:
    """(label, value) for each field: the catalogue's label and option labels where it has
    them, otherwise the field's key."""
    values = app["fields"]
    if not isinstance(values, dict):
        return []
    known = {f["key"]: f for f in (services.get(app["service"]) or {}).get("fields", [])
             if isinstance(f, dict) and "key" in f}
    order = [k for k in known if k in values] + [k for k in values if k not in known]
    out = []
    for key in order:
        spec, value = known.get(key, {}), values[key]
        label = (spec.get("label") or {}).get(lang) or key
        for option in spec.get("options") or []:
            if isinstance(option, dict) and option.get("value") == value:
                value = (option.get("label") or option).get(lang) or value
        out.append((label, "" if value is None else str(value)))
    return out


# --- its supporting documents -------------------------------------------------------------------
def documents(request: Request) -> Documents:
    return Documents(console(request).central)


def asked_documents(services: dict, code: str) -> list:
    """The document types (core.catalog DocumentType: key, ar, en, required) the service
    asks for, read by the catalogue's own loader; [] for a service central does not hold."""
    raw = services.get(code)
    if not isinstance(raw, dict):
        return []
    try:
        return list(parse_service({k: v for k, v in raw.items() if k != "version"},
                                  "central").documents)
    except NafithaError:
        return []


def _staff_names(request: Request) -> dict:
    return {s["username"]: s["full_name"] for s in console(request).staff.list()}


def _documents_view(request: Request, app: dict, services: dict, lang: str) -> list[dict]:
    """Each document type the service asks for, with its pages (received or only named by
    an event so far; each received page's place in the viewer's order) and its requests,
    then any pages of a type the service no longer asks for."""
    store = documents(request)
    pages, requests = store.pages(app["id"]), store.requests(app["id"])
    names = _staff_names(request) if requests else {}
    kinds = [{"key": d.key, "name": d.get(lang), "required": d.required, "asked": True}
             for d in asked_documents(services, app["service"])]
    known = {k["key"] for k in kinds}
    kinds += [{"key": key, "name": key, "required": False, "asked": False}
              for key in dict.fromkeys(p["doc_key"] for p in pages) if key not in known]
    base = f"/console/applications/{app['number']}/documents/"
    index, out = 0, []
    for kind in kinds:
        shown = []
        for p in sorted((p for p in pages if p["doc_key"] == kind["key"]),
                        key=lambda p: p["page"]):
            received = bool(p.get("received"))
            shown.append({"page": p["page"], "sha256": p["sha256"], "received": received,
                          "url": base + p["sha256"], "index": index if received else None})
            index += received
        asked = [{**r, "by_name": names.get(r["requested_by"]) or r["requested_by"]}
                 for r in requests if r["doc_key"] == kind["key"]]
        out.append({**kind, "pages": shown, "requests": asked,
                    "received": any(p["received"] for p in shown)})
    return out


def _missing_required(docs: list[dict]) -> list[dict]:
    return [d for d in docs if d["required"] and not d["received"]]


def _application_page(request: Request, person: Person, number: str, status_code: int = 200,
                      error: str = "", entered: dict | None = None, done: str = "",
                      doc_error: str = "", ask_entered: dict | None = None, asked: bool = False):
    app = _application(request, person, number)
    helpers = _helpers(request, person)
    can_decide = person.can("decide") and app["issue_mode"] == "review" and \
        app["state"] in OPEN_STATES and app["decision"] is None
    docs = _documents_view(request, app, helpers["services"], person.language)
    return render(request, person, "application.html", status_code=status_code, error=error,
                  app=app, fields=_fields(app, helpers["services"], person.language),
                  can_decide=can_decide, entered=entered or {}, done=done,
                  max_conditions=MAX_CONDITIONS, max_reason=MAX_REASON,
                  documents=docs, asked_types=[d for d in docs if d["asked"]],
                  viewer_pages=sum(p["received"] for d in docs for p in d["pages"]),
                  can_ask=person.can("decide") and app["state"] in OPEN_STATES and
                  app["decision"] is None,
                  max_note=MAX_NOTE, doc_error=doc_error, ask_entered=ask_entered or {},
                  asked=asked, **helpers)


@page("/applications/{number}")
def application(request: Request, number: str, person: Person = require("read")):
    done = request.query_params.get("done")
    return _application_page(request, person, number,
                             done=done if done in ("approved", "rejected") else "",
                             asked=request.query_params.get("asked") == "1")


@page("/applications/{number}/documents/{sha256}")
def document_page(request: Request, number: str, sha256: str,
                  person: Person = require("read")):
    """One page image of this application: for whoever may open the application page, only
    a page of this application, only once central holds it (else 404, as if absent)."""
    app = _application(request, person, number)  # 404 for another municipality's
    if len(sha256) != 64 or not set(sha256) <= SHA256_HEX:
        raise not_found(person)
    store = documents(request)
    found = next((p for p in store.pages(app["id"]) if p["sha256"] == sha256
                  and p["received"]), None)
    if found is None:
        raise not_found(person)
    try:
        data = store.read(sha256, app["id"])
    except CentralError as exc:
        if exc.status == 404:
            raise not_found(person) from None
        raise
    return Response(data, media_type=found["media_type"], headers={
        "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})


@page("/applications/{number}/documents/requests", methods=("POST",))
async def ask_for_document(request: Request, number: str, person: Person = require("decide")):
    """Ask the office for a document the service asks for (a missing or unreadable one)."""
    fields = await form(request, person)
    app = await run_in_threadpool(_application, request, person, number)  # 404 if not theirs
    lang = person.language
    doc_key = fields.get("doc_key", "")
    note = fields.get("note", "").strip()
    entered = {"doc_key": doc_key, "note": note}
    problem, status = "", 422
    # Which documents the service asks for, whether it is still open: Documents.request's
    # own checks (its refusals are shown in the person's language). The console adds the
    # text rule it applies to every line a resident or a clerk is shown.
    if not one_line(note, MAX_NOTE):
        problem = i18n.t("docs.bad_note", lang, limit=MAX_NOTE)
    else:
        try:
            made = await run_in_threadpool(documents(request).request, app["id"], doc_key,
                                           note or None, person.username)
        except CentralError as exc:
            problem, status = refusal(person, exc), exc.status
    if problem:
        return await run_in_threadpool(_application_page, request, person, number, status,
                                       "", None, "", problem, entered)
    _, municipality = await run_in_threadpool(console(request).staff.municipality_of,
                                              "application", app["number"])
    await run_in_threadpool(
        audit, request, person, "application.document_request", "application", app["number"],
        municipality, {"office": app["office"], "doc_key": doc_key, "request": made["id"],
                       "with_note": bool(note)})
    return redirect(f"/console/applications/{app['number']}?asked=1#documents")


def _check_decision(person: Person, app: dict, choice: str, text: str,
                    missing: list[str] = ()) -> str | None:
    """Why the console refuses this decision before asking central (None: ask central).
    missing: the names of the required document types with no received page (approving
    waits for them; rejecting does not)."""
    lang = person.language
    if app["decision"] is not None:
        return i18n.t("apps.already_decided", lang,
                      at=when(app["decision"]["decided_at"], lang))
    if app["state"] not in OPEN_STATES:
        return i18n.t("apps.not_open", lang, state=i18n.t(f"apps.state.{app['state']}", lang)
                      if f"apps.state.{app['state']}" in i18n.STRINGS else app["state"])
    if choice == "rejected" and not text:
        return i18n.t("error.reason_required", lang)
    limit = MAX_CONDITIONS if choice == "approved" else MAX_REASON
    if not one_line(text, limit):
        return i18n.t("apps.bad_text", lang, limit=limit)
    if choice == "approved" and missing:
        return i18n.t("docs.missing_required", lang,
                      names="، ".join(missing) if lang == "ar" else ", ".join(missing))
    return None


@page("/applications/{number}/decision", methods=("POST",))
async def decide(request: Request, number: str, person: Person = require("decide")):
    fields = await form(request, person)
    app = await run_in_threadpool(_application, request, person, number)  # 404 if not theirs
    choice = {"approve": "approved", "reject": "rejected"}.get(fields.get("decision", ""))
    if choice is None:
        return await run_in_threadpool(_application_page, request, person, number, 422,
                                       i18n.t("apps.bad_decision", person.language))
    text = fields.get("conditions" if choice == "approved" else "reason", "").strip()
    entered = {"conditions" if choice == "approved" else "reason": text}
    missing = []
    if choice == "approved":
        services = await run_in_threadpool(services_by_code, request)
        docs = await run_in_threadpool(_documents_view, request, app, services,
                                       person.language)
        missing = [d["name"] for d in _missing_required(docs)]
    problem = _check_decision(person, app, choice, text, missing)
    if problem:
        status = 409 if app["decision"] is not None or app["state"] not in OPEN_STATES \
            else 422
        return await run_in_threadpool(_application_page, request, person, number, status,
                                       problem, entered)
    central = console(request).central
    try:
        if choice == "approved":
            await run_in_threadpool(central.decide, app["number"], "approved", None,
                                    text or None, person.username)
        else:
            await run_in_threadpool(central.decide, app["number"], "rejected", text, None,
                                    person.username)
    except CentralError as exc:
        return await run_in_threadpool(_application_page, request, person, number,
                                       exc.status, refusal(person, exc), entered)
    _, municipality = await run_in_threadpool(console(request).staff.municipality_of,
                                              "application", app["number"])
    await run_in_threadpool(
        audit, request, person, "application.approve" if choice == "approved" else
        "application.reject", "application", app["number"], municipality,
        {"office": app["office"], "service": app["service"],
         **({"with_conditions": bool(text)} if choice == "approved" else {})})
    return redirect(f"/console/applications/{app['number']}?done={choice}")
