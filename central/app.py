"""Central's HTTP API (FastAPI). The OpenAPI document is served at /openapi.json.

Handlers are thin: they authenticate, call central/service.py in a worker thread and turn a
CentralError into a JSON error with its status."""
from __future__ import annotations

import os
import threading
import time
from collections import deque
from pathlib import Path
from typing import Literal

from fastapi import FastAPI, Header, Path as PathParam, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from core.verify_page import (INDEX as VERIFY_INDEX, asset as verify_asset_of,
                              headers as verify_headers)
from core.verify_words import words as verify_words_of
from core.credentials.licence import MAX_TEXT, verify as verify_text
from core.http_policy import HttpPolicy
from sync import protocol

from . import trust_list
from .console.finance import (UPLOAD_LIMIT as SETTLEMENT_UPLOAD_BYTES,
                              UPLOAD_PATH as SETTLEMENT_UPLOAD_PATH)
from .service import Central, CentralError
from .staff import Person, Staff

RETRY_AFTER_S = 2


class Problem(BaseModel):
    error: str
    message: str


class EnrolRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(max_length=64)
    office: str = Field(max_length=8)
    device_id: str = Field(max_length=8)
    public_key: str = Field(max_length=64, description="the device's Ed25519 key, hex")


class Enrolment(BaseModel):
    device_id: str
    office: str
    token: str
    token_expires_at: str
    certificate: str
    root_public_key: str
    licence_types: list[str]


class RefusedEvent(BaseModel):
    id: str
    code: str = Field(description="foreign_number, foreign_object, number_taken, id_taken, "
                                  "number_changed, not_central_decision, depends_on_refused "
                                  "or licence_invalid (central/authority.py)")
    reason: str


class IngestResult(BaseModel):
    acknowledged: list[str] = Field(description="ids central now holds and applied (new and "
                                                "resent)")
    refused: list[RefusedEvent] = Field(
        default=[], description="ids central holds but refused to apply, each with its "
                                "reason: the device sets them aside for its operator")
    stored: int
    duplicates: int
    last_seq: int
    gaps: list[list[int]]
    server_time: str
    clock_skew_s: int | None = None


class Bundle(BaseModel):
    payload: str = Field(description="canonical JSON: office, device, full, from, cursor, "
                                     "more, issued_at, changes")
    signature: str = Field(description="Ed25519 signature of payload by the root key, base64")
    kid: str


class LicenceStatus(BaseModel):
    number: str
    status: Literal["valid", "revoked", "expired", "unknown"]
    licence_type: str | None = None
    office: str | None = None
    issued_at: str | None = None
    valid_until: str | None = None
    revoked_at: str | None = None
    revoke_reason: str | None = None


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["approved", "rejected"]
    reason: str | None = Field(default=None, max_length=500)
    conditions: str | None = Field(default=None, max_length=300)


class RevokeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500)


class UploadState(BaseModel):
    received: int = Field(description="bytes of the file central holds from this device: "
                                      "the next chunk starts here")
    complete: bool = Field(description="central holds the whole file, its hash checked")
    size: int = Field(description="the file's size, as its document_added event says")


class EraseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    numbers: list[str] = Field(min_length=1, max_length=100)
    reason: str = Field(min_length=1, max_length=500)


class TrustListEnvelope(BaseModel):
    format: Literal["NTL1"]
    payload: str = Field(description="base64 of the payload's UTF-8 JSON bytes: format, "
                                     "version, issued_at, roots, revocation_list "
                                     "(docs/verify.md)")
    kid: str = Field(description="the signing root's key id, 16 hex digits")
    signature: str = Field(description="Ed25519 signature over the payload bytes, base64")


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=2 * MAX_TEXT,
                      description=f"the QR's text as read (NF1:...); over {MAX_TEXT} "
                                  f"characters the verdict is too_large")


