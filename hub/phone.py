"""The resident's phone page: follow one ticket from the hall or the café next door
(docs/phone.md). The ticket's slip prints a QR of `<hub.public_url>/q/<token>`
(core/follow.py); the page shows the number, the service, the people ahead and the wait,
and "called: counter 3" the moment it happens (server-sent events), with "I need more
time" (back queue.more_time_places places, once), "leave the queue", and, where the office
sends messages, "text me when my turn is near" (the number and the resident's consent go to
core/messages.py; the number is shown back masked and never in a URL).

Served on the plain-HTTP listener too (BOARD_PATHS): a phone on the centre's Wi-Fi does not
trust the hub's own certificate. It carries nothing personal (a ticket has no name), and the
token is the only credential: no cookie, no sign-in. The two changes need the header
`X-Nafitha-Follow: 1` (a cross-site form or image cannot send it, and the hub answers no
CORS preflight, so another site's script cannot either) and, when the browser names an
Origin, the page's own; with no cookie there is no ambient credential to ride on.

One read of the whole queue per queue change serves every open phone (_Following), however
many follow: 500 phones cost the hub one query set per call, not 500."""
from __future__ import annotations

import asyncio
import html
from pathlib import Path
from typing import Literal

from fastapi import FastAPI, Path as PathParam, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from core.errors import NafithaError, NotFound, PermissionDenied, ValidationError
from core.follow import PHONE_ACTOR
from core.messages import masked

from .live import Live, event_stream, sse
from .manager import FONT_DIR, FONTS
from .routes import hub_route

PHONE_DIR = Path(__file__).resolve().parent / "phone"
FOLLOW_HEADER = "x-nafitha-follow"
TOKEN = PathParam(min_length=1, max_length=120, description="The ticket's follow token "
                                                             "(core/follow.py), from its QR.")
FINAL = ("done", "no_show", "cancelled")


class SmsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: str = Field(min_length=1, max_length=20,
                        description="The resident's mobile number, local or with +country.")
    consent: bool = Field(description="The resident ticked: messages about this ticket to "
                                      "this number (must be true; recorded).")
    language: Literal["ar", "en"] = "ar"


class SmsState(BaseModel):
    offered: bool = Field(description="This office sends messages (a gateway is set).")
    number: str | None = Field(description="The number this ticket's messages go to, masked; "
                                           "null when none.")
    near_threshold: int | None = Field(description="\"Your turn is near\" when this many or "
                                                   "fewer are ahead.")


