"""A generated month of one office with known answers (docs/kpis.md, issue 24).

`generate_month(data_dir, tz, year, month, seed)` runs a month of a centre through the REAL
core operations with a frozen clock: tickets taken on every channel (kiosk, counter,
appointment), calls, recalls, no-shows, cancellations, transfers, parked tickets, tickets
left waiting at midnight, a ticket taken at 23:59 and served after midnight, counters opened,
on a break, in back-office work and closed, ratings, applications approved, rejected and
withdrawn, licences issued, reprinted and revoked, payments in cash, by card at the counter
and at the kiosk, some voided. Deterministic from the seed.

It returns (office, expected): `expected` is the month's report as core.kpis.report gives it
(without "generated_at"), computed here in plain Python from what the generator did and saw
(its own log of times), never from the store; `expected.for_period(period, today=...,
services=...)` gives any other period's. Tests of the CLI, the hub's pages and the console
compare their figures with it."""
from __future__ import annotations

import heapq
import itertools
import math
import random
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from core.catalog import DEFAULT_CATALOG_DIR, load_catalog
from core.clock import FrozenClock, UlidFactory
from core.credentials import ceremony, keys
from core.office import Office
from core.settings import load_settings
from core.text import with_check_digit

R, A, B = "residence-certificate", "address-form", "building-permit-small"
NIGHT = "drawings-amendment-permit"  # only the ticket taken at 23:59 (no counter serves it)
LEFT = "excavation-permit"  # taken, never served: left unserved once its day is over
A_TARGET_MINUTES = 10  # the address form's target wait (the others keep the default 15)
CLERKS = ("sara", "ali", "mona")
SUPERVISOR, SUPERVISOR_PIN = "huda", "987654"
KIOSK = "kiosk"  # the kiosk's account (settings.kiosk.account): its tickets, its card shift
COUNTERS = {"1": (R, A), "2": (R, A, B), "3": (B,)}
OPEN_AT, CLOSE_AT, LAST_TICKET_AT = time(7, 30), time(14, 0), time(13, 30)
SAMPLE = {"text": "Sample text", "phone": "33334444", "block": "204", "road": "15",
          "building": "1203A", "area_m2": "45", "money": "12.500"}
SAMPLE_KEYS = {"full_name": "Fatima Ali Hasan", "parcel": "02-1234"}


@dataclass
class Visit:
    """One ticket as the generator saw it (times are aware UTC datetimes)."""
    id: str
    service: str
    channel: str
    priority: str | None
    taken: datetime
    target_s: int
    state: str = "waiting"
    counter: str | None = None
    clerk: str | None = None
    first_call: datetime | None = None
    last_call: datetime | None = None
    serve_start: datetime | None = None
    finished: datetime | None = None
    rating: int | None = None


@dataclass
class Application:
    id: str
    service: str
    submitted: datetime
    state: str = "submitted"
    decided: datetime | None = None  # by a person (approve / reject)
    fee_minor: int = 0


@dataclass
class Licence:
    id: str
    service: str
    issued: datetime
    reprints: int = 0
    revoked: datetime | None = None


@dataclass
class Payment:
    id: str
    service: str
    method: str
    channel: str
    taken: datetime
    amount_minor: int
    currency: str
    voided: bool = False


@dataclass
class Interval:
    """A counter's state between two changes (open, break, back_office)."""
    counter: str
    clerk: str
    state: str
    start: datetime
    seconds: int


@dataclass
class Log:
    office: str
    tz: ZoneInfo
    visits: dict[str, Visit] = field(default_factory=dict)
    applications: dict[str, Application] = field(default_factory=dict)
    licences: dict[str, Licence] = field(default_factory=dict)
    payments: dict[str, Payment] = field(default_factory=dict)
    intervals: list[Interval] = field(default_factory=list)


class Expected(dict):
    """The month's report as kpis.report gives it (no generated_at), and any other period's."""

    def __init__(self, log: Log, period, today: date):
        self.log = log
        super().__init__(expected_report(log, period, today))

    def for_period(self, period, today: date, services=None) -> dict:
        return expected_report(self.log, period, today, services)


