"""A service's daily ticket cap and cut-off time (docs/queue.md, "Daily cap and cut-off").

The catalogue's `queue = { daily_cap = 150, cutoff = "13:30" }` (core/catalog.py QueueRules):
- cut-off: a ticket is taken while the office's local time is before HH:MM; from HH:MM:00 on
  it is refused (reason service_closed_today) until local midnight.
- cap: at most `daily_cap` tickets a local day. Every ticket taken for the service that day
  counts, whatever became of it (cancelled and no-show included: the cap is how many visits
  the service takes on, and a cancelled number was still handed out); a ticket transferred
  in from another service counts where it was taken, not here. The next one is refused
  (reason service_full_today).
The count is read inside take_ticket's transaction (under the store's write lock), so two
kiosks cannot both take the last ticket."""
from __future__ import annotations

from datetime import datetime

from .errors import InvalidState

OPEN, FULL, CLOSED = "open", "full", "closed"


def availability(office, service, now: datetime | None = None) -> dict:
    """{"service", "state": open | full | closed, "daily_cap", "taken", "cutoff"} of one
    service (a core.catalog.Service) at `now` (default: the store's clock)."""
    now = now or office.store.clock.now()
    rules = service.queue
    out = {"service": service.code, "state": OPEN, "daily_cap": rules.daily_cap,
           "taken": None, "cutoff": rules.cutoff}
    if rules.cutoff is not None and \
            now.astimezone(office.settings.tz).strftime("%H:%M") >= rules.cutoff:
        out["state"] = CLOSED
    if rules.daily_cap is not None:
        out["taken"] = office.queue.taken_on(office.queue.today(now), service.prefix)
        if out["state"] == OPEN and out["taken"] >= rules.daily_cap:
            out["state"] = FULL
    return out


def offered_today(office, now: datetime | None = None) -> list[dict]:
    """availability() of every service the office offers, in catalogue order."""
    now = now or office.store.clock.now()
    return [availability(office, s, now)
            for s in office.catalog.offered_at(office.settings.office.code)]


def check(office, service, now: datetime) -> None:
    """Refuse a ticket past the cut-off or the cap with InvalidState (reason
    service_closed_today / service_full_today, the service's code, cutoff or daily_cap)."""
    rules = service.queue
    if rules.daily_cap is None and rules.cutoff is None:
        return
    state = availability(office, service, now)
    if state["state"] == CLOSED:
        raise InvalidState(f"tickets for {service.code} are taken until {rules.cutoff} "
                           f"local time", reason="service_closed_today",
                           service=service.code, cutoff=rules.cutoff)
    if state["state"] == FULL:
        raise InvalidState(f"all {rules.daily_cap} tickets of today for {service.code} are "
                           f"taken", reason="service_full_today", service=service.code,
                           daily_cap=rules.daily_cap)
