"""Central's HTTP API (FastAPI). The OpenAPI document is served at /openapi.json.

Handlers are thin: they authenticate, call central/service.py in a worker thread and turn a
CentralError into a JSON error with its status."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from fastapi import FastAPI, Header, Path as PathParam, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from core.http_policy import HttpPolicy
from sync import protocol

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


HTTP_ERROR_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}

ERRORS = {s: {"model": Problem} for s in (400, 401, 403, 404, 409, 410, 413, 415, 422, 503)}

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


def create_app(central: Central) -> FastAPI:
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
        UPLOAD_PREFIX: protocol.MAX_UPLOAD_CHUNK_BYTES})

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

    from .console import mount
    mount(app, central, staff)

    return app


def app_from_environment() -> FastAPI:
    """For `uvicorn --factory` (several workers): NAFITHA_CENTRAL_HOME and _DB."""
    home = Path(os.environ["NAFITHA_CENTRAL_HOME"])
    return create_app(Central.open(home, os.environ.get("NAFITHA_CENTRAL_DB") or None))
