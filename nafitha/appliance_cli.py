"""`nafitha appliance ...`: run this box as an appliance (systemd units for its role, the
watchdog, its health) and update it to a signed release (nafitha/update_cli.py adds `update`)."""
from __future__ import annotations

import click

from nafitha import update_cli
from nafitha.commands import Group


@click.group(cls=Group)
def appliance():
    """Install this box as an appliance for one role, see what runs, update it.

    \b
    Example:
        nafitha appliance install hub
        nafitha appliance status
    """


def register(root: click.Group) -> None:
    update_cli.register(appliance)
    root.add_command(appliance)
