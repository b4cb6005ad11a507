"""Real devices for the operations pages' tests (test_offices_pages.py, test_home_alerts.py):
an office (core.office.Office) enrolled against the test site's central over HTTP, as
tests/sync/conftest.py's make_office does, on the site's frozen clock.

    devices = Devices(site, tmp_path); office = devices.add("MUH", "D02", batch_size=2)
    devices.events(office, 5)                      # five outbox events
    devices.push_one_batch(office)                 # one batch reaches central, then the line drops
    SyncAgent(office).once()                       # everything else
    devices.token(office)                          # the device's bearer token
"""
from __future__ import annotations

import random

import pytest
import requests

from core.clock import UlidFactory
from core.credentials import keys
from core.office import Office
from core.settings import load_settings
from sync.agent import SyncAgent, SyncError, enrol, read_enrolment


class _DropsAfterOnePost(requests.Session):
    """The first batch arrives; the line drops before the second."""

    def __init__(self):
        super().__init__()
        self.posts = 0

    def request(self, method, url, *args, **kwargs):
        if method == "POST":
            self.posts += 1
            if self.posts > 1:
                raise requests.ConnectionError("the line dropped")
        return super().request(method, url, *args, **kwargs)


class Devices:
    def __init__(self, site, tmp_path):
        self.site, self.tmp_path, self.opened = site, tmp_path, []

    def add(self, office: str = "MUH", device: str = "D02", role: str = "hub",
            batch_size: int | None = None) -> Office:
        environ = {"NAFITHA_OFFICE__CODE": office, "NAFITHA_DEVICE__ID": device,
                   "NAFITHA_SYNC__PROBE_INTERVAL_S": "0.2"}
        if batch_size:
            environ["NAFITHA_SYNC__BATCH_SIZE"] = str(batch_size)
        settings = load_settings(self.tmp_path / f"{office}-{device}", environ=environ)
        code = self.site.central.enrol_code(office, role=role)["code"]
        enrol(settings, self.site.url, code)
        made = Office.open(settings, clock=self.site.clock,
                           ids=UlidFactory(self.site.clock, random.Random(len(self.opened))))
        self.opened.append(made)
        return made

    @staticmethod
    def events(office: Office, n: int) -> None:
        with office.store.atomic():
            for _ in range(n):
                office.store.record("user.pin_failed", "user", "sara",
                                    {"username": "sara", "failures": 1})

    @staticmethod
    def push_one_batch(office: Office) -> None:
        with pytest.raises(SyncError) as failed:
            SyncAgent(office, session=_DropsAfterOnePost()).push()
        assert failed.value.kind == "offline"

    @staticmethod
    def token(office: Office) -> str:
        return read_enrolment(office.settings.data_dir)["token"]

    def enrol_bare(self, office: str, device: str, role: str = "hub") -> dict:
        """A device enrolled with central but never in touch (no Office behind it)."""
        code = self.site.central.enrol_code(office, role=role)["code"]
        return self.site.central.enrol(code, office, device,
                                       keys.public_bytes(keys.generate()).hex())

    def close(self) -> None:
        for o in self.opened:
            o.close()