class VerifyResult(BaseModel):
    verdict: str = Field(description="valid, or the precise reason it is not "
                                     "(docs/credential-format.md): too_large, malformed, "
                                     "unsupported_version, unknown_issuer, bad_signature, "
                                     "wrong_issuer, certificate_not_yet_valid, "
                                     "certificate_expired, issued_outside_certificate, "
                                     "type_not_allowed, device_revoked, revoked, "
                                     "issued_in_future, licence_expired")
    ok: bool = Field(description="the licence is genuine, in force and not revoked")
    message: str
    claims: dict | None = Field(description="what the QR itself says, once its signature "
                                            "verified; null before that")
    revocation_list: int | None = Field(description="the number of the revocation list "
                                                    "checked against")


class VerifyStatus(BaseModel):
    status: Literal["valid", "revoked", "unknown"]
    revoked_at: str | None = None
    as_of: str


HTTP_ERROR_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}

ERRORS = {s: {"model": Problem} for s in (400, 401, 403, 404, 409, 410, 413, 415, 422, 503)}
VERIFY_RATE = (30, 60.0)  # POST /v1/verify: requests per client address per window (s)
VERIFY_BODY_BYTES = 16 * 1024  # {"text": ...}: a QR's 4096 characters and room to spare


class RateLimit:
    """At most `limit` calls per key in any `window` seconds (a sliding window, in memory:
    each worker counts its own). `clock` gives seconds; injected for tests."""

    def __init__(self, limit: int, window: float, clock=time.monotonic, max_keys: int = 10_000):
        self.limit, self.window, self.clock, self.max_keys = limit, window, clock, max_keys
        self._calls: dict[str, deque] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float | None:
        """None when the call may go ahead (and it is counted), else the seconds to wait."""
        now = self.clock()
        with self._lock:
            calls = self._calls.get(key)
            if calls is None:
                if len(self._calls) >= self.max_keys:  # forget the idle, then the oldest
                    for other in [k for k, c in self._calls.items()
                                  if not c or c[-1] <= now - self.window]:
                        del self._calls[other]
                    while len(self._calls) >= self.max_keys:
                        del self._calls[next(iter(self._calls))]
                calls = self._calls[key] = deque()
            while calls and calls[0] <= now - self.window:
                calls.popleft()
            if len(calls) >= self.limit:
                return max(0.0, calls[0] + self.window - now)
            calls.append(now)
            return None

UPLOAD_PREFIX = protocol.DOCUMENTS + "/"
SHA256_PARAM = PathParam(pattern=protocol.SHA256_PATTERN, description="the file's SHA-256, "
                                                                      "64 lower-case hex digits")


BATCH_SCHEMA = {
    "type": "object", "required": ["device", "office", "sent_at", "events"],
    "additionalProperties": False,
    "properties": {
        "device": {"type": "string"}, "office": {"type": "string"},
        "sent_at": {"type": "string"}, "pending": {"type": "integer", "minimum": 0},
        "oldest_pending_at": {"type": ["string", "null"], "maxLength": 40},
        "app_version": {"type": "string", "minLength": 1, "maxLength": 64},
        "events": {"type": "array", "maxItems": protocol.MAX_BATCH_EVENTS, "items": {
            "type": "object", "required": list(protocol.ENVELOPE),
            "additionalProperties": False,
            "properties": {
                **{k: {"type": "string"} for k in protocol.ENVELOPE
                   if k not in ("id", "seq", "audit_seq", "data", "type", "entity_type")},
                "id": {"type": "string", "minLength": 1, "maxLength": 64},
                "type": {"type": "string", "enum": list(protocol.EVENT_TYPES)},
                "entity_type": {"type": "string", "enum": list(protocol.ENTITY_TYPES)},
                "seq": {"type": "integer", "minimum": 1},
                "audit_seq": {"type": "integer", "minimum": 1},
                "data": {"type": "object"}}}}},
}


