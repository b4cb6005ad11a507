"""The monthly open data (docs/open-data.md): volumes, waits and services by office and
service, anonymised, as a CKAN portal publishes a dataset.

`export(central, year, month)` gives the files {name: bytes}:
    office-services.csv    one row per office and service with figures that month
    office-services.json   the same rows as JSON records
    schema.json            the data dictionary: a Frictionless Table Schema (every field's
                           type, title in Arabic and English, constraints) with the
                           suppression rule and its threshold
    package.json           the dataset as CKAN's package_show gives it (name, title, notes,
                           licence, tags, extras, resources with their size and sha256)
Every figure comes from core.kpis.report over central's facts (central/reports.py).

No personal data: no clerk, counter, ticket, application or licence id, national id or
name; only codes of offices and services and counts. Small counts are suppressed: a count
from 1 to threshold-1 is left blank and named in the row's `suppressed` field, and so is a
mean, median, percentile or share over a group smaller than the threshold; when exactly one
of a row's ticket outcomes (served, no_show, cancelled, left_unserved) is blank, the smallest
other non-zero one is blanked too, so it cannot be worked out from `tickets`. The threshold
is MIN_COUNT (5) unless central's environment sets NAFITHA_OPEN_DATA_MIN_COUNT (3-100).

`check_export(files)` checks the files against their own dictionary and returns the problems
found ([] when none): the files named, every column in the dictionary and no other, types,
required values, allowed values, the suppression rule, the JSON equal to the CSV, the
package's sizes and hashes. `export` refuses to give files that do not pass it."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import zipfile
from datetime import date, timedelta

import sqlalchemy as sa

import core.kpis as kpis  # noqa: PLR0402  (tests/test_layering.py reads the module)

from . import reports
from .db import offices
from .service import CentralError

MIN_COUNT = 5
MIN_COUNT_ENV = "NAFITHA_OPEN_DATA_MIN_COUNT"
CSV_FILE, JSON_FILE, SCHEMA_FILE, PACKAGE_FILE = ("office-services.csv", "office-services.json",
                                                  "schema.json", "package.json")
FILES = (CSV_FILE, JSON_FILE, SCHEMA_FILE, PACKAGE_FILE)
FLAG = "suppressed"
# The outcomes a ticket ends in (docs/kpis.md): shown together with `tickets`, one blank
# alone could be worked out from the others.
OUTCOMES = ("served", "no_show", "cancelled", "left_unserved")
# Names no field of this dataset may carry (personal data, or what leads to a person).
PERSONAL = ("clerk", "counter", "ticket_id", "application_id", "licence_id", "payment_id",
            "national_id", "full_name", "name_of", "username", "phone")
LICENSE_ID = "cc-by-4.0"

# name, type, Arabic title, English title, description, extra: {"count": True} a count
# (suppressed below the threshold), {"group": field} a statistic over that count's group.
_FIELDS = (
    ("month", "yearmonth", "الشهر", "Month", ("The calendar month, YYYY-MM (each office's "
                                              "local days)."), {"required": True}),
    ("municipality", "string", "البلدية", "Municipality", ("The municipality's code; empty "
                                                           "for an office not yet given to one."), {"pattern": "^[A-Z0-9]{1,8}$"}),
    ("office", "string", "المكتب", "Office", "The service centre's code.",
     {"required": True, "pattern": "^[A-Z0-9]{1,8}$"}),
    ("service", "string", "رمز الخدمة", "Service code", "The service's code in the catalogue.",
     {"required": True, "pattern": "^[a-z0-9-]{1,64}$"}),
    ("service_name_ar", "string", "اسم الخدمة", "Service name (Arabic)",
     "The service's name in Arabic.", {"required": True}),
    ("service_name_en", "string", "اسم الخدمة بالإنجليزية", "Service name (English)",
     "The service's name in English.", {"required": True}),
    ("tickets", "integer", "التذاكر", "Tickets", "Queue tickets taken.", {"count": True}),
    ("served", "integer", "تمت خدمتها", "Served", "Tickets served to the end.",
     {"count": True}),
    ("no_show", "integer", "لم يحضر", "No-shows", "Tickets called and not answered.",
     {"count": True}),
    ("cancelled", "integer", "أُلغيت", "Cancelled", "Tickets cancelled.", {"count": True}),
    ("left_unserved", "integer", "غادر دون خدمة", "Left unserved",
     "Tickets never finished by the end of their day.", {"count": True}),
    ("called", "integer", "نوديت", "Called", ("Tickets called at least once (the group "
                                              "of the waiting times)."), {"count": True}),
    ("wait_mean_s", "number", "متوسط الانتظار (ثانية)", "Mean wait (s)",
     "Mean seconds from taking the ticket to its first call.", {"group": "called"}),
    ("wait_median_s", "integer", "وسيط الانتظار (ثانية)", "Median wait (s)",
     "Median seconds to the first call (nearest rank).", {"group": "called"}),
    ("wait_p90_s", "integer", "المئين 90 للانتظار (ثانية)", "90th percentile wait (s)",
     "90th percentile of the seconds to the first call (nearest rank).", {"group": "called"}),
    ("within_target", "number", "ضمن الوقت المستهدف", "Within target",
     "Share (0 to 1) of the called tickets whose wait was within the service's target.",
     {"group": "called", "minimum": 0, "maximum": 1}),
    ("service_mean_s", "number", "متوسط مدة الخدمة (ثانية)", "Mean service time (s)",
     "Mean seconds from the start of service to its end.", {"group": "served"}),
    ("service_median_s", "integer", "وسيط مدة الخدمة (ثانية)", "Median service time (s)",
     "Median seconds of service (nearest rank).", {"group": "served"}),
    ("ratings", "integer", "التقييمات", "Ratings", "Ratings given by residents.",
     {"count": True}),
    ("rating_mean", "number", "متوسط التقييم", "Mean rating", "Mean rating, 1 to 5.",
     {"group": "ratings", "minimum": 1, "maximum": 5}),
    ("applications_submitted", "integer", "الطلبات المقدمة", "Applications submitted",
     "Applications submitted.", {"count": True}),
    ("licences_issued", "integer", "الرخص الصادرة", "Licences issued", "Licences issued.",
     {"count": True}),
    (FLAG, "string", "الخانات المخفية", "Suppressed cells",
     ("The fields of this row left blank because they count, or describe a group of, fewer "
      "than the threshold; separated by spaces."), {}),
)
FIELD_NAMES = tuple(f[0] for f in _FIELDS)
COUNTS = tuple(f[0] for f in _FIELDS if f[5].get("count"))
GROUPS = {f[0]: f[5]["group"] for f in _FIELDS if f[5].get("group")}


def min_count(environ=None) -> int:
    """The suppression threshold: MIN_COUNT, or central's NAFITHA_OPEN_DATA_MIN_COUNT."""
    text = (environ if environ is not None else os.environ).get(MIN_COUNT_ENV, "")
    if not text:
        return MIN_COUNT
    if not text.isdigit() or not 3 <= int(text) <= 100:
        raise CentralError(500, "invalid_setting", f"{MIN_COUNT_ENV}: a whole number from 3 "
                                                   f"to 100 (not {text!r})")
    return int(text)


