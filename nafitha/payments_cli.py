"""`nafitha pay`, `void`, `shift ...` and `report ...`: take and void fee payments, open and
close cashier shifts, and print their Z reports."""
from __future__ import annotations

import click

from core import money
from core.payments import METHODS
from nafitha.commands import Group, command, parse_money, supervisor_options


@command(None, "pay")
@click.argument("number")
@click.option("--method", type=click.Choice(METHODS), required=True)
@click.option("--tendered", help="Cash handed over, e.g. 2.000 (BHD has 3 decimals).")
@click.option("--reference", help="Card terminal or payment gateway reference.")
@click.option("--clerk", help="Whose shift takes the payment (default: --user).")
def pay_cmd(ctx, number, method, tendered, reference, clerk):
    """Pay the fee of application NUMBER.

    \b
    Example:
        nafitha pay MUH-D01-A2026-000001 --method cash --tendered 5.000
    """
    tendered_minor = parse_money(tendered, "tendered", ctx) if tendered is not None else None
    p = ctx.office.payments.take(number, method, clerk or ctx.user, tendered_minor, reference)

    def human(p):
        click.echo(f"receipt {p['receipt_number']}  paid "
                   f"{money.format_amount(p['amount_minor'], p['currency'])} by {p['method']}"
                   + (f"  change {money.format_amount(p['change_minor'], p['currency'])}"
                      if p["change_minor"] is not None else "")
                   + f"  application now {p['application_state']}")
    return p, human


@command(None, "void")
@click.argument("receipt")
@supervisor_options
@click.option("--reason", required=True)
def void_cmd(ctx, receipt, supervisor, pin, reason):
    """Void a payment (supervisor PIN and a reason required).

    \b
    Example:
        nafitha void MUH-D01-R0000001 --supervisor huda --reason "wrong service"
    """
    return ctx.office.payments.void(receipt, supervisor, pin, reason), None


@click.group(cls=Group)
def shift():
    """Open and close a cashier shift.

    \b
    Example:
        nafitha shift open --clerk sara --float 20.000
    """


@command(shift, "open")
@click.option("--clerk", help="Default: --user.")
@click.option("--float", "float_", default="0", show_default=True,
              help="Cash in the drawer at the start, e.g. 20.000.")
def shift_open(ctx, clerk, float_):
    """Open a shift with its float.

    \b
    Example:
        nafitha shift open --clerk sara --float 20.000
    """
    minor = 0 if float_.strip() in ("0", "0.000") else parse_money(float_, "float", ctx)
    return ctx.office.payments.open_shift(clerk or ctx.user, minor), None


def _z_human(z):
    c = z["currency"]
    f = lambda m: money.format_amount(m, c) if m is not None else "-"  # noqa: E731
    click.echo(f"Z report  shift {z['shift']}  clerk {z['clerk']}")
    click.echo(f"opened {z['opened_at']}  closed {z['closed_at'] or '(open)'}")
    click.echo(f"float            {f(z['float_minor'])}")
    for m, t in z["by_method"].items():
        click.echo(f"{m:<6} x{t['count']:<4}   {f(t['total_minor'])}")
    click.echo(f"total  x{z['payments']:<4}   {f(z['total_minor'])}")
    click.echo(f"voids  x{z['voids']['count']:<4}   {f(z['voids']['total_minor'])}")
    click.echo(f"expected cash    {f(z['expected_cash_minor'])}")
    click.echo(f"counted cash     {f(z['counted_minor'])}")
    click.echo(f"difference       {f(z['difference_minor'])}")


@command(shift, "close")
@click.option("--clerk", help="Default: --user.")
@click.option("--counted", required=True, help="Cash counted in the drawer, e.g. 41.500.")
def shift_close(ctx, clerk, counted):
    """Close the clerk's shift with the counted cash; prints the Z report.

    \b
    Example:
        nafitha shift close --clerk sara --counted 41.500
    """
    minor = 0 if counted.strip() in ("0", "0.000") else parse_money(counted, "counted", ctx)
    return ctx.office.payments.close_shift(clerk or ctx.user, minor), _z_human


@click.group(cls=Group)
def report():
    """Reports.

    \b
    Example:
        nafitha report z 1
    """


@command(report, "z")
@click.argument("shift_number")
def report_z(ctx, shift_number):
    """The Z report of a shift (by number or id).

    \b
    Example:
        nafitha report z 1 --json
    """
    return ctx.office.payments.z_report(shift_number), _z_human


def register(root: click.Group) -> None:
    root.add_command(pay_cmd)
    root.add_command(void_cmd)
    root.add_command(shift)
    root.add_command(report)
