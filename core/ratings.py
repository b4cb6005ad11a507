"""Residents' ratings of a finished visit, 1 to 5 (table ticket_ratings; docs/ratings.md).

A rating belongs to a ticket, never to a person: the row and the event `ticket.rated` carry
the ticket's id, the rating, the counter and the service, nothing else, and the figures
(core/kpis.py) read it by service and by counter only. A ticket is rated once, only after it
was served (state done), and only within RATE_WITHIN_S of its finish: later, the person
tapping the counter's screen is probably not the one who was served.

`awaiting(counter)` is what a counter's rating screen asks about: the ticket that counter
finished last, while nobody has been called there since, it is within the window and it is
not rated yet."""
from __future__ import annotations

from datetime import datetime

from .errors import InvalidState, PermissionDenied, ValidationError
from .queue import FINAL

RATINGS_SCHEMA = 22  # core.migrations.m022_ticket_ratings
RATINGS = (1, 2, 3, 4, 5)
# How long after its finish a visit may be rated (a constant, not a setting: the screen's
# question and the server's refusal must agree, and no office has asked for another).
RATE_WITHIN_S = 10 * 60


class Ratings:
    def __init__(self, office):
        self.office = office
        self.store = office.store

    def rate(self, ticket: str, rating, counter: str | None = None) -> dict:
        """Rate a served ticket (its id, or today's number) 1-5, once, within RATE_WITHIN_S of
        its finish. counter: the rating screen's own counter; a ticket served elsewhere is
        refused (PermissionDenied, reason other_counter). Nothing changes on a refusal."""
        if isinstance(rating, bool) or not isinstance(rating, int) or rating not in RATINGS:
            raise ValidationError("rating must be a whole number from 1 to 5", field="rating",
                                  reason="rating_range")
        if not self.store.has_schema(RATINGS_SCHEMA):
            raise InvalidState("this store predates ratings (schema 22); upgrade it",
                               reason="no_ratings")
        with self.store.atomic():
            row = self.office.queue.ticket_row(ticket)
            if counter is not None and row["counter"] != counter:
                raise PermissionDenied(f"ticket {row['number']} was not served at counter "
                                       f"{counter}", reason="other_counter", field="ticket")
            if row["state"] != "done":
                raise InvalidState(f"ticket {row['number']} is {row['state']}; only a served "
                                   f"ticket is rated", reason="not_served", field="ticket",
                                   state=row["state"])
            if self.store.one("SELECT 1 FROM ticket_ratings WHERE ticket_id = ?", (row["id"],)):
                raise InvalidState(f"ticket {row['number']} was already rated",
                                   reason="already_rated", field="ticket")
            if self._since_finish_s(row) > RATE_WITHIN_S:
                raise InvalidState(f"ticket {row['number']} finished more than "
                                   f"{RATE_WITHIN_S // 60} minutes ago; it can no longer be "
                                   f"rated", reason="rating_closed", field="ticket")
            rated = {"ticket_id": row["id"], "rating": rating, "counter": row["counter"],
                     "service_code": row["service_code"], "rated_at": self.store.now()}
            self.store.insert("ticket_ratings", rated)
            self.store.record("ticket.rated", "ticket", row["id"], {
                "id": row["id"], "rating": rating, "counter": row["counter"],
                "service_code": row["service_code"]})
        return {"ticket": row["id"], "number": row["number"], "rating": rating,
                "counter": row["counter"], "service_code": row["service_code"],
                "rated_at": rated["rated_at"]}

    def awaiting(self, counter: str) -> dict | None:
        """The visit a counter's rating screen asks about now, or None: the ticket finished
        last at this counter when nobody is called or served there since, finished less
        than RATE_WITHIN_S ago and not rated. {"ticket", "number", "service_code",
        "finished_at", "closes_in_s"}."""
        return self.awaiting_by_counter().get(counter)

    def awaiting_by_counter(self) -> dict[str, dict]:
        """awaiting() of every counter that has a visit to ask about, in one read of
        today's tickets (the hub reads it once per queue change for all its screens)."""
        if not self.store.has_schema(RATINGS_SCHEMA):
            return {}
        queue = self.office.queue
        # The next resident is at the counter: the last one's visit is no longer asked.
        busy = {t["counter"] for t in queue.list(("called", "serving"))}
        last: dict[str, dict] = {}
        for t in queue.list(FINAL):
            c = t["counter"]
            if c and t["finished_at"] and c not in busy and \
                    (c not in last or (t["finished_at"], t["id"]) > (last[c]["finished_at"],
                                                                    last[c]["id"])):
                last[c] = t
        # A no-show or a cancellation after the finish: nothing to ask.
        asked = {c: t for c, t in last.items() if t["state"] == "done" and
                 self._since_finish_s(t) < RATE_WITHIN_S}
        if asked:
            marks = ",".join("?" for _ in asked)
            rated = {r["ticket_id"] for r in self.store.all(
                f"SELECT ticket_id FROM ticket_ratings WHERE ticket_id IN ({marks})",
                [t["id"] for t in asked.values()])}
            asked = {c: t for c, t in asked.items() if t["id"] not in rated}
        return {c: {"ticket": t["id"], "number": t["number"],
                    "service_code": t["service_code"], "finished_at": t["finished_at"],
                    "closes_in_s": int(RATE_WITHIN_S - self._since_finish_s(t))}
                for c, t in asked.items()}

    def of_ticket(self, ticket_id: str) -> dict | None:
        """The rating of a ticket (by id), or None."""
        if not self.store.has_schema(RATINGS_SCHEMA):
            return None
        return self.store.one("SELECT * FROM ticket_ratings WHERE ticket_id = ?", (ticket_id,))

    def _since_finish_s(self, row: dict) -> float:
        """Seconds since the ticket finished."""
        return (self.store.clock.now() - datetime.fromisoformat(row["finished_at"])
                ).total_seconds()
