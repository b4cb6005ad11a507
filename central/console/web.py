"""The helpers every console page uses (see central/console/__init__.py for the how-to).

    page(path, methods=("GET",))   decorator: a console route at /console + path, HTML, not in
                                   the OpenAPI document
    require(permission="read")     a FastAPI dependency (`person: Person = require("decide")`)
                                   returning the signed-in Person: 303 to /console/sign-in when
                                   not signed in or expired (or to the second-factor page), a
                                   403 page when the role lacks the permission
    await form(request, person)    the posted form as a dict of strings once its `csrf` field
                                   matched the session's token (403 page otherwise)
    render(request, person, "x.html", status_code=200, **context)
                                   a TemplateResponse with person, t, csrf, lang, dir, nav
    audit(request, person, action, entity_type, entity_id, municipality, detail=None, conn=None)
                                   one console_audit row (Staff.audit)
    not_found(person)              raise it for what the person may not see: a 404 page
    visible(person, lookup, *args) lookup(person.municipality, *args), its 404 as the page
    console(request)               the Console (central, staff, templates)
    refusal(person, exc)           a CentralError as text in the person's language
"""
from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from central.service import CentralError
from central.staff import COOKIE, Person

from . import i18n

router = APIRouter(prefix="/console", include_in_schema=False)
REFRESH_HEADER = "x-nafitha-refresh"  # sent by static/live.js

NAV = (("nav.home", "/console", "read"), ("nav.applications", "/console/applications", "read"),
       ("nav.licences", "/console/licences", "read"), ("nav.catalogue", "/console/catalogue",
                                                       "read"),
       ("nav.offices", "/console/offices", "read"), ("nav.staff", "/console/staff", "staff"),
       ("nav.municipalities", "/console/municipalities", "read"),
       ("nav.finance", "/console/finance", "fees"), ("nav.reports", "/console/reports", "read"),
       ("nav.open_data", "/console/open-data", "open_data"),
       ("nav.api_keys", "/console/api-keys", "api_keys"), ("nav.audit", "/console/audit",
                                                           "read"))


class PageError(Exception):
    """Answered with the error page: status and an i18n key (or a CentralError's text)."""

    def __init__(self, status: int, key: str, person: Person | None = None, text: str = ""):
        super().__init__(key)
        self.status, self.key, self.person, self.text = status, key, person, text


class Redirect(Exception):
    def __init__(self, url: str):
        super().__init__(url)
        self.url = url


def page(path: str, methods=("GET",), **kwargs):
    return router.api_route(path, methods=list(methods), response_class=HTMLResponse,
                            **kwargs)


def console(request: Request):
    return request.app.state.console


def session_token(request: Request) -> str | None:
    return request.cookies.get(COOKIE)


def require(permission: str = "read"):
    # A sync dependency: FastAPI runs it in a worker thread (it reads the database).
    def signed_in(request: Request) -> Person:
        # A live page's own refresh (static/live.js) does not keep an idle session alive.
        found = console(request).staff.session(
            session_token(request), activity=REFRESH_HEADER not in request.headers)
        if found is None:
            raise Redirect("/console/sign-in")
        person, state = found
        request.state.person = person
        if state == "totp":
            raise Redirect("/console/second-factor")
        if state == "enrol":
            raise Redirect("/console/second-factor/set-up")
        if not person.can(permission):
            raise PageError(403, "error.forbidden", person)
        return person
    return Depends(signed_in)


async def form(request: Request, person: Person | None, expected: str | None = None) -> dict:
    """The form's fields once its csrf field matches (the session's token, or `expected`
    for the sign-in form's pre-session token)."""
    data = await request.form()
    sent = data.get("csrf")
    token = expected if person is None else person.csrf_token
    if not isinstance(sent, str) or not token or not secrets.compare_digest(sent, token):
        raise PageError(403, "error.csrf", person)
    return {k: v for k, v in data.items() if k != "csrf" and isinstance(v, str)}


def language(request: Request, person: Person | None) -> str:
    if person is not None:
        return person.language
    wanted = request.query_params.get("lang") or request.cookies.get("nafitha_console_lang")
    return wanted if wanted in i18n.LANGUAGES else "ar"


def render(request: Request, person: Person | None, template: str, status_code: int = 200,
           **context: Any):
    lang = language(request, person)
    nav = [(key, url) for key, url, permission in NAV
           if person is not None and person.can(permission)]
    base = {"person": person, "lang": lang, "dir": "rtl" if lang == "ar" else "ltr",
            "csrf": person.csrf_token if person else context.pop("csrf", ""),
            "nav": nav, "path": request.url.path, "chrome": "full" if person else "bare"}
    return console(request).templates.TemplateResponse(
        request, template, {**base, **context}, status_code=status_code)


def audit(request: Request, person: Person, action: str, entity_type: str, entity_id: str,
          municipality: str | None, detail: dict | None = None, conn=None) -> None:
    console(request).staff.audit(person, action, entity_type, entity_id, municipality, detail,
                                 conn=conn)


def not_found(person: Person | None = None) -> PageError:
    """`raise not_found(person)`: what another municipality owns answers as if absent."""
    return PageError(404, "error.not_found", person)


def visible(person: Person, lookup, *args):
    """`lookup(person.municipality, *args)`, with a 404 from it (unknown, or another
    municipality's) answered as the 404 page."""
    try:
        return lookup(person.municipality, *args)
    except CentralError as exc:
        if exc.status == 404:
            raise not_found(person)
        raise


def refusal(person: Person | None, exc: CentralError, lang: str | None = None) -> str:
    """A refusal in the person's language when the console knows its code."""
    lang = lang or (person.language if person else "ar")
    key = f"error.{exc.code}"
    if key in i18n.STRINGS:
        values = dict(exc.details)
        if "locked_until" in values:
            values["until"] = values["locked_until"][11:16]
        return i18n.t(key, lang).format(**values)
    return exc.message


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)
