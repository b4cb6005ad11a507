"""What each face of the office may do, declared once (docs/architecture.md).

A face (the kiosk, the counter, a device's printer queue) is a class whose operations are
methods marked with `@operation`. Each marked method is at once:

- the declaration: its name, its typed parameters (bounded with the `Annotated` types below)
  and its return, and its metadata (`Operation`): which device roles may call it, who must
  be signed in, whether it changes the live queue, and whether a retry is harmless as it is
  or needs an idempotency key;
- the in-process implementation over core's domain services: a field office (one box, one
  SQLite file) calls the face directly, and the hub calls it for each paired device.

The hub's routes (hub/routes.py) and the hub client (hubclient/faces.py) are derived from
the same declaration, so adding an operation is: declare it on its face, implement it in
the domain service, test both. Nothing else is written by hand."""
from __future__ import annotations

import inspect
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Callable

from ..attachments import MAX_PAGE_BASE64
from ..text import LANGUAGES

# Who must be signed in (beyond the device's own token, which every operation needs):
#   device      nobody: the device's token is enough
#   session     a clerk signed in at this counter (reads of residents' data)
#   clerk       as session, and the operation is recorded under that clerk: its first
#               parameter, `clerk`, is the session's clerk over the hub
#   supervisor  as session, and the operation's `supervisor` and `pin` parameters are a
#               supervisor's name and PIN, checked by the operation itself
WHO = ("device", "session", "clerk", "supervisor")
# Whether calling it twice is harmless: "safe" (a read, or an idempotent write) or "keyed"
# (a second call would do it twice: a retry must carry the first call's idempotency key).
RETRY = ("safe", "keyed")
# What a sign-in or sign-out does to the clerk's session on the hub.
SESSION = (None, "start", "end")
# What the operation confines a device to, beyond its role (least privilege, docs/hub.md
# "What each device may see and do"); checked by the operation itself:
#   resident_view  it answers only what the resident in front of a kiosk is shown of an
#                  application (core.applications.resident_view): no name, national ID,
#                  phone or address
#   own_journey    only what this device's current journey produced (core/faces/kiosk.py)
#   own_printer    only this device's own print jobs
SCOPES = (None, "resident_view", "own_journey", "own_printer")


@dataclass(frozen=True)
class Bounds:
    """Limits on a parameter, checked by the hub before the operation runs (core checks
    what matters for the domain either way)."""
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    ge: int | None = None
    le: int | None = None


# The parameter types operations use. A bare `str` has no limit: use one of these.
Code = Annotated[str, Bounds(min_length=1, max_length=100)]   # a service, number or id
Text = Annotated[str, Bounds(max_length=500)]                 # a reason, a field's value
Query = Annotated[str, Bounds(max_length=200)]                # what a person typed to find
UserName = Annotated[str, Bounds(max_length=64)]
Pin = Annotated[str, Bounds(max_length=32)]
Minor = Annotated[int, Bounds(ge=0, le=10 ** 12)]             # money in minor units
Lang = Annotated[str, Bounds(pattern=f"^({'|'.join(LANGUAGES)})$")]
Fields = Annotated[dict[str, str], Bounds(max_length=60)]     # a form's values
CodeList = Annotated[list[str], Bounds(max_length=50)]
QrText = Annotated[str, Bounds(min_length=1, max_length=4000)]  # what a camera read
# A card terminal's batch report ({"terminal_id", "entries"}: core.payments checks the rest)
BatchReport = Annotated[dict, Bounds(max_length=2)]
# One page of a supporting document, base64 (core/attachments.py: at most MAX_PAGE_BYTES).
PageData = Annotated[str, Bounds(min_length=1, max_length=MAX_PAGE_BASE64)]
# The request body an operation taking a page may send: the page in base64 and the rest of
# the JSON, far above every other operation's (core/http_policy.DEFAULT_MAX_BODY).
PAGE_BODY_BYTES = MAX_PAGE_BASE64 + 64 * 1024


@dataclass(frozen=True)
class Operation:
    name: str
    roles: tuple[str, ...]  # the device roles that may call it (default: the face's)
    who: str
    changes_queue: bool     # the board and the counters must hear of it at once
    retry: str
    reads: bool             # changes nothing
    session: str | None
    summary: str
    per_minute: int | None = None  # how often one device may call it (the hub enforces)
    scope: str | None = None       # what it confines the device to (SCOPES)
    max_body: int | None = None    # its request body's limit in bytes, when above the default

    @property
    def path(self) -> str:
        return self.name.replace("_", "-")


