"""`nafitha appliance update`: install a signed release bundle beside the running version,
switch, check its health, and roll back by itself if it fails (core/releases.py)."""
from __future__ import annotations

import click


def register(appliance: click.Group) -> None:
    """Add `update` (and its siblings) to the appliance group."""
