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
- Kept reports: a month across a hundred offices is millions of visits, and its exact
  percentiles take PostgreSQL about 20 s (bench/reports.py). A closed period's figures change
  only when a late fact arrives (an office that was offline for days), so the report of a
  closed period is kept (kept_reports, by period, offices and services) and served from there
  until a fact for one of its days arrives: `project` forgets every kept report whose days it
  touches, in the same transaction as the fact. A computation marks its row first and fills it
  only if the mark is still there, so a fact that arrived while it ran is never hidden.
  `keep_closed_months` computes the last closed month for every office and per municipality
  ahead of the first reader (the central server does so each hour; `nafitha central
  keep-reports`).

The figures' definitions are core/kpis.py's (docs/kpis.md); nothing here computes one."""
from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import threading
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

import core.kpis as kpis  # noqa: PLR0402  (tests/test_layering.py reads the module)
from core.errors import ValidationError

from .db import FACTS, devices, events, kept_reports, municipalities, offices
from .service import CODE_RE, CentralError

log = logging.getLogger(__name__)
DEFAULT_TIMEZONE = "Asia/Bahrain"
REPROJECT_CHUNK = 2000  # events read and projected at a time
REPORT_WORK_MEM = "128MB"  # PostgreSQL's sort memory for one report's transaction
# A local day is over in every zone (UTC-12 to UTC+14) two UTC days later: a period whose last
# day is at least that old is closed, and its report may be kept.
CLOSED_AFTER_DAYS = 2
# The columns of each fact table that place a row in a period (core.kpis reads these ranges).
PERIOD_DAYS = {"kpi_visits": ("day",), "kpi_counter_time": ("day",),
               "kpi_applications": ("day",), "kpi_licences": ("day", "revoked_day"),
               "kpi_payments": ("day",)}


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
    it, in the same transaction, and every kept report is forgotten (its days moved). An
    unknown office or zone changes nothing."""
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
        conn.execute(sa.delete(kept_reports))
    return {"office": office, "timezone": name, "events": projected, "by": by}


# --- projection ---------------------------------------------------------------------------------
def project(conn, office: str, new: list[dict], tz: ZoneInfo | None = None,
            forget: bool = True) -> int:
    """Upsert the facts of an office's accepted events (in sequence order) and forget the
    kept reports they touch (forget=False: the caller forgets them all); the facts made."""
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
    if forget:
        forget_kept(conn, facts)
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
    each device's sequence order; the events projected. The caller forgets the kept reports
    (set_timezone; migration 0011 ran before there were any)."""
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
            project(conn, code, batch, zones.get(code) or zone(None), forget=False)
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
    named (each must be in the catalogue); the report dict plus "municipality". A closed
    period's report is served from kept_reports when kept, and kept when computed."""
    labels = service_labels(central)
    wanted_services = check_services(sorted(labels), services) or None
    with central.engine.connect() as conn:
        chosen, codes = scope(conn, person_municipality, municipality, offices)
    return {**_report_of(central, period, codes, wanted_services), "municipality": chosen}


