"""The kiosk's one interface to the office, and how to open it.

In a field office the kiosk runs on the in-process core (`core.kiosk_api.KioskApi`, the
embedded default); in a service centre it talks to the centre's hub over the LAN
(`hub.client.KioskHubClient`). Both have the same methods, and one contract test suite
(tests/hub/test_contract.py) runs against both."""
from __future__ import annotations

from core.kiosk_api import KioskApi

LocalBackend = KioskApi


def open_backend(settings, office=None, hub_url: str | None = None):
    """The in-process backend over `office`, or the hub's client when hub_url is given
    (the device's token comes from `nafitha hub join`)."""
    if hub_url:
        from hub.client import KioskHubClient
        return KioskHubClient.from_settings(settings, hub_url)
    return KioskApi(office)
