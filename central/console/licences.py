"""The officer's licences: the list (status filter as a query parameter; a search by licence
or application number as a POST), a licence's page, and its revocation through
Central.revoke_licence, audited. Another municipality's licence is "not found"."""
from __future__ import annotations

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from central.service import CentralError
from central.staff import Person

from . import i18n
from .applications import _helpers, backoffice, one_line, scope_label
from .web import (audit, console, form, page, redirect, refusal, render, require,
                  visible)

PAGE_SIZE = 50
STATUSES = ("valid", "revoked", "expired")
MAX_REASON = 500


def licence_types(services: dict) -> dict:
    """{licence type: the service code that issues it} from the catalogue."""
    return {s.get("licence_type"): code for code, s in services.items()
            if s.get("licence_type")}


def _list_page(request: Request, person: Person, status: str | None, after: str | None,
               search: str = "", status_code: int = 200, error: str = ""):
    items, next_cursor = [], None
    if not error:
        try:
            found = backoffice(request).licences(person.municipality, search=search or None,
                                                 status=status, limit=PAGE_SIZE, after=after)
            items, next_cursor = found["items"], found["next"]
        except CentralError as exc:
            status_code, error = exc.status if exc.status != 404 else 422, \
                refusal(person, exc)
    helpers = _helpers(request, person)
    return render(request, person, "licences.html", status_code=status_code, error=error,
                  items=items, next_cursor=next_cursor, status=status or "",
                  statuses=STATUSES, search=search, searched=bool(search),
                  types=licence_types(helpers["services"]),
                  scope=scope_label(request, person), **helpers)


@page("/licences")
def licences(request: Request, person: Person = require("read")):
    status = request.query_params.get("status") or None
    if status is not None and status not in STATUSES:
        return _list_page(request, person, None, None, status_code=422,
                          error=i18n.t("lic.bad_status", person.language))
    return _list_page(request, person, status, request.query_params.get("after") or None)


@page("/licences", methods=("POST",))
async def licences_search(request: Request, person: Person = require("read")):
    fields = await form(request, person)
    response = await run_in_threadpool(_list_page, request, person, None,
                                       fields.get("after") or None,
                                       fields.get("search", "").strip())
    response.headers["Cache-Control"] = "no-store"
    return response


def _licence(request: Request, person: Person, number: str) -> dict:
    return visible(person, backoffice(request).licence, number)


def _licence_page(request: Request, person: Person, number: str, status_code: int = 200,
                  error: str = "", entered: str = "", done: bool = False):
    lic = _licence(request, person, number)
    helpers = _helpers(request, person)
    return render(request, person, "licence.html", status_code=status_code, error=error,
                  lic=lic, types=licence_types(helpers["services"]), entered=entered,
                  done=done, max_reason=MAX_REASON,
                  can_revoke=person.can("revoke_licence") and lic["revocation"] is None,
                  **helpers)


@page("/licences/{number}")
def licence(request: Request, number: str, person: Person = require("read")):
    return _licence_page(request, person, number,
                         done=request.query_params.get("done") == "revoked")


@page("/licences/{number}/revoke", methods=("POST",))
async def revoke(request: Request, number: str, person: Person = require("revoke_licence")):
    fields = await form(request, person)
    lic = await run_in_threadpool(_licence, request, person, number)  # 404 if not theirs
    reason = fields.get("reason", "").strip()
    lang, problem, status = person.language, "", 422
    if lic["revocation"] is not None:
        problem, status = i18n.t("lic.already_revoked", lang), 409
    elif not reason:
        problem = i18n.t("lic.reason_required", lang)
    elif not one_line(reason, MAX_REASON):
        problem = i18n.t("apps.bad_text", lang, limit=MAX_REASON)
    if problem:
        return await run_in_threadpool(_licence_page, request, person, number, status,
                                       problem, reason)
    try:
        await run_in_threadpool(console(request).central.revoke_licence, lic["number"],
                                reason, person.username)
    except CentralError as exc:
        return await run_in_threadpool(_licence_page, request, person, number, exc.status,
                                       refusal(person, exc), reason)
    _, municipality = await run_in_threadpool(console(request).staff.municipality_of,
                                              "licence", lic["number"])
    await run_in_threadpool(audit, request, person, "licence.revoke", "licence", lic["number"],
                            municipality, {"office": lic["office"], "type": lic["type"]})
    return redirect(f"/console/licences/{lic['number']}?done=revoked")