def schema(threshold: int, services: list[str]) -> dict:
    """The data dictionary: a Frictionless Table Schema, with the suppression rule."""
    fields = []
    for name, kind, ar, en, description, extra in _FIELDS:
        constraints = {k: v for k, v in extra.items() if k in ("required", "pattern",
                                                                "minimum", "maximum")}
        if kind == "integer":
            constraints.setdefault("minimum", 0)
        if name == "service":
            constraints["enum"] = sorted(services)
        field = {"name": name, "type": kind, "title": en, "title_ar": ar,
                 "description": description}
        if kind == "yearmonth":
            field["format"] = "default"
        if constraints:
            field["constraints"] = constraints
        fields.append(field)
    return {"fields": fields, "primaryKey": ["month", "office", "service"],
            "missingValues": [""],
            "suppression": {"threshold": threshold, "flag_field": FLAG,
                            "counts": list(COUNTS), "groups": GROUPS,
                            "complementary": {"total": "tickets", "parts": list(OUTCOMES)},
                            "rule": f"a count from 1 to {threshold - 1} is blank; a statistic "
                                    f"over a group below {threshold} is blank; one blank "
                                    f"ticket outcome alone makes the smallest other non-zero "
                                    f"one blank too"}}


# --- building ---------------------------------------------------------------------------------
def _stat(value, digits: int | None = None):
    if value is None:
        return None
    return round(value, digits) if digits is not None else int(value)


