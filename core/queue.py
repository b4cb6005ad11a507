"""The customer queue (docs/queue.md).

Ticket number = service prefix + daily number, the day being the office's local date, so
numbering restarts at local midnight. Ordering: each waiting ticket has a queue key, the
time it joined the queue; a priority ticket (elderly, disabled, pregnant) joins as if it had
arrived `priority_head_start_minutes` earlier. Call next takes the smallest key among the
counter's services (ties: ticket id). Deterministic, and no ticket starves: a ticket can only
be passed by priority tickets that arrived less than the head start after it, and by nothing
that arrived later than that.

A called or serving ticket can be parked (the resident went to fetch a document): it keeps its
number, counter and service, is never called again by call next, and resumes straight to
serving at a counter.
"""
from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta
from datetime import time as dt_time

from . import kpis, ticket_limits
from .clock import iso
from .errors import InvalidState, NotFound, ValidationError
from .text import clean_text

PRIORITIES = ("elderly", "disabled", "pregnant")
CHANNELS = ("kiosk", "counter", "appointment")  # how a ticket was taken (docs/kpis.md)
KPI_SCHEMA = 20  # core.migrations.m020_kpi_facts: tickets' channel, clerk, first call, target
FOLLOW_SCHEMA = 24  # core.migrations.m024_ticket_follow: tickets' postponed_at
STATES = ("waiting", "called", "serving", "parked", "done", "no_show", "cancelled")
FINAL = ("done", "no_show", "cancelled")
LIVE = tuple(s for s in STATES if s not in FINAL)  # a live ticket holds its number
BOARD_SERVING_ROWS = 10
BOARD_RECENT_ROWS = 8


# "Most used" looks back this many days (a kiosk's services, most used first).
USAGE_DAYS = 30
MAX_USAGE_DAYS = 366


