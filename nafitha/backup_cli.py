"""`nafitha backup` and `nafitha restore`: a consistent, compressed copy of the store taken
while the apps run, and its checked return (core/backup.py, docs/operations.md)."""
from __future__ import annotations

import click


def register(root: click.Group) -> None:
    """Add `backup` and `restore` to the root group."""
