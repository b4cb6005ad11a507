"""`nafitha apply`, `nafitha application ...`, `approve` and `reject`: submit applications
for a service, look them up, and decide those that need review."""
from __future__ import annotations

import click

from core import money
from core.errors import NafithaError
from nafitha.commands import Group, command, local_time, supervisor_options


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
    """Show an application by number or id: its state, fee, times in the office's time zone
    and the form as filled (--json: the stored record, times in UTC).

    \b
    Example:
        nafitha application show MUH-D01-A2026-000001
    """
    app = ctx.office.applications.get(number)
    try:  # the form's fields in the form's order (stored, they are sorted by key)
        order = [f.key for f in ctx.office.catalog.get(app["service_code"]).fields]
    except NafithaError:
        order = []
    return app, lambda a: click.echo(_application_lines(a, ctx.settings.tz, order))


def _application_lines(a: dict, tz, order: list[str]) -> str:
    """An application as people read it: the fee as money, local times with the zone's
    name, nothing empty, the form's fields one a line in the form's order."""
    zone = getattr(tz, "key", str(tz))
    lines = [f"application  {a['number']}  ({a['service_code']}, "
             f"{'issued on the spot' if a['issue_mode'] == 'instant' else 'reviewed'})",
             f"state        {a['state']}",
             f"fee          {money.format_amount(a['fee_minor'], a['currency'])}"]
    for label, key in (("submitted", "submitted_at"), ("paid", "paid_at"),
                       ("decided", "decided_at")):
        if a.get(key):
            lines.append(f"{label:<12} {local_time(a[key], tz)} ({zone})")
    for label, key in (("decided by", "decided_by"), ("reason", "reason"),
                       ("conditions", "conditions"), ("ticket", "ticket_id")):
        if a.get(key):
            lines.append(f"{label:<12} {a[key]}")
    lines.append("form")
    fields = a.get("fields") or {}
    keys = [k for k in order if k in fields] + sorted(k for k in fields if k not in order)
    lines += [f"  {key:<14} {fields[key]}" for key in keys if fields[key] not in (None, "")]
    return "\n".join(lines)


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