def _rows_of(month: str, office: str, municipality: str | None, report: dict,
             names: dict) -> list[dict]:
    visits = {r["key"]: r for r in report["visits"]["by_service"]}
    apps = {r["key"]: r for r in report["applications"]["by_service"]}
    issued = {r["key"]: r for r in report["licences"]["by_service"]}
    rows = []
    # A fact with no service yet (a rating that came before its ticket) is no row.
    for code in sorted({c for c in (*visits, *apps, *issued) if isinstance(c, str)}):
        v = visits.get(code) or {}
        wait, service, rating = v.get("wait_s") or {}, v.get("service_s") or {}, \
            v.get("rating") or {}
        share = v.get("within_target")
        label = names.get(code) or {"ar": code, "en": code}
        rows.append({
            "month": month, "municipality": municipality or "", "office": office,
            "service": code, "service_name_ar": label["ar"], "service_name_en": label["en"],
            "tickets": v.get("tickets", 0), "served": v.get("served", 0),
            "no_show": v.get("no_show", 0), "cancelled": v.get("cancelled", 0),
            "left_unserved": v.get("left", 0), "called": wait.get("n", 0),
            "wait_mean_s": _stat(wait.get("mean"), 1), "wait_median_s": _stat(wait.get("median")),
            "wait_p90_s": _stat(wait.get("p90")),
            "within_target": None if share is None else round(share, 3),
            "service_mean_s": _stat(service.get("mean"), 1),
            "service_median_s": _stat(service.get("median")),
            "ratings": rating.get("n", 0), "rating_mean": _stat(rating.get("mean"), 2),
            "applications_submitted": (apps.get(code) or {}).get("submitted", 0),
            "licences_issued": (issued.get(code) or {}).get("issued", 0)})
    return rows


def suppress(row: dict, threshold: int) -> dict:
    """The row with small counts, statistics of small groups, and the complementary outcome
    blanked (None), each named in its `suppressed` field."""
    hidden = [c for c in COUNTS if isinstance(row[c], int) and 0 < row[c] < threshold]
    blank_outcomes = [o for o in OUTCOMES if o in hidden]
    if len(blank_outcomes) == 1 and "tickets" not in hidden:
        others = [o for o in OUTCOMES if o not in hidden and row[o]]
        if others:
            hidden.append(min(others, key=lambda o: (row[o], o)))
    for stat, group in GROUPS.items():
        if row[stat] is not None and (group in hidden or row[group] < threshold):
            hidden.append(stat)
    out = {**row, **{name: None for name in hidden}}
    out[FLAG] = " ".join(name for name in FIELD_NAMES if name in hidden)
    return out


def _csv_bytes(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(FIELD_NAMES)
    for row in rows:
        writer.writerow(["" if row[n] is None else row[n] for n in FIELD_NAMES])
    return buf.getvalue().encode("utf-8")


def _json_bytes(obj) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=False) + "\n").encode()


def package(month: str, scope: str, files: dict[str, bytes], threshold: int,
            generated_at: str) -> dict:
    """The dataset as a CKAN portal describes it (package_show's result)."""
    slug = scope.lower()
    kinds = {CSV_FILE: ("CSV", "text/csv"), JSON_FILE: ("JSON", "application/json"),
             SCHEMA_FILE: ("JSON", "application/json")}
    descriptions = {CSV_FILE: "Figures by office and service (UTF-8 CSV).",
                    JSON_FILE: "The same rows as JSON records.",
                    SCHEMA_FILE: "Data dictionary: Frictionless Table Schema of the rows."}
    return {
        "name": f"nafitha-service-centres-{slug}-{month}",
        "title": f"Service centre figures by office and service, {month} ({scope})",
        "title_ar": f"أرقام مراكز الخدمة حسب المكتب والخدمة، {month} ({scope})",
        "notes": "Monthly queue and service figures of municipal service centres: tickets "
                 "and their outcomes, waiting and service times, applications submitted and "
                 f"licences issued. Anonymised: counts below {threshold} are suppressed "
                 "(see the data dictionary).",
        "license_id": LICENSE_ID, "state": "active", "type": "dataset", "private": False,
        "tags": [{"name": t} for t in ("municipal-services", "queues", "waiting-times",
                                       "service-centres")],
        "extras": [{"key": "temporal_coverage", "value": month},
                   {"key": "spatial_coverage", "value": scope},
                   {"key": "suppression_threshold", "value": str(threshold)},
                   {"key": "generated_at", "value": generated_at},
                   {"key": "schema", "value": SCHEMA_FILE}],
        "num_resources": len(kinds),
        "resources": [{"name": name, "url": name, "format": kinds[name][0],
                       "mimetype": kinds[name][1], "description": descriptions[name],
                       "size": len(files[name]),
                       "hash": "sha256:" + hashlib.sha256(files[name]).hexdigest(),
                       **({"schema": SCHEMA_FILE} if name != SCHEMA_FILE else {})}
                      for name in (CSV_FILE, JSON_FILE, SCHEMA_FILE)]}


