"""The faces' routes, derived from their declarations (core/faces): nothing here names an
operation.

Each operation of a face becomes `/api/v1/{face}/{operation}`: a GET for a read without
parameters, else a POST whose JSON body is a model made from the operation's typed
parameters (unknown keys refused). Its metadata decides the rest: the device roles whose
token opens it, the clerk's session it needs (`X-Clerk-Session`; a clerk's operation runs
as that clerk), a session started or ended, and a poke to the live updates when it changes
the queue, a request body above the default limit (a page of a document). The OpenAPI
document shows the metadata under `x-nafitha`."""
from __future__ import annotations

import collections
import dataclasses
import inspect
import threading
import time
import typing

from fastapi import Depends, FastAPI, Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, create_model

from core import idempotency
from core.errors import PermissionDenied, TooManyRequests
from core.faces import Face, Operation, operations_of, wire_params
from core.pairing import RENEW_HEADER
from core.users import PinGuard

bearer = HTTPBearer(auto_error=False, description="The device's token from pairing.")
clerk_header = APIKeyHeader(name="X-Clerk-Session", auto_error=False,
                            scheme_name="ClerkSession",
                            description="A clerk's session from /api/v1/counter/sign-in.")
idempotency_header = APIKeyHeader(
    name="Idempotency-Key", auto_error=False, scheme_name="IdempotencyKey",
    description="A keyed write's key (8-100 of A-Z a-z 0-9 - _): a retry with the same key "
                "gets the first reply and changes nothing (docs/hub.md, Retries).")


def device_of(devices, roles: tuple[str, ...]):
    """A dependency: the paired device whose token came with the request, if its role is
    one of `roles` (PermissionDenied otherwise: 401 for the token, 403 for the role). The
    answer tells a device whose token is past half its life to renew it (RENEW_HEADER)."""
    def dependency(response: Response,
                   credentials: HTTPAuthorizationCredentials | None = Depends(bearer)):
        device = devices.authenticate(credentials.credentials if credentials else None, roles)
        if devices.renew_due(device):
            response.headers[RENEW_HEADER] = "due"
        return device
    return dependency


def body_model(face: type[Face], op: Operation) -> type[BaseModel] | None:
    """The request body of an operation: its wire parameters with their bounds."""
    fields = {}
    for p in wire_params(face, op):
        limits = dataclasses.asdict(p.bounds) if p.bounds else {}
        limits = {k: v for k, v in limits.items() if v is not None}
        default = ... if p.default is inspect.Parameter.empty else p.default
        # A parameter named like a BaseModel method (copy) travels under its own name.
        name, alias = (f"{p.name}_", p.name) if hasattr(BaseModel, p.name) else (p.name, None)
        fields[name] = (p.annotation, Field(default, alias=alias, **limits))
    if not fields:
        return None
    title = f"{face.__name__.removesuffix('Face')}{op.name.title().replace('_', '')}"
    return create_model(title, __config__=ConfigDict(extra="forbid", populate_by_name=True),
                        **fields)


def to_wire(result):
    """What an operation returned, as JSON: a dataclass (a verification) as its dict."""
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return result.to_dict() if hasattr(result, "to_dict") else dataclasses.asdict(result)
    return result


def response_type(face: type[Face], op: Operation):
    returns = typing.get_type_hints(getattr(face, op.name)).get("return")
    return dict if dataclasses.is_dataclass(returns) else returns


def add_face_routes(app: FastAPI, face: type[Face], office, devices, live) -> None:
    """Every operation of `face`, run with face.for_device(office, device)."""
    for op in operations_of(face).values():
        _add_route(app, face, op, office, devices, live)


class PerMinute:
    """At most `limit` calls in any 60 s from one device (a sliding window)."""

    def __init__(self, name: str, limit: int, monotonic=time.monotonic):
        self.name, self.limit, self.monotonic = name, limit, monotonic
        self._calls: dict[str, collections.deque] = {}
        self._lock = threading.Lock()

    def check(self, device_id: str) -> None:
        with self._lock:
            now = self.monotonic()
            calls = self._calls.setdefault(device_id, collections.deque())
            while calls and now - calls[0] >= 60:
                calls.popleft()
            if len(calls) >= self.limit:
                wait = max(1, int(60 - (now - calls[0])) + 1)
                raise TooManyRequests(f"{self.name.replace('_', ' ')}: at most {self.limit} "
                                      f"a minute from one device; try again in {wait} s",
                                      retry_after_s=wait)
            calls.append(now)


def body_limits(faces) -> dict[str, int]:
    """{path: bytes} for the face operations whose request body may exceed the default (a
    page of a document), for the app's HttpPolicy."""
    return {f"/api/v1/{face.name}/{op.path}": op.max_body
            for face in faces for op in operations_of(face).values() if op.max_body}