def usage_days(days) -> int:
    """`days` checked: a whole number of days, 1 to MAX_USAGE_DAYS (a caller's slip: reason=)."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_USAGE_DAYS:
        raise ValidationError(f"days: a whole number from 1 to {MAX_USAGE_DAYS}", field="days",
                              reason="not_a_period")
    return days


class Queue:
    def __init__(self, office):
        self.office = office
        self.store = office.store
        self.settings = office.settings
        # A store older than m020 (the migration tests) has no columns for the KPI facts.
        self.kpi_columns = self.store.has_schema(KPI_SCHEMA)

    # --- helpers -----------------------------------------------------------------------------
    def ticket_row(self, ticket: str) -> dict:
        """By id, or by number (today's ticket with that number)."""
        row = self.store.one("SELECT * FROM tickets WHERE id = ?", (ticket,))
        if row is None:
            row = self.store.one("SELECT * FROM tickets WHERE number = ? AND day = ? "
                                 "ORDER BY created_at DESC LIMIT 1", (ticket, self.today()))
        if row is None:
            raise NotFound(f"no ticket {ticket!r} today", ticket=ticket)
        return row

    def today(self, moment: datetime | None = None) -> str:
        moment = moment or self.store.clock.now()
        return moment.astimezone(self.settings.tz).date().isoformat()

    def _number(self, prefix: str, daily_seq: int) -> str:
        q = self.settings.queue
        span = q.number_end - q.number_start + 1
        value = q.number_start + (daily_seq - 1) % span
        width = len(str(q.number_end))
        return f"{prefix}{value:0{width}d}"

    def _free_number(self, day: str, prefix: str) -> tuple[int, str]:
        """The next daily number; after the range wraps, numbers still in the queue are
        skipped so two live tickets never share a number."""
        q = self.settings.queue
        for _ in range(q.number_end - q.number_start + 1):
            daily_seq = self.store.next_sequence(f"ticket:{day}:{prefix}")
            number = self._number(prefix, daily_seq)
            marks = ",".join("?" for _ in LIVE)
            if not self.store.one(f"SELECT 1 FROM tickets WHERE day = ? AND number = ? AND "
                                  f"state IN ({marks})", (day, number, *LIVE)):
                return daily_seq, number
        raise InvalidState(f"every ticket number of {prefix} is in use today; finish or "
                           f"cancel waiting tickets, or widen queue.number_end")

    def _move(self, row: dict, to_state: str, at_counter: str | None, event: str,
              allowed_from: tuple[str, ...], **changes) -> dict:
        if row["state"] not in allowed_from:
            raise InvalidState(f"ticket {row['number']} is {row['state']}; {event} needs it "
                               f"{' or '.join(allowed_from)}", ticket=row["number"],
                               state=row["state"])
        now = self.store.now()
        changes = {"state": to_state, **changes}
        self.store.update("tickets", "id", row["id"], changes)
        self.store.insert("ticket_events", {
            "ticket_id": row["id"], "at": now, "from_state": row["state"], "to_state": to_state,
            "counter": at_counter,
            "service_code": changes.get("service_code", row["service_code"]),
            "actor": self.store.actor})
        updated = {**row, **changes}
        self.store.record(f"ticket.{event}", "ticket", row["id"], _public(updated))
        return updated

    def _first_call(self, row: dict) -> dict:
        """The ticket's first call and who made it, kept when it is called again (after a
        recall or a transfer): its wait is taken -> first call (docs/kpis.md)."""
        if not self.kpi_columns or row.get("first_called_at"):
            return {}
        return {"first_called_at": self.store.now(), "clerk": self.store.actor}

    # --- operations --------------------------------------------------------------------------
    def take_ticket(self, service: str, priority: str | None = None,
                    taken_by: str | None = None, channel: str = "kiosk",
                    joins_at: datetime | None = None) -> dict:
        """taken_by: the paired device that took it (a kiosk through the hub); channel:
        kiosk, counter (a clerk took it for the resident) or appointment (docs/kpis.md).
        joins_at: an appointment's slot start, where its ticket queues whenever the resident
        checked in (core/appointments.py); a booked visit is not refused by the daily cap
        or the cut-off, which are for walk-ins."""
        svc = self.office.catalog.offered(service, self.settings.office.code)
        if priority is not None and priority not in PRIORITIES:
            raise ValidationError(f"priority must be one of {', '.join(PRIORITIES)}",
                                  field="priority")
        if channel not in CHANNELS:
            raise ValidationError(f"channel must be one of {', '.join(CHANNELS)}",
                                  field="channel", reason="unknown_channel")
        with self.store.atomic():
            now_dt = self.store.clock.now()
            if joins_at is None:
                ticket_limits.check(self.office, svc, now_dt)  # the daily cap and cut-off
            now = iso(now_dt)
            day = self.today(now_dt)
            daily_seq, number = self._free_number(day, svc.prefix)
            key_dt = now_dt - timedelta(minutes=self.settings.queue.priority_head_start_minutes) \
                if priority else now_dt
            if joins_at is not None:
                key_dt = joins_at
            row = {"id": self.store.ids.new(), "number": number,
                   "prefix": svc.prefix, "service_code": svc.code, "day": day,
                   "daily_seq": daily_seq, "priority": priority, "state": "waiting",
                   "counter": None, "call_count": 0, "queue_key": iso(key_dt),
                   "created_at": now, "called_at": None, "serving_at": None,
                   "finished_at": None, "transferred_from": None}
            if self.kpi_columns:  # what the KPI facts read (core/kpis.py)
                row.update(channel=channel, clerk=None, first_called_at=None,
                           target_wait_s=svc.queue.target_wait_minutes * 60)
            # Named only for a paired device's ticket (m011); the device's own have none.
            self.store.insert("tickets", {**row, "taken_by": taken_by} if taken_by else row)
            self.store.insert("ticket_events", {
                "ticket_id": row["id"], "at": now, "from_state": None, "to_state": "waiting",
                "counter": None, "service_code": svc.code, "actor": self.store.actor})
            self.store.record("ticket.taken", "ticket", row["id"], _public(row))
            return {**_public(row), **self.estimate(row["id"])}

    def call_next(self, counter: str, services: list[str] | None = None) -> dict | None:
        """The next ticket for this counter's services, or None when nobody waits."""
        counter = _counter_name(counter)
        codes = [self.office.catalog.get(s).code for s in services] if services else \
            [s.code for s in self.office.catalog]
        with self.store.atomic():
            self.office.counter_states.check_can_call(counter)  # not on a break, not closed
            marks = ",".join("?" for _ in codes)
            row = self.store.one(
                f"SELECT * FROM tickets WHERE state = 'waiting' AND service_code IN ({marks}) "
                f"ORDER BY queue_key, id LIMIT 1", tuple(codes))
            if row is None:
                return None  # nothing written: an idle counter leaves no trace
            # Open counters (for wait estimates) are those that called someone recently.
            self.store.conn.execute(
                "INSERT INTO counters(id, services, last_call_at) VALUES (?,?,?) "
                "ON CONFLICT(id) DO UPDATE SET services = excluded.services, "
                "last_call_at = excluded.last_call_at",
                (counter, json.dumps(codes), self.store.now()))
            return _public(self._move(row, "called", counter, "called", ("waiting",),
                                      counter=counter, call_count=1,
                                      called_at=self.store.now(), **self._first_call(row)))

    def recall(self, ticket: str, counter: str | None = None) -> dict:
        """Call the same ticket again; once it has been called call_limit times, a recall
        marks it no-show instead."""
        with self.store.atomic():
            row = self.ticket_row(ticket)
            counter = _counter_name(counter) if counter else row["counter"]
            if row["state"] == "called" and row["call_count"] >= self.settings.queue.call_limit:
                return _public(self._move(row, "no_show", counter, "no_show", ("called",),
                                          finished_at=self.store.now()))
            return _public(self._move(row, "called", counter, "recalled", ("called",),
                                      counter=counter, call_count=row["call_count"] + 1,
                                      called_at=self.store.now(), **self._first_call(row)))

    def start_serving(self, ticket: str) -> dict:
        with self.store.atomic():
            row = self.ticket_row(ticket)
            return _public(self._move(row, "serving", row["counter"], "serving", ("called",),
                                      serving_at=self.store.now()))

    def finish(self, ticket: str) -> dict:
        """Finish a called or serving ticket; finished straight from 'called', its service
        time counts from the call (the resident came to the counter when called)."""
        with self.store.atomic():
            row = self.ticket_row(ticket)
            now = self.store.now()
            return _public(self._move(row, "done", row["counter"], "finished",
                                      ("called", "serving"), finished_at=now,
                                      serving_at=row["serving_at"] or row["called_at"] or now))

    def no_show(self, ticket: str) -> dict:
        with self.store.atomic():
            row = self.ticket_row(ticket)
            return _public(self._move(row, "no_show", row["counter"], "no_show", ("called",),
                                      finished_at=self.store.now()))

    def cancel(self, ticket: str) -> dict:
        """Cancel a waiting, called or parked ticket (a parked resident who never came
        back)."""
        with self.store.atomic():
            row = self.ticket_row(ticket)
            return _public(self._move(row, "cancelled", row["counter"], "cancelled",
                                      ("waiting", "called", "parked"),
                                      finished_at=self.store.now()))

    def cancel_taken_by(self, device: str, reason: str) -> dict:
        """Cancel every ticket of today that `device` took and nobody has called yet (a
        kiosk, or a script with its token, that took far too many); run under a
        supervisor (Office.as_supervisor). Each is cancelled and audited on its own."""
        reason = clean_text(reason or "", "reason", max_length=500, min_length=1)
        device = clean_text(device or "", "device", max_length=40, min_length=1)
        with self.store.atomic():
            rows = self.store.all("SELECT * FROM tickets WHERE taken_by = ? AND day = ? AND "
                                  "state = 'waiting' ORDER BY daily_seq",
                                  (device, self.today(self.store.clock.now())))
            cancelled = [self._move(row, "cancelled", None, "cancelled", ("waiting",),
                                    finished_at=self.store.now())["number"] for row in rows]
            self.store.record("queue.bulk_cancelled", "device", device,
                              {"device": device, "reason": reason, "tickets": cancelled})
        return {"device": device, "cancelled": cancelled}

    def park(self, ticket: str) -> dict:
        """Set a called or serving ticket aside while the resident fetches a document: it
        keeps its number, counter and service, and call next never returns it."""
        with self.store.atomic():
            row = self.ticket_row(ticket)
            return _public(self._move(row, "parked", row["counter"], "parked",
                                      ("called", "serving")))

    def resume(self, ticket: str, counter: str | None = None) -> dict:
        """Serve a parked ticket again, at `counter` (default: the counter it was parked
        at); service time counts from the first time it was served."""
        with self.store.atomic():
            row = self.ticket_row(ticket)
            counter = _counter_name(counter) if counter else row["counter"]
            return _public(self._move(row, "serving", counter, "resumed", ("parked",),
                                      counter=counter,
                                      serving_at=row["serving_at"] or self.store.now()))

    def transfer(self, ticket: str, service: str) -> dict:
        """Send the ticket to another service's queue; it keeps its number and joins that
        queue at the time of transfer (keeping a priority head start)."""
        target = self.office.catalog.get(service)
        with self.store.atomic():
            row = self.ticket_row(ticket)
            if target.code == row["service_code"]:
                raise ValidationError(f"ticket {row['number']} is already for {target.code}",
                                      field="service")
            now_dt = self.store.clock.now()
            key_dt = now_dt - timedelta(minutes=self.settings.queue.priority_head_start_minutes) \
                if row["priority"] else now_dt
            return _public(self._move(row, "waiting", row["counter"], "transferred",
                                      ("called", "serving"), service_code=target.code,
                                      transferred_from=row["service_code"], counter=None,
                                      call_count=0, called_at=None, serving_at=None,
                                      queue_key=iso(key_dt)))

    def postpone(self, ticket: str, places: int) -> dict:
        """"I need more time": a waiting ticket moves back `places` places in its service's
        queue, just behind the ticket that many places after it (behind the last one when
        fewer wait after it); once per ticket (InvalidState, reason already_postponed; a
        ticket not waiting: reason not_waiting). Returns the ticket with `moved_places`."""
        if isinstance(places, bool) or not isinstance(places, int) or not 1 <= places <= 100:
            raise ValidationError("places: a whole number from 1 to 100", field="places",
                                  reason="not_a_number_of_places")
        if not self.store.has_schema(FOLLOW_SCHEMA):
            raise InvalidState("this store predates more time (schema 24); upgrade it",
                               reason="no_postpone")
        with self.store.atomic():
            row = self.ticket_row(ticket)
            if row["state"] != "waiting":
                raise InvalidState(f"ticket {row['number']} is {row['state']}; only a waiting "
                                   f"ticket can have more time", ticket=row["number"],
                                   state=row["state"], reason="not_waiting")
            if row["postponed_at"]:
                raise InvalidState(f"ticket {row['number']} already had more time once",
                                   ticket=row["number"], reason="already_postponed")
            behind = self.store.all(
                "SELECT id, queue_key FROM tickets WHERE state = 'waiting' AND service_code = ? "
                "AND (queue_key > ? OR (queue_key = ? AND id > ?)) ORDER BY queue_key, id "
                "LIMIT ?", (row["service_code"], row["queue_key"], row["queue_key"], row["id"],
                            places))
            key = row["queue_key"]
            if behind:  # a millisecond after the one it lets go first (keys sort as text)
                key = max(key, iso(datetime.fromisoformat(behind[-1]["queue_key"]) +
                                   timedelta(milliseconds=1)))
            moved = self._move(row, "waiting", None, "postponed", ("waiting",), queue_key=key,
                               postponed_at=self.store.now())
            return {**_public(moved), "moved_places": len(behind)}

    # --- reading -----------------------------------------------------------------------------
    def get(self, ticket: str) -> dict:
        row = self.ticket_row(ticket)
        out = _public(row)
        if row["state"] == "waiting":
            out.update(self.estimate(row["id"]))
        return out

    def list(self, states: tuple[str, ...] = LIVE, service: str | None = None) -> list[dict]:
        marks = ",".join("?" for _ in states)
        params: list = [self.today(), *states]
        sql = f"SELECT * FROM tickets WHERE day = ? AND state IN ({marks})"
        if service:
            sql += " AND service_code = ?"
            params.append(self.office.catalog.get(service).code)
        return [_public(r) for r in self.store.all(sql + " ORDER BY queue_key, id", params)]

    def estimate(self, ticket_id: str) -> dict:
        """People ahead, and minutes to wait = ahead x recent mean service time / open
        counters serving this service (at least one)."""
        row = self.store.one("SELECT * FROM tickets WHERE id = ?", (ticket_id,))
        ahead = self.store.one(
            "SELECT COUNT(*) AS n FROM tickets WHERE state = 'waiting' AND service_code = ? "
            "AND (queue_key < ? OR (queue_key = ? AND id < ?))",
            (row["service_code"], row["queue_key"], row["queue_key"], row["id"]))["n"]
        mean, counters = self._pace(row["service_code"], self._open_counters())
        return {"people_ahead": ahead, "open_counters": counters,
                "estimated_wait_minutes": math.ceil(ahead * mean / max(1, counters))}

    def _open_counters(self) -> list[list[str]]:
        """The services of each counter that called someone recently (an open counter)."""
        since = iso(self.store.clock.now() -
                    timedelta(minutes=self.settings.queue.counter_open_minutes))
        return [json.loads(c["services"]) for c in self.store.all(
            "SELECT services FROM counters WHERE last_call_at >= ?", (since,))]

    def _pace(self, service_code: str, open_counters: list[list[str]]) -> tuple[float, int]:
        """A service's recent mean service time in minutes, and its open counters."""
        q = self.settings.queue
        recent = self.store.all(
            "SELECT serving_at, finished_at FROM tickets WHERE service_code = ? AND state = 'done' "
            "AND serving_at IS NOT NULL ORDER BY finished_at DESC LIMIT ?",
            (service_code, q.estimate_window))
        durations = [(datetime.fromisoformat(r["finished_at"]) -
                      datetime.fromisoformat(r["serving_at"])).total_seconds() / 60
                     for r in recent]
        mean = sum(durations) / len(durations) if durations else q.default_service_minutes
        return mean, sum(1 for services in open_counters if service_code in services)

    def followed(self) -> dict[str, dict]:
        """Every ticket of today as a resident's phone follows it ({id: ...}): number,
        service, state, counter, people ahead and estimated wait (as estimate() gives them),
        postponed_at. A few reads for the whole queue, whatever the number of phones: the
        hub reads it once per queue change for every open phone (hub/phone.py)."""
        # A ticket left waiting from an earlier day is still ahead (call next takes it, and
        # estimate() counts it): it is read too.
        rows = self.store.all(f"SELECT {self._followed_columns()} FROM tickets WHERE day = ? "
                              f"OR state = 'waiting' ORDER BY service_code, queue_key, id",
                              (self.today(),))
        counters, pace, out = self._open_counters(), {}, {}
        ahead: dict[str, int] = {}
        for r in rows:
            view = _followed(r)
            if r["state"] == "waiting":
                code = r["service_code"]
                if code not in pace:
                    pace[code] = self._pace(code, counters)
                mean, open_counters = pace[code]
                n = ahead.get(code, 0)
                ahead[code] = n + 1
                view.update(people_ahead=n, open_counters=open_counters,
                            estimated_wait_minutes=math.ceil(n * mean / max(1, open_counters)))
            out[r["id"]] = view
        return out

    def followed_one(self, ticket_id: str) -> dict:
        """One ticket (by id, of any day) as followed() gives it."""
        row = self.store.one(f"SELECT {self._followed_columns()} FROM tickets WHERE id = ?",
                             (ticket_id,))
        if row is None:
            raise NotFound(f"no ticket {ticket_id!r}", ticket=ticket_id)
        view = _followed(row)
        if row["state"] == "waiting":
            view.update(self.estimate(ticket_id))
        return view

    def exists(self, ticket_id: str) -> bool:
        return self.store.one("SELECT 1 FROM tickets WHERE id = ?", (ticket_id,)) is not None

    def _followed_columns(self) -> str:
        return "id, number, service_code, state, counter, queue_key, call_count" + \
            (", postponed_at" if self.store.has_schema(FOLLOW_SCHEMA) else "")

    def taken_on(self, day: str, prefix: str) -> int:
        """Tickets taken on a local day with a service's prefix, whatever became of them
        (a transfer keeps its number): what the daily cap counts (core/ticket_limits.py)."""
        return self.store.one("SELECT COUNT(*) AS n FROM tickets WHERE day = ? AND prefix = ?",
                              (day, prefix))["n"]

    def service_usage(self, days: int = USAGE_DAYS) -> dict[str, int]:
        """Uses per service over the last `days` local days, today included ({code: n}):
        tickets taken (a transferred one counts for the service it ended at) plus
        applications submitted without a ticket. What a kiosk orders its services by, most
        used first (core/service_search.py)."""
        first = self.today(self.store.clock.now() - timedelta(days=usage_days(days) - 1))
        counts = {r["service_code"]: r["n"] for r in self.store.all(
            "SELECT service_code, COUNT(*) AS n FROM tickets WHERE day >= ? "
            "GROUP BY service_code", (first,))}
        start = datetime.combine(date.fromisoformat(first), dt_time(0), self.settings.tz)
        for code, n in self.office.applications.service_usage(iso(start)).items():
            counts[code] = counts.get(code, 0) + n
        return counts

    def stats(self, day: str | None = None) -> dict:
        """One local day's figures as `nafitha queue stats` shows them: tickets by state now,
        mean wait (taken -> first call) and service time in minutes, no-show rate. The means
        come from core/kpis.py, like every report (docs/kpis.md)."""
        day = kpis.Period.day(day or self.today()).first
        counts = {r["state"]: r["n"] for r in self.store.all(
            "SELECT state, COUNT(*) AS n FROM tickets WHERE day = ? GROUP BY state", (day,))}
        visits = kpis.report(kpis.HubFacts(self.store), kpis.Period.day(day),
                             today=self.today())["visits"]["total"] if self.kpi_columns \
            else kpis.report_of_nothing()["visits"]["total"]  # a store older than m020
        ended = visits["served"] + visits["no_show"]

        def minutes(stat: dict):
            return round(stat["mean"] / 60, 2) if stat["n"] else None

        return {"day": day, "tickets": sum(counts.values()),
                "by_state": {s: counts.get(s, 0) for s in STATES},
                "mean_wait_minutes": minutes(visits["wait_s"]),
                "mean_service_minutes": minutes(visits["service_s"]),
                "no_show_rate": round(visits["no_show"] / ended, 3) if ended else None}

    def overview(self) -> list[dict]:
        """Waiting tickets per service: how many, the longest wait in minutes, the next."""
        now = self.store.clock.now()
        out = []
        for svc in self.office.catalog:
            waiting = self.list(("waiting",), service=svc.code)
            longest = max(((now - datetime.fromisoformat(t["created_at"])).total_seconds()
                           // 60 for t in waiting), default=0)
            out.append({"service": svc.code, "prefix": svc.prefix, "waiting": len(waiting),
                        "longest_wait_minutes": int(longest),
                        "next": waiting[0]["number"] if waiting else None})
        return out

    def at_counter(self, counter: str) -> list[dict]:
        """Tickets at a counter now: called, serving or parked."""
        return [t for t in self.list(("called", "serving", "parked")) if t["counter"] == counter]

    def change_marker(self) -> int:
        """The newest ticket event's id: it grows with every change to the queue, whichever
        process made it (counters and the hub's board poll it)."""
        row = self.store.one("SELECT COALESCE(MAX(id), 0) AS m FROM ticket_events")
        return int(row["m"])

    # --- the display board -----------------------------------------------------------------
    def board(self) -> dict:
        """What a display board shows: now serving (ticket -> counter), recently called, and
        how many wait per service. Today's tickets only."""
        store, day = self.store, self.today()
        names = {s.code: s for s in self.office.catalog}

        def service(code: str) -> dict:
            s = names.get(code)
            return {"service": code, "service_ar": s.name.ar if s else code,
                    "service_en": s.name.en if s else code}

        serving = [{"number": r["number"], "counter": r["counter"], "state": r["state"],
                    "called_at": r["called_at"], "call_count": r["call_count"],
                    **service(r["service_code"])}
                   for r in store.all("SELECT number, counter, state, called_at, call_count, "
                                      "service_code FROM tickets WHERE day = ? AND state IN "
                                      "('called', 'serving') ORDER BY called_at DESC LIMIT ?",
                                      (day, BOARD_SERVING_ROWS))]
        recent, seen = [], {t["number"] for t in serving}
        for r in store.all("SELECT t.number, e.counter, e.at, t.service_code FROM ticket_events "
                           "e JOIN tickets t ON t.id = e.ticket_id WHERE e.to_state = 'called' "
                           "AND t.day = ? ORDER BY e.id DESC LIMIT 60", (day,)):
            if r["number"] in seen:
                continue
            seen.add(r["number"])
            recent.append({"number": r["number"], "counter": r["counter"],
                           "called_at": r["at"], **service(r["service_code"])})
            if len(recent) == BOARD_RECENT_ROWS:
                break
        counts = {r["service_code"]: r["n"] for r in store.all(
            "SELECT service_code, COUNT(*) AS n FROM tickets WHERE state = 'waiting' AND "
            "day = ? GROUP BY service_code", (day,))}
        waiting = [{"prefix": s.prefix, "waiting": counts.get(s.code, 0), **service(s.code)}
                   for s in self.office.catalog]
        o = self.settings.office
        return {"office_ar": o.name_ar, "office_en": o.name_en, "digits": o.digits,
                "marker": self.change_marker(), "serving": serving, "recent": recent,
                "waiting": waiting}

    def calls_since(self, marker: int, limit: int = 50) -> list[dict]:
        """Each call and recall after `marker`, oldest first: what the board announces."""
        names = {s.code: s for s in self.office.catalog}
        out = []
        for r in self.store.all(
                "SELECT e.id, e.from_state, e.counter, e.at, t.number, t.service_code FROM "
                "ticket_events e JOIN tickets t ON t.id = e.ticket_id WHERE e.id > ? AND "
                "e.to_state = 'called' ORDER BY e.id LIMIT ?", (marker, limit)):
            s = names.get(r["service_code"])
            out.append({"id": r["id"], "number": r["number"], "counter": r["counter"],
                        "recall": r["from_state"] == "called", "at": r["at"],
                        "service_ar": s.name.ar if s else r["service_code"],
                        "service_en": s.name.en if s else r["service_code"]})
        return out

    def events(self, ticket: str) -> list[dict]:
        row = self.ticket_row(ticket)
        return self.store.all("SELECT at, from_state, to_state, counter, service_code, actor "
                              "FROM ticket_events WHERE ticket_id = ? ORDER BY id", (row["id"],))


def _counter_name(counter) -> str:
    text = str(counter).strip()
    if not text or len(text) > 20 or not all(ch.isalnum() or ch in "-_" for ch in text):
        raise ValidationError("counter: 1-20 letters, digits, '-' or '_'", field="counter")
    return text


def _followed(row: dict) -> dict:
    out = {k: row[k] for k in ("id", "number", "service_code", "state", "counter", "call_count")}
    out["postponed_at"] = row.get("postponed_at")
    return out


def _public(row: dict) -> dict:
    out = {k: row[k] for k in ("id", "number", "service_code", "priority", "state", "counter",
                               "call_count", "created_at", "called_at", "serving_at",
                               "finished_at", "transferred_from", "day")}
    # What the KPI facts read (m020; absent on an older store): how it was taken, who first
    # called it and when, the service's target wait when it was taken.
    for key in ("channel", "clerk", "first_called_at", "target_wait_s"):
        if key in row:
            out[key] = row[key]
    if row.get("postponed_at"):  # when it had more time (m024, Queue.postpone), if it did
        out["postponed_at"] = row["postponed_at"]
    return out
