"""Signing in and out, the second factor (verify and set up), the home page, the language
switch and "my account" (docs/console.md: sessions, CSRF)."""
from __future__ import annotations

import secrets

import segno
from fastapi import Request
from fastapi.concurrency import run_in_threadpool

import core.totp as totp
from central.service import CentralError
from central.staff import COOKIE, Person

from .web import (PageError, Redirect, console, form, page, redirect, refusal, render, require,
                  session_token)

# The sign-in form's CSRF token before there is a session: a random value in this cookie and
# in the form's hidden field, which must match (double submit; SameSite=Strict).
PRE_COOKIE = "nafitha_console_pre"


def _cookie(response, request: Request, name: str, value: str) -> None:
    response.set_cookie(name, value, httponly=True, samesite="strict", path="/console",
                        secure=request.url.scheme == "https")


def _back(target: str | None) -> str:
    """Only a console path (no open redirect)."""
    if isinstance(target, str) and target.startswith("/console") and "//" not in target \
            and "\\" not in target:
        return target
    return "/console"


@page("/sign-in")
def sign_in_page(request: Request):
    pre = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(32)
    signed_out = request.query_params.get("signed_out") == "1"
    response = render(request, None, "sign_in.html", csrf=pre, signed_out=signed_out)
    _cookie(response, request, PRE_COOKIE, pre)
    return response


@page("/sign-in", methods=("POST",))
async def sign_in(request: Request):
    pre = request.cookies.get(PRE_COOKIE)
    fields = await form(request, None, expected=pre)
    try:
        token = await run_in_threadpool(console(request).staff.sign_in,
                                        fields.get("username", ""), fields.get("password", ""))
    except CentralError as exc:
        lang = fields.get("lang") if fields.get("lang") in ("ar", "en") else "ar"
        return render(request, None, "sign_in.html", status_code=exc.status, csrf=pre,
                      error=refusal(None, exc, lang), username=fields.get("username", ""),
                      lang=lang, dir="rtl" if lang == "ar" else "ltr")
    response = redirect("/console")
    _cookie(response, request, COOKIE, token)
    response.delete_cookie(PRE_COOKIE, path="/console")
    return response


@page("/sign-out", methods=("POST",))
async def sign_out(request: Request):
    # Any session, also one still waiting for its second factor.
    found = await run_in_threadpool(console(request).staff.session, session_token(request))
    if found is None:
        raise Redirect("/console/sign-in")
    request.state.person = found[0]
    await form(request, found[0])
    await run_in_threadpool(console(request).staff.sign_out, session_token(request))
    response = redirect("/console/sign-in?signed_out=1")
    response.delete_cookie(COOKIE, path="/console")
    return response


def _half(request: Request, wanted: str) -> Person:
    """The person of a session still waiting for its second factor (`wanted`: "totp" or
    "enrol"); anyone else goes where they belong."""
    found = console(request).staff.session(session_token(request))
    if found is None:
        raise Redirect("/console/sign-in")
    person, state = found
    request.state.person = person
    if state != wanted:
        raise Redirect({"ok": "/console", "totp": "/console/second-factor",
                        "enrol": "/console/second-factor/set-up"}[state])
    return person


@page("/second-factor")
def second_factor_page(request: Request):
    return render(request, _half(request, "totp"), "totp.html", chrome="bare")


@page("/second-factor", methods=("POST",))
async def second_factor(request: Request):
    person = await run_in_threadpool(_half, request, "totp")
    fields = await form(request, person)
    try:
        await run_in_threadpool(console(request).staff.verify_totp, session_token(request),
                                fields.get("code", ""))
    except CentralError as exc:
        return render(request, person, "totp.html", status_code=exc.status, chrome="bare",
                      error=refusal(person, exc))
    return redirect("/console")


def _enrol_page(request: Request, person: Person, secret: str, status_code: int = 200,
                error: str = ""):
    uri = totp.otpauth_uri(secret, person.username)
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, dark="#0b1d30", light="#ffffff")
    spaced = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return render(request, person, "enrol.html", status_code=status_code, chrome="bare",
                  secret=secret, spaced=spaced, qr=qr, error=error)


@page("/second-factor/set-up")
def set_up_page(request: Request):
    return _enrol_page(request, _half(request, "enrol"), totp.new_secret())


@page("/second-factor/set-up", methods=("POST",))
async def set_up(request: Request):
    person = await run_in_threadpool(_half, request, "enrol")
    fields = await form(request, person)
    secret = fields.get("secret", "")
    if not totp.valid_secret(secret):  # the hidden field was altered
        raise PageError(400, "error.bad_request", person)
    try:
        await run_in_threadpool(console(request).staff.enrol_totp, session_token(request),
                                secret, fields.get("code", ""))
    except CentralError as exc:
        return _enrol_page(request, person, secret, exc.status, refusal(person, exc))
    return redirect("/console")


# The home page (/console) is central/console/home.py.


@page("/language", methods=("POST",))
async def set_language(request: Request, person: Person = require("read")):
    fields = await form(request, person)
    await run_in_threadpool(console(request).staff.set_language, person, fields.get("lang"))
    return redirect(_back(fields.get("back")))


@page("/account")
def account_page(request: Request, person: Person = require("read")):
    return render(request, person, "account.html",
                  changed=request.query_params.get("changed") == "1")


@page("/account/password", methods=("POST",))
async def change_password(request: Request, person: Person = require("read")):
    fields = await form(request, person)
    try:
        await run_in_threadpool(console(request).staff.change_password, person,
                                fields.get("current", ""), fields.get("new", ""))
    except CentralError as exc:
        return render(request, person, "account.html", status_code=exc.status,
                      error=refusal(person, exc))
    return redirect("/console/account?changed=1")
