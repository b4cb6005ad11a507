"""`nafitha audit ...` and `outbox ...`: check the local store's hash-chained audit log, see
the events waiting to be sent to the central platform, and deal with those central refused
(held: retry them, or void them with a supervisor)."""
from __future__ import annotations

import click

from core.errors import NafithaError
from nafitha.commands import Group, command, supervisor_options


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
    """Check that no audit entry was edited, removed or reordered, and that the head carries
    this device's signature (exit 1 if not; docs/audit.md).

    \b
    Example:
        nafitha audit verify --json
    """
    result = ctx.office.verify_audit()
    if not result["ok"]:
        raise AuditBroken("audit log is NOT intact: " + "; ".join(result["problems"]),
                          problems=result["problems"], entries=result["entries"])
    return result, lambda r: click.echo(
        f"audit log intact: {r['entries']} entries, "
        + ("head signed by this device's key" if r["signed"]
           else "head unsigned (this device has no key yet)"))


@click.group(cls=Group)
def outbox():
    """Events waiting to be sent to the central platform, and those central refused.

    An event central refuses (it touches what is not this office's, or a licence that does
    not verify) is held: it is not sent again by itself, and the events behind it go on.
    Once the cause is fixed, retry it; or void it for good with a supervisor and a reason.

    \b
    Example:
        nafitha outbox status
        nafitha outbox list --held
    """


@command(outbox, "status")
def outbox_status(ctx):
    """Pending and held events, backlog age and the last sequence number.

    \b
    Example:
        nafitha outbox status --json
    """
    return ctx.office.outbox_status(), None


@command(outbox, "list")
@click.option("--held", is_flag=True, required=True,
              help="The events central refused, with its reason (the only list for now).")
def outbox_list(ctx, held):
    """The held events: what each is and why central refused it.

    \b
    Example:
        nafitha outbox list --held
    """
    from core import outbox as box
    rows = box.held(ctx.office.store)

    def human(rows):
        if not rows:
            click.echo("no held events")
        for r in rows:
            click.echo(f"{r['id']}  #{r['seq']} {r['type']}  held {r['held_at'][:16]}  "
                       f"{r['held_code']}: {r['held_reason']}")
    return rows, human


@command(outbox, "retry")
@click.argument("event")
def outbox_retry(ctx, event):
    """Send a held event again (EVENT: its id, or "all"); central judges it afresh.

    \b
    Example:
        nafitha outbox retry 01JD8T2Q4V3X0Y9Z7W6V5U4T3S
    """
    result = ctx.office.retry_held_event(event, ctx.actor())
    return result, lambda r: click.echo(
        f"{len(r['retried'])} held event(s) will be sent again" if "retried" in r
        else f"{r['id']} will be sent again")


@command(outbox, "void")
@click.argument("event")
@supervisor_options
@click.option("--reason", required=True, help="Why it is given up (audited).")
def outbox_void(ctx, event, supervisor, pin, reason):
    """Give a held event up for good: never sent again (central keeps it as refused).

    \b
    Example:
        nafitha outbox void 01JD8T2Q4V3X0Y9Z7W6V5U4T3S --supervisor huda --reason "trial licence"
    """
    result = ctx.office.void_held_event(event, supervisor, pin, reason)
    return result, lambda r: click.echo(f"{r['id']} voided")


def register(root: click.Group) -> None:
    root.add_command(audit)
    root.add_command(outbox)
