"""`nafitha health` and `nafitha support-bundle`: this device's health as its heartbeat
reports it, and one archive for a support call with no personal data (core/health.py)."""
from __future__ import annotations

import click


def register(root: click.Group) -> None:
    """Add `health` and `support-bundle` to the root group."""
