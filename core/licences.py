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
# Kept sealed with the application's resident key (core/sealing.py), in the row and events.
PERSONAL = ("holder_name", "national_id", "address", "signed_payload")


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
            self.office.payments.check_confirmed(app["id"])  # the terminal's report disowned it
            if self.office.signer is None:
                raise InvalidState("this device cannot sign licences yet: it has no key and "
                                   "certificate (nafitha keys request / certify / install, "
                                   "docs/keys.md)")
            now_dt = self.store.clock.now()
            year = now_dt.astimezone(self.settings.tz).year
            seq = self.store.next_sequence(f"licence:{year}")
            fields = self.office.applications.fields_of(app)
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
            sealed = {**row, **{c: self.office.sealer.seal(app["id"], row[c]) for c in PERSONAL}}
            self.store.insert("licences", sealed)
            self.office.applications.mark_issued(app, row["issued_at"])
            self.store.record("licence.issued", "licence", row["id"],
                              {**sealed, "application_number": app["number"]})
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

    def ids_by_application(self, application_ids: list[str]) -> dict[str, str]:
        """{application id: its licence's id} for those that have one."""
        out = {}
        for start in range(0, len(application_ids), 500):
            part = application_ids[start:start + 500]
            out.update({r["application_id"]: r["id"] for r in self.store.all(
                f"SELECT id, application_id FROM licences WHERE application_id IN "
                f"({','.join('?' * len(part))})", part)})
        return out

    def seal_legacy(self) -> int:
        """Seal the personal values an older version kept in clear (on upgrade, after the
        applications, whose resident keys they use); returns how many licences."""
        rows = self.store.all("SELECT * FROM licences WHERE holder_name NOT LIKE 'nfs1:%'")
        for row in rows:
            self.store.update("licences", "id", row["id"], {
                c: self.office.sealer.seal(row["application_id"], row[c])
                for c in PERSONAL if row[c] is not None})
        return len(rows)

    def get(self, licence: str) -> dict:
        """The licence with its personal values opened. When the resident's key was erased
        or purged they are None, and `personal_data` says which."""
        row = self.store.one("SELECT * FROM licences WHERE id = ? OR number = ?",
                             (licence, licence))
        if row is None:
            raise NotFound(f"no licence {licence!r}")
        sealer = self.office.sealer
        for column in PERSONAL:
            if row[column] is not None:
                row[column] = sealer.open(row["application_id"], row[column])
        if row["holder_name"] is None:
            row["personal_data"] = sealer.gone(row["application_id"])
        return row
