"""`nafitha audit ...` and `outbox ...`: check the local store's hash-chained audit log and
see the events waiting to be sent to the central platform."""
from __future__ import annotations

import click

from core.errors import NafithaError
from nafitha.commands import Group, command


class AuditBroken(NafithaError):
    code = "audit_broken"


@click.group(cls=Group)
def audit():
    """The hash-chained audit log.

    \b
    Example:
        nafitha audit verify
    """


@command(audit, "verify")
def audit_verify(ctx):
    """Check that no audit entry was edited, removed or reordered (exit 1 if so).

    \b
    Example:
        nafitha audit verify --json
    """
    result = ctx.office.verify_audit()
    if not result["ok"]:
        raise AuditBroken("audit log is NOT intact: " + "; ".join(result["problems"]),
                          problems=result["problems"], entries=result["entries"])
    return result, lambda r: click.echo(f"audit log intact: {r['entries']} entries")


@click.group(cls=Group)
def outbox():
    """Events waiting to be sent to the central platform.

    \b
    Example:
        nafitha outbox status
    """


@command(outbox, "status")
def outbox_status(ctx):
    """Pending events, backlog age and the last sequence number.

    \b
    Example:
        nafitha outbox status --json
    """
    return ctx.office.outbox_status(), None


def register(root: click.Group) -> None:
    root.add_command(audit)
    root.add_command(outbox)