def create_app(central: Central, verify_rate: tuple[int, float] = VERIFY_RATE,
               rate_clock=time.monotonic,
               booking_rate: tuple[int, float] | None = None) -> FastAPI:
    # No /docs or /redoc (Swagger UI from a CDN); /openapi.json stays.
    app = FastAPI(title="Nafitha central", version="1", docs_url=None, redoc_url=None,
                  description="Devices push outbox events and pull signed reference data; "
                              "the back office decides applications and revokes licences "
                              "(docs/sync.md).")
    app.state.central = central
    # Bodies are refused over their limit before they are read (a batch: the protocol's
    # uncompressed limit; a document's chunk: the protocol's largest; anything else 64 KiB);
    # security headers on every answer.
    app.add_middleware(HttpPolicy, body_limits={
        "/v1/events": protocol.MAX_BATCH_BYTES,
        UPLOAD_PREFIX: protocol.MAX_UPLOAD_CHUNK_BYTES,
        "/v1/verify": VERIFY_BODY_BYTES,
        BILLER_PAYMENTS: BILLER_BODY_BYTES,
        SETTLEMENT_UPLOAD_PATH: SETTLEMENT_UPLOAD_BYTES})

    @app.exception_handler(CentralError)
    async def central_error(_request, exc: CentralError):
        return JSONResponse(exc.to_dict(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request, exc: RequestValidationError):
        # The documented error shape (Problem), also for requests FastAPI refuses itself.
        problems = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
                    for e in exc.errors()[:5]]
        return JSONResponse({"error": "invalid_request",
                             "message": "; ".join(problems) or "the request is not valid"},
                            status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(request, exc: HTTPException):
        # FastAPI's own refusals (a body it cannot parse: 400; no such path: 404; 405) in the
        # same shape. A 405's Allow names every method of the path (Starlette names only the
        # first route's: /v1/documents/{sha256} has a GET route and a PUT route).
        headers = exc.headers
        if exc.status_code == 405:
            allowed = sorted({m for r in app.routes if isinstance(r, APIRoute)
                              and r.path_regex.match(request.url.path) for m in r.methods})
            if allowed:
                headers = {**(headers or {}), "Allow": ", ".join(allowed)}
        return JSONResponse({"error": HTTP_ERROR_CODES.get(exc.status_code, "http_error"),
                             "message": str(exc.detail)},
                            status_code=exc.status_code, headers=headers)

    @app.exception_handler(OperationalError)
    async def busy(_request, exc: OperationalError):
        # The database is locked or unreachable: the agent should come back shortly.
        text = str(exc.orig)
        if central.engine.dialect.name == "sqlite" and "locked" not in text and \
                "busy" not in text:
            raise exc  # a real fault, not a busy database: 500
        return JSONResponse({"error": "busy", "message": f"database unavailable: "
                                                         f"{str(exc.orig)[:200]}"},
                            status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)})

    @app.get("/healthz", responses=ERRORS)
    def healthz() -> dict:
        return {"ok": True, "time": central.now()}

    @app.post("/v1/enrol", response_model=Enrolment, responses=ERRORS)
    def enrol(request: EnrolRequest):
        return central.enrol(request.code, request.office, request.device_id,
                             request.public_key)

    @app.post("/v1/events", response_model=IngestResult, responses=ERRORS,
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": BATCH_SCHEMA}}},
                  "description": "A batch of outbox events, gzip JSON (Content-Encoding: "
                                 "gzip) or plain JSON."})
    async def ingest(request: Request, authorization: str | None = Header(default=None)):
        device = await run_in_threadpool(central.authenticate, authorization)
        body = await request.body()
        return await run_in_threadpool(central.ingest, device, body,
                                       request.headers.get("content-encoding"))

    @app.get("/v1/reference", response_model=Bundle, responses=ERRORS)
    def reference_bundle(cursor: int = Query(0, ge=0), limit: int = Query(500, ge=1, le=5000),
                         authorization: str | None = Header(default=None)):
        return central.bundle(central.authenticate(authorization), cursor, limit)

    @app.get(UPLOAD_PREFIX + "{sha256}", response_model=UploadState, responses=ERRORS)
    def document_state(sha256: str = SHA256_PARAM,
                       authorization: str | None = Header(default=None)):
        """How much of a document file central holds from this device (docs/sync.md,
        "Documents"): resume the upload from `received`."""
        return central.documents.state(central.authenticate(authorization), sha256)

    @app.put(UPLOAD_PREFIX + "{sha256}", response_model=UploadState, responses=ERRORS,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/octet-stream": {"schema": {
                     "type": "string", "format": "binary",
                     "maxLength": protocol.MAX_UPLOAD_CHUNK_BYTES}}}}})
    async def document_chunk(request: Request, sha256: str = SHA256_PARAM,
                             content_range: str = Header(
                                 max_length=64, description="bytes <start>-<end>/<total>: "
                                 "start must be what central holds (else 409 with "
                                 "`received`)"),
                             authorization: str | None = Header(default=None)):
        """One chunk of a document file a document_added event of this device named. The
        last chunk completes it: central checks the whole file's hash (a mismatch: 422
        hash_mismatch, the file is discarded and sent again from 0)."""
        device = await run_in_threadpool(central.authenticate, authorization)
        body = await request.body()
        return await run_in_threadpool(central.documents.put_chunk, device, sha256,
                                       content_range, body)

    @app.get("/v1/licences/{number}", response_model=LicenceStatus, responses=ERRORS)
    def licence_status(number: str):
        return central.licence_status(number)

    add_verify_routes(app, central, RateLimit(*verify_rate, clock=rate_clock))

    staff = Staff(central) if central is not None else None  # None: only the OpenAPI text
    app.state.staff = staff

    def admin(authorization: str | None, permission: str, kind: str | None = None,
              number: str | None = None) -> tuple[Person, str | None]:
        """The key's person if its role has `permission`, and the municipality of the
        application or licence `number` (another municipality's is 404, as if absent)."""
        person = staff.authenticate_key(authorization)
        if not person.can(permission):
            raise CentralError(403, "not_permitted", f"the key {person.full_name!r} (role "
                                                     f"{person.role}) may not do this "
                                                     f"({permission})")
        municipality = None
        if kind is not None:
            found, municipality = staff.municipality_of(kind, number)
            if found and not person.sees(municipality):
                raise CentralError(404, f"unknown_{kind}", f"no {kind} {number}")
        return person, municipality

    @app.get("/v1/admin/offices", responses=ERRORS)
    def admin_offices(authorization: str | None = Header(default=None)) -> list[dict]:
        person, _ = admin(authorization, "read")
        seen = {o["code"] for o in staff.offices(person)}
        return [o for o in central.offices() if o["office"] in seen]

    @app.get("/v1/admin/rejections", responses=ERRORS)
    def admin_rejections(authorization: str | None = Header(default=None)) -> list[dict]:
        admin(authorization, "read")
        return central.rejections()

    @app.post("/v1/admin/applications/{number}/decision", responses=ERRORS)
    def admin_decide(number: str, request: DecisionRequest,
                     authorization: str | None = Header(default=None)) -> dict:
        person, municipality = admin(authorization, "decide", "application", number)
        result = central.decide(number, request.decision, request.reason, request.conditions,
                                by=person.actor)
        staff.audit(person, "application.decide", "application", number, municipality,
                    {"decision": request.decision})
        return result

    @app.post("/v1/admin/licences/{number}/revoke", responses=ERRORS)
    def admin_revoke(number: str, request: RevokeRequest,
                     authorization: str | None = Header(default=None)) -> dict:
        person, municipality = admin(authorization, "revoke_licence", "licence", number)
        result = central.revoke_licence(number, request.reason, by=person.actor)
        staff.audit(person, "licence.revoke", "licence", number, municipality, {})
        return result

    @app.post("/v1/admin/erasures", responses=ERRORS)
    def admin_erase(request: EraseRequest,
                    authorization: str | None = Header(default=None)) -> dict:
        """Erase residents' personal data (docs/privacy.md): numbers in the body, not the
        URL. Admin keys only."""
        person, _ = admin(authorization, "erase")
        owners = {n: staff.municipality_of("application", n) for n in request.numbers}
        for number, (found, municipality) in owners.items():
            if found and not person.sees(municipality):
                raise CentralError(404, "unknown_application", f"no application {number}")
        result = central.erase_resident(request.numbers, request.reason, by=person.actor)
        for number, (_found, municipality) in owners.items():
            staff.audit(person, "resident.erase", "application", number, municipality, {})
        return result

    add_biller_routes(app, central)

    from .console import mount
    mount(app, central, staff)

    from .fleet import add_fleet_routes
    add_fleet_routes(app, central)

    from .high_water import add_high_water_routes
    add_high_water_routes(app, central)

    from .releases import add_release_routes
    add_release_routes(app, central)

    # Appointments: the API and the public booking page (docs/appointments.md).
    from .appointments import BOOKING_RATE, add_appointment_routes
    booking_limit = RateLimit(*(booking_rate or BOOKING_RATE), clock=rate_clock)
    add_appointment_routes(app, central, booking_limit)
    from .booking_page import add_booking_page
    add_booking_page(app, central, booking_limit)
    return app


