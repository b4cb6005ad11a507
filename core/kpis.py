"""The figures managers read (docs/kpis.md): the fact tables, the projector that fills them
from events, and the report computed from them.

Every figure of the hub's pages, the console and `nafitha report` comes from here. Events are
projected into five fact tables (one row per ticket, counter interval, application, licence,
payment) that have the same names and columns on a hub's SQLite store (m020) and on central
(central/db.py, alembic 0011): both are built from FACT_TABLES. The projector is pure (an event
in, upserts out), so the hub applies it inside the event's own transaction (Store.record) and
central when it stores a new event; applying an event twice is the same as once.

report() reads the fact tables only, through a `source` with `.rows(sql, params)` and
`.dialect`. Percentiles are nearest-rank over whole seconds (PostgreSQL's percentile_disc).
A hub's SQLite: the period's visits are read once and counted here; central's PostgreSQL:
GROUPING SETS and histograms with running counts (applications: percentile_disc). Both give
the same answers (tests/core/test_kpis_month.py)."""
from __future__ import annotations

import calendar
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from .errors import ValidationError

MAX_DAYS = 366  # the longest period one report covers (a leap year)
CHANNELS = ("kiosk", "counter", "appointment")
PAYMENT_CHANNELS = ("kiosk", "counter", "network")
COUNTER_STATES = ("open", "break", "back_office")
# Ticket states: finished ones, and those still live (left unserved once their day is over).
FINISHED = ("done", "no_show", "cancelled")
LIVE = ("waiting", "called", "serving", "parked")


# --- the fact tables: one owner of their columns ---------------------------------------------
@dataclass(frozen=True)
class Column:
    name: str
    type: str  # 'text' | 'int'


