"""`nafitha health` and `nafitha support-bundle`: this device's health as its heartbeat
reports it, and one archive for a support call with no personal data (core/health.py,
core/support.py, docs/operations/support.md)."""
from __future__ import annotations

from pathlib import Path

import click

from nafitha.commands import command


def _open_office(ctx):
    """The office for the bundle's store and device parts, or None before `nafitha init`
    (the bundle must not create a store to describe it)."""
    if not Path(ctx.settings.db_path).exists():
        return None
    from core.office import Office
    return Office.open(ctx.settings, clock=ctx.clock)


def _system_uptime_s() -> float:
    try:
        return float(open("/proc/uptime", encoding="ascii").read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0


def health_report(office, role: str = "agent") -> dict:
    """This device's report as core/health.py makes it for the heartbeat, read from the
    command line: the system's uptime; printer and camera "unknown" (the running app owns
    them and reports them in its own heartbeat)."""
    from core import health

    return health.collect(office.store, office.settings, role=role,
                          uptime_s=_system_uptime_s(), printer="unknown", camera="unknown")


@command(None, "health")
@click.option("--role", type=click.Choice(["kiosk", "counter", "board", "hub", "agent"]),
              default="agent", show_default=True, help="The role the report is made for.")
def health_cmd(ctx, role):
    """This device's health as its heartbeat reports it: version, uptime, disk free, store
    size, outbox backlog, clock, last backup, and whether the store refused an operation for
    a full disk. Exit 1 with one line when the store cannot be opened.

    \b
    Example:
        nafitha health --json
    """
    report = health_report(ctx.office, role)
    h = ctx.settings.health

    def human(r):
        for key, value in r.items():
            click.echo(f"{key}: {'' if value is None else value}")
        if r.get("disk_full"):
            click.echo("ALERT: the store refused an operation: the disk is full")
        elif r.get("disk_free_mb") is not None and r["disk_free_mb"] < h.disk_refuse_mb:
            click.echo(f"ALERT: under {h.disk_refuse_mb} MB free: operations are refused")
        elif r.get("disk_free_mb") is not None and r["disk_free_mb"] < h.disk_low_mb:
            click.echo(f"WARNING: the disk is nearly full (under {h.disk_low_mb} MB free)")
    return report, human


@command(None, "support-bundle")
@click.option("--output", "output", required=True, type=click.Path(dir_okay=False),
              help="The archive to write (a .tar.gz); written whole or not at all.")
def support_bundle(ctx, output):
    """One archive for a support call: versions, settings without secrets, recent logs, the
    store's integrity check and audit verification, device states. No personal data: no
    names, national IDs, phone numbers, application fields, licences or documents.

    \b
    Example:
        nafitha support-bundle --output /media/usb/support-MUH-D01.tar.gz
    """
    from core import support
    bundle = support.write_bundle(ctx.settings, output, open_office=lambda: _open_office(ctx),
                                  health=health_report)

    def human(result):
        click.echo(f"support bundle written to {result['path']} "
                   f"({len(result['members'])} parts)")
        for problem in result["problems"]:
            click.echo(f"  not included: {problem}")
    return bundle.to_dict(), human


def register(root: click.Group) -> None:
    """Add `health` and `support-bundle` to the root group."""
    root.add_command(health_cmd)
    root.add_command(support_bundle)
