"""The municipality's web console, served by central at /console (docs/console.md).

How a page is built (other modules of this package are found and imported by `mount`, so a
new page is one module plus its templates; nothing else to register):

    # central/console/applications.py
    from fastapi import Request
    from fastapi.concurrency import run_in_threadpool
    from central.staff import Person, scope_offices
    from central.console.web import page, render, require, form, audit, not_found, redirect

    @page("/applications")                       # GET /console/applications
    def applications(request: Request, person: Person = require("read")):
        rows = ...  # a query filtered with scope_offices(person, applications.c.office)
        return render(request, person, "applications.html", rows=rows)

    @page("/applications/{number}/decision", methods=("POST",))
    async def decide(request: Request, number: str, person: Person = require("decide")):
        fields = await form(request, person)     # 403 page unless its csrf field matches
        ...                                      # run_in_threadpool for database work
        audit(request, person, "application.decide", "application", number, municipality)
        return redirect(f"/console/applications/{number}")   # a 303

Templates live in central/console/templates and extend base.html (blocks `title`,
`content`); strings come from central/console/i18n.py through `t("key")` (Arabic and
English for every key); every form carries `<input type="hidden" name="csrf"
value="{{ csrf }}">`. Pages load only /console/static (no inline script or style: the
Content-Security-Policy forbids them). Another municipality's object opened by URL is
`raise not_found(person)` (404, not 403, so it does not reveal itself).

`Console` is the context object on app.state.console: central (the Central service),
staff (central.staff.Staff), templates (Jinja2Templates)."""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from central.service import Central, CentralError
from central.staff import Staff

from . import i18n, web

HERE = Path(__file__).parent
FONT_DIR = Path("/usr/share/fonts/truetype/noto")
FONTS = ("NotoSansArabic-Regular.ttf", "NotoSansArabic-Bold.ttf", "NotoSans-Regular.ttf",
         "NotoSans-Bold.ttf")


@dataclass
class Console:
    central: Central
    staff: Staff
    templates: Jinja2Templates


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["t"] = i18n.template_t
    templates.env.globals["ROLES"] = i18n.ROLE_KEYS
    return templates


def _page_modules() -> None:
    """Import every module of this package: each registers its pages on web.router."""
    for info in pkgutil.iter_modules([str(HERE)]):
        if info.name not in ("web", "i18n"):
            importlib.import_module(f"{__name__}.{info.name}")


def mount(app: FastAPI, central: Central, staff: Staff) -> Console:
    _page_modules()
    console = Console(central, staff, _templates())
    app.state.console = console
    app.include_router(web.router)
    app.mount("/console/static", StaticFiles(directory=str(HERE / "static")),
              name="console-static")
    # Chart.js and the shared chart script, the same files the hub serves at /shared/
    from core.report_files import SHARED_WEB_DIR
    app.mount("/console/shared", StaticFiles(directory=str(SHARED_WEB_DIR)),
              name="console-shared")

    @app.get("/console/fonts/{name}", include_in_schema=False)
    def font(name: str):
        # Debian's fonts-noto-core, so a browser on another machine renders Arabic.
        if name not in FONTS or not (FONT_DIR / name).is_file():
            raise HTTPException(404, "no such font")
        return FileResponse(FONT_DIR / name, media_type="font/ttf",
                            headers={"Cache-Control": "public, max-age=86400"})

    async def error_page(request: Request, status: int, key: str, person=None, text: str = ""):
        person = person or getattr(request.state, "person", None)
        if person is None:  # a page with no route (404): still in the person's language
            found = await run_in_threadpool(staff.session, web.session_token(request))
            person = found[0] if found and found[1] == "ok" else None
        return web.render(request, person, "error.html", status_code=status, status=status,
                          key=key, text=text)

    @app.exception_handler(web.Redirect)
    async def go(_request, exc: web.Redirect):
        return RedirectResponse(exc.url, status_code=303)

    @app.exception_handler(web.PageError)
    async def page_error(request: Request, exc: web.PageError):
        return await error_page(request, exc.status, exc.key, exc.person, exc.text)

    # The API answers in JSON; the console's own paths answer with a page.
    json_http, json_central = app.exception_handlers[HTTPException], \
        app.exception_handlers[CentralError]

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if request.url.path == "/console" or request.url.path.startswith("/console/"):
            key = "error.not_found" if exc.status_code == 404 else "error.bad_request"
            return await error_page(request, exc.status_code, key)
        return await json_http(request, exc)

    @app.exception_handler(CentralError)
    async def central_error(request: Request, exc: CentralError):
        if request.url.path.startswith("/console/"):
            person = getattr(request.state, "person", None)
            return await error_page(request, exc.status, "", person, web.refusal(person, exc))
        return await json_central(request, exc)

    return console
