"""`nafitha report ...`: the centre's figures for a day, a week, a month or a range
(docs/kpis.md), computed by core/kpis.py like the hub's and the console's pages."""
from __future__ import annotations

import click

from nafitha.commands import Group


@click.group(cls=Group)
def report():
    """The centre's figures: waiting, service, applications, licences, revenue.

    \b
    Example:
        nafitha report day 2026-12-06
    """


def register(cli: click.Group) -> None:
    cli.add_command(report)