BILLER_PAYMENTS = "/v1/biller/payments"
BILLER_BODY_BYTES = 4096  # a notification is a few hundred bytes
BILL_NUMBER_PARAM = PathParam(max_length=64, description="the bill number, e.g. "
                                                         "MUH-D01-B000042-17")
SIGNATURE_HEADER = Header(default=None, alias="X-Biller-Signature", max_length=128,
                          description="hex HMAC-SHA256 under the shared biller secret: of "
                                      "the request's path (an inquiry) or of its raw body "
                                      "(a payment)")
PAYMENT_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "required": ["transaction_id", "bill_number", "amount_minor", "paid_at", "network"],
    "properties": {
        "transaction_id": {"type": "string", "minLength": 1, "maxLength": 64,
                           "description": "the network's id: the same id counts once"},
        "bill_number": {"type": "string", "maxLength": 36},
        "amount_minor": {"type": "integer", "minimum": 1,
                         "description": "whole minor units (fils)"},
        "paid_at": {"type": "string", "maxLength": 40, "description": "ISO 8601, with offset"},
        "network": {"type": "string", "minLength": 1, "maxLength": 32}}}


class BillInquiry(BaseModel):
    number: str
    amount_minor: int
    currency: str
    due_at: str
    status: Literal["open", "paid", "expired", "cancelled"]
    name: str | None = Field(description="the resident's name masked: the first letter of "
                                         "each word, then ***")


