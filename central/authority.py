"""What a device may do to the objects its events touch (docs/sync.md, "Each office its own"):
it creates only numbers that carry its own office and device, changes only its own office's
objects, takes no number or id another object already holds, claims no back-office decision
central did not make, and builds nothing on an event central refused.

`judge(device, events, known)` gives each refused event its code and reason; the rest are
accepted. `known` is what central holds of the objects the events name (`lookups` reads it
in a few queries per batch), updated here as earlier events of the batch are judged, so a
batch is judged as if its events came one at a time."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlalchemy as sa

import core.bill_numbers as bill_numbers  # noqa: PLR0402  (tests/test_layering.py reads the module)
from core.credentials.licence import licence_number_of
from core.errors import ValidationError

# code -> what the back office reads in the rejections list
CODES = {
    "foreign_number": "the number is not one this device can make",
    "foreign_object": "it touches another office's object",
    "number_taken": "another object already holds this number",
    "id_taken": "another office's object already holds this id",
    "number_changed": "it gives an object another number",
    "not_central_decision": "it claims a back-office decision central did not make",
    "depends_on_refused": "it builds on an event central refused",
    "licence_invalid": "the licence's signed code does not verify",
    "key_missing": "its personal values are sealed and their resident key did not come",
}
# entity table -> (the data key of its number, the events that create one)
NUMBERS = {"applications": ("number", ("application.drafted", "application.submitted")),
           "payments": ("receipt_number", ("payment.taken",)),
           "licences": ("number", ("licence.issued",))}


@dataclass
class Known:
    """What central holds, by table: rows by id and by number ({"id", "number", "office"});
    this device's events central refused, by the object they touch; and the back office's
    decisions by application id."""
    by_id: dict = field(default_factory=lambda: {t: {} for t in NUMBERS})
    by_number: dict = field(default_factory=lambda: {t: {} for t in NUMBERS})
    refused_by: dict = field(default_factory=dict)  # object id -> {refused event ids}
    decisions: dict = field(default_factory=dict)

    def hold(self, table: str, row: dict) -> None:
        self.by_id[table][row["id"]] = row
        self.by_number[table][row["number"]] = row


def table_of(event_type: str) -> str | None:
    kind = event_type.split(".")[0]
    return {"application": "applications", "payment": "payments",
            "licence": "licences"}.get(kind)


def is_own_number(number: str, office: str, device: str, table: str) -> bool:
    """A number this device makes: MUH-D01-A2026-000001, MUH-D01-R0000001 (core/
    applications.py, payments.py), MUH-2026-D01-000001 (the licence number's rule is the
    verifier's: core.credentials.licence)."""
    if table == "licences":
        return licence_number_of(number, office, device)
    return re.match(rf"{re.escape(office)}-{re.escape(device)}-[A-Z]\d", number) is not None


def office_of_number(number: str) -> str:
    return number.split("-", 1)[0]


def judge(device: dict, events: list[dict], known: Known, content_check) -> dict:
    """{event id: (code, reason)} for the events refused; content_check(event) looks inside
    an application's or licence's event and gives (code, detail) when its content does not
    hold (no resident key for sealed values, a licence that does not verify), else None.
    Events judged
    again (a resend of a refused one) are judged afresh: their own earlier refusals do not
    count against them."""
    office, device_id = device["office"], device["device_id"]
    judged = {e["id"] for e in events}
    refused_objects = {entity for entity, by in known.refused_by.items() if by - judged}
    refused = {}
    for event in sorted(events, key=lambda e: e["seq"]):
        verdict = _judge_one(event, office, device_id, known, refused_objects, content_check)
        if verdict is None:
            _remember(event, office, known)
        else:
            refused[event["id"]] = verdict
            refused_objects.add(event["entity_id"])
    return refused


def _refuse(code: str, detail: str) -> tuple[str, str]:
    return code, f"{CODES[code]}: {detail}"


def _judge_one(event: dict, office: str, device_id: str, known: Known, refused_objects: set,
               content_check):
    if event["type"].startswith("bill."):
        return _judge_bill(event, office, device_id, known, refused_objects)
    table = table_of(event["type"])
    if table is None:
        return None  # tickets, shifts, users, paired devices: the device's own records
    data, kind = event["data"], table[:-1]
    number_key, creators = NUMBERS[table]
    number = data.get(number_key)
    held = known.by_id[table].get(data["id"])
    if held is not None and held["office"] != office:
        return _refuse("id_taken", f"{kind} {data['id']} is office {held['office']}'s")
    if data["id"] in refused_objects:
        return _refuse("depends_on_refused", f"{kind} {data['id']} was refused")
    parent = data.get("application_id") if table != "applications" else None
    if isinstance(parent, str):
        if parent in refused_objects:
            return _refuse("depends_on_refused", f"application {parent} was refused")
        row = known.by_id["applications"].get(parent)
        if row is not None and row["office"] != office:
            return _refuse("foreign_object", f"application {parent} is office "
                                             f"{row['office']}'s")
    if isinstance(number, str):
        other = known.by_number[table].get(number)
        if other is not None and other["id"] != data["id"]:
            return _refuse("number_taken", f"{number} is held by {kind} {other['id']}")
        if held is not None and held["number"] != number:
            return _refuse("number_changed", f"{held['number']} would become {number}")
        if held is None and event["type"] in creators and \
                not is_own_number(number, office, device_id, table):
            return _refuse("foreign_number", f"{number} is not a number of "
                                             f"{office}/{device_id}")
        if held is None and office_of_number(number) != office:
            return _refuse("foreign_object", f"{number} belongs to office "
                                             f"{office_of_number(number)}")
    if event["type"] in ("application.approved", "application.rejected") and \
            event["actor"] == "central":
        decided = known.decisions.get(data["id"])
        if decided != data.get("state"):
            return _refuse("not_central_decision",
                           f"central has {'no decision' if decided is None else decided}"
                           f" for {data.get('number')}")
    if table in ("applications", "licences"):
        problem = content_check(event)
        if problem:
            return _refuse(problem[0], f"{data.get('number')}: {problem[1]}")
    return None


def _judge_bill(event: dict, office: str, device_id: str, known: Known,
                refused_objects: set):
    """A bill (its number is its id, core/bill_numbers.py) is made by one device of its
    office for one of that office's applications, and changed only there."""
    data = event["data"]
    number = data.get("number")
    try:
        made_by = bill_numbers.parse(number)[:2]
    except ValidationError:
        return _refuse("foreign_number", "not a bill number with a valid check")
    number = number.strip().upper()
    if event["type"] == "bill.issued" and made_by != (office, device_id):
        return _refuse("foreign_number", f"{number} is not a number of {office}/{device_id}")
    if made_by[0] != office:
        return _refuse("foreign_object", f"{number} belongs to office {made_by[0]}")
    if number in refused_objects:
        return _refuse("depends_on_refused", f"bill {number} was refused")
    parent = data.get("application_id")
    if parent in refused_objects:
        return _refuse("depends_on_refused", f"application {parent} was refused")
    row = known.by_id["applications"].get(parent)
    if row is not None and row["office"] != office:
        return _refuse("foreign_object", f"application {parent} is office {row['office']}'s")
    return None


def _remember(event: dict, office: str, known: Known) -> None:
    """An accepted event's object is held from now on (later events of the batch see it)."""
    table = table_of(event["type"])
    if table is None:
        return
    data = event["data"]
    number = data.get(NUMBERS[table][0])
    if isinstance(number, str) and data["id"] not in known.by_id[table]:
        known.hold(table, {"id": data["id"], "number": number, "office": office})


def lookups(conn, device_key: str, tables: dict, events_table, decisions_table,
            events: list[dict], select_among) -> Known:
    """Read what central holds of the objects these events name, in a few queries. Only
    this device's own refused events count against it: another office's refused event
    about an id must not block the id's owner. `select_among(conn, name, build, values,
    **params)` gives the rows of the statement `build(among)` (built once per `name`) for
    `among(column, "among")` bound to the values, a chunk at a time (central/service.py)."""
    known = Known()
    wanted_ids = {t: set() for t in NUMBERS}
    wanted_numbers = {t: set() for t in NUMBERS}
    bill_numbers_named = set()
    for event in events:
        table = table_of(event["type"])
        data = event["data"]
        if event["type"].startswith("bill."):
            if isinstance(data.get("application_id"), str):
                wanted_ids["applications"].add(data["application_id"])
            bill_numbers_named.add(event["entity_id"])
            continue
        if table is None:
            continue
        wanted_ids[table].add(data["id"])
        number = data.get(NUMBERS[table][0])
        if isinstance(number, str):
            wanted_numbers[table].add(number)
        if isinstance(data.get("application_id"), str):
            wanted_ids["applications"].add(data["application_id"])
    for name, table in tables.items():
        number_col = table.c[NUMBERS[name][0]]
        ids, numbers = sorted(wanted_ids[name]), sorted(wanted_numbers[name])
        if ids and numbers and (conn.dialect.name == "postgresql"
                                or len(ids) + len(numbers) <= 900):
            # one query for both: a row found by id and by number is held once all the same
            rows = select_among(
                conn, f"lookups:{table.name}.id+number",
                lambda among, table=table, number_col=number_col:
                sa.select(table.c.id, number_col, table.c.office).where(sa.or_(
                    among(table.c.id, "among"), among(number_col, "numbers"))),
                ids, numbers=numbers)
        else:
            rows = (row for column, values in ((table.c.id, ids), (number_col, numbers))
                    if values for row in select_among(
                        conn, f"lookups:{table.name}.{column.name}",
                        lambda among, table=table, number_col=number_col, column=column:
                        sa.select(table.c.id, number_col, table.c.office)
                        .where(among(column, "among")), values))
        for row in rows:
            known.hold(name, {"id": row[0], "number": row[1], "office": row[2]})
    every_id = sorted(set().union(*wanted_ids.values(), bill_numbers_named))
    if every_id:
        for entity, event_id in select_among(
                conn, f"lookups:refused:{events_table.name}", lambda among: sa.select(
                    events_table.c.entity_id, events_table.c.id).where(
                    among(events_table.c.entity_id, "among"),
                    events_table.c.device_key == sa.bindparam("device_key"),
                    events_table.c.refused.is_not(None)), every_id, device_key=device_key):
            known.refused_by.setdefault(entity, set()).add(event_id)
        app_ids = sorted(wanted_ids["applications"])
        known.decisions.update(tuple(r) for r in select_among(
            conn, f"lookups:decisions:{decisions_table.name}", lambda among: sa.select(
                decisions_table.c.application_id, decisions_table.c.state).where(
                among(decisions_table.c.application_id, "among")), app_ids or [""]))
    return known
