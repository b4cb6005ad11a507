"""What every kiosk and counter asks of the office, in-process: the catalogue, licence
verification, the sync state, its print queue and the queue's changes. The kiosk's and
the counter's faces build on it (core/faces/kiosk.py, core/faces/counter.py)."""
from __future__ import annotations

import logging
from typing import Annotated

from ..coordinator import IDLE, Coordinator
from ..health import FIELDS as HEALTH_FIELDS
from ..credentials.licence import VerificationResult
from . import Bounds, Face, QrText, operation
from .printing import PrintJobs

log = logging.getLogger("nafitha.queue")

WATCH_EVERY_S = 0.5
# A heartbeat (at most core/health.py's FIELDS; core checks the rest).
HealthReport = Annotated[dict, Bounds(max_length=len(HEALTH_FIELDS))]


class CatalogueReader:
    """Reading the catalogue a face holds (`catalog`): in-process the office's, through the
    hub a copy the client refreshes."""

    def services(self) -> list:
        """The services this office offers (central may withdraw one from an office)."""
        return self.catalog.offered_at(self.settings.office.code)

    def service(self, code: str):
        return self.catalog.get(code)

    def currency(self) -> str:
        """The office's currency: its services' (BHD for an empty catalogue)."""
        first = next(iter(self.catalog), None)
        return first.currency if first else "BHD"


class DeviceFace(CatalogueReader, Face):
    def __init__(self, office, printer: str = "main"):
        self.office = office
        self.settings = office.settings
        self.printer = printer  # the print queue this device's printer drains

    @classmethod
    def for_device(cls, office, device: dict) -> "DeviceFace":
        """The face as the hub runs it for one paired device (its name is its printer's)."""
        return cls(office, printer=device["name"])

    def close(self) -> None:
        """Nothing to let go of in-process (the caller owns the office)."""

    def hub_online(self) -> bool | None:
        """None: there is no hub in a field office (the status bars say nothing of it)."""
        return None

    # --- the catalogue -----------------------------------------------------------------
    @property
    def catalog(self):
        return self.office.catalog

    @operation(reads=True)
    def catalogue(self) -> list[dict]:
        """The catalogue as service settings (the keys of assets/catalog/*.toml)."""
        return [s.to_settings() for s in self.catalog]

    # --- what any device may ask ----------------------------------------------------------
    @operation(reads=True)
    def verify_licence(self, text: QrText) -> VerificationResult:
        """Verify a licence's QR text offline, with what this office knows first-hand."""
        return self.office.verify_licence(text)

    @operation(reads=True)
    def sync_status(self) -> dict:
        """Online or not, events waiting, the last sync: for the status bars."""
        return self.office.sync_status()

    @operation(retry="safe", per_minute=30)
    def heartbeat(self, report: HealthReport) -> dict:
        """Record this device's health report (core/health.py): the hub keeps the latest per
        device, a field office's box its own. A clock years off is accepted (central raises
        "clock wrong"); a report that cannot be read is refused and nothing is stored."""
        from .. import health
        role = report.get("role") if isinstance(report, dict) else None
        # Through the hub: the paired device's name; in-process: this box and its app.
        name = self.printer if self.printer != "main" else \
            f"{self.settings.device.id}-{role if role in health.ROLES else 'device'}"
        stored = health.record(self.office.store, name, report)
        return {"device": stored["device"], "received_at": stored["received_at"],
                "skew_s": stored["skew_s"]}

    def print_jobs(self) -> PrintJobs:
        """This device's print queue, for its print worker."""
        return PrintJobs(self.office, self.printer)

    def watch(self, on_change) -> Coordinator:
        """on_change(marker) on a thread whenever the queue changes (another process of this
        box took a ticket): what the hub's live events give a device, here by polling the
        store's change marker. Returns the running loop (stop() it); its mark_seen() takes
        the queue as it is now as seen: the app calls it after a step of its own, already
        drawn, so that change is not reported back to it (its refresh, half a second later,
        ran into the clerk's next key: bench/counter.py). A change another process made in
        the same instant waits for the app's periodic refresh."""
        seen = []

        def poll():
            marker = self.office.queue.change_marker()
            if not seen or marker != seen[-1]:
                seen[:] = [marker]
                on_change(marker)
            return IDLE

        loop = Coordinator("the queue's change marker", poll, log, idle_s=WATCH_EVERY_S,
                           retry_s=WATCH_EVERY_S, max_backoff_s=5.0)
        loop.mark_seen = lambda: seen.__setitem__(slice(None),
                                                  [self.office.queue.change_marker()])
        return loop.start()
