"""`nafitha appointments ...` (the office: check-in, today's bookings, no-shows) and
`nafitha central appointments ...` (central: plans, slots, bookings), mirroring
core/appointments.py and central/appointments.py (docs/appointments.md)."""
from __future__ import annotations

import click

from core import booking_codes
from core.clock import parse_iso
from nafitha.commands import Group, command

NATIONAL_ID = click.option("--national-id", prompt="National ID", hide_input=True,
                           help="The resident's national ID (asked when not given, and not "
                                "shown; it is never printed or logged).")


@click.group(cls=Group)
def appointments():
    """Appointments booked at central: check-in here, today's bookings, no-shows.

    \b
    Example:
        nafitha appointments today
    """


@command(appointments, "check-in")
@click.argument("reference")
@NATIONAL_ID
def appointments_check_in(ctx, reference, national_id):
    """Check in the booking REFERENCE (7K3Q-W9XC, or its QR text): a ticket queued at its
    slot's start, when the national ID is the one it was booked with and the time is in its
    window ([appointments] early_minutes, grace_minutes).

    \b
    Example:
        nafitha appointments check-in 7K3Q-W9XC --national-id 850100009
    """
    with ctx.office.acting_as(ctx.actor()):
        ticket = ctx.office.appointments.check_in(reference, national_id)
    return ticket, lambda t: click.echo(f"{t['number']}: {t['appointment']['shown']} at "
                                        f"{t['appointment']['slot_start']}")


@command(appointments, "today")
def appointments_today(ctx):
    """Today's bookings at this office, by slot, with what became of each.

    \b
    Example:
        nafitha appointments today
    """
    zone = ctx.office.settings.tz

    def human(rows):
        if not rows:
            click.echo("no bookings today")
        for r in rows:
            local = parse_iso(r["slot_start"]).astimezone(zone)
            click.echo(f"{local:%H:%M}  {booking_codes.shown(r['reference'])}  "
                       f"{r['service_code']}  {r['state']}")
    return ctx.office.appointments.today(), human


@command(appointments, "no-shows")
def appointments_no_shows(ctx):
    """Mark the bookings whose window closed without a check-in as no-shows (the sync agent
    does it at each cycle).

    \b
    Example:
        nafitha appointments no-shows
    """
    with ctx.office.acting_as(ctx.actor()):
        marked = ctx.office.appointments.mark_no_shows()
    return marked, lambda m: click.echo(
        f"no-shows marked: {', '.join(booking_codes.shown(r) for r in m['no_shows'])}"
        if m["no_shows"] else "no booking was missed")


# --- central -----------------------------------------------------------------------------------
@click.group("appointments", cls=Group)
def central_appointments():
    """Appointments: each office's plan per service, its slots, the bookings.

    \b
    Example:
        nafitha central appointments set MUH residence-certificate \\
            --hours "sun-thu 08:00-13:00" --slot-minutes 15 --capacity 2
    """


def _central(ctx):
    from nafitha.sync_cli import _central as opened
    return opened(ctx)


@command(central_appointments, "set")
@click.argument("office")
@click.argument("service")
@click.option("--hours", required=True, help="Opening hours in the office's time zone, one "
              "opening a day: 'sun-thu 08:00-13:00; sat 09:00-12:00'.")
@click.option("--slot-minutes", type=int, default=15, show_default=True)
@click.option("--capacity", type=int, default=1, show_default=True,
              help="People a slot takes.")
@click.option("--days-ahead", type=int, default=30, show_default=True,
              help="How far ahead a slot may be booked.")
def central_appointments_set(ctx, office, service, hours, slot_minutes, capacity, days_ahead):
    """Give OFFICE's SERVICE its appointment plan (replacing the one it had; bookings made
    keep their places).

    \b
    Example:
        nafitha central appointments set MUH residence-certificate \\
            --hours "sun-thu 08:00-13:00" --slot-minutes 15 --capacity 2
    """
    from central.appointments import set_plan
    return set_plan(_central(ctx), office.upper(), service, hours, slot_minutes, capacity,
                    days_ahead), None


@command(central_appointments, "remove")
@click.argument("office")
@click.argument("service")
def central_appointments_remove(ctx, office, service):
    """OFFICE's SERVICE takes no new bookings (those made stay).

    \b
    Example:
        nafitha central appointments remove MUH residence-certificate
    """
    from central.appointments import remove_plan
    return remove_plan(_central(ctx), office.upper(), service), None


@command(central_appointments, "plans")
@click.option("--office", help="One office's only.")
def central_appointments_plans(ctx, office):
    """The plans: which offices take appointments for which services, and when.

    \b
    Example:
        nafitha central appointments plans --office MUH
    """
    from central.appointments import plans

    def human(rows):
        for r in rows:
            click.echo(f"{r['office']}  {r['service_code']}  {r['hours_text']}  "
                       f"{r['slot_minutes']} min x {r['capacity']}  ({r['timezone']})")
    return plans(_central(ctx), office.upper() if office else None), human


@command(central_appointments, "slots")
@click.argument("office")
@click.argument("service")
@click.argument("day")
def central_appointments_slots(ctx, office, service, day):
    """The slots of OFFICE's SERVICE on DAY (its local date) with their free places.

    \b
    Example:
        nafitha central appointments slots MUH residence-certificate 2026-12-08
    """
    from central.appointments import free_slots

    def human(found):
        for s in found["slots"]:
            click.echo(f"{s['start']}  {s['free']} free")
    return free_slots(_central(ctx), office.upper(), service, day), human


@command(central_appointments, "book")
@click.argument("office")
@click.argument("service")
@click.argument("slot_start")
@NATIONAL_ID
def central_appointments_book(ctx, office, service, slot_start, national_id):
    """Book a place in the slot starting at SLOT_START (as `slots` lists it) for a resident
    (at the municipality's desk, or on the phone).

    \b
    Example:
        nafitha central appointments book MUH residence-certificate \\
            2026-12-08T09:30:00+03:00 --national-id 850100009
    """
    from central.appointments import book
    return book(_central(ctx), office.upper(), service, slot_start, national_id), \
        lambda b: click.echo(f"{b['shown']}  {b['slot_start']}  (QR: {b['qr']})")


@command(central_appointments, "cancel")
@click.argument("reference")
@NATIONAL_ID
def central_appointments_cancel(ctx, reference, national_id):
    """Cancel the booking REFERENCE (the national ID it was made with is needed).

    \b
    Example:
        nafitha central appointments cancel 7K3Q-W9XC --national-id 850100009
    """
    from central.appointments import cancel
    return cancel(_central(ctx), reference, national_id), None


@command(central_appointments, "bookings")
@click.argument("office")
@click.argument("day")
def central_appointments_bookings(ctx, office, day):
    """OFFICE's bookings on DAY, by slot, with what became of each (no personal data).

    \b
    Example:
        nafitha central appointments bookings MUH 2026-12-08
    """
    from central.appointments import bookings

    def human(rows):
        for r in rows:
            click.echo(f"{r['slot_start']}  {r['shown']}  {r['service_code']}  {r['state']}"
                       + (f"  ticket {r['ticket_number']}" if r["ticket_number"] else ""))
    return bookings(_central(ctx), office.upper(), day), human


def register(root: click.Group) -> None:
    root.add_command(appointments)
    central = root.commands.get("central")
    if central is not None:
        central.add_command(central_appointments)
