"""The rating screen: a small tablet or monitor facing the resident at one counter
(docs/ratings.md). When that counter finishes a visit it asks "How was your visit?" with five
faces, 1 to 5, in Arabic and English; a tap stores the rating (core/ratings.py), the screen
thanks the resident and clears.

It pairs like the display board: `nafitha hub pair rating NAME --counter 3` shows a code,
typed once into the page's form (/rating), which sets an HttpOnly cookie holding the
screen's own token. That token opens these routes only and rates only tickets its counter
finished (checked here, by core, from the device's row: never from what the page sends).
Like the board it is served on the plain-HTTP listener too (a tablet's browser): nothing on
it is personal, the ticket's number aside."""
from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from core.errors import PermissionDenied
from core.ratings import RATE_WITHIN_S

from .live import Live, event_stream, sse
from .routes import hub_route

RATING_DIR = Path(__file__).resolve().parent / "rating"
RATING_COOKIE = "nafitha_rating"
ROLE = ("rating",)


class RatingPair(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=40, description="The code shown on the hub.")


class RateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ticket: str = Field(min_length=1, max_length=40,
                        description="The ticket the screen asked about (its id).")
    rating: StrictInt = Field(description="1 (very poor) to 5 (excellent); anything else is "
                                          "refused with reason rating_range.")


def add_rating_routes(app: FastAPI, office, devices, live: Live) -> None:
    """/rating (the page, a pairing form until paired), /rating/pair, /rating/state,
    /rating/events (server-sent `ask`), /rating/rate and the page's static files."""
    screen_route = hub_route(ROLE, ["rating screen cookie or device token"])

    def token_of(request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            return header[7:].strip()
        return request.cookies.get(RATING_COOKIE)

    def screen(request: Request) -> dict:
        return devices.authenticate(token_of(request), ROLE)

    def set_token(response: Response, token: str) -> None:
        response.set_cookie(RATING_COOKIE, token, max_age=10 * 365 * 86400, httponly=True,
                            samesite="strict")

    asking = _Asking(office)

    def state(device: dict, marker: int | None = None) -> dict:
        o = office.settings.office
        return {"counter": device["counter"], "office_ar": o.name_ar, "office_en": o.name_en,
                "digits": o.digits, "window_s": RATE_WITHIN_S,
                "asking": asking.of(device["counter"], marker)}

    @app.get("/rating", response_class=HTMLResponse, tags=["rating"],
             openapi_extra=hub_route(ROLE, [], "a pairing form until it is paired"))
    def rating_page(request: Request):
        """The rating screen's page (a pairing form until it is paired). ?lang=ar (default)
        or en picks the language shown first."""
        try:
            screen(request)
        except PermissionDenied:
            return HTMLResponse((RATING_DIR / "pair.html").read_text(encoding="utf-8"),
                                status_code=401)
        return HTMLResponse((RATING_DIR / "rate.html").read_text(encoding="utf-8"))

    @app.post("/rating/pair", tags=["rating"], openapi_extra=hub_route(
        ROLE, ["pairing code"], "a rating screen's code only: any other is spent and revoked"))
    def rating_pair(body: RatingPair, request: Request) -> JSONResponse:
        """The page's pairing form: a rating screen's code sets its cookie (the token never
        reaches the page's scripts)."""
        source = request.client.host if request.client else "unknown"
        device, token = devices.redeem(body.code, source)
        if device["role"] != "rating":
            devices.revoke(device["name"])  # another device's code typed here: spent
            raise PermissionDenied(f"that code was for a {device['role']}, not a rating "
                                   f"screen", reason="not_a_rating_screen")
        response = JSONResponse({"device": device})
        set_token(response, token)
        return response

    @app.get("/rating/state", tags=["rating"], openapi_extra=screen_route)
    def rating_state(request: Request, response: Response) -> dict:
        """What the screen shows now: its counter, the office, and the visit it asks about
        (`asking`: ticket, number, service_code, finished_at, closes_in_s; or null). The
        page asks at least every 20 s: a cookie token past half its life is renewed here
        (a new cookie; the old token works a while longer), so the screen never expires."""
        token = token_of(request)
        device = devices.authenticate(token, ROLE)
        if token == request.cookies.get(RATING_COOKIE) and devices.renew_due(device):
            device, token = devices.renew(token)
            set_token(response, token)
        return state(device)

    @app.get("/rating/events", tags=["rating"], openapi_extra=screen_route)
    async def rating_events(request: Request):
        """Server-sent events: `ask` (the same body as /rating/state) on connect and
        whenever the visit to ask about changes (a finish at the counter, the next call)."""
        device = await asyncio.to_thread(screen, request)
        return _asks(request, live, lambda marker: state(device, marker))

    @app.post("/rating/rate", tags=["rating"], openapi_extra=screen_route)
    def rating_rate(body: RateRequest, request: Request) -> dict:
        """Rate the visit the screen asked about: a ticket its own counter finished, once,
        1-5, within the window (core/ratings.py)."""
        device = screen(request)
        with office.acting_as(f"rating:{device['name']}"):
            return office.ratings.rate(body.ticket, body.rating, counter=device["counter"])

    app.mount("/rating/static", StaticFiles(directory=RATING_DIR), name="rating-static")


def _asks(request: Request, live: Live, current):
    """The screen's stream: its state now, then again each time the queue changed in a way
    that changes what it asks (each look is a read in a worker thread)."""
    last = None

    async def first():
        nonlocal last
        last = await asyncio.to_thread(current, None)
        return [sse("ask", last)]

    async def changed(message):
        nonlocal last
        now = await asyncio.to_thread(current, message["marker"])
        if _ticket(now) == _ticket(last):
            return []
        last = now
        return [sse("ask", now, message["marker"])]

    return event_stream(request, live, first, changed)


class _Asking:
    """What every counter's screen asks about, read once per queue change (the live
    poller's marker) for all the screens' streams; a read without a marker is fresh."""

    def __init__(self, office):
        self.office = office
        self.marker: int | None = None
        self.by_counter: dict[str, dict] = {}
        self.lock = threading.Lock()

    def of(self, counter: str, marker: int | None) -> dict | None:
        if marker is None:
            return self.office.ratings.awaiting(counter)
        with self.lock:
            if marker != self.marker:
                self.by_counter = self.office.ratings.awaiting_by_counter()
                self.marker = marker
            return self.by_counter.get(counter)


def _ticket(state: dict) -> str | None:
    return state["asking"]["ticket"] if state["asking"] else None
