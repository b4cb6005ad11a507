"""The hub's HTTP API (FastAPI): kiosks, counters and display boards of one service centre
share its store, its queue and its sync agent.

Every device sends its own token (`Authorization: Bearer nfh_...`, from pairing); a kiosk's
token opens the kiosk routes only, a counter's the counter routes, a board's the board. A
clerk signs in on top of the counter's token and sends the session it gets
(`X-Clerk-Session: nfs_...`) with every clerk operation; supervisor steps also carry the
supervisor's name and PIN, checked by the operation. The kiosk's, the counter's and the
print queue's routes are derived from their declarations in core/faces (hub/routes.py);
this module adds pairing, the office's facts, live events and the board. Errors are core's (`{"error", "message", ...}`)
with an HTTP status by kind. The OpenAPI document is at /openapi.json (docs/hub-openapi.json
is the published copy, checked by a test)."""
from __future__ import annotations

import asyncio
import html
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Literal

from fastapi import Depends, FastAPI, Path as PathParam, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import (FileResponse, HTMLResponse, JSONResponse, RedirectResponse,
                               StreamingResponse)
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from core import reference, sync_state, verify_page
from core.credentials.licence import NUMBER_RE
from core.errors import NafithaError, NotFound, PermissionDenied
from core.faces.counter import CounterFace
from core.faces.device import DeviceFace
from core.http_policy import HttpPolicy
from core.faces.kiosk import KioskFace
from core.faces.printing import PrintJobs
from core.pairing import ROLES, Devices
from core.verify_words import words as verify_words_of

from .live import Live, event_stream, sse
from .manager import add_manager_routes
from .phone import add_phone_routes
from .rating import add_rating_routes
from .routes import add_face_routes, bearer, body_limits, device_of, hub_route

# The faces a paired device reaches, each at /api/v1/{face.name}/... (hub/routes.py).
FACES = (KioskFace, CounterFace, PrintJobs)

BOARD_DIR = Path(__file__).resolve().parent / "board"
BOARD_COOKIE = "nafitha_board"
TOKEN_REASONS = ("token_missing", "token_wrong", "token_revoked", "token_expired")
STATUS = {"invalid_input": 422, "not_found": 404, "invalid_state": 409,
          "permission_denied": 403, "store_unusable": 503, "too_many_requests": 429}


class PairRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=40, description="The code shown on the hub.")


class PairProof(BaseModel):
    """A device's proof that it was shown a pairing code, naming the certificate it saw
    (core/tls.py): the code itself never crosses the network."""
    model_config = ConfigDict(extra="forbid")
    nonce: str = Field(pattern="^[0-9a-f]{32,64}$", description="The device's random nonce.")
    proof: str = Field(pattern="^[0-9a-f]{64}$",
                       description="HMAC(scrypt(code, certificate fingerprint), nonce).")


# What the plain-HTTP listener serves (hub.board_port): the display board, whose page shows
# only what the hall's screen shows, the health probe, and the public licence verifier
# (its page says to use HTTPS there, where the browser lets it open the camera), and the
# resident's phone page (/q/<token>: a ticket's number and place, nothing personal; a phone
# on the centre's Wi-Fi does not trust the hub's certificate). Everything a kiosk or counter
# sends (tokens, PINs, residents' data) is on the HTTPS listener only.
BOARD_PATHS = ("/board", "/rating", "/api/v1/health", "/verify", "/q/")


def _status(exc: NafithaError) -> int:
    if isinstance(exc, PermissionDenied) and exc.details.get("reason") in TOKEN_REASONS:
        return 401
    return STATUS.get(exc.code, 400)


