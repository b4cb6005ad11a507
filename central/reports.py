"""Central's figures across offices (docs/console/reports.md): the offices' events projected
into the kpi_* fact tables, and core.kpis.report over them.

- Projection: when central stores an office's new events (Central._apply, in the same
  transaction) each accepted one goes through core.kpis.facts_from_event with its office's
  time zone (offices.timezone; None: DEFAULT_TIMEZONE) and its facts are upserted (INSERT ..
  ON CONFLICT DO UPDATE of the columns the fact names), on SQLite and PostgreSQL alike. A
  resend is not a new event: nothing is projected again. `reproject` rebuilds an office's
  facts (or every office's) from the events held, in each device's order: migration 0011's
  backfill, and a time zone changed by `set_timezone`.
- Reading: `CentralFacts(conn)` is the `source` core.kpis.report reads (`.rows`, `.dialect`);
  `report` checks the filters a person sent (a municipality, offices, services) against what
  that person may see and the catalogue, then computes the report. Another municipality's
  office is refused exactly as an unknown one, so it does not reveal itself.

The figures' definitions are core/kpis.py's (docs/kpis.md); nothing here computes one."""
from __future__ import annotations

import json
import logging
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

import core.kpis as kpis  # noqa: PLR0402  (tests/test_layering.py reads the module)
from core.errors import ValidationError

from .db import FACTS, devices, events, municipalities, offices
from .service import CODE_RE, CentralError

log = logging.getLogger(__name__)
DEFAULT_TIMEZONE = "Asia/Bahrain"
REPROJECT_CHUNK = 2000  # events read and projected at a time
REPORT_WORK_MEM = "128MB"  # PostgreSQL's sort memory for one report's transaction


# --- time zones ---------------------------------------------------------------------------------
def zone(name: str | None) -> ZoneInfo:
    return ZoneInfo(name or DEFAULT_TIMEZONE)


def stored_timezone(central, office: str) -> str:
    """The zone an office's facts are counted in now (its own, or the default)."""
    with central.engine.connect() as conn:
        name = conn.execute(sa.select(offices.c.timezone).where(offices.c.code == office)
                            ).scalar()
    return name or DEFAULT_TIMEZONE


def office_zone(conn, office: str) -> ZoneInfo:
    name = conn.execute(sa.select(offices.c.timezone).where(offices.c.code == office)).scalar()
    return zone(name)


def set_timezone(central, office: str, name: str, by: str = "cli") -> dict:
    """The zone an office's days and hours are counted in; its facts are projected again in
    it, in the same transaction. An unknown office or zone changes nothing."""
    try:
        if not isinstance(name, str) or not name or name != name.strip():
            raise ValueError
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CentralError(422, "invalid_timezone", f"timezone: an IANA time zone such as "
                                                    f"{DEFAULT_TIMEZONE} (not {name!r})",
                           field="timezone") from None
    with central.engine.begin() as conn:
        if conn.execute(sa.select(offices.c.code).where(offices.c.code == office)).first() \
                is None:
            raise CentralError(404, "unknown_office", f"no office {office!r}", field="office")
        conn.execute(sa.update(offices).where(offices.c.code == office).values(timezone=name))
        projected = reproject(conn, office)
    return {"office": office, "timezone": name, "events": projected, "by": by}


# --- projection ---------------------------------------------------------------------------------
def project(conn, office: str, new: list[dict], tz: ZoneInfo | None = None) -> int:
    """Upsert the facts of an office's accepted events (in sequence order); the facts made."""
    tz = tz or office_zone(conn, office)
    facts = []
    for event in new:
        try:
            facts.extend(kpis.facts_from_event(event["type"], event["data"], office, tz))
        except ValidationError as exc:
            # An event the projector cannot read must not refuse the batch it came in (the
            # office would resend it forever); its figures are missing, and this says so.
            log.warning("no facts from event %s (%s): %s", event.get("id"), event.get("type"),
                        exc)
    upsert(conn, facts)
    return len(facts)


_STATEMENTS: dict = {}


def _statement(dialect: str, table: str, key: tuple, columns: tuple):
    """INSERT .. ON CONFLICT (key) DO UPDATE SET the given columns, built once."""
    stmt = _STATEMENTS.get((dialect, table, key, columns))
    if stmt is None:
        target = FACTS[table]
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(target)
        stmt = insert.on_conflict_do_update(
            index_elements=list(key), set_={c: insert.excluded[c] for c in columns}) \
            if columns else insert.on_conflict_do_nothing(index_elements=list(key))
        _STATEMENTS[(dialect, table, key, columns)] = stmt
    return stmt


def upsert(conn, facts: list) -> None:
    """Facts applied in order: those on one row are merged first (a later value of a column
    wins), then one statement per shape of row."""
    merged: dict = {}
    for fact in facts:
        spec = kpis.FACT_TABLES[fact.table]
        ident = (fact.table, tuple(fact.key[c] for c in spec.key))
        if ident in merged:
            merged[ident][1].update(fact.values)
        else:
            merged[ident] = (dict(fact.key), dict(fact.values))
    shapes: dict = {}
    for (table, _), (key, values) in merged.items():
        shape = (table, tuple(kpis.FACT_TABLES[table].key), tuple(sorted(values)))
        shapes.setdefault(shape, []).append({**values, **key})
    for (table, key, columns), rows in shapes.items():
        conn.execute(_statement(conn.dialect.name, table, key, columns), rows)


