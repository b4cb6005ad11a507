"""A counter's state: open, on break, in back-office work, or closed (docs/queue.md, "Counter
states").

A clerk signing in opens the counter; signing out closes it. In between the clerk may step
away on a break or to back-office work, each with a reason from a short list (REASONS;
"other" with a note): that time is then not idle time in the figures (core/kpis.py turns
each change's `previous` state into an interval of kpi_counter_time). A counter away or
closed calls nobody (Queue.call_next asks `check_can_call`), and a counter cannot step away
while a ticket is called or being served there: finish or park it first.

Each change is one transaction: the counter's row, one audit entry and the event
`counter.state_changed` {"counter", "clerk", "state", "reason", "note", "since", "previous":
{"state", "since", "clerk", "reason"} | null}. Asking for the state a counter is already in
(same clerk, reason and note) writes nothing. The clerk is the store's actor (the signed-in
clerk: Office.acting_as)."""
from __future__ import annotations

import re

from .errors import InvalidState, ValidationError
from .queue import _counter_name
from .text import clean_text

STATES = ("open", "break", "back_office", "closed")
AWAY = ("break", "back_office")  # the clerk is at work but not serving: never idle time
# Why a clerk steps away (the same short list for a break and back-office work); "other"
# needs a note of at most NOTE_MAX characters.
REASONS = ("prayer", "meal", "rest", "meeting", "training", "other")
NOTE_MAX = 100
# What overview() says a counter is doing ("open" is split by whether a ticket is there).
OVERVIEW_STATES = ("serving", "idle", "break", "back_office", "closed")
PAIRED_DEVICES_SCHEMA = 7  # core.migrations.m007_hub_devices
SCHEMA = 21  # core.migrations.m021_counter_states


