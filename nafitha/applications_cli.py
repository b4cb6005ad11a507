"""`nafitha apply`, `nafitha application ...`, `approve` and `reject`: submit applications
for a service, look them up, and decide those that need review."""
from __future__ import annotations

import click

from core import money
from nafitha.commands import Group, command, supervisor_options


def _parse_fields(pairs):
    fields = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not key=value", param_hint="--field")
        fields[key.strip()] = value
    return fields


def _application_line(a):
    click.echo(f"{a['number']}  {a['state']}  {a['service_code']}  fee "
               f"{money.format_amount(a['fee_minor'], a['currency'])}")


@command(None, "apply")
@click.argument("service")
@click.option("--field", "-f", "pairs", multiple=True, metavar="KEY=VALUE",
              help="A form field (repeat). See `nafitha catalog show SERVICE`.")
@click.option("--ticket", help="The resident's queue ticket.")
def apply_cmd(ctx, service, pairs, ticket):
    """Submit an application for SERVICE; the fee is fixed now.

    \b
    Example:
        nafitha apply residence-certificate -f full_name="Ali Hasan" \\
            -f national_id=850101239 -f phone=33123456 -f block=204 -f road=15 -f building=12
    """
    with ctx.office.acting_as(ctx.actor()):
        return ctx.office.applications.submit(service, _parse_fields(pairs), ticket), \
            _application_line


@click.group(cls=Group)
def application():
    """Look up applications.

    \b
    Example:
        nafitha application show MUH-D01-A2026-000001
    """


@command(application, "show")
@click.argument("number")
def application_show(ctx, number):
    """Show an application by number or id.

    \b
    Example:
        nafitha application show MUH-D01-A2026-000001
    """
    return ctx.office.applications.get(number), None


@command(application, "list")
@click.option("--national-id", help="Only this resident's applications.")
@click.option("--state", help="Only applications in this state.")
def application_list(ctx, national_id, state):
    """Recent applications, newest first.

    \b
    Example:
        nafitha application list --state submitted
    """
    rows = ctx.office.applications.find(national_id, state)
    return rows, lambda rows: [_application_line(a) for a in rows]


@command(None, "approve")
@click.argument("number")
@click.option("--reason", help="Note kept with the decision.")
@click.option("--conditions", help="Conditions printed on and signed into the licence.")
@supervisor_options
def approve_cmd(ctx, number, reason, conditions, supervisor, pin):
    """Approve an application that needed review (a supervisor's PIN required).

    \b
    Example:
        nafitha approve MUH-D01-A2026-000002 --supervisor huda
    """
    with ctx.office.as_supervisor(supervisor, pin):
        return ctx.office.applications.approve(number, reason, conditions), _application_line


@command(None, "reject")
@click.argument("number")
@click.option("--reason", required=True, help="Why (shown to the resident).")
@supervisor_options
def reject_cmd(ctx, number, reason, supervisor, pin):
    """Reject an application, with a reason (a supervisor's PIN required).

    \b
    Example:
        nafitha reject MUH-D01-A2026-000002 --reason "Area exceeds the parcel" --supervisor huda
    """
    with ctx.office.as_supervisor(supervisor, pin):
        return ctx.office.applications.reject(number, reason), _application_line


def register(root: click.Group) -> None:
    root.add_command(apply_cmd)
    root.add_command(application)
    root.add_command(approve_cmd)
    root.add_command(reject_cmd)
