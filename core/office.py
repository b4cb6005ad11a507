"""The office: one object that holds the store, the catalogue and the settings, and exposes
every operation (queue, applications, payments, licences, users). The UIs, the CLI and the
hub all go through it."""
from __future__ import annotations

import contextlib
from datetime import timedelta
from pathlib import Path
from typing import Callable

from . import audit, kpis, outbox, reference, sync_state
from .applications import Applications
from .appointments import Appointments
from .attachments import Attachments
from .bills import Bills
from .catalog import Catalog, load_catalog, overlay, parse_service
from .clock import Clock, SystemClock, UlidFactory, iso
from .counter_states import CounterStates
from .credentials import ceremony, keys
from .credentials.licence import REASONS, VerificationResult, verify
from .credentials.trust import DeviceSigner, TrustStore, device_key_path
from .errors import InvalidState, ValidationError
from .follow import Follow
from .licences import Licences
from .messages import Messages
from .payments import Payments
from .printing import PrintQueue
from .queue import Queue
from .ratings import Ratings
from .sealing import SEALED_SCHEMA, DataKey, Sealer, data_key_path
from .settings import Settings
from .store import Store
from .text import clean_text
from .users import Users


SIGNED_HEADS_SCHEMA = 10  # core.migrations.m010_signed_audit_head


