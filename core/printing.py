"""The durable print queue (docs/printing.md).

A document to print is a row here before anything reaches the printer, written in the same
transaction as what it prints when the caller asks for that (issue + print), so a power cut
or a missing printer never loses it. A worker per printer takes jobs in order. Tickets expire
(the resident has gone); receipts, application slips and licences wait as long as it takes.

Jobs are the device's own bookkeeping: they are not audited or sent to central. A reprint of
a licence is, through Licences.record_reprint, and so is each answer to "did the licence
come out?" (print.answered).

A licence has one original on paper. Its job left `printing` by a process that died is not
sent again by itself: it may have come out. It becomes `uncertain` and the person at that
printer is asked (`answer`): yes, it is done; no, the original prints; unsure, it is
`unknown` and the licence gets no other original (a reprint is a counted COPY)."""
from __future__ import annotations

from datetime import timedelta

from .clock import iso
from .errors import InvalidState, NotFound, ValidationError
from .text import LANGUAGES

KINDS = ("ticket", "receipt", "licence", "application", "z_report", "test")
# An application slip is for an application someone can still follow (not a draft, not
# rejected or withdrawn).
SLIP_STATES = ("submitted", "paid", "approved", "issued")
STATES = ("pending", "printing", "done", "failed", "expired", "uncertain", "unknown")
# What the person at the printer says of a licence that may have come out before a stop.
ANSWERS = ("yes", "no", "unsure")
# A licence's original once one of these: it came out, or it may have (nobody could say).
MAY_HAVE_PRINTED = ("done", "uncertain", "unknown")
UNCERTAIN_SCHEMA = 16  # m016: the states uncertain and unknown