def _source(request: Request) -> str:
    """Where a request came from, for per-source throttling: the peer's address as the
    socket reports it (never a header a client could write)."""
    return request.client.host if request.client else "unknown"


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

    # No /docs or /redoc: FastAPI's pages load Swagger UI from a CDN (the machine is
    # offline, and no page of ours loads anything from elsewhere); /openapi.json stays.
    app = FastAPI(title="Nafitha hub", version="1", lifespan=lifespan, docs_url=None,
                  redoc_url=None,
                  description="The service centre's LAN API: kiosks take tickets and submit "
                              "applications, counters call and serve, display boards show "
                              "the calls (docs/hub.md).")
    app.state.office, app.state.devices, app.state.live = office, devices, live
    # Bodies over 64 KiB are refused before they are read (a page of a document excepted);
    # security headers on every answer.
    app.add_middleware(HttpPolicy, body_limits=body_limits(FACES))

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

    anyone = Depends(device_of(devices, ROLES))

    # --- any device ---------------------------------------------------------------------------
    open_route = hub_route((), [])
    any_device = hub_route(ROLES, ["device token"])
    board_only_route = hub_route(("board",), ["board cookie or device token"])

    @app.get("/api/v1/health", tags=["hub"], openapi_extra=open_route)
    def health() -> dict:
        """The hub answers (no token needed): kiosks and counters probe it while away."""
        return {"ok": True, "office": office.settings.office.code}

    @app.post("/api/v1/pair", tags=["hub"], openapi_extra=hub_route(
        ROLES, ["pairing proof"], "the code shown on the hub, proven for its certificate"))
    def pair(body: PairProof, request: Request) -> dict:
        """Trade the proof of a pairing code shown on the hub for this device's own token,
        with the hub's proof that it knows the code (`hub_proof`); docs/hub.md, HTTPS."""
        device, token, proof = devices.redeem_proof(body.nonce, body.proof, _source(request))
        return {"token": token, "device": device, "hub_proof": proof}

    @app.post("/api/v1/renew", tags=["hub"], openapi_extra=any_device)
    def renew(credentials=Depends(bearer)) -> dict:
        """Trade this device's token for a new one (devices do it by themselves once an
        answer carries X-Nafitha-Renew: due). The old token works 10 more minutes."""
        device, token = devices.renew(credentials.credentials if credentials else None)
        return {"token": token, "device": device}

    @app.get("/api/v1/me", tags=["hub"], openapi_extra=any_device)
    def me(device=anyone) -> dict:
        return device

    @app.get("/api/v1/office", tags=["hub"], openapi_extra=any_device)
    def office_info(_device=anyone) -> dict:
        o = office.settings.office
        return {"code": o.code, "name_ar": o.name_ar, "name_en": o.name_en,
                "timezone": o.timezone, "digits": o.digits,
                "currency": DeviceFace(office).currency()}

    @app.get("/api/v1/events", tags=["hub"], openapi_extra=any_device)
    async def events(request: Request, _device=anyone):
        """Server-sent events: `queue` with the change marker whenever the queue changes."""
        return _stream(request, live, lambda message: [sse("queue", {
            "marker": message["marker"]}, message["marker"])],
            lambda: [sse("queue", {"marker": live.marker}, live.marker)])

    for face in FACES:
        add_face_routes(app, face, office, devices, live)

    # --- display board --------------------------------------------------------------------------
    def board_device(request: Request) -> dict:
        token = request.cookies.get(BOARD_COOKIE)
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            token = header[7:].strip()
        return devices.authenticate(token, ("board",))

    @app.get("/board", response_class=HTMLResponse, tags=["board"],
             openapi_extra=hub_route(("board",), [], "a pairing form until it is paired"))
    def board(request: Request):
        """The display board page for a TV browser (a pairing form until it is paired).
        ?lang=ar (default) or en picks the main language; the other is shown small."""
        try:
            board_device(request)
        except PermissionDenied:
            return HTMLResponse((BOARD_DIR / "pair.html").read_text(encoding="utf-8"),
                                status_code=401)
        return HTMLResponse(board_page(office))

    @app.post("/board/pair", tags=["board"], openapi_extra=hub_route(
        ("board",), ["pairing code"], "a board's code only: any other is spent and revoked"))
    def board_pair(body: PairRequest, request: Request) -> JSONResponse:
        """The board page's pairing form: a board's code sets the board's cookie (the
        token never reaches the page's scripts)."""
        device, token = devices.redeem(body.code, _source(request))
        if device["role"] != "board":
            devices.revoke(device["name"])  # a kiosk's code typed on a TV: spent, not usable
            raise PermissionDenied(f"that code was for a {device['role']}, not a board",
                                   reason="not_a_board")
        response = JSONResponse({"device": device})
        response.set_cookie(BOARD_COOKIE, token, max_age=10 * 365 * 86400, httponly=True,
                            samesite="strict")
        return response

    @app.get("/board/state", tags=["board"], openapi_extra=board_only_route)
    def board_state(request: Request) -> dict:
        board_device(request)
        return live.snapshot

    @app.get("/board/events", tags=["board"], openapi_extra=board_only_route)
    async def board_events(request: Request):
        """Server-sent events: `snapshot` (the whole board) on connect and on each change,
        `call` for each call or recall to announce."""
        await asyncio.to_thread(board_device, request)
        return _stream(request, live,
                       lambda m: [sse("call", c, c["id"]) for c in m["calls"]]
                       + [sse("snapshot", m["snapshot"], m["marker"])],
                       lambda: [sse("snapshot", live.snapshot, live.marker)])

    app.mount("/board/static", StaticFiles(directory=BOARD_DIR), name="board-static")

    @app.get("/", include_in_schema=False)
    def home():
        """What this address is, in Arabic and English, with links to the board, the
        manager's page and the verifier (the board port redirects `/` to /board instead:
        board_only)."""
        return HTMLResponse((BOARD_DIR / "home.html").read_text(encoding="utf-8"))

    add_rating_routes(app, office, devices, live)  # the counter's rating screen (hub/rating.py)
    add_phone_routes(app, office, live)  # a resident follows a ticket (hub/phone.py)
    add_verify_routes(app, office)
    add_manager_routes(app, office)  # /manager: live view, reports (hub/manager.py), HTTPS only
    return app