# --- the generator ----------------------------------------------------------------------------
def generate_month(data_dir: str | Path, tz: str = "Asia/Bahrain", year: int = 2026,
                   month: int = 11, seed: int = 24, tickets_per_day: tuple[int, int] = (20, 32),
                   root_key=None, device: str = "D01") -> tuple[Office, Expected]:
    """Run one month of an office in `data_dir` (a new directory) and return the open Office
    and the expected figures (today = the day after the month: every live ticket has left)."""
    from core import kpis
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    _write_settings(data_dir, tz, device)
    settings = load_settings(data_dir, environ={})
    zone = ZoneInfo(tz)
    first = date(year, month, 1)
    start = datetime.combine(first, time(0, 0), zone).astimezone(timezone.utc)
    clock = FrozenClock(start - timedelta(days=1))
    root_key = root_key or keys.generate()
    types = [s.licence_type for s in load_catalog(settings.catalog_dir)]
    ceremony.setup_device(settings.data_dir, root_key, settings.device.id, settings.office.code,
                          types, int(clock.now().timestamp()))
    office = Office.open(settings, clock=clock, ids=UlidFactory(clock, random.Random(seed)))
    # A generated month commits thousands of times: no fsync for each (a test's store).
    office.store.conn.execute("PRAGMA synchronous = OFF")
    log = Log(settings.office.code, zone)
    _Month(office, clock, log, random.Random(seed), year, month, tickets_per_day).run()
    period = kpis.Period.month(year, month)
    return office, Expected(log, period, period.end + timedelta(days=1))


def _write_settings(data_dir: Path, tz: str, device: str = "D01") -> None:
    """The office's time zone, the device's id, and a catalogue where one service has its own
    target wait."""
    catalog = data_dir / "catalog"
    if catalog.exists():
        shutil.rmtree(catalog)
    shutil.copytree(DEFAULT_CATALOG_DIR, catalog)
    form = next(catalog.glob("*address-form.toml"))
    text = form.read_text("utf-8")
    fee = next(line for line in text.splitlines() if line.startswith("fee ="))
    form.write_text(text.replace(fee, f"{fee}\nqueue = {{ target_wait_minutes = "
                                      f"{A_TARGET_MINUTES} }}", 1), "utf-8")
    (data_dir / "nafitha.toml").write_text(
        f'catalog_dir = "catalog"\n\n[device]\nid = "{device}"\n\n[office]\ntimezone = "{tz}"\n',
        "utf-8")


