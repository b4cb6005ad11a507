"""The hub's routes and the hub client are derived from the faces' declarations
(core/faces): every declared operation has its route, with the declaration's metadata, and
its client method, with the declaration's signature; nothing is declared loosely."""
from __future__ import annotations

import inspect
import typing

import pytest

from core.faces import Face, Operation, operation, operations_of, params_of, wire_params
from core.faces.counter import CounterFace
from core.faces.kiosk import KioskFace
from core.faces.printing import PrintJobs
from hub.app import FACES, create_app
from hubclient import RemoteCounter, RemoteKiosk, RemotePrintJobs

REMOTE = {KioskFace: RemoteKiosk, CounterFace: RemoteCounter, PrintJobs: RemotePrintJobs}
ALL = [(face, op) for face in FACES for op in operations_of(face).values()]


def ids(value):
    return f"{value[0].name}.{value[1].name}" if isinstance(value, tuple) else None


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    from core.office import Office
    from core.settings import load_settings
    office = Office.open(load_settings(tmp_path_factory.mktemp("openapi"), environ={}))
    try:
        return create_app(office).openapi()["paths"]
    finally:
        office.close()


@pytest.mark.parametrize("face_op", ALL, ids=ids)
def test_every_operation_has_its_route_with_its_metadata(paths, face_op):
    face, op = face_op
    routes = paths[f"/api/v1/{face.name}/{op.path}"]
    method = "get" if op.reads and not wire_params(face, op) else "post"
    assert list(routes) == [method]
    route = routes[method]
    expected = {"roles": list(op.roles), "who": op.who, "changes_queue": op.changes_queue,
                "retry": op.retry, **({"session": op.session} if op.session else {}),
                **({"per_minute": op.per_minute} if op.per_minute else {}),
                **({"scope": op.scope} if op.scope else {}),
                **({"max_body": op.max_body} if op.max_body else {}),
                "credentials": ["device token"]
                + (["clerk session"] if op.who != "device" else [])
                + (["supervisor PIN"] if op.who == "supervisor" else []),
                "idempotency_key": "sent by devices" if op.retry == "keyed" else "none"}
    assert route["x-nafitha"] == expected
    assert route["tags"] == [face.name] and route["operationId"] == f"{face.name}_{op.name}"
    if wire_params(face, op):  # a model made from the typed parameters
        assert route["requestBody"]["content"]["application/json"]["schema"]
    else:
        assert "requestBody" not in route


def test_no_route_of_a_face_is_written_by_hand(paths):
    declared = {f"/api/v1/{face.name}/{op.path}" for face, op in ALL}
    by_hand = {p for p in paths if p.startswith(("/api/v1/kiosk/", "/api/v1/counter/",
                                                  "/api/v1/print/"))}
    assert by_hand == declared


@pytest.mark.parametrize("face_op", ALL, ids=ids)
def test_the_client_has_each_operation_with_its_signature(face_op):
    face, op = face_op
    method = getattr(REMOTE[face], op.name)
    declared = getattr(face, op.name)
    assert inspect.signature(method) == inspect.signature(declared)
    assert method.__doc__ == declared.__doc__


@pytest.mark.parametrize("face_op", ALL, ids=ids)
def test_every_text_a_device_sends_is_bounded(face_op):
    """The hub refuses an oversized value before the operation runs."""
    face, op = face_op
    for p in wire_params(face, op):
        base = typing.get_args(p.annotation) or (p.annotation,)
        if str in base or dict in (typing.get_origin(b) for b in base) or \
                list in (typing.get_origin(b) for b in base):
            assert p.bounds is not None, f"{face.__name__}.{op.name}({p.name}) has no bounds"


@pytest.mark.parametrize("face_op", ALL, ids=ids)
def test_what_changes_the_queue_or_money_needs_a_key_to_be_retried(face_op):
    face, op = face_op
    if op.reads:
        assert op.retry == "safe" and not op.changes_queue
    if op.changes_queue:
        assert op.retry == "keyed"
    if op.who == "clerk":
        assert params_of(face, op.name)[0][0].name == "clerk"
    if op.who == "supervisor":
        names = [p.name for p in params_of(face, op.name)[0]]
        assert names[:2] == ["supervisor", "pin"]


def test_the_declaration_refuses_what_it_cannot_honour():
    with pytest.raises(ValueError, match="who is one of"):
        operation(who="anyone")
    with pytest.raises(ValueError, match="a write needs retry="):
        operation()  # a write must say whether a repeat is harmless
    with pytest.raises(ValueError, match="scope is one of"):
        operation(reads=True, scope="everything")
    assert operation(reads=True)(lambda self: None).__operation__["retry"] == "safe"

    class Odd(Face):
        name, roles = "odd", ("kiosk",)

        @operation(who="clerk", retry="keyed")
        def no_clerk_first(self, service: str) -> dict:
            return {}

    with pytest.raises(TypeError, match="takes `clerk` first"):
        wire_params(Odd, operations_of(Odd)["no_clerk_first"])


def test_a_face_inherits_the_operations_every_device_shares():
    kiosk, counter = operations_of(KioskFace), operations_of(CounterFace)
    for shared in ("catalogue", "verify_licence", "sync_status"):
        assert kiosk[shared].roles == ("kiosk",) and counter[shared].roles == ("counter",)
    assert isinstance(kiosk["take_ticket"], Operation)
    assert kiosk["take_ticket"].changes_queue and not kiosk["check_field"].changes_queue