def add_phone_routes(app: FastAPI, office, live: Live) -> None:
    """/q/{token} (the page), /q/{token}/state, /q/{token}/events (server-sent `state`),
    POST /q/{token}/more-time and /q/{token}/leave, the page's files and fonts."""
    following = _Following(office)
    route = hub_route((), ["the ticket's follow token (in the path)"],
                      "public on the board port: the token is the credential")
    change = hub_route((), ["the ticket's follow token (in the path)",
                            "X-Nafitha-Follow: 1 header"],
                       "public on the board port: the token is the credential; the header "
                       "(and a same-origin Origin) keep other sites from posting")

    def state_of(ticket_id: str, followed: dict | None = None) -> dict:
        o = office.settings.office
        view = office.follow.view(ticket_id, followed)
        service = _service(office, view["service_code"])
        return {**view, "service_ar": service[0], "service_en": service[1],
                "office_ar": o.name_ar, "office_en": o.name_en, "digits": o.digits,
                "more_time_places": office.settings.queue.more_time_places,
                # "Text me when my turn is near" is offered when the office has a gateway;
                # whether this ticket subscribed is /sms's (read once, not per change).
                "sms_offered": office.messages.enabled}

    def checked_state(token: str) -> dict:
        return state_of(office.follow.ticket_of(token))

    def guard(request: Request) -> None:
        if request.headers.get(FOLLOW_HEADER) != "1":
            raise PermissionDenied("a change from the follow page needs its X-Nafitha-Follow "
                                   "header", reason="follow_header_missing")
        origin = request.headers.get("origin")
        if origin and origin != f"{request.url.scheme}://{request.headers.get('host', '')}":
            raise PermissionDenied("a change from another site's page is refused",
                                   reason="cross_origin")

    @app.get("/q/{token}", response_class=HTMLResponse, tags=["phone"], openapi_extra=route)
    def phone_page(token: str = TOKEN):
        """The page (Arabic first; ?lang=en for English). A refused token gets the same page
        with its reason (403 forged or another centre's, 404 unknown ticket)."""
        try:
            office.follow.ticket_of(token)
            refused, status = "", 200
        except (PermissionDenied, NotFound) as exc:
            refused, status = exc.details.get("reason", exc.code), \
                (404 if isinstance(exc, NotFound) else 403)
        o = office.settings.office
        page = (PHONE_DIR / "phone.html").read_text(encoding="utf-8")
        for name, value in (("refused", refused), ("office_ar", o.name_ar),
                            ("office_en", o.name_en)):
            page = page.replace("{{" + name + "}}", html.escape(value, quote=True))
        return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})

    @app.get("/q/{token}/state", tags=["phone"], openapi_extra=route)
    def phone_state(token: str = TOKEN) -> dict:
        """What the page shows now: number, service_ar/en, state, people_ahead and
        estimated_wait_minutes (while waiting), counter (once called), call_count,
        postponed, can_have_more_time, more_time_places, the office's names and digits."""
        return checked_state(token)

    @app.get("/q/{token}/events", tags=["phone"], openapi_extra=route)
    async def phone_events(request: Request, token: str = TOKEN):
        """Server-sent events: `state` (the body of /state) on connect and whenever it
        changes (a call, the queue moving, more time, leaving)."""
        ticket_id = await asyncio.to_thread(office.follow.ticket_of, token)
        return _states(request, live, following, ticket_id, state_of)

    @app.post("/q/{token}/more-time", tags=["phone"], openapi_extra=change)
    def phone_more_time(request: Request, token: str = TOKEN) -> dict:
        """"I need more time": back queue.more_time_places places, once, while waiting
        (409 already_postponed / not_waiting). Returns the new state and moved_places."""
        guard(request)
        moved = office.follow.more_time(token)
        live.poke()
        return {**state_of(office.follow.ticket_of(token)),
                "moved_places": moved["moved_places"]}

    @app.post("/q/{token}/leave", tags=["phone"], openapi_extra=change)
    def phone_leave(request: Request, token: str = TOKEN) -> dict:
        """"Leave the queue": the ticket is cancelled (the page asks first)."""
        guard(request)
        office.follow.leave(token)
        live.poke()
        return checked_state(token)

    @app.get("/q/{token}/sms", tags=["phone"], openapi_extra=route)
    def phone_sms(token: str = TOKEN) -> SmsState:
        """Whether this office sends messages and whether this ticket has a number to tell
        (shown masked, +973*****234)."""
        return sms_state(office.follow.ticket_of(token))

    @app.post("/q/{token}/sms", tags=["phone"], openapi_extra=change)
    def phone_sms_subscribe(body: SmsRequest, request: Request, token: str = TOKEN) -> SmsState:
        """"Text me when my turn is near": the resident's number and consent (recorded, as
        given on the phone page); then "your turn is near", "called" and the receipt go to
        it (core/messages.py). Refused: no consent ticked (consent_required), a malformed
        number (not_phone), messages off here (messages_off), a finished ticket."""
        guard(request)
        ticket_id = office.follow.ticket_of(token)
        if body.consent is not True:
            raise ValidationError("tick the box to agree to messages on this number first",
                                  field="consent", reason="consent_required")
        with office.acting_as(PHONE_ACTOR):
            office.messages.subscribe_ticket(ticket_id, body.number, body.language,
                                             consent_channel="phone")
        return sms_state(ticket_id)

    def sms_state(ticket_id: str) -> SmsState:
        sub = office.messages.subscription_of_ticket(ticket_id) \
            if office.messages.enabled else None
        return SmsState(offered=office.messages.enabled,
                        number=masked(sub["number"]) if sub else None,
                        near_threshold=sub["near_threshold"] if sub else None)

    @app.get("/q/fonts/{name}", include_in_schema=False)
    def phone_font(name: str):
        if name not in FONTS or not (FONT_DIR / name).is_file():
            raise NotFound("no such font")
        return FileResponse(FONT_DIR / name, media_type="font/ttf",
                            headers={"Cache-Control": "max-age=86400"})

    app.mount("/q/static", StaticFiles(directory=PHONE_DIR), name="phone-static")


def _service(office, code: str) -> tuple[str, str]:
    try:
        s = office.catalog.get(code)
        return s.name.ar, s.name.en
    except NafithaError:
        return code, code


def _states(request: Request, live: Live, following: _Following, ticket_id: str, state_of):
    """One phone's stream: its state now, then again whenever a queue change changed it.
    Each look is the shared read of the queue (_Following) plus a dict lookup; the page's
    state is made only when this ticket's row of that read changed (most queue changes,
    a ticket taken behind it, change nothing of it: 500 phones then cost 500 comparisons)."""
    last = last_row = None

    async def look(marker: int) -> tuple[dict, dict | None]:
        followed = await following.at(marker)
        row = followed.get(ticket_id)
        if row is not None and row == last_row:
            return last, row
        if row is not None:
            return state_of(ticket_id, followed), row
        return await asyncio.to_thread(state_of, ticket_id), None  # a ticket of another day

    async def first():
        nonlocal last, last_row
        last, last_row = await look(live.marker)
        return [sse("state", last, live.marker)]

    async def changed(message):
        nonlocal last, last_row
        now, last_row = await look(message["marker"])
        if now == last:
            return []
        last = now
        return [sse("state", now, message["marker"])]

    return event_stream(request, live, first, changed)


class _Following:
    """Every ticket of today as phones follow it (Queue.followed), read once per queue
    change (the live poller's marker) for all the phones' streams: the first stream to see a
    new marker starts the read in a worker thread, the others wait for the same read."""

    def __init__(self, office):
        self.office = office
        self.marker: int | None = None
        self.followed: dict[str, dict] = {}
        self.pending: dict[int, asyncio.Future] = {}

    async def at(self, marker: int) -> dict[str, dict]:
        if marker == self.marker:
            return self.followed
        if marker not in self.pending:
            self.pending[marker] = asyncio.ensure_future(self._read(marker))
        return await asyncio.shield(self.pending[marker])

    async def _read(self, marker: int) -> dict[str, dict]:
        try:
            followed = await asyncio.to_thread(self.office.queue.followed)
            if self.marker is None or marker >= self.marker:
                self.marker, self.followed = marker, followed
            return followed
        finally:
            self.pending.pop(marker, None)