def export(central, month_text: str, *, person_municipality: str | None = None,
           municipality: str | None = None, threshold: int | None = None) -> dict[str, bytes]:
    """The month's files (see the module's text) for the offices a person sees (of
    `municipality` when given). A month not over yet in every office is refused (until the
    2nd of the next month, UTC): its figures would still change."""
    period = reports.month_period(month_text)
    threshold = threshold or min_count()
    today = central.clock.now().date()
    # Only a closed month: its last day is over in every office's zone, so its figures no
    # longer change.
    if not reports.is_closed(central, period):
        ready = period.end + timedelta(days=reports.CLOSED_AFTER_DAYS)
        raise CentralError(422, "future_month", f"{month_text} is not over yet in every "
                                                f"office: its open data is made from {ready}",
                           field="month")
    names = reports.service_labels(central)
    with central.engine.connect() as conn:
        municipality, codes = reports.scope(conn, person_municipality, municipality)
        owners = dict(conn.execute(sa.select(offices.c.code, offices.c.municipality)).all())
        source = reports.CentralFacts(conn)
        rows = []
        for code in codes:
            report = kpis.report(source, period, offices=[code], today=today)
            rows += _rows_of(month_text, code, owners.get(code), report, names)
    rows = [suppress(r, threshold) for r in rows]
    files = {CSV_FILE: _csv_bytes(rows),
             JSON_FILE: _json_bytes({"month": month_text, "records": rows}),
             # a service withdrawn from the catalogue since still has its month's rows
             SCHEMA_FILE: _json_bytes(schema(threshold, sorted(
                 set(names) | {r["service"] for r in rows})))}
    files[PACKAGE_FILE] = _json_bytes(package(month_text, municipality or "national", files,
                                              threshold, central.now()))
    problems = check_export(files)
    if problems:  # never hand out what does not pass its own dictionary
        raise CentralError(500, "open_data_invalid", "; ".join(problems[:5]))
    return files