def _add_route(app, face, op: Operation, office, devices, live) -> None:
    model = body_model(face, op)
    names = {p.name: (f"{p.name}_" if hasattr(BaseModel, p.name) else p.name)
             for p in wire_params(face, op)}
    device_dependency = device_of(devices, op.roles)
    rate = PerMinute(op.name, op.per_minute) if op.per_minute else None
    if rate is not None:  # app.state.rates: the limits by "face.operation" (tests' clocks)
        app.state.rates = {**getattr(app.state, "rates", {}), f"{face.name}.{op.name}": rate}

    replies = idempotency.Replies(office.store)

    def endpoint(body=None, device=None, session: str | None = None, key: str | None = None):
        if rate is not None and office.settings.hub.rate_limits:
            rate.check(device["id"])
        values = {name: getattr(body, attr) for name, attr in names.items()} if body else {}
        clerk = None
        if op.session == "end":
            try:
                clerk = devices.session_user(device, session)
            except PermissionDenied:
                clerk = None  # signing out twice, or after a revoke: nothing left to end
            devices.end_session(session)
            if clerk is None:
                return {"ok": True}
        elif op.who != "device":
            clerk = devices.session_user(device, session)
        if op.who == "clerk":
            values = {"clerk": clerk, **values}
        if key is not None and op.retry == "keyed":
            # The write and its reply in one transaction: a retry waits for the first and
            # gets its reply; nothing is done twice.
            print_ = idempotency.fingerprint(f"{face.name}.{op.name}", values)
            with office.store.atomic():
                kept = replies.replay(device["id"], idempotency.check_key(key), print_)
                if kept is not None:
                    return kept
                reply = run(device, values)
                replies.keep(device["id"], key, print_, reply)
        else:
            reply = run(device, values)
        if op.changes_queue:
            live.poke()
        return reply

    def run(device, values):
        with PinGuard.at(f"device:{device['id']}"):  # a PIN typed there counts there
            result = getattr(face.for_device(office, device), op.name)(**values)
        if op.session == "start":
            result = {"account": result, "session": devices.start_session(
                device, result["username"])}
        return to_wire(result)

    parameters = [inspect.Parameter("device", inspect.Parameter.KEYWORD_ONLY,
                                    default=Depends(device_dependency))]
    if op.who != "device" or op.session == "end":  # only these read a clerk's session
        parameters.append(inspect.Parameter("session", inspect.Parameter.KEYWORD_ONLY,
                                            default=Depends(clerk_header),
                                            annotation=str | None))
    if op.retry == "keyed":
        parameters.append(inspect.Parameter("key", inspect.Parameter.KEYWORD_ONLY,
                                            default=Depends(idempotency_header),
                                            annotation=str | None))
    if model is not None:
        parameters.insert(0, inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY,
                                               annotation=model))
    endpoint.__signature__ = inspect.Signature(parameters)
    endpoint.__name__ = f"{face.name}_{op.name}"
    returns = response_type(face, op)
    if op.session == "start":
        returns = dict
    method = "GET" if op.reads and model is None else "POST"
    app.add_api_route(
        f"/api/v1/{face.name}/{op.path}", endpoint, methods=[method], tags=[face.name],
        summary=op.name.replace("_", " "), description=op.summary or None,
        response_model=returns, operation_id=f"{face.name}_{op.name}",
        openapi_extra={"x-nafitha": metadata(op)})


def metadata(op: Operation) -> dict:
    """What the OpenAPI document says of an operation under x-nafitha: in one place, the
    device roles whose token opens it, who must be signed in, and whether its writes carry
    an idempotency key (docs/hub.md)."""
    out = {"roles": list(op.roles), "who": op.who, "changes_queue": op.changes_queue,
           "retry": op.retry,
           "credentials": ["device token"] + (["clerk session"] if op.who != "device" else [])
           + (["supervisor PIN"] if op.who == "supervisor" else []),
           "idempotency_key": "sent by devices" if op.retry == "keyed" else "none"}
    if op.session:
        out["session"] = op.session  # a sign-in starts a clerk's session, a sign-out ends it
    if op.per_minute:
        out["per_minute"] = op.per_minute  # calls a minute from one device (429 beyond)
    if op.scope:
        out["scope"] = op.scope  # what it confines the device to (core.faces.SCOPES)
    if op.max_body:
        out["max_body"] = op.max_body  # its request body's limit in bytes (413 beyond)
    return out


def hub_route(roles: tuple[str, ...], credentials: list[str], summary: str = "") -> dict:
    """x-nafitha of a hub route that is not a face's operation (pairing, the office's facts,
    the board), in the same shape as metadata(): openapi_extra for add_api_route."""
    return {"x-nafitha": {"roles": list(roles), "credentials": credentials,
                          "idempotency_key": "none", **({"note": summary} if summary else {})}}