class VerifyStatus(BaseModel):
    status: Literal["valid", "revoked", "unknown"]
    revoked_at: str | None = None
    as_of: str = Field(description="when this office last heard from central (its "
                                   "revocation list's news), else now")


def add_verify_routes(app: FastAPI, office) -> None:
    """The public licence verifier (assets/verify/ at /verify/, docs/verify.md), the trust
    list central last sent this office, the page's words, and what the office knows of a
    licence's status. No token: nothing here says more than a licence's QR does."""
    public = hub_route((), [], "public: the licence verifier page")

    @app.get("/verify", include_in_schema=False)
    def verify_home():
        return RedirectResponse("/verify/", status_code=308)

    @app.get("/verify/trust-list.json", tags=["hub"], openapi_extra=public)
    def verify_trust_list() -> JSONResponse:
        """The NTL1 trust list (central's roots and revocation list, signed) this office
        holds: the newest central sent, checked against the office's roots."""
        held = reference.trust_list(office.store)
        if held is None:
            raise NotFound("this office has no trust list from central yet")
        return JSONResponse(held["body"], headers={"Cache-Control": "no-cache"})

    @app.get("/verify/words.json", tags=["hub"], openapi_extra=public)
    def verify_words() -> dict:
        """The verifier page's words in Arabic and English (the kiosk's)."""
        return verify_words_of()

    @app.get("/verify/status/{number}", tags=["hub"], openapi_extra=public)
    def verify_status(number: str = PathParam(max_length=64)) -> VerifyStatus:
        """Revoked when this office or central's revocation list (as this office last
        received it) says so; valid when the licence was issued here and is not; else
        unknown."""
        status, revoked_at = "unknown", None
        if NUMBER_RE.match(number):
            revocations = office.trust().revocations
            local = office.licences.local_revocation(number)
            if local is not None:
                status, revoked_at = "revoked", local["revoked_at"]
            elif revocations is not None and number in revocations.licences:
                status = "revoked"
            else:
                try:
                    office.licences.get(number)
                    status = "valid"
                except NotFound:
                    pass
        as_of = sync_state.get(office.store, "last_pull_at") or office.store.now()
        return VerifyStatus(status=status, revoked_at=revoked_at, as_of=as_of)

    @app.get("/verify/", include_in_schema=False)
    def verify_index():
        return _verify_asset(verify_page.INDEX)

    @app.get("/verify/{name:path}", include_in_schema=False)
    def verify_asset(name: str):
        return _verify_asset(name)


def _verify_asset(name: str) -> FileResponse:
    found = verify_page.asset(name)
    if found is None:
        raise NotFound("no such file of the verifier page")
    path, media = found
    return FileResponse(path, media_type=media, headers=verify_page.headers(name))


def board_page(office) -> str:
    """board.html with the office's time zone and the hub's clock (epoch ms) filled in: the
    board's clock shows the office's time even when the TV's own clock or zone is wrong."""
    now_ms = int(office.store.clock.now().timestamp() * 1000)
    return ((BOARD_DIR / "board.html").read_text(encoding="utf-8")
            .replace("{{zone}}", html.escape(office.settings.office.timezone))
            .replace("{{now_ms}}", str(now_ms)))


def board_only(app, https_port: int | None = None):
    """The app as the plain-HTTP listener serves it: the board's paths and the health probe;
    anything else is refused before it is read (a device's token or PIN must never travel
    in clear, so no device route answers here)."""
    async def guarded(scope, receive, send):
        if scope["type"] == "http" and scope["path"] == "/":
            # The board port is the TV's address: `/` is the board (its pairing form first).
            query = scope.get("query_string", b"").decode("latin-1")
            await RedirectResponse("/board" + (f"?{query}" if query else ""),
                                   status_code=307)(scope, receive, send)
            return
        if scope["type"] == "http" and not scope["path"].startswith(BOARD_PATHS):
            port = https_port or app.state.office.settings.hub.port
            await JSONResponse(
                {"error": "permission_denied", "reason": "https_required",
                 "message": f"this address serves the display board only; devices use "
                            f"https://<hub>:{port}"}, status_code=403)(scope, receive, send)
            return
        await app(scope, receive, send)
    # Its own answers (the redirect, the refusal) carry the security headers too: they are
    # sent before the app's own HttpPolicy is reached.
    return HttpPolicy(guarded)


def _stream(request: Request, live: Live, render, first) -> StreamingResponse:
    """A stream whose chunks need no read of the store (the poller's message has them)."""
    async def first_chunks():
        return first()

    async def changed(message):
        return render(message)

    return event_stream(request, live, first_chunks, changed)
