"""The hub's HTTP API (FastAPI): kiosks, counters and display boards of one service centre
share its store, its queue and its sync agent.

Every device sends its own token (`Authorization: Bearer nfh_...`, from pairing); a kiosk's
token opens the kiosk routes only, a counter's the counter routes, a board's the board. A
clerk signs in on top of the counter's token and sends the session it gets
(`X-Clerk-Session: nfs_...`) with every clerk operation; supervisor steps also carry the
supervisor's name and PIN, checked here. Errors are core's (`{"error", "message", ...}`)
with an HTTP status by kind. The OpenAPI document is at /openapi.json (docs/hub-openapi.json
is the published copy, checked by a test)."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from core.counter_api import CounterApi
from core.errors import NafithaError, PermissionDenied, ValidationError
from core.kiosk_api import KioskApi

from .live import Live, sse
from .pairing import Devices

BOARD_DIR = Path(__file__).resolve().parent / "board"
BOARD_COOKIE = "nafitha_board"
HEARTBEAT_S = 15.0
TOKEN_REASONS = ("token_missing", "token_wrong", "token_revoked")
STATUS = {"invalid_input": 422, "not_found": 404, "invalid_state": 409,
          "permission_denied": 403, "store_unusable": 503}

Text = Field(max_length=500)
Short = Field(min_length=1, max_length=100)
Pin = Field(min_length=1, max_length=32)
Minor = Field(ge=0, le=10 ** 12)  # minor units; far below SQLite's 64-bit limit


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PairRequest(Body):
    code: str = Field(min_length=1, max_length=40, description="The code shown on the hub.")


class TicketRequest(Body):
    service: str = Short
    priority: str | None = Field(default=None, max_length=20)


class FieldCheck(Body):
    service: str = Short
    key: str = Short
    value: str = Text


class FieldsCheck(Body):
    service: str = Short
    values: dict[str, str] = Field(max_length=60)


class KioskApplication(Body):
    service: str = Short
    fields: dict[str, str] = Field(max_length=60)


class CounterApplication(KioskApplication):
    ticket: str | None = Field(default=None, max_length=100)


class ApplicationRef(Body):
    application: str = Short


class CardPayment(ApplicationRef):
    terminal_ref: str = Short


class AdminPin(Body):
    pin: str = Pin


class PrintRequest(Body):
    kind: str = Short
    ref: str = Short
    lang: str = Field(pattern="^(ar|en)$")
    copy_: bool = Field(default=False, alias="copy")


class PrintState(Body):
    state: str = Field(pattern="^(printing|done|retry|failed)$")
    error: str | None = Field(default=None, max_length=500)
    size: int | None = Field(default=None, ge=0, le=10 ** 9)


class Reason(Body):
    reason: str = Text


class SignIn(Body):
    username: str = Field(max_length=64)
    pin: str = Field(max_length=32)


class CallNext(Body):
    services: list[str] | None = Field(default=None, max_length=50)


class TicketStep(Body):
    step: str = Field(pattern="^(recall|no_show|park|resume|finish|start_serving|transfer)$")
    service: str | None = Field(default=None, max_length=100,
                                description="The service a transfer moves the ticket to.")


class Authorised(Body):
    supervisor: str = Field(max_length=64)
    pin: str = Field(max_length=32)
    reason: str = Text


class Decision(Authorised):
    decision: str = Field(pattern="^(approve|reject)$")
    application: str = Short


class Payment(ApplicationRef):
    method: str = Field(pattern="^(cash|card)$")
    tendered_minor: int | None = Minor
    reference: str | None = Field(default=None, max_length=100)


class Void(Authorised):
    receipt: str = Short


class Revoke(Authorised):
    licence: str = Short


class Reprint(Reason):
    licence: str = Short


class Amount(Body):
    amount_minor: int = Minor


class Verify(Body):
    text: str = Field(min_length=1, max_length=4000)


class Query(Body):
    query: str = Field(max_length=200)


bearer = HTTPBearer(auto_error=False, description="The device's token from pairing.")
clerk_header = APIKeyHeader(name="X-Clerk-Session", auto_error=False,
                            description="A clerk's session from /api/v1/counter/sign-in.")


def _status(exc: NafithaError) -> int:
    if isinstance(exc, PermissionDenied) and exc.details.get("reason") in TOKEN_REASONS:
        return 401
    return STATUS.get(exc.code, 400)


def create_app(office, live: Live | None = None, on_startup=None) -> FastAPI:
    """The hub over an open core Office. on_startup: called once the server runs (the CLI
    starts the sync agent there)."""
    devices = Devices(office)
    live = live or Live(office)

    @asynccontextmanager
    async def lifespan(_app):
        await live.start()
        if on_startup is not None:
            on_startup()
        yield
        await live.stop()

    app = FastAPI(title="Nafitha hub", version="1", lifespan=lifespan,
                  description="The service centre's LAN API: kiosks take tickets and submit "
                              "applications, counters call and serve, display boards show "
                              "the calls (docs/hub.md).")
    app.state.office, app.state.devices, app.state.live = office, devices, live

    @app.exception_handler(NafithaError)
    async def nafitha_error(_request, exc: NafithaError):
        return JSONResponse(exc.to_dict(), status_code=_status(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request, exc: RequestValidationError):
        errors = exc.errors()
        first = errors[0] if errors else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return JSONResponse({"error": "invalid_input",
                             "message": f"{where}: {first.get('msg', 'malformed request')}",
                             "field": where or None}, status_code=422)

    def device_of(roles):
        def dependency(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)):
            return devices.authenticate(credentials.credentials if credentials else None,
                                        roles)
        return dependency

    kiosk = Depends(device_of(("kiosk",)))
    counter = Depends(device_of(("counter",)))
    kiosk_or_counter = Depends(device_of(("kiosk", "counter")))
    anyone = Depends(device_of(("kiosk", "counter", "board")))

    def kiosk_api(device) -> KioskApi:
        return KioskApi(office, printer=device["name"])

    def counter_api(device) -> CounterApi:
        return CounterApi(office, device["name"], device["services"], printer=device["name"])

    def clerk_of(device, session) -> str:
        return devices.session_user(device, session)

    def changed(result):
        live.poke()
        return result

    # --- any device ---------------------------------------------------------------------------
    @app.get("/api/v1/health", tags=["hub"])
    def health() -> dict:
        """The hub answers (no token needed): kiosks and counters probe it while away."""
        return {"ok": True, "office": office.settings.office.code}

    @app.post("/api/v1/pair", tags=["hub"])
    def pair(body: PairRequest) -> dict:
        """Trade a pairing code shown on the hub for this device's own token."""
        device, token = devices.redeem(body.code)
        return {"token": token, "device": device}

    @app.get("/api/v1/me", tags=["hub"])
    def me(device=anyone) -> dict:
        return device

    @app.get("/api/v1/office", tags=["hub"])
    def office_info(_device=anyone) -> dict:
        o = office.settings.office
        return {"code": o.code, "name_ar": o.name_ar, "name_en": o.name_en,
                "timezone": o.timezone, "digits": o.digits,
                "currency": CounterApi(office, "hub").currency()}

    @app.get("/api/v1/services", tags=["hub"])
    def services(_device=kiosk_or_counter) -> list[dict]:
        """The catalogue as service settings (the same keys as assets/catalog/*.toml)."""
        return [s.to_settings() for s in office.catalog]

    @app.get("/api/v1/sync-status", tags=["hub"])
    def sync_status(_device=kiosk_or_counter) -> dict:
        return office.sync_status()

    @app.post("/api/v1/verify", tags=["hub"])
    def verify(body: Verify, _device=kiosk_or_counter) -> dict:
        return office.verify_licence(body.text).to_dict()

    @app.get("/api/v1/events", tags=["hub"])
    async def events(request: Request, _device=anyone):
        """Server-sent events: `queue` with the change marker whenever the queue changes."""
        return _stream(request, live, lambda message: [sse("queue", {
            "marker": message["marker"]}, message["marker"])],
            lambda: [sse("queue", {"marker": live.marker}, live.marker)])

    # --- kiosk --------------------------------------------------------------------------------
    @app.post("/api/v1/kiosk/tickets", tags=["kiosk"])
    def take_ticket(body: TicketRequest, device=kiosk) -> dict:
        return changed(kiosk_api(device).take_ticket(body.service, body.priority))

    @app.post("/api/v1/kiosk/check-field", tags=["kiosk"])
    def check_field(body: FieldCheck, device=kiosk) -> dict:
        return {"value": kiosk_api(device).check_field(body.service, body.key, body.value)}

    @app.post("/api/v1/kiosk/applications", tags=["kiosk"])
    def kiosk_submit(body: KioskApplication, device=kiosk) -> dict:
        return kiosk_api(device).submit(body.service, body.fields)

    @app.post("/api/v1/kiosk/application", tags=["kiosk"])
    def kiosk_application(body: Query, device=kiosk) -> dict:
        """By its number, or by the code on its slip."""
        return kiosk_api(device).application(body.query)

    @app.post("/api/v1/kiosk/find", tags=["kiosk"])
    def kiosk_find(body: Query, device=kiosk) -> dict:
        """What a resident types: the number or its last digits."""
        return kiosk_api(device).find_application(body.query)

    @app.post("/api/v1/kiosk/card-payments", tags=["kiosk"])
    def card_payment(body: CardPayment, device=kiosk) -> dict:
        return kiosk_api(device).record_card_payment(body.application, body.terminal_ref)

    @app.post("/api/v1/kiosk/licences", tags=["kiosk"])
    def kiosk_issue(body: ApplicationRef, device=kiosk) -> dict:
        return kiosk_api(device).issue_licence(body.application)

    @app.post("/api/v1/kiosk/admin-pin", tags=["kiosk"])
    def admin_pin(body: AdminPin, device=kiosk) -> dict:
        return {"ok": kiosk_api(device).check_admin_pin(body.pin)}

    # --- printing: each device drains its own queue -------------------------------------------
    def own_job(device, job_id: str) -> dict:
        job = office.printing.get(job_id)
        if job["printer"] != device["name"]:
            raise PermissionDenied("another device's print job", reason="not_yours")
        return job

    @app.post("/api/v1/print/jobs", tags=["printing"])
    def enqueue_print(body: PrintRequest, device=kiosk_or_counter) -> dict:
        if device["role"] == "kiosk":
            if body.copy_:
                raise PermissionDenied("a kiosk does not print copies", reason="role")
            return kiosk_api(device).enqueue_print(body.kind, body.ref, body.lang)
        return counter_api(device).enqueue_print(body.kind, body.ref, body.lang, body.copy_)

    @app.get("/api/v1/print/next", tags=["printing"])
    def next_print_job(device=kiosk_or_counter) -> dict | None:
        """This device's oldest job waiting to print, or null."""
        return office.printing.next_job(device["name"])

    @app.get("/api/v1/print/jobs/{job_id}", tags=["printing"])
    def print_job(job_id: str, device=kiosk_or_counter) -> dict:
        return own_job(device, job_id)

    @app.get("/api/v1/print/jobs/{job_id}/document", tags=["printing"])
    def print_document(job_id: str, device=kiosk_or_counter) -> dict:
        """What the job's paper says (the device draws and prints it)."""
        job = own_job(device, job_id)
        return office.job_document(job)

    @app.post("/api/v1/print/jobs/{job_id}/state", tags=["printing"])
    def print_state(job_id: str, body: PrintState, device=kiosk_or_counter) -> dict:
        own_job(device, job_id)
        queue = office.printing
        if body.state == "printing":
            return queue.mark_printing(job_id)
        if body.state == "done":
            queue.mark_done(job_id, body.size or 0)
        elif body.state == "retry":
            queue.mark_retry(job_id, body.error or "")
        else:
            queue.mark_failed(job_id, body.error or "")
        return queue.get(job_id)

    @app.post("/api/v1/print/jobs/{job_id}/abandon", tags=["printing"])
    def abandon_print(job_id: str, body: Reason, device=kiosk) -> dict:
        own_job(device, job_id)
        kiosk_api(device).abandon_print(job_id, body.reason)
        return office.printing.get(job_id)

    # --- counter ------------------------------------------------------------------------------
    @app.post("/api/v1/counter/sign-in", tags=["counter"])
    def sign_in(body: SignIn, device=counter) -> dict:
        account = counter_api(device).sign_in(body.username, body.pin)
        return {"account": account, "session": devices.start_session(device,
                                                                     account["username"])}

    @app.post("/api/v1/counter/sign-out", tags=["counter"])
    def sign_out(device=counter, session: str | None = Depends(clerk_header)) -> dict:
        devices.end_session(session)
        return {"ok": True}

    @app.get("/api/v1/counter/queue", tags=["counter"])
    def queue_overview(device=counter) -> list[dict]:
        return counter_api(device).queue_overview()

    @app.get("/api/v1/counter/my-tickets", tags=["counter"])
    def my_tickets(device=counter, session: str | None = Depends(clerk_header)) -> list[dict]:
        clerk_of(device, session)
        return counter_api(device).my_tickets()

    @app.post("/api/v1/counter/call-next", tags=["counter"])
    def call_next(body: CallNext, device=counter,
                  session: str | None = Depends(clerk_header)) -> dict | None:
        clerk = clerk_of(device, session)
        return changed(counter_api(device).call_next(clerk, body.services))

    @app.post("/api/v1/counter/tickets/{ticket}/step", tags=["counter"])
    def ticket_step(ticket: str, body: TicketStep, device=counter,
                    session: str | None = Depends(clerk_header)) -> dict:
        clerk = clerk_of(device, session)
        if body.step == "transfer" and not body.service:
            raise ValidationError("a transfer names the service", field="service")
        args = (body.service,) if body.step == "transfer" else ()
        return changed(counter_api(device).ticket_step(clerk, body.step, ticket, *args))

    @app.get("/api/v1/counter/tickets/{ticket}/application", tags=["counter"])
    def ticket_application(ticket: str, device=counter,
                           session: str | None = Depends(clerk_header)) -> dict | None:
        clerk_of(device, session)
        return counter_api(device).ticket_application(ticket)

    @app.post("/api/v1/counter/application", tags=["counter"])
    def counter_application(body: Query, device=counter,
                            session: str | None = Depends(clerk_header)) -> dict:
        clerk_of(device, session)
        return counter_api(device).application(body.query)

    @app.post("/api/v1/counter/find", tags=["counter"])
    def find(body: Query, device=counter,
             session: str | None = Depends(clerk_header)) -> list[dict]:
        clerk_of(device, session)
        return counter_api(device).find(body.query)

    @app.post("/api/v1/counter/check-fields", tags=["counter"])
    def check_fields(body: FieldsCheck, device=counter) -> dict:
        return counter_api(device).check_fields(body.service, body.values)

    @app.post("/api/v1/counter/applications", tags=["counter"])
    def counter_submit(body: CounterApplication, device=counter,
                       session: str | None = Depends(clerk_header)) -> dict:
        clerk = clerk_of(device, session)
        return counter_api(device).submit(clerk, body.service, body.fields, body.ticket)

    @app.post("/api/v1/counter/decisions", tags=["counter"])
    def decide(body: Decision, device=counter,
               session: str | None = Depends(clerk_header)) -> dict:
        clerk_of(device, session)
        return counter_api(device).decide(body.supervisor, body.pin, body.decision,
                                          body.application, body.reason)

    @app.post("/api/v1/counter/payments", tags=["counter"])
    def take_payment(body: Payment, device=counter,
                     session: str | None = Depends(clerk_header)) -> dict:
        clerk = clerk_of(device, session)
        return counter_api(device).take_payment(clerk, body.application, body.method,
                                                body.tendered_minor, body.reference)

    @app.post("/api/v1/counter/payments/void", tags=["counter"])
    def void_payment(body: Void, device=counter,
                     session: str | None = Depends(clerk_header)) -> dict:
        clerk_of(device, session)
        return counter_api(device).void_payment(body.supervisor, body.pin, body.receipt,
                                                body.reason)

    @app.post("/api/v1/counter/shift/open", tags=["counter"])
    def open_shift(body: Amount, device=counter,
                   session: str | None = Depends(clerk_header)) -> dict:
        return counter_api(device).open_shift(clerk_of(device, session), body.amount_minor)

    @app.get("/api/v1/counter/shift", tags=["counter"])
    def current_shift(device=counter, session: str | None = Depends(clerk_header)) -> dict | None:
        return counter_api(device).current_shift(clerk_of(device, session))

    @app.post("/api/v1/counter/shift/close", tags=["counter"])
    def close_shift(body: Amount, device=counter,
                    session: str | None = Depends(clerk_header)) -> dict:
        return counter_api(device).close_shift(clerk_of(device, session), body.amount_minor)

    @app.get("/api/v1/counter/shifts/{shift}/z-report", tags=["counter"])
    def z_report(shift: str, device=counter,
                 session: str | None = Depends(clerk_header)) -> dict:
        clerk_of(device, session)
        return counter_api(device).z_report(shift)

    @app.post("/api/v1/counter/licences", tags=["counter"])
    def counter_issue(body: ApplicationRef, device=counter,
                      session: str | None = Depends(clerk_header)) -> dict:
        return counter_api(device).issue_licence(clerk_of(device, session), body.application)

    @app.post("/api/v1/counter/licences/reprint", tags=["counter"])
    def reprint(body: Reprint, device=counter,
                session: str | None = Depends(clerk_header)) -> dict:
        return counter_api(device).reprint_licence(clerk_of(device, session), body.licence,
                                                   body.reason)

    @app.post("/api/v1/counter/licences/revoke", tags=["counter"])
    def revoke(body: Revoke, device=counter,
               session: str | None = Depends(clerk_header)) -> dict:
        clerk_of(device, session)
        return counter_api(device).revoke_licence(body.supervisor, body.pin, body.licence,
                                                  body.reason)

    # --- display board --------------------------------------------------------------------------
    def board_device(request: Request) -> dict:
        token = request.cookies.get(BOARD_COOKIE)
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            token = header[7:].strip()
        return devices.authenticate(token, ("board",))

    @app.get("/board", response_class=HTMLResponse, tags=["board"])
    def board(request: Request):
        """The display board page for a TV browser (a pairing form until it is paired).
        ?lang=ar (default) or en picks the main language; the other is shown small."""
        try:
            board_device(request)
        except PermissionDenied:
            return HTMLResponse((BOARD_DIR / "pair.html").read_text(encoding="utf-8"),
                                status_code=401)
        return HTMLResponse((BOARD_DIR / "board.html").read_text(encoding="utf-8"))

    @app.post("/board/pair", tags=["board"])
    def board_pair(body: PairRequest) -> JSONResponse:
        """The board page's pairing form: a board's code sets the board's cookie (the
        token never reaches the page's scripts)."""
        device, token = devices.redeem(body.code)
        if device["role"] != "board":
            devices.revoke(device["name"])  # a kiosk's code typed on a TV: spent, not usable
            raise PermissionDenied(f"that code was for a {device['role']}, not a board",
                                   reason="not_a_board")
        response = JSONResponse({"device": device})
        response.set_cookie(BOARD_COOKIE, token, max_age=10 * 365 * 86400, httponly=True,
                            samesite="strict")
        return response

    @app.get("/board/state", tags=["board"])
    def board_state(request: Request) -> dict:
        board_device(request)
        return live.snapshot

    @app.get("/board/events", tags=["board"])
    async def board_events(request: Request):
        """Server-sent events: `snapshot` (the whole board) on connect and on each change,
        `call` for each call or recall to announce."""
        await asyncio.to_thread(board_device, request)
        return _stream(request, live,
                       lambda m: [sse("call", c, c["id"]) for c in m["calls"]]
                       + [sse("snapshot", m["snapshot"], m["marker"])],
                       lambda: [sse("snapshot", live.snapshot, live.marker)])

    app.mount("/board/static", StaticFiles(directory=BOARD_DIR), name="board-static")
    return app


def _stream(request: Request, live: Live, render, first) -> StreamingResponse:
    async def body():
        q = live.subscribe()
        try:
            yield "retry: 1000\n\n"
            for chunk in first():
                yield chunk
            while True:
                try:
                    message = await asyncio.wait_for(q.get(), HEARTBEAT_S)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield ": ping\n\n"
                    continue
                if message is None:
                    return
                for chunk in render(message):
                    yield chunk
        finally:
            live.unsubscribe(q)

    return StreamingResponse(body(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