class PaymentResult(BaseModel):
    transaction_id: str
    bill_number: str
    outcome: Literal["accepted", "refund_expired", "refund_cancelled", "refund_double"] = \
        Field(description="accepted (200), or recorded for refund (202)")


def add_biller_routes(app: FastAPI, central: Central) -> None:
    """Central as the biller (docs/bills.md): the national payment networks' bill inquiry and
    payment notification, signed with HMAC-SHA256 under the shared biller secret."""

    @app.get("/v1/biller/bills/{number}", response_model=BillInquiry, responses=ERRORS,
             tags=["biller"])
    def biller_inquiry(request: Request, number: str = BILL_NUMBER_PARAM,
                       signature: str | None = SIGNATURE_HEADER):
        """A bill's amount, due date, status and masked name. 422 bad_check_digit: the
        number has a wrong or swapped character; 404 unknown_bill."""
        path = request.scope.get("raw_path") or request.url.path.encode("utf-8")
        central.bills.verify(path.split(b"?", 1)[0], signature)
        return central.bills.inquire(number)

    @app.post(BILLER_PAYMENTS, response_model=PaymentResult, tags=["biller"],
              responses={**ERRORS, 202: {"model": PaymentResult,
                                         "description": "recorded for refund: the bill "
                                                        "expired, was cancelled or was paid "
                                                        "already"}},
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": PAYMENT_SCHEMA}}}})
    async def biller_payment(request: Request, signature: str | None = SIGNATURE_HEADER):
        """A payment notification, signed over its raw body. Idempotent by transaction_id;
        409 amount_mismatch or transaction_replayed: refused, and recorded."""
        body = await request.body()
        status, answer = await run_in_threadpool(central.bills.notify, body, signature)
        return JSONResponse(answer, status_code=status)


def add_verify_routes(app: FastAPI, central: Central, rate: RateLimit) -> None:
    """The browser verifier (assets/verify/ at /verify/), its trust list and words, a
    licence's status, and POST /v1/verify for other systems (docs/verify.md). No sign-in:
    nothing here says more than a licence's QR already does."""
    verifier = trust_list.Verifier(central) if central is not None else None

    @app.post("/v1/verify", response_model=VerifyResult,
              responses={**ERRORS, 429: {"model": Problem, "description": "too many requests "
                                         "from this address; Retry-After says when to retry"}})
    def verify_qr(body: VerifyRequest, request: Request):
        """Verify a licence's QR text with central's roots and its newest revocation list:
        the verdict and, once the signature verified, what the QR says. Rate-limited per
        client address."""
        wait = rate.take(request.client.host if request.client else "unknown")
        if wait is not None:
            return JSONResponse({"error": "too_many_requests",
                                 "message": "too many verifications from this address; "
                                            "retry later"}, status_code=429,
                                headers={"Retry-After": str(max(1, int(wait + 0.999)))})
        trust = verifier.trust()
        result = verify_text(body.text, trust, int(central.clock.now().timestamp()))
        # claims are set only once the licence's signature verified
        return {"verdict": result.reason, "ok": result.valid, "message": result.message,
                "claims": result.claims or None,
                "revocation_list": trust.revocations.number if trust.revocations else None}

    @app.get("/verify", include_in_schema=False)
    def verify_home():
        return RedirectResponse("/verify/", status_code=308)

    @app.get("/verify/trust-list.json", response_model=TrustListEnvelope, responses=ERRORS)
    def verify_trust_list():
        """Central's roots and newest revocation list, signed (NTL1, docs/verify.md): a
        page keeps it only when its signature verifies and its version is newer."""
        return JSONResponse(trust_list.latest(central), headers={"Cache-Control": "no-cache"})

    @app.get("/verify/words.json", responses=ERRORS)
    def verify_words() -> dict:
        """The verifier page's words in Arabic and English (the kiosk's)."""
        return verify_words_of()

    @app.get("/verify/status/{number}", response_model=VerifyStatus, responses=ERRORS)
    def verify_status(number: str = PathParam(max_length=64)):
        """Whether central knows the licence and holds it revoked, now (`as_of`)."""
        found = central.licence_status(number)
        status = {"revoked": "revoked", "valid": "valid", "expired": "valid"}.get(
            found["status"], "unknown")
        return {"status": status, "revoked_at": found.get("revoked_at"),
                "as_of": central.now()}

    @app.get("/verify/", include_in_schema=False)
    def verify_index():
        return _verify_asset(VERIFY_INDEX)

    @app.get("/verify/{name:path}", include_in_schema=False)
    def verify_asset(name: str):
        return _verify_asset(name)


def _verify_asset(name: str):
    found = verify_asset_of(name)
    if found is None:
        raise CentralError(404, "not_found", "no such file of the verifier page")
    path, media = found
    return FileResponse(path, media_type=media, headers=verify_headers(name))


def app_from_environment() -> FastAPI:
    """For `uvicorn --factory` (several workers): NAFITHA_CENTRAL_HOME and _DB."""
    home = Path(os.environ["NAFITHA_CENTRAL_HOME"])
    return create_app(Central.open(home, os.environ.get("NAFITHA_CENTRAL_DB") or None))
