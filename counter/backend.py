"""The counter's one interface to the office, and how to open it.

In a field office the counter runs on the in-process core (`core.counter_api.CounterApi`);
in a service centre it talks to the centre's hub (`hub.client.CounterHubClient`), which
knows this counter's name and services from its pairing. Both have the same methods, and
one contract test suite (tests/hub/test_contract.py) runs against both."""
from __future__ import annotations

from core.counter_api import SUPERVISOR_ACTIONS, CounterApi

LocalBackend = CounterApi
__all__ = ["SUPERVISOR_ACTIONS", "CounterApi", "LocalBackend", "open_backend"]


def open_backend(settings, office=None, hub_url: str | None = None):
    if hub_url:
        from hub.client import CounterHubClient
        return CounterHubClient.from_settings(settings, hub_url)
    return CounterApi(office, settings.counter.name, settings.counter.service_list())
