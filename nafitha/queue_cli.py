"""`nafitha ticket ...` and `nafitha queue ...`: take queue tickets for walk-in residents and
serve the queue at a counter (call, recall, park, transfer, finish, statistics)."""
from __future__ import annotations

import inspect

import click

from core.queue import CHANNELS, PRIORITIES
from nafitha.commands import Group, command, local_time, supervisor_options


@click.group(cls=Group)
def ticket():
    """Queue tickets for walk-in residents.

    \b
    Example:
        nafitha ticket take R --priority elderly
    """


@command(ticket, "take")
@click.argument("service")
@click.option("--priority", type=click.Choice(PRIORITIES), help="Elderly, disabled or "
              "pregnant residents queue ahead (see docs/queue.md).")
@click.option("--channel", type=click.Choice(CHANNELS), default="counter", show_default=True,
              help="How the resident asked for it, as the figures count it (docs/kpis.md).")
def ticket_take(ctx, service, priority, channel):
    """Take a ticket for SERVICE (code or prefix).

    \b
    Example:
        nafitha ticket take residence-certificate
    """
    with ctx.office.acting_as(ctx.actor()):
        t = ctx.office.queue.take_ticket(service, priority, channel=channel)

    def human(t):
        # As the kiosk's ticket says it: "you are next", not "~0 min" (issue 25).
        wait = "you are next" if not t["people_ahead"] else \
            f"ahead: {t['people_ahead']}  wait: about {t['estimated_wait_minutes']} min"
        click.echo(f"{t['number']}  {t['service_code']}  {wait}  taken "
                   f"{local_time(t['created_at'], ctx.settings.tz)[-5:]}")
    return t, human


@click.group(cls=Group)
def queue():
    """Serve the queue: list, call, recall, park, resume, no-show, transfer, finish.

    \b
    Example:
        nafitha queue call --counter 3
    """


def _ticket_line(t, tz):
    click.echo(f"{t['number']:<6} {t['state']:<9} {t['service_code']:<32} "
               f"taken {local_time(t['created_at'], tz)[-5:]}  "
               f"counter {t['counter'] or '-':<4} {t['priority'] or ''}".rstrip())


@command(queue, "list")
@click.option("--service", help="Only this service.")
@click.option("--all", "show_all", is_flag=True, help="Include finished tickets.")
def queue_list(ctx, service, show_all):
    """Today's tickets in calling order.

    \b
    Example:
        nafitha queue list --service R
    """
    from core.queue import LIVE, STATES
    states = STATES if show_all else LIVE
    rows = ctx.office.queue.list(states, service)
    return rows, lambda rows: [_ticket_line(t, ctx.settings.tz) for t in rows] or \
        click.echo("nobody waiting")


@command(queue, "call")
@click.option("--counter", required=True, help="This counter's name or number.")
@click.option("--service", "services", multiple=True,
              help="A service this counter serves (repeat; default: all).")
def queue_call(ctx, counter, services):
    """Call the next ticket for this counter's services.

    \b
    Example:
        nafitha queue call --counter 3 --service R --service A
    """
    with ctx.office.acting_as(ctx.actor()):
        t = ctx.office.queue.call_next(counter, list(services) or None)
    if t is None:
        return None, lambda _: click.echo("nobody waiting")
    return t, lambda t: _ticket_line(t, ctx.settings.tz)


def _ticket_command(name, method, doc, counter_help=None):
    """A queue command on one TICKET; with counter_help, it also takes an optional
    --counter passed on to the method."""
    def cmd(ctx, ticket, **counter):
        with ctx.office.acting_as(ctx.actor()):
            return getattr(ctx.office.queue, method)(ticket, **counter), \
                lambda t: _ticket_line(t, ctx.settings.tz)
    if counter_help:
        cmd = click.option("--counter", help=counter_help)(cmd)
    return command(queue, name, help=inspect.cleandoc(doc))(click.argument("ticket")(cmd))


_ticket_command("recall", "recall", """Call TICKET again; past the call limit it becomes a no-show.

    \b
    Example:
        nafitha queue recall R004
    """)
_ticket_command("serve", "start_serving", """Start serving a called TICKET.

    \b
    Example:
        nafitha queue serve R004
    """)
_ticket_command("finish", "finish", """Finish TICKET (served).

    \b
    Example:
        nafitha queue finish R004
    """)
_ticket_command("no-show", "no_show", """Mark a called TICKET as not having come.

    \b
    Example:
        nafitha queue no-show R004
    """)
_ticket_command("park", "park", """Set a called or serving TICKET aside while the resident
    fetches a document; it keeps its number and counter and is not called again.

    \b
    Example:
        nafitha queue park R004
    """)
_ticket_command("resume", "resume", """Serve a parked TICKET again.

    \b
    Example:
        nafitha queue resume R004 --counter 3
    """, counter_help="The counter that serves it (default: the one it was parked at).")
_ticket_command("cancel", "cancel", """Cancel a waiting, called or parked TICKET.

    \b
    Example:
        nafitha queue cancel R004
    """)


@command(queue, "transfer")
@click.argument("ticket")
@click.argument("service")
def queue_transfer(ctx, ticket, service):
    """Send TICKET to SERVICE's queue, keeping its number.

    \b
    Example:
        nafitha queue transfer R004 building-permit-small
    """
    with ctx.office.acting_as(ctx.actor()):
        return ctx.office.queue.transfer(ticket, service), \
            lambda t: _ticket_line(t, ctx.settings.tz)


@command(queue, "cancel-from")
@click.argument("device")
@click.option("--reason", required=True, help="Why (audited).")
@supervisor_options
def queue_cancel_from(ctx, device, reason, supervisor, pin):
    """Cancel every ticket of today that the paired DEVICE took and nobody has called yet
    (a kiosk, or a script with its token, that took far too many; revoke it with
    `nafitha hub revoke` too). A supervisor's PIN is required.

    \b
    Example:
        nafitha queue cancel-from kiosk-2 --reason "a script took the numbers" --supervisor huda
    """
    result = ctx.office.cancel_tickets_taken_by(device, supervisor, pin, reason)
    return result, lambda r: click.echo(
        f"{len(r['cancelled'])} ticket(s) of {r['device']} cancelled"
        + (f": {', '.join(r['cancelled'])}" if r["cancelled"] else ""))


@command(queue, "stats")
@click.option("--day", help="Local date YYYY-MM-DD (default: today).")
def queue_stats(ctx, day):
    """Today's KPIs: tickets by state, mean wait and service time, no-show rate (computed
    like every report: docs/kpis.md; the whole set is `nafitha report day`).

    \b
    Example:
        nafitha queue stats --json
    """
    return ctx.office.queue.stats(day), None


def register(root: click.Group) -> None:
    root.add_command(ticket)
    root.add_command(queue)