class Office:
    def __init__(self, settings: Settings, store: Store, catalog: Catalog):
        self.settings = settings
        self.store = store
        # The shipped files; `catalog` is them with what central published laid over them.
        self.shipped_catalog = catalog
        self.catalog = office_catalog(store, catalog)
        # The device key signs the audit head at every commit (docs/audit.md).
        store.head_key = keys.KeyFile(device_key_path(settings.data_dir))
        store.kpi_tz = settings.tz  # each event's KPI facts by the office's local day
        kpis.backfill(store, settings.tz, settings.kiosk.account)  # once, after m020
        if store.schema_opened < SIGNED_HEADS_SCHEMA and store.head_key.private():
            self._seal_quietly()  # upgraded from unsigned heads: sign the intact chain
        # Signs each licence on issue (row -> "NF1:..."); None until the device has a key
        # and a certificate (docs/keys.md).
        self.signer: Callable[[dict], str] | None = DeviceSigner.load(
            settings.data_dir, settings.device.id, settings.office.code,
            store.ids.random_bytes)
        # Residents' personal values are sealed with a key per application (docs/privacy.md).
        self.sealer = Sealer(store, DataKey(data_key_path(settings.data_dir)))
        self.queue = Queue(self)
        self.counter_states = CounterStates(self)  # open, on break, back-office, closed
        self.ratings = Ratings(self)  # residents' ratings of a visit (docs/ratings.md)
        self.appointments = Appointments(self)  # bookings checked in (docs/appointments.md)
        self.follow = Follow(self)  # a ticket followed on a resident's phone (docs/phone.md)
        self.applications = Applications(self)
        self.payments = Payments(self)
        self.bills = Bills(self)  # paid later through the national networks
        self.licences = Licences(self)
        self.users = Users(self)
        self.printing = PrintQueue(self)
        self.attachments = Attachments(self)  # supporting documents (docs/documents.md)
        self.messages = Messages(self)  # to residents' phones, with consent (docs/messages.md)
        if self.sealer.enabled and 0 < store.schema_opened < SEALED_SCHEMA:
            with store.atomic():  # upgraded from clear personal values: seal them now
                self.applications.seal_legacy()
                self.licences.seal_legacy()

    @classmethod
    def open(cls, settings: Settings, clock: Clock | None = None,
             ids: UlidFactory | None = None, catalog: Catalog | None = None) -> "Office":
        clock = clock or SystemClock()
        ids = ids or UlidFactory(clock)
        store = Store.open(Path(settings.db_path), clock, ids, device_id=settings.device.id,
                           office_code=settings.office.code,
                           busy_timeout_ms=settings.store.busy_timeout_ms)
        return cls(settings, store, catalog or load_catalog(settings.catalog_dir))

    def reload_catalog(self) -> None:
        """After a pull: central's services and fees, laid over the shipped files."""
        self.catalog = office_catalog(self.store, self.shipped_catalog)

    def acting_as(self, actor: str):
        """`with office.acting_as("sara"):` records sara as the actor of what runs inside."""
        return self.store.atomic(actor=actor)

    @contextlib.contextmanager
    def as_supervisor(self, username: str, pin: str):
        """`with office.as_supervisor("huda", pin):` what runs inside is authorised by a
        supervisor (PermissionDenied for a clerk or a wrong PIN, counted) and recorded under
        them: the counter's decisions and revocations, and the CLI's."""
        username = (username or "").strip().lower()
        if not username or not pin:
            raise ValidationError("supervisor and PIN are needed", field="supervisor",
                                  problem="required")
        self.users.authenticate(username, pin, role="supervisor")
        with self.acting_as(username):
            yield username

    def trust(self) -> TrustStore:
        """Roots and revocation list as on disk now (central may have sent a newer list)."""
        return TrustStore.load(self.settings.data_dir)

    def verify_licence(self, text) -> VerificationResult:
        """Offline verification, plus what this office knows first-hand: a licence revoked
        here is refused before the root's next revocation list says so."""
        result = verify(text, self.trust(), int(self.store.clock.now().timestamp()))
        if result.valid:
            local = self.licences.local_revocation(result.claims["number"])
            if local:
                result.valid, result.reason = False, "revoked"
                result.message = REASONS["revoked"]
                result.detail = f"revoked at this office {local['revoked_at'][:10]}: " \
                                f"{local['revoke_reason']}"
        return result

    def job_document(self, job: dict) -> dict:
        """What a print job's paper says (core.documents), for the print worker."""
        from . import documents
        return documents.build(self, job["kind"], job["ref_id"], bool(job["copy"]))

    def report_labels(self) -> dict:
        """The names core.report_files, the hub's report pages and `nafitha report` write
        beside codes: this office's and its services', and how it shows digits."""
        o = self.settings.office
        return {"office": {o.code: {"ar": o.name_ar, "en": o.name_en}},
                "service": {s.code: {"ar": s.name.ar, "en": s.name.en} for s in self.catalog},
                "digits": o.digits}

    def verify_audit(self) -> dict:
        """The chain, and the head's signature by this device's key when it has one."""
        return audit.verify_chain(self.store, self.store.head_key.public())

    def seal_audit(self) -> dict:
        """Sign the audit head with the device key once the whole chain checks out (after a
        new key); refused with InvalidState when the chain is broken."""
        key = self.store.head_key.private()
        if key is None:
            return {"sealed": False, "entries": audit.verify_chain(self.store)["entries"]}
        return audit.seal(self.store, key)

    def _seal_quietly(self) -> None:
        try:
            self.seal_audit()
        except InvalidState:
            pass  # a broken chain stays unsigned and `nafitha audit verify` reports it

    def request_key(self) -> dict:
        """This device's signing key (created once) and its certificate request for the
        root; the audit head is signed with the new key at once."""
        request = ceremony.request(self.settings.data_dir, self.settings.device.id,
                                   self.settings.office.code)
        self._seal_quietly()
        return request

    def purge_personal_data(self) -> dict:
        """Delete the resident keys of cases closed more than store.keep_personal_days ago
        whose events central has confirmed (it holds the keys and the sealed values): the
        office keeps numbers, states and payments, no longer the residents' data."""
        days = self.settings.store.keep_personal_days
        if days == 0 or not self.sealer.enabled:
            return {"purged": 0, "keep_days": days}
        cutoff = iso(self.store.clock.now() - timedelta(days=days))
        with self.store.atomic():
            closed = self.applications.closed_before(cutoff)
            licences = self.licences.ids_by_application(closed)
            waiting = outbox.unconfirmed_entities(self.store)
            done = [a for a in closed if a not in waiting and licences.get(a) not in waiting]
            return {"purged": self.sealer.forget(done, "purged"), "keep_days": days}

    def outbox_status(self) -> dict:
        return outbox.status(self.store)

    def retry_held_event(self, event: str, actor: str) -> dict:
        """Send a held event again (central judges it afresh), e.g. once the root it was
        signed under is trusted. `event`: its id, or "all" for every held event."""
        with self.acting_as(actor):
            if event == "all":
                return {"retried": [outbox.release(self.store, r["id"])["id"]
                                    for r in outbox.held(self.store, limit=100_000)]}
            return outbox.release(self.store, event)

    def void_held_event(self, event: str, supervisor: str, pin: str, reason: str) -> dict:
        """Give a held event up for good, authorised by a supervisor (their PIN is checked)
        with a reason; audited under the supervisor."""
        reason = clean_text(reason or "", "reason", max_length=500, min_length=1)
        self.users.authenticate(supervisor, pin, role="supervisor")
        with self.acting_as(supervisor):
            return outbox.void(self.store, event, reason)

    def cancel_tickets_taken_by(self, device: str, supervisor: str, pin: str,
                                reason: str) -> dict:
        """A supervisor cancels the waiting tickets of today one paired device took."""
        with self.as_supervisor(supervisor, pin):
            return self.queue.cancel_taken_by(device, reason)

    def sync_status(self) -> dict:
        """Online/offline, events waiting, last sync: for the status bars."""
        return sync_state.status(self.store)

    def close(self) -> None:
        self.store.close()


def office_catalog(store: Store, shipped: Catalog) -> Catalog:
    """What the office shows and charges: the shipped catalogue with the latest service
    central published for each code (reference kind 'service', as the bundles brought it)
    laid over it (docs/catalog.md)."""
    return overlay(shipped, [parse_service(r["body"], f"central service {r['key']!r}")
                             for r in reference.rows(store, "service")])