class _Month:
    def __init__(self, office: Office, clock: FrozenClock, log: Log, rng: random.Random,
                 year: int, month: int, per_day: tuple[int, int]):
        self.office, self.clock, self.log, self.rng = office, clock, log, rng
        self.year, self.month, self.per_day = year, month, per_day
        self.queue = office.queue
        self.heap: list = []
        self.seq = itertools.count()
        self.nid = itertools.count()
        self.counter_state: dict[str, dict] = {}  # counter -> {state, clerk, since}
        self.targets = {s.code: s.queue.target_wait_minutes * 60 for s in office.catalog}

    # the timeline: every action at its moment, in order -----------------------------------
    def at(self, when: datetime, action, *args) -> None:
        heapq.heappush(self.heap, (when, next(self.seq), action, args))

    def run(self) -> None:
        office = self.office
        for clerk in CLERKS:
            office.users.create(clerk, "clerk", "1234")
        office.users.create(SUPERVISOR, "supervisor", SUPERVISOR_PIN)
        for clerk in CLERKS:
            office.payments.open_shift(clerk, 0)
        days = [date(self.year, self.month, d) for d in
                range(1, _days_in(self.year, self.month) + 1)]
        for day in days:
            self._plan_day(day, days)
        while self.heap:
            when, _n, action, args = heapq.heappop(self.heap)
            if when > self.clock.now():
                self.clock.set(when)
            action(*args)

    def local(self, day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute, second), self.log.tz
                                ).astimezone(timezone.utc)

    def _plan_day(self, day: date, days: list[date]) -> None:
        rng = self.rng
        friday = day.weekday() == 4
        clerks = list(CLERKS)
        rng.shuffle(clerks)  # a clerk is not always at the same counter
        opening = self.local(day, OPEN_AT.hour, OPEN_AT.minute)
        closing = self.local(day, CLOSE_AT.hour, CLOSE_AT.minute)
        for n, counter in enumerate(COUNTERS):
            self.at(opening + timedelta(seconds=n), self.sign_in, counter, clerks[n], closing,
                    day)
        count = rng.randint(*self.per_day) // (3 if friday else 1)
        span = int((self.local(day, LAST_TICKET_AT.hour, LAST_TICKET_AT.minute)
                    - opening).total_seconds())
        for _ in range(count):
            # A morning rush (queues build up, waits pass the target), then a trickle.
            rush = rng.random() < 0.6
            when = opening + timedelta(seconds=rng.randrange(3600 if rush else span))
            service = rng.choices((R, A, B), (5, 3, 2))[0]
            channel = rng.choices(("kiosk", "counter", "appointment"), (7, 2, 1))[0]
            priority = "elderly" if rng.random() < 0.1 else None
            self.at(when, self.take, service, channel, priority,
                    rng.random() < 0.05)  # some cancel while waiting
        if day.day % 7 == 3:  # a ticket for a service nobody serves: left unserved
            self.at(self.local(day, 9, 15), self.take, LEFT, "kiosk", None, False)
        if day.day == 10 and day != days[-1]:  # taken at 23:59, served after midnight
            self.at(self.local(day, 23, 59), self.take, NIGHT, "kiosk", None, False)
            self.at(self.local(day + timedelta(days=1), 0, 3), self.night_call)

    # tickets ------------------------------------------------------------------------------
    def take(self, service: str, channel: str, priority: str | None, cancels: bool) -> None:
        actor = KIOSK if channel == "kiosk" else CLERKS[0]
        with self.office.acting_as(actor):
            t = self.queue.take_ticket(service, priority, channel=channel)
        now = self.clock.now()
        self.log.visits[t["id"]] = Visit(t["id"], service, channel, priority, now,
                                         self.targets[service])
        if cancels:
            self.at(now + timedelta(seconds=self.rng.randint(120, 900)), self.cancel, t["id"])

    def cancel(self, ticket: str) -> None:
        visit = self.log.visits[ticket]
        if visit.state != "waiting":
            return
        with self.office.acting_as(KIOSK):
            self.queue.cancel(ticket)
        visit.state, visit.finished = "cancelled", self.clock.now()

    def called(self, ticket: dict, counter: str, clerk: str) -> Visit:
        visit = self.log.visits[ticket["id"]]
        now = self.clock.now()
        visit.state, visit.counter, visit.last_call = "called", counter, now
        if visit.first_call is None:
            visit.first_call, visit.clerk = now, clerk
        return visit

    def night_call(self) -> None:
        with self.office.acting_as(CLERKS[1]):
            t = self.queue.call_next("N", [NIGHT])
        visit = self.called(t, "N", CLERKS[1])
        self.at(self.clock.now() + timedelta(seconds=60), self.serve, visit.id)
        self.at(self.clock.now() + timedelta(seconds=420), self.finish, visit.id, None)

    # counters -----------------------------------------------------------------------------
    def set_state(self, counter: str, clerk: str, state: str, reason: str | None = None) -> None:
        now = self.clock.now()
        with self.office.acting_as(clerk):
            if state == "open" and self.counter_state.get(counter, {}).get("state") in (
                    None, "closed"):
                self.office.counter_states.signed_in(counter)
            elif state == "closed":
                self.office.counter_states.signed_out(counter)
            else:
                self.office.counter_states.set(counter, state, reason)
        before = self.counter_state.get(counter)
        if before and before["state"] != "closed":
            self.log.intervals.append(Interval(counter, before["clerk"], before["state"],
                                               before["since"],
                                               int((now - before["since"]).total_seconds())))
        self.counter_state[counter] = {"state": state, "clerk": clerk, "since": now}

    def sign_in(self, counter: str, clerk: str, closing: datetime, day: date) -> None:
        self.set_state(counter, clerk, "open")
        plan = {"break": None, "back_office": None}
        if counter == "2":
            plan["break"] = (self.local(day, 10, 0), "prayer", 20 * 60)
        if counter == "3" and day.day % 2 == 0:
            plan["back_office"] = (self.local(day, 11, 0), "meeting", 15 * 60)
        self.at(self.clock.now(), self.step, counter, clerk, closing, plan)

    def step(self, counter: str, clerk: str, closing: datetime, plan: dict) -> None:
        now = self.clock.now()
        if now >= closing:
            self.set_state(counter, clerk, "closed")
            return
        for state in ("break", "back_office"):
            if plan[state] and now >= plan[state][0]:
                _, reason, seconds = plan[state]
                plan[state] = None
                self.set_state(counter, clerk, state, reason)
                self.at(now + timedelta(seconds=seconds), self.back, counter, clerk, closing,
                        plan)
                return
        with self.office.acting_as(clerk):
            t = self.queue.call_next(counter, list(COUNTERS[counter]))
        if t is None:
            self.at(now + timedelta(seconds=120), self.step, counter, clerk, closing, plan)
            return
        visit = self.called(t, counter, clerk)
        free = self.fate(visit, counter, clerk)
        self.at(free, self.step, counter, clerk, closing, plan)

    def back(self, counter, clerk, closing, plan) -> None:
        self.set_state(counter, clerk, "open")
        self.step(counter, clerk, closing, plan)

    def fate(self, visit: Visit, counter: str, clerk: str) -> datetime:
        """What happens to a called ticket; returns when the counter is free again."""
        rng, now = self.rng, self.clock.now()
        roll = rng.random()
        if roll < 0.04:  # recalled until the call limit: a no-show
            for k in (1, 2, 3):
                self.at(now + timedelta(seconds=60 * k), self.recall, visit.id, clerk)
            return now + timedelta(seconds=200)
        if roll < 0.08:
            self.at(now + timedelta(seconds=90), self.no_show, visit.id, clerk)
            return now + timedelta(seconds=100)
        if roll < 0.13 and visit.service in (R, A):  # sent to another service's queue
            self.at(now + timedelta(seconds=30), self.serve, visit.id, clerk)
            self.at(now + timedelta(seconds=90), self.transfer, visit.id,
                    B if visit.service == R else R, clerk)
            return now + timedelta(seconds=100)
        if roll < 0.16:  # parked while the resident fetches a document, resumed at "P"
            self.at(now + timedelta(seconds=30), self.serve, visit.id, clerk)
            self.at(now + timedelta(seconds=60), self.park, visit.id, clerk)
            self.at(now + timedelta(seconds=600), self.resume, visit.id, clerk)
            self.at(now + timedelta(seconds=600 + rng.randint(60, 400)), self.finish,
                    visit.id, clerk)
            return now + timedelta(seconds=70)
        duration = rng.randint(120, 900)
        if roll < 0.26:  # finished straight from called
            self.at(now + timedelta(seconds=duration), self.finish, visit.id, clerk)
        else:
            self.at(now + timedelta(seconds=40), self.serve, visit.id, clerk)
            self.at(now + timedelta(seconds=40 + duration), self.finish, visit.id, clerk)
        return now + timedelta(seconds=duration + 60)

    def recall(self, ticket: str, clerk: str) -> None:
        visit = self.log.visits[ticket]
        with self.office.acting_as(clerk):
            t = self.queue.recall(ticket)
        if t["state"] == "no_show":
            visit.state, visit.finished = "no_show", self.clock.now()
        else:
            visit.last_call = self.clock.now()

    def no_show(self, ticket: str, clerk: str) -> None:
        with self.office.acting_as(clerk):
            self.queue.no_show(ticket)
        visit = self.log.visits[ticket]
        visit.state, visit.finished = "no_show", self.clock.now()

    def serve(self, ticket: str, clerk: str | None = None) -> None:
        with self.office.acting_as(clerk or CLERKS[1]):
            self.queue.start_serving(ticket)
        visit = self.log.visits[ticket]
        visit.state = "serving"
        if visit.serve_start is None:
            visit.serve_start = self.clock.now()

    def transfer(self, ticket: str, service: str, clerk: str) -> None:
        with self.office.acting_as(clerk):
            self.queue.transfer(ticket, service)
        visit = self.log.visits[ticket]
        # Back in a queue: its counter, call and serving start are cleared; the first call
        # and its clerk stay (the wait is taken -> first call).
        visit.service, visit.state, visit.counter = service, "waiting", None
        visit.last_call = visit.serve_start = None

    def park(self, ticket: str, clerk: str) -> None:
        with self.office.acting_as(clerk):
            self.queue.park(ticket)
        self.log.visits[ticket].state = "parked"

    def resume(self, ticket: str, clerk: str) -> None:
        with self.office.acting_as(clerk):
            self.queue.resume(ticket, "P")
        visit = self.log.visits[ticket]
        visit.state, visit.counter = "serving", "P"
        if visit.serve_start is None:
            visit.serve_start = self.clock.now()

    def finish(self, ticket: str, clerk: str | None) -> None:
        clerk = clerk or CLERKS[1]
        with self.office.acting_as(clerk):
            self.queue.finish(ticket)
        visit = self.log.visits[ticket]
        now = self.clock.now()
        if visit.serve_start is None:  # finished from called: served since the last call
            visit.serve_start = visit.last_call
        visit.state, visit.finished = "done", now
        if self.rng.random() < 0.3:
            visit.rating = self.rng.choice((5, 5, 4, 4, 3, 2, 1))
            self.office.ratings.rate(ticket, visit.rating)
        if visit.service in (R, A, B) and self.rng.random() < 0.25:
            self.submit(visit, clerk)

    # applications, payments, licences -----------------------------------------------------
    def submit(self, visit: Visit, clerk: str) -> None:
        with self.office.acting_as(clerk):
            app = self.office.applications.submit(visit.service, self._fields(visit.service),
                                                  ticket=visit.id)
        now = self.clock.now()
        record = Application(app["id"], visit.service, now, fee_minor=app["fee_minor"])
        self.log.applications[app["id"]] = record
        if visit.service == R:  # instant: paid now, which approves it, then issued
            self.at(now + timedelta(seconds=60), self.pay, record.id, clerk)
        else:  # reviewed over the next days
            later = now + timedelta(days=self.rng.randint(0, 3), hours=self.rng.randint(1, 5),
                                    seconds=self.rng.randint(0, 3599))
            self.at(later, self.decide, record.id)

    def _fields(self, service: str) -> dict:
        svc = self.office.catalog.get(service)
        rule = self.office.settings.validation.national_id_check
        values = {}
        for f in svc.fields:
            if f.key in SAMPLE_KEYS:
                values[f.key] = SAMPLE_KEYS[f.key]
            elif f.type == "national_id":
                values[f.key] = with_check_digit(f"{85010000 + next(self.nid) % 9999:08d}",
                                                 rule)
            elif f.type == "choice":
                values[f.key] = f.options[0].value
            else:
                values[f.key] = SAMPLE[f.type]
        return values

    def decide(self, app_id: str) -> None:
        record = self.log.applications[app_id]
        roll = self.rng.random()
        with self.office.acting_as(SUPERVISOR):
            if roll < 0.65:
                self.office.applications.approve(app_id)
                record.state, record.decided = "approved", self.clock.now()
            elif roll < 0.85:
                self.office.applications.reject(app_id, "incomplete drawings")
                record.state, record.decided = "rejected", self.clock.now()
            else:
                self.office.applications.withdraw(app_id, "the resident asked")
                record.state = "withdrawn"
        if record.state == "approved" and self.rng.random() < 0.6:
            self.at(self.clock.now() + timedelta(seconds=300), self.pay, app_id, CLERKS[2])

    def pay(self, app_id: str, clerk: str) -> None:
        record = self.log.applications[app_id]
        roll = self.rng.random()
        payments = self.office.payments
        if roll < 0.2:  # at the kiosk, by card: the kiosk's own shift
            ref = f"T0000001-{next(self.nid) % 1000000:06d}-A1B2C3"
            with self.office.acting_as(KIOSK):
                paid = payments.record_card_approval(app_id, ref, KIOSK)
            method, channel = "card", "kiosk"
        elif roll < 0.45:
            paid = payments.take(app_id, "card", clerk, reference=f"C{next(self.nid):06d}")
            method, channel = "card", "counter"
        else:
            paid = payments.take(app_id, "cash", clerk, tendered_minor=record.fee_minor + 500)
            method, channel = "cash", "counter"
        now = self.clock.now()
        self.log.payments[paid["id"]] = Payment(paid["id"], record.service, method, channel,
                                                now, paid["amount_minor"], paid["currency"])
        record.state = "approved"  # instant: paying approves; reviewed: it stays approved
        if self.rng.random() < 0.08:
            self.at(now + timedelta(seconds=45), self.void, paid["id"], app_id)
        else:
            self.at(now + timedelta(seconds=90), self.issue, app_id)

    def void(self, payment_id: str, app_id: str) -> None:
        self.office.payments.void(payment_id, SUPERVISOR, SUPERVISOR_PIN, "wrong amount")
        self.log.payments[payment_id].voided = True
        record = self.log.applications[app_id]
        # An approval by review stands; an instant service's automatic one is undone.
        record.state = "approved" if record.decided else "submitted"

    def issue(self, app_id: str) -> None:
        lic = self.office.licences.issue(app_id)
        record = self.log.applications[app_id]
        record.state = "issued"
        now = self.clock.now()
        self.log.licences[lic["id"]] = Licence(lic["id"], record.service, now)
        roll = self.rng.random()
        if roll < 0.15:
            self.at(now + timedelta(seconds=120), self.reprint, lic["id"])
        if roll < 0.04 or 0.9 < roll < 0.93:
            self.at(now + timedelta(days=1, seconds=300), self.revoke, lic["id"])

    def reprint(self, licence_id: str) -> None:
        self.office.licences.record_reprint(licence_id, "paper jam")
        self.log.licences[licence_id].reprints += 1

    def revoke(self, licence_id: str) -> None:
        with self.office.acting_as(SUPERVISOR):
            self.office.licences.revoke(licence_id, "issued in error")
        self.log.licences[licence_id].revoked = self.clock.now()