class PrintQueue:
    def __init__(self, office):
        self.office = office
        self.store = office.store
        self.settings = office.settings

    def enqueue(self, kind: str, ref_id: str, lang: str | None = None, copy: bool = False,
                printer: str = "main") -> dict:
        if kind not in KINDS:
            raise ValidationError(f"kind must be one of {', '.join(KINDS)}", field="kind")
        if kind == "licence" and copy:
            # A licence's COPY is counted and audited on the licence: reprint_licence.
            raise InvalidState("a copy of a licence is counted and audited: reprint it with a "
                               "reason", reason="reprint_needed")
        return self._queue(kind, ref_id, lang, copy, printer)

    def _queue(self, kind: str, ref_id: str, lang: str | None, copy: bool,
               printer: str) -> dict:
        lang = lang or self.settings.printer.language
        if lang not in LANGUAGES:
            raise ValidationError("lang must be ar or en", field="lang")
        ref_id = self.resolve(kind, ref_id)
        with self.store.atomic():
            if kind == "licence" and not copy:
                original = self._licence_original(ref_id)
                if original is not None:
                    return original  # waiting already: it prints once, not twice
            now = self.store.clock.now()
            expires = now + timedelta(minutes=self.settings.printer.ticket_expiry_minutes) \
                if kind == "ticket" else None
            row = {"id": self.store.ids.new(), "seq": self.store.next_sequence("print_job"),
                   "printer": printer, "kind": kind, "ref_id": ref_id, "lang": lang,
                   "copy": int(copy), "state": "pending", "attempts": 0, "last_error": None,
                   "created_at": iso(now), "expires_at": iso(expires) if expires else None,
                   "printed_at": None, "bytes": None}
            self.store.insert("print_jobs", row)
            return row

    def _licence_original(self, licence_id: str) -> dict | None:
        """A licence has one original on paper: its original job still waiting (returned),
        or InvalidState once it has printed or may have (another print is a counted,
        audited COPY; an uncertain one is answered first)."""
        row = self.store.one("SELECT * FROM print_jobs WHERE kind = 'licence' AND ref_id = ? "
                             "AND copy = 0 AND state IN ('pending', 'printing', 'done', "
                             "'uncertain', 'unknown') ORDER BY seq LIMIT 1", (licence_id,))
        if row is None or row["state"] not in MAY_HAVE_PRINTED:
            return row
        number = self.office.licences.get(licence_id)["number"]
        if row["state"] == "uncertain":
            raise InvalidState(f"licence {number} may have come out of printer "
                               f"{row['printer']} before a stop (job {row['seq']}): ask the "
                               f"person at that printer whether it came out, and answer "
                               f"(nafitha print answer {row['seq']} --came-out yes|no)",
                               reason="print_uncertain", job=row["id"])
        when = f", {row['printed_at'][:16]}" if row["printed_at"] else \
            ", nobody could say whether it came out"
        raise InvalidState(f"licence {number} was printed as the original (job {row['seq']}"
                           f"{when}); another print is a counted COPY: reprint it with a "
                           f"reason", reason="original_printed", job=row["id"])

    def resolve(self, kind: str, ref: str) -> str:
        """Accept ids or the numbers people read (R007, receipt, application, licence, shift
        numbers)."""
        o = self.office
        if kind == "ticket":
            return o.queue.ticket_row(ref)["id"]
        if kind == "receipt":
            return o.payments.get(ref)["id"]
        if kind == "licence":
            return o.licences.get(ref)["id"]
        if kind == "application":
            app = o.applications.get(ref)
            if app["state"] not in SLIP_STATES:
                raise InvalidState(f"application {app['number']} is {app['state']}; only a "
                                   f"submitted application has a slip to print",
                                   state=app["state"])
            return app["id"]
        if kind == "z_report":
            return o.payments.z_report(ref)["shift_id"]
        return ref

    def get(self, job_id: str) -> dict:
        row = self.store.one("SELECT * FROM print_jobs WHERE id = ?", (job_id,))
        if row is None:
            raise NotFound(f"no print job {job_id!r}")
        return row

    def jobs(self, states: tuple[str, ...] | None = None, printer: str = "main",
             limit: int = 50) -> list[dict]:
        sql, params = "SELECT * FROM print_jobs WHERE printer = ?", [printer]
        if states:
            sql += f" AND state IN ({','.join('?' for _ in states)})"
            params.extend(states)
        return self.store.all(sql + " ORDER BY seq DESC LIMIT ?", (*params, limit))

    def next_job(self, printer: str = "main") -> dict | None:
        """The oldest job still to print, after expiring tickets nobody waits for. One
        worker drains a printer, one job at a time: a job still `printing` when it asks was
        left by a process that died mid-job. Other documents print again (better twice than
        never); a licence becomes uncertain (`recover`)."""
        with self.store.atomic():
            self.store.conn.execute(
                "UPDATE print_jobs SET state = 'expired', last_error = 'expired: not printed "
                "in time, the resident has gone' WHERE printer = ? AND state IN ('pending', "
                "'printing') AND expires_at IS NOT NULL AND expires_at < ?",
                (printer, self.store.now()))
            self.recover(printer)
            return self.store.one("SELECT * FROM print_jobs WHERE printer = ? AND state IN "
                                  "('pending', 'printing') ORDER BY seq LIMIT 1", (printer,))

    def recover(self, printer: str = "main") -> list[dict]:
        """At start: this printer's licences left `printing` by a process that died may have
        come out, so they are not sent again by themselves; they wait, `uncertain`, for the
        person at the printer to say (`answer`). Returns the uncertain jobs, oldest first,
        each with its licence's `licence_number`."""
        if not self.store.has_schema(UNCERTAIN_SCHEMA):
            return []  # an older schema (the migration tests): printed again, as before
        with self.store.atomic():
            self.store.conn.execute(
                "UPDATE print_jobs SET state = 'uncertain', last_error = 'stopped while "
                "printing: it may have come out; ask the person at the printer' WHERE "
                "printer = ? AND kind = 'licence' AND state = 'printing'", (printer,))
            return self.uncertain(printer)

    def uncertain(self, printer: str | None = None) -> list[dict]:
        """Licence jobs waiting for an answer (one printer's, or all), oldest first."""
        sql = "SELECT * FROM print_jobs WHERE kind = 'licence' AND state = 'uncertain'"
        params = ()
        if printer is not None:
            sql, params = sql + " AND printer = ?", (printer,)
        return [{**j, "licence_number": self.office.licences.get(j["ref_id"])["number"]}
                for j in self.store.all(sql + " ORDER BY seq", params)]

    def answer(self, job: str, came_out: str, printer: str | None = None) -> dict:
        """What the person at the printer says of a licence that may have come out (job: its
        id or seq): yes, it is done; no, the original prints (none exists); unsure, it is
        `unknown` and the licence gets no other original. An `unknown` job may still be
        answered yes or no by someone who finds out. Audited (print.answered) under the
        actor; printer: only that printer's job (a device answers for its own)."""
        if came_out not in ANSWERS:
            raise ValidationError(f"came_out must be one of {', '.join(ANSWERS)}",
                                  field="came_out")
        with self.store.atomic():
            by_seq = isinstance(job, str) and job.isdigit()
            row = self.store.one(f"SELECT * FROM print_jobs WHERE {'seq' if by_seq else 'id'} "
                                 f"= ?", (int(job) if by_seq else job,))
            if row is None or (printer is not None and row["printer"] != printer):
                raise NotFound(f"no print job {job!r}")
            asked = ("uncertain",) if came_out == "unsure" else ("uncertain", "unknown")
            if row["kind"] != "licence" or row["state"] not in asked:
                raise InvalidState(f"print job {row['seq']} is {row['state']}: there is "
                                   f"nothing to answer", state=row["state"])
            state = {"yes": "done", "no": "pending", "unsure": "unknown"}[came_out]
            said = {"yes": "it came out", "no": "it did not come out: printing the original",
                    "unsure": "nobody could say whether it came out"}[came_out]
            changes = {"state": state, "last_error": f"{self.store.actor} said {said}"[:500]}
            if came_out == "yes":
                changes["printed_at"] = self.store.now()
            self.store.update("print_jobs", "id", row["id"], changes)
            number = self.office.licences.get(row["ref_id"])["number"]
            self.store.record("print.answered", "licence", row["ref_id"],
                              {"id": row["ref_id"], "number": number, "job": row["seq"],
                               "printer": row["printer"], "copy": bool(row["copy"]),
                               "came_out": came_out})
            return self.get(row["id"])

    def mark_printing(self, job_id: str) -> dict:
        with self.store.atomic():
            job = self.get(job_id)
            if job["state"] not in ("pending", "printing"):
                raise InvalidState(f"print job {job_id} is {job['state']}")
            self.store.update("print_jobs", "id", job_id,
                              {"state": "printing", "attempts": job["attempts"] + 1})
            return self.get(job_id)

    def mark_done(self, job_id: str, size: int) -> None:
        with self.store.atomic():
            self.store.update("print_jobs", "id", job_id,
                              {"state": "done", "printed_at": self.store.now(), "bytes": size,
                               "last_error": None})

    def mark_retry(self, job_id: str, error: str) -> None:
        """The printer did not take it: back to pending, to print once it is back."""
        with self.store.atomic():
            self.store.update("print_jobs", "id", job_id,
                              {"state": "pending", "last_error": error[:500]})

    def mark_failed(self, job_id: str, error: str) -> None:
        """It can never print (e.g. the document cannot be drawn): stop retrying."""
        with self.store.atomic():
            self.store.update("print_jobs", "id", job_id,
                              {"state": "failed", "last_error": error[:500]})

    def issue_licence(self, application: str, lang: str | None = None,
                      printer: str = "main") -> dict:
        """Issue the licence and queue it for printing in the same transaction: the licence
        with its job (`print_job`). A power cut between the two is no longer possible."""
        with self.store.atomic():
            lic = self.office.licences.issue(application)
            return {**lic, "print_job": self.enqueue("licence", lic["id"], lang,
                                                     printer=printer)}

    def reprint_licence(self, licence: str, reason: str, lang: str | None = None,
                        printer: str = "main") -> dict:
        """A COPY: counted and audited on the licence, queued in the same transaction: the
        licence with its job (`print_job`)."""
        with self.store.atomic():
            lic = self.office.licences.record_reprint(licence, reason)
            return {**lic, "print_job": self._queue("licence", lic["id"], lang, True,
                                                    printer)}