class CounterStates:
    def __init__(self, office):
        self.office = office
        self.store = office.store

    # --- reading ---------------------------------------------------------------------------
    def get(self, counter: str) -> dict:
        """The counter's state now; a counter nobody ever signed in at is closed."""
        counter = _counter_name(counter)
        row = self.store.one("SELECT * FROM counter_states WHERE counter = ?", (counter,)) \
            if self.store.has_schema(SCHEMA) else None
        if row is None:
            return {"counter": counter, "state": "closed", "clerk": None, "reason": None,
                    "note": None, "since": None}
        return row

    def overview(self) -> list[dict]:
        """Every counter of the office (those that ever had a state, and a hub's paired
        counters), in natural order: {"counter", "clerk", "state" (OVERVIEW_STATES),
        "reason", "note", "since", "ticket" (the number called or served there, or
        None)}. serving/idle come from the queue; "since" is when the ticket was called
        for a serving counter, else when the counter's state began."""
        rows = {r["counter"]: r for r in self.store.all("SELECT * FROM counter_states")} \
            if self.store.has_schema(SCHEMA) else {}
        names = set(rows)
        if self.store.has_schema(PAIRED_DEVICES_SCHEMA):
            from .pairing import Devices
            names |= {d["name"] for d in Devices(self.office).list() if d["role"] == "counter"}
        at_counter: dict[str, dict] = {}
        for ticket in self.office.queue.list(("called", "serving")):
            if ticket["counter"]:
                at_counter.setdefault(ticket["counter"], ticket)
        out = []
        for name in sorted(names, key=_natural):
            row = rows.get(name) or {"state": "closed", "clerk": None, "reason": None,
                                     "note": None, "since": None}
            state, ticket, since = row["state"], None, row["since"]
            if state == "open":
                live = at_counter.get(name)
                state = "serving" if live else "idle"
                if live:
                    ticket, since = live["number"], live["called_at"] or since
            out.append({"counter": name,
                        "clerk": None if state == "closed" else row["clerk"],
                        "state": state, "reason": row["reason"], "note": row["note"],
                        "since": since, "ticket": ticket})
        return out

    def check_can_call(self, counter: str) -> None:
        """InvalidState when the counter is away or closed (reason counter_away /
        counter_closed); a counter with no state yet (a script's, the CLI's) may call."""
        if not self.store.has_schema(SCHEMA):
            return
        row = self.store.one("SELECT * FROM counter_states WHERE counter = ?",
                             (_counter_name(counter),))
        if row is None or row["state"] == "open":
            return
        if row["state"] in AWAY:
            raise InvalidState(f"counter {row['counter']} is on {row['state'].replace('_', '-')}"
                               f" ({row['reason']}); come back to serving first",
                               reason="counter_away", counter=row["counter"],
                               state=row["state"], away_reason=row["reason"],
                               since=row["since"])
        raise InvalidState(f"counter {row['counter']} is closed; sign in to open it",
                           reason="counter_closed", counter=row["counter"], state="closed")

    # --- changing ------------------------------------------------------------------------
    def set(self, counter: str, state: str, reason: str | None = None,
            note: str | None = None) -> dict:
        """Put the counter in `state` as the store's actor; returns the counter's state.
        Refused, changing nothing: an unknown state or reason, a reason missing for a break
        or back-office work (or given for open/closed), a note missing or too long for
        "other", stepping away from a closed counter or with a ticket called or being served
        there."""
        counter = _counter_name(counter)
        if state not in STATES:
            raise ValidationError(f"a counter's state is one of {', '.join(STATES)}, not "
                                  f"{state!r}", field="state", reason="unknown_state")
        if state in AWAY:
            if not reason:
                raise ValidationError(f"{state.replace('_', '-')} needs a reason",
                                      field="reason", reason="reason_required")
            if reason not in REASONS:
                raise ValidationError(f"the reason is one of {', '.join(REASONS)}",
                                      field="reason", reason="unknown_reason")
            # The note a clerk types for "other" (a chosen reason needs none).
            note = clean_text(note or "", "note", max_length=NOTE_MAX, min_length=1) \
                if reason == "other" else None
        elif reason is not None or note is not None:
            raise ValidationError(f"a counter {state} has no reason", field="reason",
                                  reason="no_reason_for_state")
        with self.store.atomic():
            current = self.get(counter)
            clerk = self.store.actor
            if (current["state"], current["reason"], current["note"], current["clerk"]) == \
                    (state, reason, note, clerk) or (state == current["state"] == "closed"):
                return current  # already so: nothing written
            if state in AWAY:
                if current["state"] == "closed":
                    raise InvalidState(f"counter {counter} is closed: sign in first",
                                       reason="counter_closed", counter=counter,
                                       state="closed")
                busy = [t for t in self.office.queue.at_counter(counter)
                        if t["state"] in ("called", "serving")]
                if busy:
                    raise InvalidState(f"ticket {busy[0]['number']} is {busy[0]['state']} at "
                                       f"counter {counter}: finish or park it first",
                                       reason="ticket_at_counter", counter=counter,
                                       ticket=busy[0]["number"])
            row = {"counter": counter, "state": state, "clerk": clerk, "reason": reason,
                   "note": note, "since": self.store.now()}
            self.store.conn.execute(
                "INSERT INTO counter_states (counter, state, clerk, reason, note, since) "
                "VALUES (:counter, :state, :clerk, :reason, :note, :since) "
                "ON CONFLICT(counter) DO UPDATE SET state = excluded.state, "
                "clerk = excluded.clerk, reason = excluded.reason, note = excluded.note, "
                "since = excluded.since", row)
            previous = None if current["since"] is None else {
                k: current[k] for k in ("state", "since", "clerk", "reason")}
            self.store.record("counter.state_changed", "counter", counter,
                              {**row, "previous": previous})
            return row

    def signed_in(self, counter: str) -> dict:
        """A clerk (the store's actor) signed in at the counter: it opens, unless that clerk
        already has it on a break or back-office work (unlocking the screen after a prayer
        keeps the break until "Back to serving")."""
        if not self.store.has_schema(SCHEMA):
            return self.get(counter)  # an older store (the migration tests): nothing to keep
        with self.store.atomic():
            current = self.get(counter)
            if current["state"] in AWAY and current["clerk"] == self.store.actor:
                return current
            return self.set(counter, "open")

    def signed_out(self, counter: str) -> dict:
        """The clerk (the store's actor) signed out: the counter closes, unless another
        clerk has opened it since."""
        if not self.store.has_schema(SCHEMA):
            return self.get(counter)
        with self.store.atomic():
            current = self.get(counter)
            if current["state"] != "closed" and current["clerk"] not in (None,
                                                                        self.store.actor):
                return current
            return self.set(counter, "closed")


def _natural(name: str) -> list:
    """Counter 2 before counter 10."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part)
            for part in re.split(r"(\d+)", name) if part]