def _days_in(year: int, month: int) -> int:
    return ((date(year + month // 12, month % 12 + 1, 1)) - date(year, month, 1)).days


# --- the expected figures: plain Python over the log (docs/kpis.md's definitions) -------------
def expected_report(log: Log, period, today: date, services=None) -> dict:
    """The report of `period` as docs/kpis.md defines it, from the generator's log."""
    tz = log.tz
    first, last, today_text = period.first, period.last, today.isoformat()

    def day_of(moment: datetime | None) -> str | None:
        return moment.astimezone(tz).date().isoformat() if moment else None

    def in_period(moment) -> bool:
        day = day_of(moment)
        return day is not None and first <= day <= last

    def wanted(service: str) -> bool:
        return services is None or service in services

    visits = [v for v in log.visits.values() if in_period(v.taken) and wanted(v.service)]
    dims = {"by_service": lambda v: v.service, "by_counter": lambda v: v.counter,
            "by_clerk": lambda v: v.clerk, "by_hour": lambda v: v.taken.astimezone(tz).hour,
            "by_day": lambda v: day_of(v.taken), "by_office": lambda v: log.office,
            "by_channel": lambda v: v.channel}
    out_visits = {"total": _visit_measures(visits, today_text, tz)}
    for name, key_of in dims.items():
        groups: dict = {}
        for v in visits:
            groups.setdefault(key_of(v), []).append(v)
        if name == "by_hour":
            for hour in range(24):
                groups.setdefault(hour, [])
        if name == "by_day":
            for n in range(period.days):
                groups.setdefault((period.start + timedelta(days=n)).isoformat(), [])
        out_visits[name] = [{"key": key, **_visit_measures(groups[key], today_text, tz)}
                            for key in sorted(groups, key=lambda k: (k is None, k or "")
                                              if not isinstance(k, int) else (False, k))]

    apps = [a for a in log.applications.values() if in_period(a.submitted)
            and wanted(a.service)]

    def app_measures(rows):
        return {"submitted": len(rows),
                "approved": sum(a.state in ("approved", "issued") for a in rows),
                "rejected": sum(a.state == "rejected" for a in rows),
                "withdrawn": sum(a.state == "withdrawn" for a in rows),
                "pending": sum(a.state in ("submitted", "paid") for a in rows),
                "decision_s": _stats([_seconds(a.submitted, a.decided) for a in rows
                                      if a.decided is not None])}

    by_service_apps: dict = {}
    for a in apps:
        by_service_apps.setdefault(a.service, []).append(a)
    applications = {**app_measures(apps),
                    "by_service": [{"key": k, **app_measures(by_service_apps[k])}
                                   for k in sorted(by_service_apps)]}

    lic_rows: dict = {}
    for lic in log.licences.values():
        if not wanted(lic.service):
            continue
        issued, revoked = in_period(lic.issued), in_period(lic.revoked)
        if not (issued or revoked):
            continue
        row = lic_rows.setdefault(lic.service, {"key": lic.service, "issued": 0,
                                                "reprinted": 0, "revoked": 0})
        if issued:
            row["issued"] += 1
            row["reprinted"] += lic.reprints
        if revoked:
            row["revoked"] += 1
    lic_list = [lic_rows[k] for k in sorted(lic_rows)]
    licences = {k: sum(r[k] for r in lic_list) for k in ("issued", "reprinted", "revoked")}
    licences["by_service"] = lic_list

    pays = [p for p in log.payments.values() if in_period(p.taken) and not p.voided
            and wanted(p.service)]
    revenue = {"currency": pays[0].currency if pays else None,
               "total_minor": sum(p.amount_minor for p in pays), "other_currencies": []}
    for name, key_of in (("by_service", lambda p: p.service), ("by_method", lambda p: p.method),
                         ("by_channel", lambda p: p.channel)):
        groups = {}
        for p in pays:
            groups.setdefault(key_of(p), []).append(p)
        revenue[name] = [{"key": k, "amount_minor": sum(p.amount_minor for p in groups[k]),
                          "count": len(groups[k])} for k in sorted(groups)]

    clerks: dict = {}

    def clerk_row(name):
        return clerks.setdefault(name, {"key": name, "open_s": 0, "serving_s": 0,
                                        "break_s": 0, "back_office_s": 0, "idle_s": 0})

    for interval in log.intervals:  # counter time: not by service
        if in_period(interval.start):
            clerk_row(interval.clerk)[f"{interval.state}_s"] += interval.seconds
    for v in visits:
        if v.state == "done" and v.clerk is not None:
            clerk_row(v.clerk)["serving_s"] += _seconds(v.serve_start, v.finished)
    for row in clerks.values():
        row["idle_s"] = max(0, row["open_s"] - row["serving_s"])

    offices = sorted({log.office} if visits else set())
    return {"period": period.as_dict(), "offices": offices, "visits": out_visits,
            "applications": applications, "licences": licences, "revenue": revenue,
            "staff_time": {"by_clerk": [clerks[k] for k in sorted(clerks)]}}


def _seconds(start: datetime, end: datetime) -> int:
    return math.floor((end - start).total_seconds())


def _visit_measures(visits: list[Visit], today: str, tz: ZoneInfo) -> dict:
    live = ("waiting", "called", "serving", "parked")
    waits = [_seconds(v.taken, v.first_call) for v in visits if v.first_call is not None]
    with_target = [v for v in visits if v.first_call is not None]
    services = [_seconds(v.serve_start, v.finished) for v in visits if v.state == "done"]
    ratings = [v.rating for v in visits if v.rating is not None]
    local_day = (lambda v: v.taken.astimezone(tz).date().isoformat())
    return {
        "tickets": len(visits),
        "served": sum(v.state == "done" for v in visits),
        "no_show": sum(v.state == "no_show" for v in visits),
        "cancelled": sum(v.state == "cancelled" for v in visits),
        "left": sum(v.state in live and local_day(v) < today for v in visits),
        "open": sum(v.state in live and local_day(v) >= today for v in visits),
        "wait_s": _stats(waits),
        "service_s": _stats(services),
        "within_target": round(sum(_seconds(v.taken, v.first_call) <= v.target_s
                                   for v in with_target) / len(with_target), 4)
        if with_target else None,
        "rating": {"mean": float((Decimal(sum(ratings)) / len(ratings)).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP)) if ratings else None, "n": len(ratings)},
    }


def _stats(values: list[int]) -> dict:
    """n, mean (0.1 s, half up), median and p90 by nearest rank: the value at rank
    ceil(p x n) of the sorted values."""
    if not values:
        return {"n": 0, "mean": None, "median": None, "p90": None}
    ordered = sorted(values)
    n = len(ordered)
    mean = (Decimal(sum(ordered)) / n).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return {"n": n, "mean": float(mean), "median": ordered[-(-n * 5 // 10) - 1],
            "p90": ordered[-(-n * 9 // 10) - 1]}