def as_zip(files: dict[str, bytes], month: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name in FILES:
            info = zipfile.ZipInfo(f"nafitha-open-data-{month}/{name}", (2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, files[name])
    return out.getvalue()


# --- checking ---------------------------------------------------------------------------------
def _typed(text: str, field: dict):
    """The CSV cell as its field's type; ValueError when it is not one."""
    kind = field["type"]
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", text):
            raise ValueError("not a whole number")
        return int(text)
    if kind == "number":
        if not re.fullmatch(r"-?\d+(\.\d+)?", text):
            raise ValueError("not a number")
        return float(text)
    if kind == "yearmonth":
        year, month = text.split("-") if re.fullmatch(r"\d{4}-\d{2}", text) else ("", "")
        if not year or not 1 <= int(month) <= 12:
            raise ValueError("not a month YYYY-MM")
        date(int(year), int(month), 1)
    return text


def _check_value(value, field: dict) -> str | None:
    rules = field.get("constraints", {})
    if "enum" in rules and value not in rules["enum"]:
        return "not an allowed value"
    if "pattern" in rules and not re.fullmatch(rules["pattern"], str(value)):
        return f"does not match {rules['pattern']}"
    if "minimum" in rules and value < rules["minimum"]:
        return f"below {rules['minimum']}"
    if "maximum" in rules and value > rules["maximum"]:
        return f"above {rules['maximum']}"
    return None


def check_export(files: dict[str, bytes]) -> list[str]:
    """The problems of an export measured against its own dictionary ([]: none)."""
    problems = []
    names = set(files)
    if names != set(FILES):
        missing, extra = sorted(set(FILES) - names), sorted(names - set(FILES))
        return [f"files: expected {', '.join(FILES)}"
                + (f"; missing {', '.join(missing)}" if missing else "")
                + (f"; not in the dataset {', '.join(extra)}" if extra else "")]
    try:
        table_schema = json.loads(files[SCHEMA_FILE])
        fields = {f["name"]: f for f in table_schema["fields"]}
        rule = table_schema["suppression"]
        threshold, flag = int(rule["threshold"]), rule["flag_field"]
        counts, groups = set(rule["counts"]), dict(rule["groups"])
        parts, total = list(rule["complementary"]["parts"]), rule["complementary"]["total"]
    except (ValueError, KeyError, TypeError) as exc:
        return [f"{SCHEMA_FILE}: not a table schema with its suppression rule ({exc})"]
    personal = [n for n in fields if any(p in n for p in PERSONAL)]
    if personal:
        problems.append(f"{SCHEMA_FILE}: personal fields {', '.join(personal)}")
    try:
        reader = csv.reader(io.StringIO(files[CSV_FILE].decode("utf-8")))
        header, *lines = list(reader)
    except (UnicodeDecodeError, ValueError, csv.Error) as exc:
        return problems + [f"{CSV_FILE}: not a UTF-8 CSV with a header ({exc})"]
    outside = [h for h in header if h not in fields]
    absent = [n for n in fields if n not in header]
    if outside:
        problems.append(f"{CSV_FILE}: columns not in the dictionary: {', '.join(outside)}")
    if absent:
        problems.append(f"{CSV_FILE}: dictionary fields missing: {', '.join(absent)}")
    if outside or absent:
        return problems
    records, keys = [], set()
    for number, line in enumerate(lines, start=2):
        where = f"{CSV_FILE} line {number}"
        if len(line) != len(header):
            problems.append(f"{where}: {len(line)} cells, not {len(header)}")
            continue
        cells = dict(zip(header, line))
        flagged = set(cells[flag].split())
        record = {}
        for name, text in cells.items():
            field = fields[name]
            if text == "":
                if field.get("constraints", {}).get("required"):
                    problems.append(f"{where}: {name} is required")
                elif name in counts and name not in flagged:  # a statistic may have none
                    problems.append(f"{where}: {name} is blank but not flagged suppressed")
                record[name] = "" if field["type"] == "string" else None
                continue
            try:
                value = _typed(text, field)
            except (ValueError, TypeError) as exc:
                problems.append(f"{where}: {name} {text[:20]!r} is {field['type']}: {exc}")
                record[name] = None
                continue
            problem = _check_value(value, field)
            if problem:
                problems.append(f"{where}: {name} {text[:20]!r} {problem}")
            if name in flagged:
                problems.append(f"{where}: {name} is flagged suppressed but has a value")
            record[name] = value
        unknown_flags = flagged - counts - set(groups)
        if unknown_flags:
            problems.append(f"{where}: {flag} names {', '.join(sorted(unknown_flags))}, "
                            f"which cannot be suppressed")
        for name in counts:
            value = record.get(name)
            if isinstance(value, int) and 0 < value < threshold:
                problems.append(f"{where}: {name} = {value} is below the threshold "
                                f"{threshold} and not suppressed")
        for stat, group in groups.items():
            size = record.get(group)
            if record.get(stat) is not None and (size is None or size < threshold):
                problems.append(f"{where}: {stat} describes a group of {group} below the "
                                f"threshold {threshold} and is not suppressed")
        blank_parts = [p for p in parts if p in flagged]
        if len(blank_parts) == 1 and record.get(total) is not None:
            problems.append(f"{where}: {blank_parts[0]} alone is suppressed: it can be worked "
                            f"out from {total}")
        key = tuple(cells[k] for k in table_schema.get("primaryKey", []))
        if key in keys:
            problems.append(f"{where}: the key {key} repeats")
        keys.add(key)
        records.append(record)
    try:
        listed = json.loads(files[JSON_FILE])["records"]
        as_json = [{k: ("" if v is None and fields[k]["type"] == "string" else v)
                    for k, v in r.items()} for r in listed]
        if [set(r) for r in as_json] != [set(header)] * len(as_json) or \
                [{k: _same(v) for k, v in r.items()} for r in as_json] != \
                [{k: _same(v) for k, v in r.items()} for r in records]:
            problems.append(f"{JSON_FILE}: its records are not the CSV's rows")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        problems.append(f"{JSON_FILE}: not the dataset's records ({exc})")
    try:
        described = json.loads(files[PACKAGE_FILE])
        for resource in described["resources"]:
            body = files.get(resource["url"])
            if body is None:
                problems.append(f"{PACKAGE_FILE}: resource {resource['url']} is not here")
            elif resource["hash"] != "sha256:" + hashlib.sha256(body).hexdigest() or \
                    resource["size"] != len(body):
                problems.append(f"{PACKAGE_FILE}: {resource['url']}'s size or hash differs")
        extras = {e["key"]: e["value"] for e in described["extras"]}
        if extras.get("suppression_threshold") != str(threshold):
            problems.append(f"{PACKAGE_FILE}: its threshold is not the dictionary's")
    except (ValueError, KeyError, TypeError) as exc:
        problems.append(f"{PACKAGE_FILE}: not a CKAN package ({exc})")
    return problems


def _same(value):
    """Numbers compared as numbers (1 in JSON, 1.0 read from the CSV as a number)."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else value
