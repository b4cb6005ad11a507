"""Licences: issued once, only for an approved and paid application.

Number {office}-{year}-{device}-{seq}: the device id makes it unique without asking anyone;
seq restarts each (local) year. The office's signer (core/credentials) signs it on this
device, offline; the signed QR text is stored with the licence and travels in the outbox
event."""
from __future__ import annotations

import json
from datetime import timedelta

from .clock import iso
from .credentials import qr_fit
from .errors import InvalidState, NotFound
from .text import clean_text

ADDRESS_PARTS = ("parcel", "block", "road", "building")


class Licences:
    def __init__(self, office):
        self.office = office
        self.store = office.store
        self.settings = office.settings

    def issue(self, application: str) -> dict:
        with self.store.atomic():
            app = self.office.applications.row(application)
            existing = self.store.one("SELECT number FROM licences WHERE application_id = ?",
                                      (app["id"],))
            if existing:
                raise InvalidState(f"application {app['number']} already has licence "
                                   f"{existing['number']}; reprint it instead",
                                   licence=existing["number"])
            if app["state"] != "approved":
                raise InvalidState(f"application {app['number']} is {app['state']}; a licence "
                                   f"needs it approved", state=app["state"])
            if not app["paid_at"]:
                raise InvalidState(f"application {app['number']} is approved but not paid",
                                   state=app["state"])
            if self.office.signer is None:
                raise InvalidState("this device cannot sign licences yet: it has no key and "
                                   "certificate (nafitha keys request / certify / install, "
                                   "docs/keys.md)")
            now_dt = self.store.clock.now()
            year = now_dt.astimezone(self.settings.tz).year
            seq = self.store.next_sequence(f"licence:{year}")
            fields = json.loads(app["fields"])
            # Kept structured (JSON) so each language can label the parts on screen and paper.
            address = json.dumps({k: fields[k] for k in ADDRESS_PARTS if k in fields},
                                 ensure_ascii=False)
            row = {"id": self.store.ids.new(),
                   "number": f"{self.settings.office.code}-{year}-{self.settings.device.id}-"
                             f"{seq:06d}",
                   "application_id": app["id"], "licence_type": app["licence_type"],
                   "service_code": app["service_code"], "holder_name": fields["full_name"],
                   "national_id": fields["national_id"], "address": address,
                   "issued_at": iso(now_dt),
                   "valid_until": iso(now_dt + timedelta(days=app["validity_days"])),
                   "revoked_at": None, "revoke_reason": None, "reprint_count": 0,
                   "device_counter": self.store.next_sequence("licence:device"),
                   "conditions": app["conditions"], "signed_payload": None}
            row["signed_payload"] = self.office.signer(row)
            # Approval measured the worst case; this is the code itself (a long name on an
            # application approved before the check existed): nothing is kept if it misfits.
            problem = qr_fit.misfit(len(row["signed_payload"]),
                                    self.settings.office.smallest_paper_dots)
            if problem:
                raise InvalidState(f"licence not issued: {problem}; its QR code could not be "
                                   f"printed (the number is not used)")
            self.store.insert("licences", row)
            self.office.applications.mark_issued(app, row["issued_at"])
            self.store.record("licence.issued", "licence", row["id"],
                              {**row, "application_number": app["number"]})
            return row

    def revoke(self, licence: str, reason: str) -> dict:
        reason = clean_text(reason or "", "reason", max_length=500, min_length=1)
        with self.store.atomic():
            row = self.get(licence)
            if row["revoked_at"]:
                raise InvalidState(f"licence {row['number']} is already revoked")
            changes = {"revoked_at": self.store.now(), "revoke_reason": reason}
            self.store.update("licences", "id", row["id"], changes)
            row.update(changes)
            self.store.record("licence.revoked", "licence", row["id"],
                              {"id": row["id"], "number": row["number"], **changes})
            return row

    def record_reprint(self, licence: str, reason: str) -> dict:
        """A reprint is a COPY: counted here and in the audit log, never a new number."""
        reason = clean_text(reason or "", "reason", max_length=500, min_length=1)
        with self.store.atomic():
            row = self.get(licence)
            count = row["reprint_count"] + 1
            self.store.update("licences", "id", row["id"], {"reprint_count": count})
            row["reprint_count"] = count
            self.store.record("licence.reprinted", "licence", row["id"],
                              {"id": row["id"], "number": row["number"],
                               "reprint_count": count, "reason": reason})
            return row

    def summary_for(self, application_id: str) -> dict | None:
        """What the counter shows of an application's licence, or None."""
        return self.store.one("SELECT id, number, issued_at, valid_until, revoked_at, "
                              "revoke_reason, reprint_count FROM licences WHERE "
                              "application_id = ?", (application_id,))

    def local_revocation(self, number: str) -> dict | None:
        """When and why this office revoked the licence, if it did."""
        return self.store.one("SELECT revoked_at, revoke_reason FROM licences WHERE number = ? "
                              "AND revoked_at IS NOT NULL", (number,))

    def get(self, licence: str) -> dict:
        row = self.store.one("SELECT * FROM licences WHERE id = ? OR number = ?",
                             (licence, licence))
        if row is None:
            raise NotFound(f"no licence {licence!r}")
        return row
