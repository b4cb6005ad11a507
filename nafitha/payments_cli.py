"""`nafitha pay`, `void`, `shift ...` and `report ...`: take and void fee payments, open and
close cashier shifts, and print their Z reports."""
from __future__ import annotations

import click

from core import money
from core.errors import InvalidState, ValidationError
from core.payments import METHODS
from nafitha.commands import Group, command, local_time, parse_money, supervisor_options


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
    p = ctx.office.payments.take(number, method, clerk or ctx.actor(), tendered_minor, reference)

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
    """Open, list and close cashier shifts: a clerk's, and each kiosk's card shift.

    \b
    Example:
        nafitha shift list --open
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
    tz = ctx.settings.tz
    return ctx.office.payments.open_shift(clerk or ctx.actor(), minor), lambda s: click.echo(
        f"shift {s['number']} open for {s['clerk']} since {local_time(s['opened_at'], tz)} "
        f"({tz.key}), float {money.format_amount(s['float_minor'], s['currency'])}")


def _z_human(tz):
    """The Z report as a clerk reads it, times in the office's zone."""
    def human(z):
        c = z["currency"]
        f = lambda m: money.format_amount(m, c) if m is not None else "-"  # noqa: E731
        click.echo(f"Z report  shift {z['shift']}  clerk {z['clerk']}")
        closed = local_time(z["closed_at"], tz) if z["closed_at"] else "(open)"
        click.echo(f"opened {local_time(z['opened_at'], tz)}  closed {closed}  ({tz.key})")
        click.echo(f"float            {f(z['float_minor'])}")
        for m, t in z["by_method"].items():
            click.echo(f"{m:<6} x{t['count']:<4}   {f(t['total_minor'])}")
        click.echo(f"total  x{z['payments']:<4}   {f(z['total_minor'])}")
        click.echo(f"voids  x{z['voids']['count']:<4}   {f(z['voids']['total_minor'])}")
        click.echo(f"expected cash    {f(z['expected_cash_minor'])}")
        click.echo(f"counted cash     {f(z['counted_minor'])}")
        click.echo(f"difference       {f(z['difference_minor'])}")
    return human


@command(shift, "close")
@click.argument("shift_ref", metavar="[SHIFT]", required=False)
@click.option("--clerk", help="Whose open shift (default: --user).")
@click.option("--kiosk", is_flag=False, flag_value="", default=None, metavar="[DEVICE]",
              help="A kiosk's card shift: the only one open, or the kiosk named (kiosk-1 at "
                   "a hub; none at a field office).")
@click.option("--counted", help="Cash counted in the drawer, e.g. 41.500 (a clerk's shift "
                                "needs it; a kiosk's holds no cash: 0).")
def shift_close(ctx, shift_ref, clerk, kiosk, counted):
    """Close a shift and print its Z report.

    The clerk's open shift (--clerk, default --user), a kiosk's card shift (--kiosk), or
    any open shift by its number or id (a leaver's, from `shift list`).

    A kiosk closes its own shift at the end of its day; this closes it by hand (the
    terminal could not be asked, the kiosk is out of service). Reconcile its card payments
    afterwards with `nafitha payments reconcile SHIFT`.

    \b
    Example:
        nafitha shift close --clerk sara --counted 41.500
        nafitha shift close --kiosk
        nafitha shift close 12 --counted 0
    """
    if sum(x is not None for x in (shift_ref, clerk, kiosk)) > 1:
        raise click.UsageError("name one shift: SHIFT, --clerk or --kiosk")
    minor = None
    if counted is not None:
        minor = 0 if counted.strip() in ("0", "0.000") else \
            parse_money(counted, "counted", ctx)
    payments = ctx.office.payments
    if kiosk is not None:
        shift_ref = payments.open_kiosk_shift(kiosk or None)["id"]
    if shift_ref is not None:
        z = payments.close_shift_by(shift_ref, minor, ctx.actor())
    else:
        z = payments.close_shift(clerk or ctx.actor(), minor)

    def human(z):
        _z_human(ctx.settings.tz)(z)
        if z["by_method"]["card"]["count"] and z["card_check"] is None:
            click.echo(f"reconcile its card payments with the terminal's report: nafitha "
                       f"payments reconcile {z['shift']} --report FILE (or --from-terminal)")
    return z, human


@command(shift, "list")
@click.option("--open", "open_only", is_flag=True, help="Only the shifts still open.")
@click.option("--day", metavar="YYYY-MM-DD",
              help="The shifts open at any time that day (the office's local date).")
@click.option("--limit", type=int, default=50, show_default=True,
              help="At most this many, the newest.")