def month_period(text: str) -> kpis.Period:
    """A month named YYYY-MM, as a Period (422 not_a_month otherwise)."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", text or "")
    if not match or not 1 <= int(match[2]) <= 12:
        raise CentralError(422, "not_a_month", f"month: YYYY-MM, e.g. 2026-11 (not "
                                               f"{str(text)[:20]!r})", field="month")
    return kpis.Period.month(int(match[1]), int(match[2]))


def is_closed(central, period: kpis.Period) -> bool:
    """Is every day of the period over in every zone (so only a late fact can change it)?"""
    utc_today = central.clock.now().astimezone(zone("UTC")).date()
    return period.last <= (utc_today - timedelta(days=CLOSED_AFTER_DAYS)).isoformat()


def _kept_key(period: kpis.Period, codes: list[str], services: list[str] | None) -> str:
    scope_text = json.dumps([period.first, period.last, period.kind, sorted(codes),
                             sorted(services) if services else None], separators=(",", ":"))
    return hashlib.sha256(scope_text.encode()).hexdigest()


def _report_of(central, period: kpis.Period, codes: list[str],
               services: list[str] | None) -> dict:
    closed = is_closed(central, period)
    key = _kept_key(period, codes, services)
    if closed:
        with central.engine.connect() as conn:
            body = conn.execute(sa.select(kept_reports.c.body).where(
                kept_reports.c.key == key)).scalar()
        if body is not None:
            return json.loads(body)
        token = secrets.token_hex(8)
        with central.engine.begin() as conn:  # the mark, seen by any late fact from now on
            conn.execute(sa.delete(kept_reports).where(kept_reports.c.key == key))
            conn.execute(sa.insert(kept_reports).values(
                key=key, first=period.first, last=period.last, token=token, body=None))
    today = central.clock.now().astimezone(zone(None)).date()
    with central.engine.connect() as conn:  # a reader: it holds no write lock
        if conn.dialect.name == "postgresql":
            # A month across a hundred offices reduces millions of waits for its percentiles:
            # in memory, not spilled to disk at the default 4 MB (bench/reports.py).
            conn.execute(sa.text(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'"))
        result = kpis.report(CentralFacts(conn), period, offices=codes, services=services,
                             today=today)
    if closed:
        with central.engine.begin() as conn:
            # Filled only if no late fact forgot the mark while the figures were read.
            conn.execute(sa.update(kept_reports).where(
                kept_reports.c.key == key, kept_reports.c.token == token).values(
                body=json.dumps(result, ensure_ascii=False, separators=(",", ":")),
                kept_at=central.clock.now().isoformat()))
    return result


def forget_kept(conn, facts: list) -> int:
    """Forget the kept reports whose days the facts touch (a late fact of a closed period),
    in the facts' transaction; how many. A fact that does not name its day (a rating, a
    reprint, a void) is placed by its row's day. Nothing to do when nothing is kept."""
    if not facts or conn.execute(sa.select(kept_reports.c.key).limit(1)).first() is None:
        return 0
    days: set[str] = set()
    unplaced: dict[str, list] = {}
    for fact in facts:
        named = [fact.values.get(c) for c in PERIOD_DAYS[fact.table] if c in fact.values]
        days.update(d for d in named if d)
        if "day" not in fact.values:
            unplaced.setdefault(fact.table, []).append(fact.key)
    for table_name, keys in unplaced.items():
        table, key_columns = FACTS[table_name], kpis.FACT_TABLES[table_name].key
        columns = [table.c[c] for c in PERIOD_DAYS[table_name]]
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            match = sa.tuple_(*(table.c[c] for c in key_columns)).in_(
                [tuple(k[c] for c in key_columns) for k in chunk])
            for row in conn.execute(sa.select(*columns).where(match)):
                days.update(d for d in row if d)
    forgotten = 0
    for day in sorted(days):
        forgotten += conn.execute(sa.delete(kept_reports).where(
            kept_reports.c.first <= day, kept_reports.c.last >= day)).rowcount
    return forgotten


def last_closed_month(central) -> kpis.Period:
    """The newest month that is closed (see is_closed)."""
    first = central.clock.now().astimezone(zone("UTC")).date().replace(day=1)
    while True:
        first = (first - timedelta(days=1)).replace(day=1)
        month = kpis.Period.month(first.year, first.month)
        if is_closed(central, month):
            return month


def keep_closed_months(central, month: kpis.Period | None = None) -> list[dict]:
    """Compute and keep `month` (default the last closed one) for every office and for each
    municipality's offices: the reports a national and a municipal officer open first.
    [{"municipality", "offices", "kept": computed now (False: already kept)}]."""
    month = month or last_closed_month(central)
    if not is_closed(central, month):
        raise CentralError(422, "future_month", f"{month.first[:7]} is not over yet in every "
                                                f"office: only a closed month is kept",
                           field="month")
    with central.engine.connect() as conn:
        rows = conn.execute(sa.select(offices.c.code, offices.c.municipality)
                            .order_by(offices.c.code)).all()
    scopes = {None: [r.code for r in rows]}
    for r in rows:
        if r.municipality:
            scopes.setdefault(r.municipality, []).append(r.code)
    done = []
    for municipality, codes in scopes.items():
        with central.engine.connect() as conn:
            kept = conn.execute(sa.select(kept_reports.c.body).where(
                kept_reports.c.key == _kept_key(month, codes, None))).scalar() is not None
        if not kept:
            _report_of(central, month, codes, None)
        done.append({"municipality": municipality, "offices": len(codes), "kept": not kept})
    return done


def keep_in_background(open_central, every_s: float = 3600, first_after_s: float = 60,
                       stop: threading.Event | None = None) -> threading.Thread:
    """A daemon thread that runs keep_closed_months with its own Central (open_central())
    `first_after_s` after start and then every `every_s`: the central server's. A failure is
    logged and tried again next time; the reports are still computed on demand."""
    stop = stop or threading.Event()

    def run():
        wait = first_after_s
        while not stop.wait(wait):
            wait = every_s
            try:
                central = open_central()
                try:
                    kept = keep_closed_months(central)
                finally:
                    central.close()
                log.info("kept reports: %s", kept)
            except Exception:  # the next round tries again; nothing depends on this one
                log.exception("keeping the closed month's reports failed")

    thread = threading.Thread(target=run, name="keep-reports", daemon=True)
    thread.start()
    return thread


def labels(central, office_codes: list[str]) -> dict:
    """The labels core.report_files writes beside codes: offices by code (central knows no
    office's name), services by their catalogue names."""
    return {"office": {c: {"ar": c, "en": c} for c in office_codes},
            "service": service_labels(central)}
