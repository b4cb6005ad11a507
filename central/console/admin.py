"""Administration pages: staff, municipalities and their offices, API keys, and the console
audit log. Every change goes through central/staff.py, which audits it."""
from __future__ import annotations

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from central.service import CentralError
from central.staff import ROLES, Person

from .web import console, form, page, redirect, refusal, render, require


def _municipalities_for(request: Request, person: Person) -> list[dict]:
    return [m for m in console(request).staff.municipalities() if person.sees(m["code"])]


def _staff_page(request: Request, person: Person, status_code: int = 200, error: str = "",
                entered: dict | None = None):
    staff = console(request).staff
    return render(request, person, "staff.html", status_code=status_code, error=error,
                  rows=staff.list(person), roles=ROLES, entered=entered or {},
                  municipalities=_municipalities_for(request, person),
                  done=request.query_params.get("done") == "1", now=staff.now().isoformat())


@page("/staff")
def staff_list(request: Request, person: Person = require("staff")):
    return _staff_page(request, person)


async def _act(request: Request, person: Person, call, *args, back: str, page_for):
    """Run a change; a refusal re-renders the page with its reason (nothing changed)."""
    try:
        await run_in_threadpool(call, person, *args)
    except CentralError as exc:
        return await run_in_threadpool(page_for, request, person, exc.status,
                                       refusal(person, exc))
    return redirect(back)


@page("/staff", methods=("POST",))
async def staff_add(request: Request, person: Person = require("staff")):
    fields = await form(request, person)
    try:
        await run_in_threadpool(
            console(request).staff.add, person, fields.get("username", ""),
            fields.get("full_name", ""), fields.get("role", ""),
            fields.get("municipality") or None, fields.get("password", ""),
            fields.get("language", "ar"))
    except CentralError as exc:
        entered = {k: v for k, v in fields.items() if k != "password"}
        return await run_in_threadpool(_staff_page, request, person, exc.status,
                                       refusal(person, exc), entered)
    return redirect("/console/staff?done=1")


@page("/staff/{username}/disable", methods=("POST",))
async def staff_disable(request: Request, username: str, person: Person = require("staff")):
    await form(request, person)
    return await _act(request, person, console(request).staff.disable, username,
                      back="/console/staff?done=1", page_for=_staff_page)


@page("/staff/{username}/password", methods=("POST",))
async def staff_password(request: Request, username: str, person: Person = require("staff")):
    fields = await form(request, person)
    return await _act(request, person, console(request).staff.reset_password, username,
                      fields.get("password", ""), back="/console/staff?done=1",
                      page_for=_staff_page)


@page("/staff/{username}/second-factor", methods=("POST",))
async def staff_totp(request: Request, username: str, person: Person = require("staff")):
    await form(request, person)
    return await _act(request, person, console(request).staff.reset_totp, username,
                      back="/console/staff?done=1", page_for=_staff_page)


# --- municipalities ------------------------------------------------------------------------------
def _municipalities_page(request: Request, person: Person, status_code: int = 200,
                         error: str = ""):
    staff = console(request).staff
    unassigned = [o["code"] for o in staff.offices(person) if o["municipality"] is None]
    return render(request, person, "municipalities.html", status_code=status_code, error=error,
                  rows=_municipalities_for(request, person), unassigned=unassigned,
                  done=request.query_params.get("done") == "1")


@page("/municipalities")
def municipalities(request: Request, person: Person = require("read")):
    return _municipalities_page(request, person)


@page("/municipalities", methods=("POST",))
async def municipality_add(request: Request, person: Person = require("municipalities")):
    fields = await form(request, person)
    return await _act(request, person, console(request).staff.add_municipality,
                      fields.get("code", "").strip(), fields.get("name_ar", ""),
                      fields.get("name_en", ""), back="/console/municipalities?done=1",
                      page_for=_municipalities_page)


@page("/municipalities/assign", methods=("POST",))
async def office_assign(request: Request, person: Person = require("municipalities")):
    fields = await form(request, person)
    return await _act(request, person, console(request).staff.assign_office,
                      fields.get("office", "").strip().upper(),
                      fields.get("municipality") or None,
                      back="/console/municipalities?done=1", page_for=_municipalities_page)


# --- API keys --------------------------------------------------------------------------------
def _keys_page(request: Request, person: Person, status_code: int = 200, error: str = "",
               created: tuple[str, str] | None = None):
    return render(request, person, "api_keys.html", status_code=status_code, error=error,
                  rows=console(request).staff.keys(person), roles=ROLES, created=created,
                  municipalities=_municipalities_for(request, person),
                  done=request.query_params.get("done") == "1")


@page("/api-keys")
def api_keys(request: Request, person: Person = require("api_keys")):
    return _keys_page(request, person)


@page("/api-keys", methods=("POST",))
async def api_key_add(request: Request, person: Person = require("api_keys")):
    fields = await form(request, person)
    name = fields.get("name", "").strip()
    try:
        secret = await run_in_threadpool(console(request).staff.add_key, person, name,
                                         fields.get("role", ""),
                                         fields.get("municipality") or None)
    except CentralError as exc:
        return await run_in_threadpool(_keys_page, request, person, exc.status,
                                       refusal(person, exc))
    # Shown once, in this answer only (never in a URL).
    response = await run_in_threadpool(_keys_page, request, person, 201, "", (name, secret))
    response.headers["Cache-Control"] = "no-store"
    return response


@page("/api-keys/{name}/revoke", methods=("POST",))
async def api_key_revoke(request: Request, name: str, person: Person = require("api_keys")):
    await form(request, person)
    return await _act(request, person, console(request).staff.revoke_key, name,
                      back="/console/api-keys?done=1", page_for=_keys_page)


# --- the audit log ---------------------------------------------------------------------------
@page("/audit")
def audit_log(request: Request, person: Person = require("read")):
    before = request.query_params.get("before")
    before = int(before) if before and before.isdigit() and len(before) < 12 else None
    rows = console(request).staff.audit_log(person, limit=100, before=before)
    older = rows[-1]["id"] if len(rows) == 100 else None
    return render(request, person, "audit.html", rows=rows, older=older)