@dataclass(frozen=True)
class FactTable:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    # Secondary indexes the reads need (each a tuple of columns): every read is a day range.
    indexes: tuple[tuple[str, ...], ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def sqlite_ddl(self) -> list[str]:
        """CREATE TABLE + CREATE INDEX statements for SQLite (the hub's m020)."""
        cols = ", ".join(f"{c.name} {'INTEGER' if c.type == 'int' else 'TEXT'}"
                         + (" NOT NULL" if c.name in self.key else "") for c in self.columns)
        out = [f"CREATE TABLE {self.name} ({cols}, PRIMARY KEY ({', '.join(self.key)}))"]
        for index in self.indexes:
            out.append(f"CREATE INDEX {self.name}_{'_'.join(index)} ON {self.name}"
                       f"({', '.join(index)})")
        return out


def _table(name: str, spec: str, key: tuple[str, ...], *indexes: tuple[str, ...]) -> FactTable:
    """`spec`: "name:type name:type ..." (type text|int)."""
    columns = tuple(Column(*item.split(":")) for item in spec.split())
    return FactTable(name, columns, key, indexes)


FACT_TABLES: dict[str, FactTable] = {t.name: t for t in (
    _table("kpi_visits",
           "office:text ticket_id:text service_code:text channel:text priority:text "
           "counter:text clerk:text day:text hour:int taken_at:text state:text wait_s:int "
           "service_s:int target_wait_s:int rating:int",
           ("office", "ticket_id"), ("day", "office")),
    _table("kpi_counter_time",
           "office:text counter:text clerk:text state:text reason:text day:text "
           "started_at:text seconds:int",
           ("office", "counter", "started_at"), ("day", "office")),
    _table("kpi_applications",
           "office:text application_id:text service_code:text channel:text day:text "
           "state:text decided_day:text decision_s:int",
           ("office", "application_id"), ("day", "office")),
    _table("kpi_licences",
           "office:text licence_id:text service_code:text day:text reprints:int "
           "revoked_day:text",
           ("office", "licence_id"), ("day", "office"), ("revoked_day", "office")),
    _table("kpi_payments",
           "office:text payment_id:text service_code:text method:text channel:text day:text "
           "amount_minor:int currency:text voided:int",
           ("office", "payment_id"), ("day", "office")),
)}


@dataclass(frozen=True)
class Fact:
    """An upsert into one fact table: the row `key` gets `values` (partial: the columns not
    named keep what they had; a new row has NULL there)."""
    table: str
    key: dict
    values: dict = field(default_factory=dict)


# --- time: which local day and hour a moment belongs to --------------------------------------
def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def local_day(text: str | None, tz: ZoneInfo) -> str | None:
    """The office-local date of a UTC iso moment (the zone's offset AT that moment)."""
    moment = _moment(text)
    return moment.astimezone(tz).date().isoformat() if moment else None


def local_hour(text: str | None, tz: ZoneInfo) -> int | None:
    moment = _moment(text)
    return moment.astimezone(tz).hour if moment else None


def seconds_between(start: str | None, end: str | None) -> int | None:
    """Whole seconds from start to end (floor), None if either is missing."""
    a, b = _moment(start), _moment(end)
    if a is None or b is None:
        return None
    return max(0, math.floor((b - a).total_seconds()))


# --- periods --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    """Whole local days, first and last included."""
    start: date
    end: date
    kind: str = "range"  # 'day' | 'week' | 'month' | 'range'

    def __post_init__(self):
        if self.end < self.start:
            raise ValidationError(f"the period ends ({self.end}) before it starts "
                                  f"({self.start})", field="to", reason="backwards_range")
        if self.days > MAX_DAYS:
            raise ValidationError(f"a report covers at most {MAX_DAYS} days; "
                                  f"{self.start}..{self.end} is {self.days}", field="to",
                                  reason="range_too_long", max_days=MAX_DAYS)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def first(self) -> str:
        return self.start.isoformat()

    @property
    def last(self) -> str:
        return self.end.isoformat()

    def each_day(self) -> list[str]:
        return [(self.start + timedelta(days=i)).isoformat() for i in range(self.days)]

    def as_dict(self) -> dict:
        return {"from": self.first, "to": self.last, "kind": self.kind, "days": self.days}

    @classmethod
    def day(cls, day: date | str) -> "Period":
        d = _date(day, "from")
        return cls(d, d, "day")

    @classmethod
    def week(cls, day: date | str) -> "Period":
        """The week containing `day`; weeks start on Sunday (Bahrain's working week is
        Sunday to Thursday)."""
        d = _date(day, "from")
        start = d - timedelta(days=(d.weekday() + 1) % 7)
        return cls(start, start + timedelta(days=6), "week")

    @classmethod
    def month(cls, year: int, month: int) -> "Period":
        if not isinstance(year, int) or not 1 <= month <= 12 or not 1 <= year <= 9999:
            raise ValidationError(f"no month {year}-{month}", field="from", reason="not_a_month")
        last = calendar.monthrange(year, month)[1]
        return cls(date(year, month, 1), date(year, month, last), "month")

    @classmethod
    def parse(cls, from_text: str, to_text: str | None = None) -> "Period":
        start = _date(from_text, "from")
        end = _date(to_text, "to") if to_text else start
        return cls(start, end, "day" if start == end else "range")


def _date(value, field_name: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError(f"{field_name}: {value!r} is not a date (YYYY-MM-DD)",
                              field=field_name, reason="not_a_date") from None


# --- the projector: events in, upserts out (pure) -------------------------------------------
def facts_from_event(event_type: str, data: dict, office: str, tz: ZoneInfo) -> list[Fact]:
    """The fact-table upserts one event makes, [] for events no figure reads. Pure: the same
    event gives the same upserts, so applying it twice equals once; every value is taken
    from the event's data, never from a clock or another table."""
    try:
        if event_type == "ticket.rated":
            return _rating_facts(data, office)
        if event_type.startswith("ticket."):
            return _visit_facts(event_type, data, office, tz)
        if event_type == "counter.state_changed":
            return _counter_time_facts(data, office, tz)
        if event_type.startswith("application."):
            return _application_facts(event_type, data, office, tz)
        if event_type.startswith("licence."):
            return _licence_facts(event_type, data, office, tz)
        if event_type in ("payment.taken", "payment.voided", "bill.paid"):
            return _payment_facts(event_type, data, office, tz)
    except (KeyError, TypeError, ValueError) as exc:
        # An event without what its type must carry is refused by the wire check first
        # (sync/protocol.py); here it is a caller's bug, said plainly.
        raise ValidationError(f"{event_type}: cannot project its data ({exc!r})",
                              field="data", reason="unprojectable_event") from None
    return []


def _visit_facts(event_type: str, data: dict, office: str, tz: ZoneInfo) -> list[Fact]:
    if "created_at" not in data:
        return []  # ticket.* events that are not a ticket's state (none today)
    taken_at = data["created_at"]
    values = {"service_code": data["service_code"], "priority": data.get("priority"),
              "counter": data.get("counter"), "state": data["state"], "taken_at": taken_at,
              "day": local_day(taken_at, tz), "hour": local_hour(taken_at, tz)}
    for name in ("channel", "clerk", "target_wait_s"):
        if name in data:  # events written before issue 24 do not carry them
            values[name] = data[name]
    if "first_called_at" in data:
        values["wait_s"] = seconds_between(taken_at, data["first_called_at"])
    elif event_type == "ticket.called" and not data.get("transferred_from"):
        values["wait_s"] = seconds_between(taken_at, data.get("called_at"))
    values["service_s"] = seconds_between(data.get("serving_at"), data.get("finished_at")) \
        if data["state"] == "done" else None
    return [Fact("kpi_visits", {"office": office, "ticket_id": data["id"]}, values)]


def _rating_facts(data: dict, office: str) -> list[Fact]:
    return [Fact("kpi_visits", {"office": office, "ticket_id": data["id"]},
                 {"rating": int(data["rating"])})]


def _counter_time_facts(data: dict, office: str, tz: ZoneInfo) -> list[Fact]:
    """The interval that just ended (the previous state) is written whole; a closed
    counter's time is no one's working time and is not kept."""
    previous = data.get("previous")
    if not previous or previous.get("state") not in COUNTER_STATES or not previous.get("since"):
        return []
    started = previous["since"]
    return [Fact("kpi_counter_time",
                 {"office": office, "counter": data["counter"], "started_at": started},
                 {"clerk": previous.get("clerk"), "state": previous["state"],
                  "reason": previous.get("reason"), "day": local_day(started, tz),
                  "seconds": seconds_between(started, data["since"])})]


# A decision by a person (approve, reject) has a time to decision; an instant service approved
# by its payment, and a withdrawal, do not.
_DECISIONS = {"application.approved": "approved", "application.rejected": "rejected"}


def _application_facts(event_type: str, data: dict, office: str, tz: ZoneInfo) -> list[Fact]:
    if event_type not in ("application.submitted", "application.approved",
                          "application.rejected", "application.withdrawn"):
        return []  # drafts and documents are not figures
    if not data.get("submitted_at"):
        return []  # a draft withdrawn was never submitted
    values = {"service_code": data["service_code"], "state": data["state"],
              "day": local_day(data["submitted_at"], tz)}
    if "channel" in data:
        values["channel"] = data["channel"]
    if event_type in _DECISIONS and data.get("decided_at"):
        values["decided_day"] = local_day(data["decided_at"], tz)
        values["decision_s"] = seconds_between(data["submitted_at"], data["decided_at"])
    return [Fact("kpi_applications", {"office": office, "application_id": data["id"]},
                 values)]


def _licence_facts(event_type: str, data: dict, office: str, tz: ZoneInfo) -> list[Fact]:
    key = {"office": office, "licence_id": data["id"]}
    if event_type == "licence.issued":
        return [Fact("kpi_licences", key, {
            "service_code": data["service_code"], "day": local_day(data["issued_at"], tz),
            "reprints": int(data.get("reprint_count") or 0),
            "revoked_day": local_day(data.get("revoked_at"), tz)}),
            # Issuing moves its application to 'issued' (no application event says so).
            Fact("kpi_applications", {"office": office,
                                      "application_id": data["application_id"]},
                 {"state": "issued"})]
    if event_type == "licence.reprinted":
        return [Fact("kpi_licences", key, {"reprints": int(data["reprint_count"])})]
    if event_type == "licence.revoked":
        return [Fact("kpi_licences", key, {"revoked_day": local_day(data["revoked_at"], tz)})]
    return []


def _payment_facts(event_type: str, data: dict, office: str, tz: ZoneInfo) -> list[Fact]:
    if event_type == "bill.paid":
        if data.get("refund") or not data.get("payment_id"):
            return []  # paid twice (to refund): no revenue; or from before issue 24
        facts = [Fact("kpi_payments", {"office": office, "payment_id": data["payment_id"]}, {
            "service_code": data.get("service_code"), "method": "network",
            "channel": "network", "day": local_day(data.get("taken_at") or data["paid_at"], tz),
            "amount_minor": int(data["amount_minor"]), "currency": data.get("currency"),
            "voided": 0})]
    elif event_type == "payment.voided":
        # Only the mark: the voided event does not say where it was paid.
        facts = [Fact("kpi_payments", {"office": office, "payment_id": data["id"]},
                      {"voided": 1})]
    else:
        method = data["method"]
        values = {"method": method, "amount_minor": int(data["amount_minor"]),
                  "currency": data["currency"], "day": local_day(data["taken_at"], tz),
                  "voided": 1 if data.get("voided_at") else 0,
                  "channel": data.get("channel") or ("network" if method == "network"
                                                     else "counter")}
        if data.get("service_code"):
            values["service_code"] = data["service_code"]
        facts = [Fact("kpi_payments", {"office": office, "payment_id": data["id"]}, values)]
    # Paying (or voiding) moves the application's state; no application event says so.
    state = data.get("application_state")
    if isinstance(state, str) and data.get("application_id"):
        app_values = {"state": state}
        facts.append(Fact("kpi_applications", {"office": office,
                                               "application_id": data["application_id"]},
                          app_values))
    return facts


def apply_facts_sqlite(conn, facts: list[Fact]) -> None:
    """Upsert facts into a SQLite store's fact tables (the hub's Store.record, m020's
    backfill)."""
    for fact in facts:
        row = {**fact.key, **fact.values}
        cols = ", ".join(row)
        marks = ", ".join(f":{c}" for c in row)
        sets = ", ".join(f"{c} = excluded.{c}" for c in fact.values)
        conflict = f"DO UPDATE SET {sets}" if sets else "DO NOTHING"
        conn.execute(f"INSERT INTO {fact.table} ({cols}) VALUES ({marks}) "
                     f"ON CONFLICT ({', '.join(fact.key)}) {conflict}", row)


# --- filters --------------------------------------------------------------------------------
def check_filters(offices=None, services=None, *, known_offices=None,
                  known_services=None) -> None:
    """Refuse an office or service the caller does not know (the hub: its own office and its
    catalogue; central: its offices table), before anything is read. ValidationError with
    field "office" / "service", reason unknown_office / unknown_service."""
    for name, asked, known in (("office", offices, known_offices),
                               ("service", services, known_services)):
        if asked is None or known is None:
            continue
        unknown = sorted(set(asked) - set(known))
        if unknown:
            raise ValidationError(f"unknown {name}: {', '.join(map(str, unknown))}", field=name,
                                  reason=f"unknown_{name}", **{name: unknown[0]})


# --- reading: the report --------------------------------------------------------------------
class HubFacts:
    """The fact tables of one hub's (or field office's) SQLite store, as report() reads them."""

    dialect = "sqlite"

    def __init__(self, store):
        self.store = store

    def rows(self, sql: str, params: dict) -> list[dict]:
        return self.store.all(sql, params)


VISIT_DIMENSIONS = (("by_service", "service_code"), ("by_counter", "counter"),
                    ("by_clerk", "clerk"), ("by_hour", "hour"), ("by_day", "day"),
                    ("by_office", "office"), ("by_channel", "channel"))
_APPROVED = ("approved", "issued")
_PENDING = ("submitted", "paid")


class _Where:
    """The WHERE of one read: a day range, optional office and service lists, as :named
    parameters (sqlite3 and SQLAlchemy's text() both take them)."""

    def __init__(self, period: Period, offices, services):
        self.params: dict = {"d_from": period.first, "d_to": period.last}
        self.offices = self._list("office", offices)
        self.services = self._list("service", services)

    def _list(self, name: str, values) -> str:
        if values is None:
            return ""
        values = sorted(set(values))
        if not values:
            return " AND 1 = 0"  # an empty filter matches nothing
        marks = []
        for i, value in enumerate(values):
            self.params[f"{name}_{i}"] = value
            marks.append(f":{name}_{i}")
        return f" AND {name if name == 'office' else 'service_code'} IN ({', '.join(marks)})"

    def days(self, column: str = "day", services: bool = True) -> str:
        return (f"{column} >= :d_from AND {column} <= :d_to" + self.offices
                + (self.services if services else ""))


def report(source, period: Period, *, offices=None, services=None, today=None) -> dict:
    """Every figure of docs/kpis.md for `period`, as one JSON-able dict (the shape in
    docs/kpis.md; every face renders it). `offices` / `services`: only these (the caller
    checked they exist: check_filters). `today`: the local date that is still going on (its
    live tickets are "open", not "left"); default the UTC date now."""
    if not isinstance(period, Period):
        raise ValidationError("period: a kpis.Period", field="from", reason="not_a_period")
    today = _date(today, "today").isoformat() if today else \
        datetime.now(timezone.utc).date().isoformat()
    where = _Where(period, offices, services)
    visits = _visit_figures(source, where, period, today)
    return {
        "period": period.as_dict(),
        "offices": sorted(offices) if offices is not None else
        [row["key"] for row in visits["by_office"]],
        "generated_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "visits": visits,
        "applications": _application_figures(source, where),
        "licences": _licence_figures(source, where),
        "revenue": _revenue_figures(source, where),
        "staff_time": _staff_time(source, where),
    }


def report_of_nothing() -> dict:
    """The figures of a period with no facts (a store older than the fact tables)."""
    return {"visits": {"total": _visit_measures(None, {})}}


def _visit_figures(source, where: _Where, period: Period, today: str) -> dict:
    if source.dialect == "sqlite":
        groups, spread = _visit_groups_read_once(source, where, today)
    else:
        groups, spread = _visit_groups_in_sql(source, where, today)
    out: dict = {}
    for name, _column in (("total", ""), *VISIT_DIMENSIONS):
        keys = set(groups[name])
        if name == "by_hour":
            keys |= set(range(24))
        elif name == "by_day":
            keys |= set(period.each_day())
        rows = [{"key": key, **_visit_measures(groups[name].get(key),
                                               spread.get((name, key), {}))}
                for key in sorted(keys, key=_sort_key)]
        out[name] = rows
    # "total" is one row (the constant key 'all'); absent when there are no visits.
    total_rows = out.pop("total")
    total = _without_key(total_rows[0]) if total_rows else _visit_measures(None, {})
    return {"total": total, **out}


def _visit_groups_read_once(source, where: _Where, today: str) -> tuple[dict, dict]:
    """SQLite: one indexed read of the period's visits, then each dimension's counts and
    sorted durations made here. (Eight grouped scans with their histograms cost SQLite ten
    times more: a month of a busy centre is 36,000 rows, read in 0.1 s.) The
    same sums and nearest ranks as _visit_groups_in_sql, which the tests compare on
    PostgreSQL."""
    columns = [column for _name, column in VISIT_DIMENSIONS]
    rows = source.rows(f"""SELECT {', '.join(columns)}, state, wait_s, service_s,
                           target_wait_s, rating FROM kpi_visits WHERE {where.days()}""",
                       where.params)
    # Per visit once: what it counts as (a finished state, or left / open by its day),
    # and whether its wait was within its target (None: not called, or no target).
    status = [r["state"] if r["state"] not in LIVE else
              "left_" if r["day"] < today else "open_" for r in rows]
    waits = [r["wait_s"] for r in rows]
    services = [r["service_s"] for r in rows]
    within = [None if r["wait_s"] is None or r["target_wait_s"] is None else
              r["wait_s"] <= r["target_wait_s"] for r in rows]
    ratings = [r["rating"] for r in rows]
    groups: dict[str, dict] = {}
    spread: dict = {}
    for name, column in (("total", None), *VISIT_DIMENSIONS):
        keys = ["all"] * len(rows) if column is None else [r[column] for r in rows]
        by_status = Counter(zip(keys, status))
        by_wait = _sorted_values(keys, waits)
        by_service = _sorted_values(keys, services)
        by_within = Counter(zip(keys, within))
        by_rating = _histograms(keys, ratings)
        found: dict = {}
        for key in dict.fromkeys(keys):
            wait, service = by_wait.get(key, []), by_service.get(key, [])
            rating = by_rating.get(key, {})
            found[key] = {
                "tickets": sum(by_status[(key, s)] for s in (*FINISHED, "left_", "open_")),
                "served": by_status[(key, "done")], "no_show": by_status[(key, "no_show")],
                "cancelled": by_status[(key, "cancelled")], "left_": by_status[(key, "left_")],
                "open_": by_status[(key, "open_")],
                "wait_n": len(wait), "wait_sum": sum(wait),
                "service_n": len(service), "service_sum": sum(service),
                "target_n": by_within[(key, True)] + by_within[(key, False)],
                "within_n": by_within[(key, True)],
                "rating_n": sum(rating.values()),
                "rating_sum": sum(v * n for v, n in rating.items())}
            spread[(name, key)] = {
                metric: {"median": _rank(ordered, 1, 2), "p90": _rank(ordered, 9, 10)}
                for metric, ordered in (("wait_s", wait), ("service_s", service)) if ordered}
        groups[name] = found
    if not groups["total"]:
        groups["total"]["all"] = {}
    return groups, spread


def _sorted_values(keys: list, values: list) -> dict:
    """{key: [its values that are not null, sorted]}."""
    out: dict = {}
    for key, value in zip(keys, values):
        if value is not None:
            found = out.get(key)
            if found is None:
                out[key] = [value]
            else:
                found.append(value)
    for found in out.values():
        found.sort()
    return out


def _rank(ordered: list[int], fraction_num: int, fraction_den: int):
    """The nearest-rank percentile of sorted values: the one at rank ceil(n x p)."""
    return ordered[max(1, -(-len(ordered) * fraction_num // fraction_den)) - 1]


def _histograms(keys: list, values: list) -> dict:
    """{key: {value: count}} of the values that are not null."""
    out: dict = {}
    for (key, value), count in Counter(zip(keys, values)).items():
        if value is not None:
            out.setdefault(key, {})[value] = count
    return out


def _visit_groups_in_sql(source, where: _Where, today: str) -> tuple[dict, dict]:
    """PostgreSQL (central, 100 offices x a month = 3.6 million visits): every dimension's
    sums in one pass with GROUPING SETS, then for each duration its histogram (key, value,
    count) in one more pass, reduced to nearest ranks by a running count: the smallest
    value whose running count c over n reaches the rank, i.e. 2c >= n (median) and
    10c >= 9n (p90) - percentile_disc's values, without sorting 3.6 million rows per
    dimension and duration."""
    live = ", ".join(f"'{s}'" for s in LIVE)
    dim = "CASE " + " ".join(f"WHEN GROUPING({column}) = 0 THEN '{name}'"
                             for name, column in VISIT_DIMENSIONS) + " ELSE 'total' END"
    key = "CASE " + " ".join(f"WHEN GROUPING({column}) = 0 THEN CAST({column} AS TEXT)"
                             for _name, column in VISIT_DIMENSIONS) + " ELSE 'all' END"

    def sets(extra: str = "") -> str:
        return ", ".join([f"({extra})"] + [f"({column}{', ' + extra if extra else ''})"
                                           for _name, column in VISIT_DIMENSIONS])

    counts_sql = f"""SELECT {dim} AS dim, {key} AS key, COUNT(*) AS tickets,
        SUM(CASE WHEN state = 'done' THEN 1 ELSE 0 END) AS served,
        SUM(CASE WHEN state = 'no_show' THEN 1 ELSE 0 END) AS no_show,
        SUM(CASE WHEN state = 'cancelled' THEN 1 ELSE 0 END) AS cancelled,
        SUM(CASE WHEN state IN ({live}) AND day < :today THEN 1 ELSE 0 END) AS left_,
        SUM(CASE WHEN state IN ({live}) AND day >= :today THEN 1 ELSE 0 END) AS open_,
        COUNT(wait_s) AS wait_n, SUM(wait_s) AS wait_sum,
        COUNT(service_s) AS service_n, SUM(service_s) AS service_sum,
        SUM(CASE WHEN wait_s IS NOT NULL AND target_wait_s IS NOT NULL THEN 1 ELSE 0 END)
            AS target_n,
        SUM(CASE WHEN wait_s IS NOT NULL AND wait_s <= target_wait_s THEN 1 ELSE 0 END)
            AS within_n,
        COUNT(rating) AS rating_n, SUM(rating) AS rating_sum
        FROM kpi_visits WHERE {where.days()} GROUP BY GROUPING SETS ({sets()})"""
    groups: dict[str, dict] = {name: {} for name, _ in (("total", ""), *VISIT_DIMENSIONS)}
    for row in source.rows(counts_sql, {**where.params, "today": today}):
        groups[row["dim"]][_unkey(row["dim"], row["key"])] = row
    spread: dict = {}
    for metric in ("wait_s", "service_s"):
        sql = f"""WITH histogram AS (
                SELECT {dim} AS dim, {key} AS key, {metric} AS v, COUNT(*) AS n
                FROM kpi_visits WHERE {where.days()} AND {metric} IS NOT NULL
                GROUP BY GROUPING SETS ({sets(metric)})),
            running AS (
                SELECT dim, key, v, SUM(n) OVER (PARTITION BY dim, key ORDER BY v) AS c,
                       SUM(n) OVER (PARTITION BY dim, key) AS total FROM histogram)
            SELECT dim, key, MIN(CASE WHEN 2 * c >= total THEN v END) AS median,
                   MIN(CASE WHEN 10 * c >= 9 * total THEN v END) AS p90
            FROM running GROUP BY dim, key"""
        for row in source.rows(sql, where.params):
            spread.setdefault((row["dim"], _unkey(row["dim"], row["key"])), {})[metric] = {
                "median": _int(row["median"]), "p90": _int(row["p90"])}
    return groups, spread


def _without_key(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != "key"}


def _visit_measures(row: dict | None, spread: dict) -> dict:
    # Whole numbers whatever the database returns (PostgreSQL's SUM is a numeric).
    row = {k: _whole(v) for k, v in (row or {}).items() if k not in ("dim", "key")}
    target_n = row.get("target_n") or 0
    return {"tickets": row.get("tickets") or 0, "served": row.get("served") or 0,
            "no_show": row.get("no_show") or 0, "cancelled": row.get("cancelled") or 0,
            "left": row.get("left_") or 0, "open": row.get("open_") or 0,
            "wait_s": _stats(row.get("wait_n"), row.get("wait_sum"), spread.get("wait_s")),
            "service_s": _stats(row.get("service_n"), row.get("service_sum"),
                                spread.get("service_s")),
            "within_target": round((row.get("within_n") or 0) / target_n, 4)
            if target_n else None,
            "rating": {"mean": _mean(row.get("rating_sum"), row.get("rating_n"), 100),
                       "n": row.get("rating_n") or 0}}


def _stats(n, total, spread: dict | None) -> dict:
    """S = {n, mean, median, p90}: seconds; mean to 0.1 s (half up); nearest-rank
    percentiles; nulls when n = 0."""
    n = int(n or 0)
    if not n:
        return {"n": 0, "mean": None, "median": None, "p90": None}
    spread = spread or {}
    return {"n": n, "mean": _mean(total, n, 10), "median": spread.get("median"),
            "p90": spread.get("p90")}


def _mean(total, n, scale: int) -> float | None:
    """total/n rounded half up to 1/scale, from integers (the same on every database)."""
    n = int(n or 0)
    if not n:
        return None
    total = int(total)
    return ((2 * scale * total + n) // (2 * n)) / scale


def nearest_rank(histogram: list[tuple[int, int]], fraction_num: int, fraction_den: int):
    """The nearest-rank percentile of a histogram [(value, count)]: the smallest value whose
    cumulative count reaches ceil(n x p). p as a fraction of integers, so no float rounding
    moves the rank (it equals PostgreSQL's percentile_disc)."""
    n = sum(count for _, count in histogram)
    if not n:
        return None
    rank = -(-n * fraction_num // fraction_den)  # ceil
    rank = max(rank, 1)
    seen = 0
    for value, count in sorted(histogram):
        seen += count
        if seen >= rank:
            return value
    return None


def _spread(source, table: str, metrics: tuple[str, ...], where: _Where,
            dimensions) -> dict:
    """{(dimension, key): {metric: {"median", "p90"}}} for each metric column."""
    out: dict = {}
    for metric in metrics:
        if source.dialect == "postgresql":
            sql = " UNION ALL ".join(
                f"""SELECT '{name}' AS dim, {_key(source, column)} AS key,
                    percentile_disc(0.5) WITHIN GROUP (ORDER BY {metric}) AS median,
                    percentile_disc(0.9) WITHIN GROUP (ORDER BY {metric}) AS p90
                    FROM {table} WHERE {where.days()} AND {metric} IS NOT NULL
                    {_group_by(column)}""" for name, column in dimensions)
            for row in source.rows(sql, where.params):
                key = (row["dim"], _unkey(row["dim"], row["key"]))
                out.setdefault(key, {})[metric] = {"median": _int(row["median"]),
                                                   "p90": _int(row["p90"])}
        else:
            # SQLite has no percentile: read each group's histogram (value, count) and
            # take the ranks here.
            sql = " UNION ALL ".join(
                f"""SELECT '{name}' AS dim, {_key(source, column)} AS key, {metric} AS v,
                    COUNT(*) AS n FROM {table} WHERE {where.days()} AND {metric} IS NOT NULL
                    GROUP BY {metric if column == TOTAL else f'{column}, {metric}'}"""
                for name, column in dimensions)
            histograms: dict = {}
            for row in source.rows(sql, where.params):
                key = (row["dim"], _unkey(row["dim"], row["key"]))
                histograms.setdefault(key, []).append((int(row["v"]), int(row["n"])))
            for key, histogram in histograms.items():
                out.setdefault(key, {})[metric] = {"median": nearest_rank(histogram, 1, 2),
                                                   "p90": nearest_rank(histogram, 9, 10)}
    return out


TOTAL = "'all'"  # the dimension of the totals: one group, the constant key 'all'


def _group_by(column: str) -> str:
    # PostgreSQL refuses GROUP BY a constant: the totals are an aggregate without one.
    return "" if column == TOTAL else f" GROUP BY {column}"


def _whole(value):
    return None if value is None else int(value)


def _int(value):
    return None if value is None else int(value)


def _key(source, column: str) -> str:
    """Every dimension's key as text, so one UNION ALL carries them all (PostgreSQL wants
    one type per column); _unkey turns hours back into numbers."""
    return f"CAST({column} AS TEXT)"


def _unkey(dim: str, key):
    if key is None:
        return None
    if dim == "by_hour":
        return int(key)
    return str(key)


def _sort_key(key):
    return (key is None, key if key is not None else "")


def _application_figures(source, where: _Where) -> dict:
    approved = ", ".join(f"'{s}'" for s in _APPROVED)
    pending = ", ".join(f"'{s}'" for s in _PENDING)
    sql = f"""SELECT {{column}} AS key, COUNT(*) AS submitted,
        SUM(CASE WHEN state IN ({approved}) THEN 1 ELSE 0 END) AS approved,
        SUM(CASE WHEN state = 'rejected' THEN 1 ELSE 0 END) AS rejected,
        SUM(CASE WHEN state = 'withdrawn' THEN 1 ELSE 0 END) AS withdrawn,
        SUM(CASE WHEN state IN ({pending}) THEN 1 ELSE 0 END) AS pending,
        COUNT(decision_s) AS decision_n, SUM(decision_s) AS decision_sum
        FROM kpi_applications WHERE {where.days()}{{group}}"""
    dims = (("total", TOTAL), ("by_service", "service_code"))
    rows = {name: {r["key"]: r for r in source.rows(
        sql.format(column=column, group=_group_by(column)), where.params)}
        for name, column in dims}
    spread = _spread(source, "kpi_applications", ("decision_s",), where, dims)

    def measures(name, key, row):
        row = {k: _whole(v) for k, v in (row or {}).items() if k != "key"}
        return {k: row.get(k) or 0 for k in ("submitted", "approved", "rejected",
                                              "withdrawn", "pending")} | {
            "decision_s": _stats(row.get("decision_n"), row.get("decision_sum"),
                                 spread.get((name, key), {}).get("decision_s"))}

    return {**measures("total", "all", rows["total"].get("all")),
            "by_service": [{"key": key, **measures("by_service", key, row)}
                           for key, row in sorted(rows["by_service"].items(),
                                                  key=lambda kv: _sort_key(kv[0]))]}


def _licence_figures(source, where: _Where) -> dict:
    issued_in = "day >= :d_from AND day <= :d_to"
    revoked_in = "revoked_day >= :d_from AND revoked_day <= :d_to"
    sql = f"""SELECT service_code AS key,
        SUM(CASE WHEN {issued_in} THEN 1 ELSE 0 END) AS issued,
        SUM(CASE WHEN {issued_in} THEN reprints ELSE 0 END) AS reprinted,
        SUM(CASE WHEN {revoked_in} THEN 1 ELSE 0 END) AS revoked
        FROM kpi_licences WHERE (({where.days()}) OR ({where.days('revoked_day')}))
        GROUP BY service_code"""
    rows = [{"key": r["key"], "issued": int(r["issued"] or 0),
             "reprinted": int(r["reprinted"] or 0), "revoked": int(r["revoked"] or 0)}
            for r in source.rows(sql, where.params)]
    rows.sort(key=lambda r: _sort_key(r["key"]))
    return {k: sum(r[k] for r in rows) for k in ("issued", "reprinted", "revoked")} | {
        "by_service": rows}


def _revenue_figures(source, where: _Where) -> dict:
    sql = " UNION ALL ".join(
        f"""SELECT '{name}' AS dim, {column} AS key, currency, SUM(amount_minor) AS amount,
            COUNT(*) AS n FROM kpi_payments WHERE {where.days()} AND voided = 0
            GROUP BY {column}, currency"""
        for name, column in (("by_service", "service_code"), ("by_method", "method"),
                             ("by_channel", "channel")))
    rows = source.rows(sql, where.params)
    # Every amount is in the office's currency (BHD); should another ever appear, the report
    # keeps the most used one and names the others rather than adding unlike money.
    used: dict[str, int] = {}
    for r in rows:
        if r["dim"] == "by_method":
            used[r["currency"]] = used.get(r["currency"], 0) + int(r["n"])
    currency = max(sorted(used), key=lambda c: used[c]) if used else None
    out = {"currency": currency, "total_minor": 0, "by_service": [], "by_method": [],
           "by_channel": [], "other_currencies": sorted(c for c in used if c != currency)}
    for r in rows:
        if r["currency"] != currency:
            continue
        out[r["dim"]].append({"key": r["key"], "amount_minor": int(r["amount"]),
                              "count": int(r["n"])})
        if r["dim"] == "by_method":
            out["total_minor"] += int(r["amount"])
    for name in ("by_service", "by_method", "by_channel"):
        out[name].sort(key=lambda r: _sort_key(r["key"]))
    return out


def _staff_time(source, where: _Where) -> dict:
    """Per clerk: time at an open counter, on break, in back-office work (kpi_counter_time),
    serving (the service time of the tickets they called) and idle (open minus serving)."""
    clerks: dict = {}

    def clerk(key):
        return clerks.setdefault(key, {"key": key, "open_s": 0, "serving_s": 0, "break_s": 0,
                                       "back_office_s": 0, "idle_s": 0})

    for r in source.rows(f"""SELECT clerk, state, SUM(seconds) AS s FROM kpi_counter_time
                             WHERE {where.days(services=False)} GROUP BY clerk, state""",
                         where.params):
        if r["state"] in COUNTER_STATES and r["clerk"] is not None:
            clerk(r["clerk"])[f"{r['state']}_s"] += int(r["s"] or 0)
    for r in source.rows(f"""SELECT clerk, SUM(service_s) AS s FROM kpi_visits
                             WHERE {where.days()} AND clerk IS NOT NULL
                             AND service_s IS NOT NULL GROUP BY clerk""", where.params):
        clerk(r["clerk"])["serving_s"] += int(r["s"] or 0)
    for row in clerks.values():
        row["idle_s"] = max(0, row["open_s"] - row["serving_s"])
    return {"by_clerk": sorted(clerks.values(), key=lambda r: _sort_key(r["key"]))}


# --- the hub's store: facts of rows kept before issue 24 ------------------------------------
FACTS_SCHEMA = 20  # core.migrations.m020_kpi_facts


def backfill(store, tz: ZoneInfo, kiosk_account: str = "kiosk") -> int:
    """Once, after m020: the facts of what a store kept before they existed, by replaying its
    audit log through the projector (run by the Office, which knows the time zone and the
    kiosk's account). Events written before issue 24 lack what the facts read; they get it
    from the log itself: a ticket's channel from who took it (the kiosk's account: kiosk,
    anyone else: counter), its first call and that call's clerk from its first
    ticket.called, a payment's service from its application's events and its channel from
    its clerk (the kiosk's cashier: kiosk). A ticket's target wait is unknown (NULL: left out
    of the share within target); a network payment's bill.paid of before names no payment
    and is left out. Returns how many facts were written; 0 when already done."""
    if not store.has_schema(FACTS_SCHEMA) or \
            store.one("SELECT done_at FROM kpi_backfill WHERE id = 1")["done_at"]:
        return 0
    from . import audit  # the log's reader (its owner)

    def is_kiosk(name) -> bool:
        return isinstance(name, str) and (name == kiosk_account
                                          or name.startswith(kiosk_account + ":"))

    written = 0
    with store.atomic():
        if store.one("SELECT done_at FROM kpi_backfill WHERE id = 1")["done_at"]:
            return 0  # another process did it while this one waited for the lock
        channel_of, first_call, service_of = {}, {}, {}
        for entry in audit.entries(store):
            action, data = entry["action"], entry["data"]
            if not isinstance(data, dict):
                continue
            if action.startswith("application.") and "service_code" in data:
                service_of[data.get("id")] = data["service_code"]
            if action.startswith("ticket.") and action != "ticket.rated" and \
                    "channel" not in data and "id" in data:
                ticket = data["id"]
                if action == "ticket.taken":
                    channel_of[ticket] = "kiosk" if is_kiosk(entry["actor"]) else "counter"
                if action == "ticket.called" and ticket not in first_call:
                    first_call[ticket] = (data.get("called_at"), entry["actor"])
                called_at, clerk = first_call.get(ticket, (None, None))
                data = {**data, "channel": channel_of.get(ticket), "clerk": clerk,
                        "first_called_at": called_at, "target_wait_s": None}
            elif action == "payment.taken" and "channel" not in data:
                data = {**data, "service_code": service_of.get(data.get("application_id")),
                        "channel": "network" if data.get("method") == "network" else
                        "kiosk" if is_kiosk(data.get("clerk")) else "counter"}
            facts = facts_from_event(action, data, store.office_code, tz)
            apply_facts_sqlite(store.conn, facts)
            written += len(facts)
        store.conn.execute("UPDATE kpi_backfill SET done_at = ? WHERE id = 1", (store.now(),))
    return written