def shift_list(ctx, open_only, day, limit):
    """List shifts with their payments by method.

    Each with its clerk (a kiosk's is kiosk or kiosk:DEVICE), opened and closed times in
    the office's zone, the payments taken by method and their total.

    \b
    Example:
        nafitha shift list --day 2026-11-24
    """
    rows = ctx.office.payments.shifts(open_only=open_only, day=day, limit=limit)
    tz = ctx.settings.tz

    def human(rows):
        if not rows:
            click.echo("no shifts" + (" open" if open_only else "")
                       + (f" on {day}" if day else ""))
            return
        click.echo(f"times in {tz.key}")
        for r in rows:
            def f(minor, currency=r["currency"]):
                return money.format_amount(minor, currency)
            closed = f"closed {local_time(r['closed_at'], tz)}" if r["closed_at"] else "open"
            click.echo(f"shift {r['shift']:<5} {r['clerk']:<20} opened "
                       f"{local_time(r['opened_at'], tz)}  {closed}")
            methods = "  ".join(f"{m} x{t['count']} {f(t['total_minor'])}"
                                for m, t in r["by_method"].items())
            click.echo(f"      {methods}  total {f(r['total_minor'])}"
                       + (f"  voids x{r['voids']}" if r["voids"] else "")
                       + (f"  difference {f(r['difference_minor'])}"
                          if r["difference_minor"] else ""))
    return rows, human


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
    return ctx.office.payments.z_report(shift_number), _z_human(ctx.settings.tz)


@click.group(cls=Group)
def payments():
    """Card payments against the terminal's own report: reconcile a shift, list disputes.

    \b
    Example:
        nafitha payments reconcile 3 --report batch.json
    """


def _reconciled_human(r):
    def f(item):
        amount = money.format_amount(item["amount_minor"], item["currency"])
        return f"{item.get('receipt') or item['terminal_ref']}  {amount}"
    click.echo(f"shift {r['shift']}  terminal {r['terminal_id']}  reconciled "
               f"{r['reconciled_at']} by {r['reconciled_by']}")
    click.echo(f"matched                {len(r['matched'])}")
    for kind, words in (("missing_from_terminal", "missing from the terminal (unconfirmed)"),
                        ("amount_differs", "amount differs"),
                        ("missing_from_office", "missing from the office"),
                        ("charged_but_voided", "charged but voided")):
        for item in r[kind]:
            extra = ""
            if item.get("terminal_amount_minor") is not None and kind == "amount_differs":
                extra = (f"  terminal says "
                         f"{money.format_amount(item['terminal_amount_minor'], item['currency'])}")
            if item.get("licence"):
                extra += f"  licence {item['licence']} issued on it"
            click.echo(f"FLAG {words}: {f(item)}{extra}")
    if r["other_terminals"]:  # not this report's to judge: listed in the disputes
        click.echo(f"other terminals        {r['other_terminals']}  (see payments disputes)")
    click.echo(f"differences            {r['differences']}")


@command(payments, "reconcile")
@click.argument("shift_number")
@click.option("--report", "report_file", type=click.File("r"),
              help="The terminal's batch report as JSON ({\"terminal_id\", \"entries\"}; "
                   "- reads stdin).")
@click.option("--from-terminal", is_flag=True,
              help="Ask this device's card terminal ([payment] settings) for its report.")
def payments_reconcile(ctx, shift_number, report_file, from_terminal):
    """Reconcile a closed shift's card payments against the card terminal's batch report.

    Every difference is flagged: a payment the terminal never approved is marked
    unconfirmed (no licence is issued on it; one already issued is named for the
    supervisor), an amount that differs, an approval the office has no payment for, an
    approval of a voided payment. A shift is reconciled once: the same report again gives
    the same answer, another one is refused.

    \b
    Example:
        nafitha payments reconcile 3 --report batch.json --json
    """
    if bool(report_file) == bool(from_terminal):
        raise click.UsageError("give the report: --report FILE or --from-terminal")
    if from_terminal:
        report = _terminal_report(ctx)
    else:
        import json
        try:
            report = json.load(report_file)
        except ValueError as exc:
            raise ValidationError(f"the terminal's batch report is malformed: not JSON "
                                  f"({exc})", field="report") from None
    return ctx.office.payments.reconcile_cards(shift_number, report, ctx.actor()), \
        _reconciled_human


def _terminal_report(ctx) -> dict:
    from devices.payment import PaymentTerminalError, open_terminal
    try:
        terminal = open_terminal(ctx.settings.payment)
        if terminal is None:
            raise InvalidState("this device has no card terminal (payment.transport = none)")
        with terminal:
            return terminal.batch_report()
    except PaymentTerminalError as exc:
        raise InvalidState(f"cannot get the terminal's batch report: {exc}") from None


@command(payments, "disputes")
def payments_disputes(ctx):
    """What a supervisor must look into: card payments the terminal's report did not
    confirm (with any licence issued on them), approvals with no payment or a voided one.

    \b
    Example:
        nafitha payments disputes --json
    """
    def human(d):
        for p in d["payments"]:
            amount = money.format_amount(p["amount_minor"], p["currency"])
            click.echo(f"{p['card_check']:<15} {p['receipt']}  {amount}  application "
                       f"{p['application_number']}  shift {p['shift']}"
                       + (f"  licence {p['licence']}" if p["licence"] else ""))
        for u in d["unrecorded_approvals"]:
            amount = money.format_amount(u["amount_minor"], u["currency"])
            click.echo(f"{u['kind']:<15} {u.get('receipt') or u['terminal_ref']}  {amount}  "
                       f"shift {u['shift']}")
        if not d["payments"] and not d["unrecorded_approvals"]:
            click.echo("no disputes")
    return ctx.office.payments.disputes(), human


def register(root: click.Group) -> None:
    root.add_command(payments)
    root.add_command(pay_cmd)
    root.add_command(void_cmd)
    root.add_command(shift)
    root.add_command(report)