def reproject(conn, office: str | None = None) -> int:
    """Rebuild the facts of `office` (None: every office) from the accepted events held, in
    each device's sequence order; the events projected."""
    for table in FACTS.values():
        conn.execute(sa.delete(table) if office is None
                     else sa.delete(table).where(table.c.office == office))
    zones = {r.code: zone(r.timezone) for r in conn.execute(
        sa.select(offices.c.code, offices.c.timezone))}
    query = sa.select(devices.c.office, events.c.body).select_from(
        events.join(devices, devices.c.key == events.c.device_key)).where(
        events.c.refused.is_(None)).order_by(events.c.device_key, events.c.seq)
    if office is not None:
        query = query.where(devices.c.office == office)
    done, last_seq = 0, None
    # Read in pages (keyset on device_key, seq): a whole central's events do not fit in memory.
    query = query.add_columns(events.c.device_key, events.c.seq).limit(REPROJECT_CHUNK)
    while True:
        page = query if last_seq is None else query.where(sa.tuple_(
            events.c.device_key, events.c.seq) > sa.tuple_(*map(sa.literal, last_seq)))
        rows = conn.execute(page).all()
        if not rows:
            return done
        by_office: dict[str, list] = {}
        for row in rows:
            by_office.setdefault(row.office, []).append(json.loads(row.body))
        for code, batch in by_office.items():
            project(conn, code, batch, zones.get(code) or zone(None))
        done += len(rows)
        last_seq = (rows[-1].device_key, rows[-1].seq)


# --- reading ------------------------------------------------------------------------------------
class CentralFacts:
    """core.kpis.report's source over central's database (SQLite or PostgreSQL)."""

    def __init__(self, conn):
        self.conn = conn
        self.dialect = conn.dialect.name

    def rows(self, sql: str, params: dict) -> list[dict]:
        return [dict(r) for r in self.conn.execute(sa.text(sql), params).mappings()]


def _codes(values, field: str) -> list[str]:
    if values is None or values == "":
        return []
    listed = [values] if isinstance(values, str) else list(values)
    return [v.strip().upper() if field == "office" else v.strip() for v in listed
            if isinstance(v, str) and v.strip()]


def scope(conn, person_municipality: str | None, municipality: str | None = None,
          office_codes=None) -> tuple[str | None, list[str]]:
    """(the municipality, the office codes) a report covers for a person of
    `person_municipality` (None: national staff). A municipality or office the person may
    not see is refused as unknown (422, field municipality / office); nothing named: every
    office the person sees (of `municipality` when given)."""
    municipality = (municipality or "").strip().upper() or None
    if person_municipality is not None:
        if municipality not in (None, person_municipality):
            raise CentralError(422, "unknown_municipality", f"no municipality "
                                                            f"{municipality!r}",
                               field="municipality")
        municipality = person_municipality
    elif municipality is not None and (not CODE_RE.match(municipality) or conn.execute(
            sa.select(municipalities.c.code).where(municipalities.c.code == municipality))
            .first() is None):
        raise CentralError(422, "unknown_municipality", f"no municipality {municipality!r}",
                           field="municipality")
    query = sa.select(offices.c.code).order_by(offices.c.code)
    if municipality is not None:
        query = query.where(offices.c.municipality == municipality)
    visible = list(conn.execute(query).scalars())
    wanted = _codes(office_codes, "office")
    unknown = [c for c in wanted if c not in visible]
    if unknown:
        raise CentralError(422, "unknown_office", f"no office {unknown[0]!r}"
                           + (f" in municipality {municipality}" if municipality else ""),
                           field="office", office=unknown[0][:16])
    return municipality, sorted(set(wanted)) if wanted else visible


def check_services(known: list[str], service_codes) -> list[str]:
    wanted = _codes(service_codes, "service")
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise CentralError(422, "unknown_service", f"no service {unknown[0][:60]!r} in the "
                                                   f"catalogue", field="service")
    return sorted(set(wanted))


def service_labels(central) -> dict:
    """{code: {"ar", "en"}} of the catalogue's services (as last published)."""
    from .catalogue import Catalogue  # it imports central.service, as this module does
    return {s["code"]: {"ar": s.get("name", {}).get("ar", s["code"]),
                        "en": s.get("name", {}).get("en", s["code"])}
            for s in Catalogue(central).services()}


def report(central, period: kpis.Period, *, person_municipality: str | None = None,
           municipality: str | None = None, offices=None, services=None) -> dict:
    """core.kpis.report over the offices a person may see (see `scope`) and the services
    named (each must be in the catalogue); the report dict plus "municipality"."""
    labels = service_labels(central)
    wanted_services = check_services(sorted(labels), services)
    today = central.clock.now().astimezone(zone(None)).date()
    with central.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            # A month across a hundred offices sorts millions of waits for its percentiles:
            # in memory, not spilled to disk at the default 4 MB (bench/reports.py).
            conn.execute(sa.text(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'"))
        chosen, codes = scope(conn, person_municipality, municipality, offices)
        result = kpis.report(CentralFacts(conn), period, offices=codes,
                             services=wanted_services or None, today=today)
    return {**result, "municipality": chosen}


def labels(central, office_codes: list[str]) -> dict:
    """The labels core.report_files writes beside codes: offices by code (central knows no
    office's name), services by their catalogue names."""
    return {"office": {c: {"ar": c, "en": c} for c in office_codes},
            "service": service_labels(central)}
