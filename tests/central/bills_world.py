"""A real office paying through every channel, for central's revenue report and the console's
finance pages (tests/central/test_revenue.py, tests/central/console/test_finance_pages.py).

    paying = PayingOffice(central, url, office)   # an office of tests/central_offices.py
    paying.counter("cash")                        # an application paid at the counter (sara)
    paying.kiosk_card()                           # paid with the kiosk's card terminal
    paying.network(txn)                           # its bill paid through a network (signed POST)
    paying.sync()                                 # push, pull (network payments), push again

Everything goes through central's own interfaces: the office's events through its sync agent,
the network's notifications through the signed POST /v1/biller/payments."""
from __future__ import annotations

import itertools
import json

import requests

from central.bills import sign
from sync.agent import SyncAgent

from central_offices import FORM, PERMIT, nid

PERMIT_SERVICE = "building-permit-small"
TERMINAL = "T0000001"


class PayingOffice:
    def __init__(self, central, url: str, office):
        self.central, self.url, self.office = central, url, office
        self.secret = central.bills.secret()
        self._people = itertools.count(1)
        self._traces = itertools.count(1)

    def submit(self) -> dict:
        """A building permit (fee due, a bill made with it)."""
        n = next(self._people)
        return self.office.applications.submit(PERMIT_SERVICE, {
            **PERMIT, "full_name": f"Resident {n}", "national_id": nid(100 + n)})

    def certificate(self) -> dict:
        n = next(self._people)
        return self.office.applications.submit("residence-certificate", {
            **FORM, "full_name": f"Resident {n}", "national_id": nid(100 + n)})

    def counter(self, method: str = "cash", app: dict | None = None) -> dict:
        """`app` (a new permit if None) paid at the counter by sara."""
        app = app or self.submit()
        extra = {"tendered_minor": app["fee_minor"]} if method == "cash" else \
            {"reference": f"{TERMINAL}-{next(self._traces):06d}-C0FFEE"}
        return self.office.payments.take(app["id"], method, "sara", **extra)

    def kiosk_card(self, app: dict | None = None) -> dict:
        """`app` paid with the field office's kiosk's card terminal (its cashier, "kiosk")."""
        app = app or self.submit()
        return self.office.payments.record_card_approval(
            app["id"], f"{TERMINAL}-{next(self._traces):06d}-A1B2C3", "kiosk")

    def bill_of(self, app: dict) -> dict:
        return self.office.bills.for_application(app["id"])

    def network(self, txn: str, app: dict | None = None, paid_at: str | None = None,
                amount: int | None = None) -> requests.Response:
        """The network's signed payment notification for `app`'s bill (a new permit's if
        None); the bill must have reached central (sync first)."""
        if app is None:
            app = self.submit()
            self.sync()
        bill = self.bill_of(app)
        body = json.dumps({"transaction_id": txn, "bill_number": bill["number"],
                           "amount_minor": bill["amount_minor"] if amount is None else amount,
                           "paid_at": paid_at or self.central.now(),
                           "network": "sadad"}).encode()
        return requests.post(f"{self.url}/v1/biller/payments", data=body, timeout=30,
                             headers={"X-Biller-Signature": sign(self.secret, body),
                                      "Content-Type": "application/json"})

    def sync(self) -> None:
        """Push, pull (what the networks paid reaches the office), push what that made."""
        agent = SyncAgent(self.office)
        agent.once()
        agent.once()
