"""The durable print queue (docs/printing.md).

A document to print is a row here before anything reaches the printer, written in the same
transaction as what it prints when the caller asks for that (issue + print), so a power cut
or a missing printer never loses it. A worker per printer takes jobs in order. Tickets expire
(the resident has gone); receipts, application slips and licences wait as long as it takes.

Jobs are the device's own bookkeeping: they are not audited or sent to central. A reprint of
a licence is, through Licences.record_reprint."""
from __future__ import annotations

from datetime import timedelta

from .clock import iso
from .errors import InvalidState, NotFound, ValidationError
from .text import LANGUAGES

KINDS = ("ticket", "receipt", "licence", "application", "z_report", "test")
# An application slip is for an application someone can still follow (not a draft, not
# rejected or withdrawn).
SLIP_STATES = ("submitted", "paid", "approved", "issued")
STATES = ("pending", "printing", "done", "failed", "expired")


class PrintQueue:
    def __init__(self, office):
        self.office = office
        self.store = office.store
        self.settings = office.settings

    def enqueue(self, kind: str, ref_id: str, lang: str | None = None, copy: bool = False,
                printer: str = "main") -> dict:
        if kind not in KINDS:
            raise ValidationError(f"kind must be one of {', '.join(KINDS)}", field="kind")
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
        or InvalidState once it has printed (another print is a counted, audited COPY)."""
        row = self.store.one("SELECT * FROM print_jobs WHERE kind = 'licence' AND ref_id = ? "
                             "AND copy = 0 AND state IN ('pending', 'printing', 'done') "
                             "ORDER BY seq LIMIT 1", (licence_id,))
        if row is not None and row["state"] == "done":
            number = self.office.licences.get(licence_id)["number"]
            raise InvalidState(f"licence {number} was printed as the original (job "
                               f"{row['seq']}, {row['printed_at'][:16]}); another print is a "
                               f"counted COPY: reprint it with a reason",
                               reason="original_printed", job=row["id"])
        return row

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
        """The oldest job still to print, after expiring tickets nobody waits for."""
        with self.store.atomic():
            self.store.conn.execute(
                "UPDATE print_jobs SET state = 'expired', last_error = 'expired: not printed "
                "in time, the resident has gone' WHERE printer = ? AND state IN ('pending', "
                "'printing') AND expires_at IS NOT NULL AND expires_at < ?",
                (printer, self.store.now()))
            return self.store.one("SELECT * FROM print_jobs WHERE printer = ? AND state IN "
                                  "('pending', 'printing') ORDER BY seq LIMIT 1", (printer,))

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
            return {**lic, "print_job": self.enqueue("licence", lic["id"], lang, copy=True,
                                                     printer=printer)}