def operation(*, who: str = "device", reads: bool = False, changes_queue: bool = False,
              retry: str | None = None, roles: tuple[str, ...] | None = None,
              session: str | None = None, per_minute: int | None = None,
              scope: str | None = None, max_body: int | None = None) -> Callable:
    """Mark a face's method as an operation. Reads are always safe to retry; writes say
    whether a repeat is harmless (retry="safe") or would do it twice (retry="keyed").
    per_minute: at most this many calls a minute from one device (what a person at it can
    do, with room to spare; a script doing more is refused). scope: what the operation
    confines the device to (SCOPES), shown with its route. max_body: the bytes its request
    body may hold when that is more than the hub's default (a page of a document)."""
    if who not in WHO or session not in SESSION:
        raise ValueError(f"who is one of {WHO}, session one of {SESSION}")
    if scope not in SCOPES:
        raise ValueError(f"scope is one of {SCOPES}")
    if reads:
        retry = retry or "safe"
    if retry not in RETRY:
        raise ValueError(f"{'a read' if reads else 'a write'} needs retry= one of {RETRY}")

    def mark(fn):
        fn.__operation__ = dict(who=who, reads=reads, changes_queue=changes_queue,
                                retry=retry, roles=roles, session=session,
                                per_minute=per_minute, scope=scope, max_body=max_body)
        return fn
    return mark


class Face:
    """A face's operations over an open core Office. `name`: the route prefix (/kiosk);
    `roles`: the device roles its operations accept unless one says otherwise."""

    name: str = ""
    roles: tuple[str, ...] = ()
    remote = False  # in-process: quick enough for the UI thread's instant steps


def operations_of(face: type) -> dict[str, Operation]:
    """Every operation declared on a face class (its own and inherited), by name."""
    found = {}
    for name in sorted(dir(face)):
        fn = getattr(face, name, None)
        marks = getattr(fn, "__operation__", None)
        if marks is None:
            continue
        doc = inspect.getdoc(fn) or ""
        found[name] = Operation(name=name, roles=marks["roles"] or face.roles,
                                who=marks["who"], changes_queue=marks["changes_queue"],
                                retry=marks["retry"], reads=marks["reads"],
                                session=marks["session"], summary=doc.split("\n\n")[0],
                                per_minute=marks["per_minute"], scope=marks.get("scope"),
                                max_body=marks.get("max_body"))
    return found


@dataclass(frozen=True)
class Param:
    name: str
    annotation: object  # the type without its Bounds (what pydantic and the client see)
    bounds: Bounds | None
    default: object     # inspect.Parameter.empty when required


def params_of(face: type, name: str) -> tuple[list[Param], object]:
    """An operation's parameters (after self, and after `clerk` for a clerk's operation)
    and its return type, with the Annotated bounds taken apart."""
    fn = getattr(face, name)
    hints = typing.get_type_hints(fn, include_extras=True)
    params = []
    for p in list(inspect.signature(fn).parameters.values())[1:]:
        annotation, bounds = hints.get(p.name, str), None
        if typing.get_origin(annotation) is Annotated:
            base, *extras = typing.get_args(annotation)
            bounds = next((e for e in extras if isinstance(e, Bounds)), None)
            annotation = base
        elif typing.get_origin(annotation) in (typing.Union, types.UnionType):
            # Optional[Annotated[...]]: the bounds of the non-None member
            for member in typing.get_args(annotation):
                if typing.get_origin(member) is Annotated:
                    base, *extras = typing.get_args(member)
                    bounds = next((e for e in extras if isinstance(e, Bounds)), None)
                    annotation = typing.Optional[base]
        params.append(Param(p.name, annotation, bounds, p.default))
    return params, hints.get("return")


def wire_params(face: type, op: Operation) -> list[Param]:
    """The parameters a remote caller sends: a clerk's operation takes its clerk from the
    session, so `clerk` is not sent."""
    params, _ = params_of(face, op.name)
    if op.who == "clerk":
        if not params or params[0].name != "clerk":
            raise TypeError(f"{face.__name__}.{op.name}: a clerk's operation takes `clerk` "
                            f"first")
        params = params[1:]
    return params
