"""`nafitha`: the command line mirrors core's Python API (sqlite-utils style).

Every command takes --json; every --help ends with an example; errors are one clear line on
stderr and exit status 1 (2 for usage errors), and change nothing."""
from __future__ import annotations

import functools
import inspect
import json
import os
import sys
from pathlib import Path

import click

from core import money
from core.errors import NafithaError
from core.settings import load_settings

PRIORITIES = ("elderly", "disabled", "pregnant")


class ExampleLast:
    """Moves the docstring's 'Example:' block to the epilog, so --help ends with it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        text = inspect.cleandoc(self.help or "")
        if "\b\nExample:" in text and not self.epilog:
            help_text, _, example = text.partition("\b\nExample:")
            self.help = help_text.rstrip()
            self.epilog = "\b\nExample:" + example


class Command(ExampleLast, click.Command):
    pass


class Group(ExampleLast, click.Group):
    command_class = Command


Group.group_class = Group


class Context:
    def __init__(self, data, config, user):
        self.data, self.config, self.user = data, config, user
        self._settings = None
        self._office = None
        self.clock = None  # the core clock (None: the system's); the kiosk's pilot freezes it

    @property
    def settings(self):
        if self._settings is None:
            self._settings = load_settings(self.data, self.config)
        return self._settings

    @property
    def office(self):
        if self._office is None:
            from core.office import Office
            self._office = Office.open(self.settings, clock=self.clock)
        return self._office


def emit(value, as_json: bool, human=None) -> None:
    if as_json:
        click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))
    elif human is not None:
        human(value)
    else:
        _print_plain(value)


def _print_plain(value, indent: str = "") -> None:
    if isinstance(value, list):
        for item in value:
            _print_plain(item, indent)
            if isinstance(item, dict):
                click.echo()
    elif isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                click.echo(f"{indent}{k}:")
                _print_plain(v, indent + "  ")
            else:
                click.echo(f"{indent}{k}: {'' if v is None else v}")
    else:
        click.echo(f"{indent}{value}")


def command(group, name=None, **kwargs):
    """A subcommand with --json and clean error handling."""
    def decorate(fn):
        @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
        @click.pass_obj
        @functools.wraps(fn)
        def wrapper(ctx: Context, *args, as_json=False, **kw):
            try:
                result, human = fn(ctx, *args, **kw)
            except NafithaError as exc:
                if as_json:
                    click.echo(json.dumps(exc.to_dict(), ensure_ascii=False))
                click.echo(f"Error: {exc.message}", err=True)
                sys.exit(1)
            emit(result, as_json, human)
        return group.command(name, **kwargs)(wrapper)
    return decorate


def parse_money(text: str, field: str, ctx: Context, currency: str = "BHD") -> int:
    return money.parse_amount(text, currency, field, ctx.settings.validation.max_amount_minor)


# ----------------------------------------------------------------------------------------------
@click.group(cls=Group,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--data", type=click.Path(file_okay=False), envvar="NAFITHA_DATA",
              help="Data directory (default: $XDG_DATA_HOME/nafitha, i.e. "
                   "~/.local/share/nafitha).")
@click.option("--config", type=click.Path(dir_okay=False), envvar="NAFITHA_CONFIG",
              help="Settings file (default: nafitha.toml in the data directory).")
@click.option("--user", default="admin", envvar="NAFITHA_USER", show_default=True,
              help="Who is acting (recorded in the audit log).")
@click.version_option(package_name="nafitha")
@click.pass_context
def cli(click_ctx, data, config, user):
    """Nafitha: the service-centre appliance (kiosk, counter, local store, sync).

    \b
    Example:
        nafitha --data ./data init
        nafitha --data ./data ticket take residence-certificate
    """
    click_ctx.obj = Context(data, config, user)
    click_ctx.call_on_close(lambda: click_ctx.obj._office and click_ctx.obj._office.close())


DEFAULT_CONFIG = """\
# Nafitha settings. Environment variables override these: NAFITHA_OFFICE__CODE=...
[office]
code = "{code}"
name_ar = "{name_ar}"
name_en = "{name_en}"
timezone = "{tz}"

[device]
id = "{device}"

[queue]
call_limit = 3
number_start = 1
number_end = 999
priority_head_start_minutes = 10
"""


@command(cli, "init")
def init_cmd(ctx):
    """Create the data directory, its settings file and the store.

    \b
    Example:
        nafitha --data ./data init
    """
    settings = ctx.settings
    config = settings.data_dir / "nafitha.toml"
    office = ctx.office  # creates the directory and the store
    created = False
    if not ctx.config and not config.exists():
        o = settings.office
        config.write_text(DEFAULT_CONFIG.format(code=o.code, name_ar=o.name_ar,
                                                name_en=o.name_en, tz=o.timezone,
                                                device=settings.device.id), encoding="utf-8")
        created = True
    return ({"data_dir": str(settings.data_dir), "database": str(office.store.path),
             "config": str(config), "config_created": created,
             "office": settings.office.code, "device": settings.device.id,
             "services": len(office.catalog)}, None)


# --- catalogue -----------------------------------------------------------------------------
@cli.group()
def catalog():
    """The services offered (assets/catalog/).

    \b
    Example:
        nafitha catalog list
    """


def _catalog(ctx):
    from core.catalog import load_catalog
    return load_catalog(ctx.settings.catalog_dir)


@command(catalog, "list")
def catalog_list(ctx):
    """List services with prefix, fee and how they are issued.

    \b
    Example:
        nafitha catalog list --json
    """
    services = [s.to_dict() for s in _catalog(ctx)]

    def human(rows):
        for s in rows:
            fee = s["fee"]["display"] or f"amount due ({s['fee']['from_field']})"
            click.echo(f"{s['prefix']:<3} {s['code']:<34} {fee:<14} {s['issue']:<8} "
                       f"{s['name']['en']} / {s['name']['ar']}")
    return services, human


@command(catalog, "show")
@click.argument("service")
def catalog_show(ctx, service):
    """Show one service: fee, documents to bring and form fields.

    \b
    Example:
        nafitha catalog show building-permit-small
    """
    return _catalog(ctx).get(service).to_dict(), None


# --- queue ---------------------------------------------------------------------------------
@cli.group()
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
def ticket_take(ctx, service, priority):
    """Take a ticket for SERVICE (code or prefix).

    \b
    Example:
        nafitha ticket take residence-certificate
    """
    with ctx.office.acting_as(ctx.user):
        t = ctx.office.queue.take_ticket(service, priority)

    def human(t):
        click.echo(f"{t['number']}  {t['service_code']}  ahead: {t['people_ahead']}  "
                   f"wait: ~{t['estimated_wait_minutes']} min")
    return t, human


@cli.group()
def queue():
    """Serve the queue: list, call, recall, park, resume, no-show, transfer, finish.

    \b
    Example:
        nafitha queue call --counter 3
    """


def _ticket_line(t):
    click.echo(f"{t['number']:<6} {t['state']:<9} {t['service_code']:<32} "
               f"counter {t['counter'] or '-':<4} {t['priority'] or ''}")


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
    return rows, lambda rows: [_ticket_line(t) for t in rows] or click.echo("nobody waiting")


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
    with ctx.office.acting_as(ctx.user):
        t = ctx.office.queue.call_next(counter, list(services) or None)
    if t is None:
        return None, lambda _: click.echo("nobody waiting")
    return t, _ticket_line


def _ticket_command(name, method, doc, counter_help=None):
    """A queue command on one TICKET; with counter_help, it also takes an optional
    --counter passed on to the method."""
    def cmd(ctx, ticket, **counter):
        with ctx.office.acting_as(ctx.user):
            return getattr(ctx.office.queue, method)(ticket, **counter), _ticket_line
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
    with ctx.office.acting_as(ctx.user):
        return ctx.office.queue.transfer(ticket, service), _ticket_line


@command(queue, "stats")
@click.option("--day", help="Local date YYYY-MM-DD (default: today).")
def queue_stats(ctx, day):
    """Today's KPIs: tickets by state, mean wait and service time, no-show rate.

    \b
    Example:
        nafitha queue stats --json
    """
    return ctx.office.queue.stats(day), None


# --- applications ----------------------------------------------------------------------------
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


@command(cli, "apply")
@click.argument("service")
@click.option("--field", "-f", "pairs", multiple=True, metavar="KEY=VALUE",
              help="A form field (repeat). See `nafitha catalog show SERVICE`.")
@click.option("--ticket", help="The resident's queue ticket.")
def apply_cmd(ctx, service, pairs, ticket):
    """Submit an application for SERVICE; the fee is fixed now.

    \b
    Example:
        nafitha apply residence-certificate -f full_name="Ali Hasan" \\
            -f national_id=850101234 -f phone=33123456 -f block=204 -f road=15 -f building=12
    """
    with ctx.office.acting_as(ctx.user):
        return ctx.office.applications.submit(service, _parse_fields(pairs), ticket), \
            _application_line


@cli.group()
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


@command(cli, "approve")
@click.argument("number")
@click.option("--reason", help="Note kept with the decision.")
@click.option("--conditions", help="Conditions printed on and signed into the licence.")
def approve_cmd(ctx, number, reason, conditions):
    """Approve an application that needed review.

    \b
    Example:
        nafitha approve MUH-D01-A2026-000002
    """
    with ctx.office.acting_as(ctx.user):
        return ctx.office.applications.approve(number, reason, conditions), _application_line


@command(cli, "reject")
@click.argument("number")
@click.option("--reason", required=True, help="Why (shown to the resident).")
def reject_cmd(ctx, number, reason):
    """Reject an application, with a reason.

    \b
    Example:
        nafitha reject MUH-D01-A2026-000002 --reason "Area exceeds the parcel"
    """
    with ctx.office.acting_as(ctx.user):
        return ctx.office.applications.reject(number, reason), _application_line


# --- payments ------------------------------------------------------------------------------
@command(cli, "pay")
@click.argument("number")
@click.option("--method", type=click.Choice(("cash", "card", "online")), required=True)
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


@command(cli, "void")
@click.argument("receipt")
@click.option("--supervisor", required=True, help="The supervisor authorising the void.")
@click.option("--pin", prompt="Supervisor PIN", hide_input=True, envvar="NAFITHA_SUPERVISOR_PIN",
              help="The supervisor's PIN (prompted if not given).")
@click.option("--reason", required=True)
def void_cmd(ctx, receipt, supervisor, pin, reason):
    """Void a payment (supervisor PIN and a reason required).

    \b
    Example:
        nafitha void MUH-D01-R0000001 --supervisor huda --reason "wrong service"
    """
    return ctx.office.payments.void(receipt, supervisor, pin, reason), None


@cli.group()
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


@cli.group()
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


# --- licences ------------------------------------------------------------------------------
def _licence_line(lic):
    click.echo(f"{lic['number']}  {lic['holder_name']}  valid until {lic['valid_until'][:10]}"
               + (f"  REVOKED ({lic['revoke_reason']})" if lic["revoked_at"] else ""))


@command(cli, "issue")
@click.argument("number")
@click.option("--print", "and_print", is_flag=True,
              help="Queue the licence for printing in the same transaction, then print it.")
def issue_cmd(ctx, number, and_print):
    """Issue the licence of an approved, paid application.

    \b
    Example:
        nafitha issue MUH-D01-A2026-000001 --print
    """
    with ctx.office.acting_as(ctx.user):
        lic = ctx.office.licences.issue(number)
        job = ctx.office.printing.enqueue("licence", lic["id"]) if and_print else None
    if job is None:
        return lic, _licence_line
    printed, human = _print_and_report(ctx, job)
    return {**lic, "print_job": printed}, lambda r: (_licence_line(r), human(r["print_job"]))


@cli.group()
def licence():
    """Show or revoke licences.

    \b
    Example:
        nafitha licence show MUH-2026-D01-000001
    """


@command(licence, "show")
@click.argument("number")
def licence_show(ctx, number):
    """Show a licence.

    \b
    Example:
        nafitha licence show MUH-2026-D01-000001
    """
    return ctx.office.licences.get(number), None


@command(licence, "revoke")
@click.argument("number")
@click.option("--reason", required=True)
def licence_revoke(ctx, number, reason):
    """Revoke a licence, with a reason.

    \b
    Example:
        nafitha licence revoke MUH-2026-D01-000001 --reason "issued in error"
    """
    with ctx.office.acting_as(ctx.user):
        return ctx.office.licences.revoke(number, reason), _licence_line


# --- users, audit, outbox --------------------------------------------------------------------
@cli.group()
def user():
    """Local accounts for a stand-alone office.

    \b
    Example:
        nafitha user add huda --role supervisor
    """


@command(user, "add")
@click.argument("username")
@click.option("--role", type=click.Choice(("clerk", "supervisor")), default="clerk",
              show_default=True)
@click.option("--pin", prompt=True, hide_input=True, confirmation_prompt=True,
              envvar="NAFITHA_NEW_PIN", help="4-8 digits (prompted if not given).")
def user_add(ctx, username, role, pin):
    """Create a local account.

    \b
    Example:
        nafitha user add sara --role clerk
    """
    with ctx.office.acting_as(ctx.user):
        return ctx.office.users.create(username, role, pin), None


@command(user, "list")
def user_list(ctx):
    """List local accounts.

    \b
    Example:
        nafitha user list
    """
    return ctx.office.users.list(), None


class AuditBroken(NafithaError):
    code = "audit_broken"


@cli.group()
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
        raise AuditBroken(f"audit log is NOT intact: " + "; ".join(result["problems"]),
                          problems=result["problems"], entries=result["entries"])
    return result, lambda r: click.echo(f"audit log intact: {r['entries']} entries")


@cli.group()
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


# --- keys and verification ---------------------------------------------------------------------
@cli.group()
def keys():
    """Licence-signing keys: the root ceremony, device certificates, revocations (docs/keys.md).

    \b
    Example:
        nafitha keys status
    """


def _now() -> int:
    import time
    return int(time.time())


def _read_bytes(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise click.BadParameter(f"{path}: {exc.strerror}", param_hint=what)


@command(keys, "init-root")
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Folder for root.key (keep it offline) and root.pub (give to every device).")
def keys_init_root(ctx, out):
    """Create the municipality's root key (offline ceremony, once).

    \b
    Example:
        nafitha keys init-root --out /media/root-usb
    """
    from core.credentials import ceremony
    return ceremony.init_root(Path(out)), None


@command(keys, "request")
@click.option("--out", type=click.Path(dir_okay=False), help="Write the request here.")
def keys_request(ctx, out):
    """Create this device's signing key (once) and a certificate request for the root.

    \b
    Example:
        nafitha --data ./data keys request --out d01.request.json
    """
    from core.credentials import ceremony
    s = ctx.settings
    req = ceremony.request(s.data_dir, s.device.id, s.office.code)
    if out:
        Path(out).write_text(json.dumps(req, indent=2), encoding="utf-8")
    return req, None


@command(keys, "certify")
@click.argument("request_file", type=click.Path(dir_okay=False))
@click.option("--root-key", required=True, type=click.Path(dir_okay=False))
@click.option("--types", help="Licence types it may issue, comma-separated "
              "(default: every type in the catalogue).")
@click.option("--sign-days", default=365, show_default=True,
              help="How long the device may sign.")
@click.option("--valid-days", default=3650, show_default=True,
              help="How much longer its licences stay verifiable (the longest licence).")
@click.option("--serial", default=1, show_default=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False))
def keys_certify(ctx, request_file, root_key, types, sign_days, valid_days, serial, out):
    """Sign a device's certificate with the root key (offline ceremony).

    \b
    Example:
        nafitha keys certify d01.request.json --root-key /media/root-usb/root.key --out d01.cert
    """
    from core.credentials import ceremony, keys as k
    req = ceremony.parse_request(_read_bytes(request_file, "REQUEST_FILE").decode("utf-8", "replace"))
    type_list = [t.strip() for t in types.split(",") if t.strip()] if types else \
        [s.licence_type for s in _catalog(ctx)]
    cert = ceremony.certify(k.read_private(Path(root_key)), req, type_list, _now(), sign_days,
                            valid_days, serial)
    Path(out).write_bytes(cert.to_bytes())
    return cert.to_dict(), None


@command(keys, "install")
@click.argument("cert_file", type=click.Path(dir_okay=False))
@click.option("--root", "root_pub", required=True, type=click.Path(dir_okay=False),
              help="The municipality's root.pub.")
def keys_install(ctx, cert_file, root_pub):
    """Install this device's certificate and trust the root key.

    \b
    Example:
        nafitha --data ./data keys install d01.cert --root root.pub
    """
    from core.credentials import ceremony, keys as k
    cert = ceremony.install(ctx.settings.data_dir, _read_bytes(cert_file, "CERT_FILE"),
                            k.read_public(Path(root_pub)))
    return cert.to_dict(), None


@command(keys, "trust-root")
@click.argument("root_pub", type=click.Path(dir_okay=False))
def keys_trust_root(ctx, root_pub):
    """Trust a root public key (a verifier that issues nothing needs only this).

    \b
    Example:
        nafitha --data ./inspector keys trust-root root.pub
    """
    from core.credentials import keys as k
    from core.credentials.trust import TrustStore
    kid = TrustStore.load(ctx.settings.data_dir).add_root(k.read_public(Path(root_pub)))
    return {"trusted_root": kid.hex()}, None


@command(keys, "revoke")
@click.option("--root-key", required=True, type=click.Path(dir_okay=False))
@click.option("--licence", "licences", multiple=True, help="A licence number (repeat).")
@click.option("--device", "devices", multiple=True, metavar="ID@ISO-TIME",
              help="A compromised device and since when, e.g. D07@2026-11-20T09:00:00+03:00.")
@click.option("--base", type=click.Path(dir_okay=False), help="The current list, to extend.")
@click.option("--out", required=True, type=click.Path(dir_okay=False))
def keys_revoke(ctx, root_key, licences, devices, base, out):
    """Make a new signed revocation list (offline ceremony, or central).

    \b
    Example:
        nafitha keys revoke --root-key root.key --licence MUH-2026-D01-000007 --out rl.cose
    """
    from datetime import datetime
    from core.credentials import ceremony, cose, keys as k, revocation
    from core.errors import ValidationError
    compromised = {}
    for item in devices:
        device, _, since = item.partition("@")
        try:
            moment = datetime.fromisoformat(since)
        except ValueError:
            moment = None
        if not device or moment is None or moment.tzinfo is None:
            raise ValidationError(f"--device {item!r}: use ID@ISO-TIME with a time zone",
                                  field="device")
        compromised[device] = int(moment.timestamp())
    try:
        base_list = revocation.parse_bytes(_read_bytes(base, "--base")) if base else None
    except cose.FormatError as exc:
        raise ValidationError(f"--base {base}: {exc}", field="base")
    rl = ceremony.revoke(k.read_private(Path(root_key)), 1, _now(), list(licences),
                         compromised, base_list)
    Path(out).write_bytes(rl.to_bytes())
    return rl.to_dict(), None


@command(keys, "trust-revocations")
@click.argument("list_file", type=click.Path(dir_okay=False))
def keys_trust_revocations(ctx, list_file):
    """Install a newer revocation list (checked against the trusted roots first).

    \b
    Example:
        nafitha --data ./data keys trust-revocations rl.cose
    """
    from core.credentials.trust import TrustStore
    rl = TrustStore.load(ctx.settings.data_dir).install_revocations(
        _read_bytes(list_file, "LIST_FILE"))
    return rl.to_dict(), None


@command(keys, "demo")
def keys_demo(ctx):
    """Give this device a demonstration root and certificate, so it can sign licences
    without a ceremony: for `make run` and developers' machines, never a real office (a
    licence it signs is genuine only where this demo root is trusted). Does nothing if the
    device already has a certificate.

    \b
    Example:
        nafitha --data ./data keys demo
    """
    import time as _time

    from core.credentials import ceremony, keys as key_files
    from core.credentials.trust import device_cert_path
    s = ctx.settings
    if device_cert_path(s.data_dir).exists():
        return {"installed": False, "reason": "this device already has a certificate"}, None
    demo = s.data_dir / "demo-root"
    if not (demo / "root.key").exists():
        ceremony.init_root(demo)
    root = key_files.read_private(demo / "root.key")
    cert = ceremony.setup_device(s.data_dir, root, s.device.id, s.office.code,
                                 [svc.licence_type for svc in ctx.office.catalog],
                                 int(_time.time()))
    return {"installed": True, "root": str(demo / "root.pub"), "device": cert.device_id,
            "licence_types": list(cert.licence_types)}, None


@command(keys, "status")
def keys_status(ctx):
    """This device's certificate, trusted roots and revocation list.

    \b
    Example:
        nafitha --data ./data keys status --json
    """
    from core.credentials.trust import DeviceSigner, TrustStore
    s = ctx.settings
    signer = DeviceSigner.load(s.data_dir, s.device.id, s.office.code)
    trust = TrustStore.load(s.data_dir)
    rl = trust.revocations
    return {"device": s.device.id, "office": s.office.code,
            "can_sign": signer is not None,
            "certificate": signer.cert.to_dict() if signer else None,
            "trusted_roots": [kid.hex() for kid in trust.roots],
            "revocation_list": ({"number": rl.number, "issued_at": rl.issued_at,
                                 "age_seconds": _now() - rl.issued_at,
                                 "licences": len(rl.licences), "devices": len(rl.devices)}
                                if rl else None)}, None


@cli.command("verify")
@click.argument("text", required=False)
@click.option("--image", type=click.Path(dir_okay=False),
              help="A photo or scan of a printed licence instead of TEXT.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def verify_cmd(ctx, text, image, as_json):
    """Check whether a licence QR text is genuine, offline, with the trusted root keys.

    Exit status: 0 genuine, 1 not genuine (the reason is printed), 2 usage error.

    \b
    Example:
        nafitha --data ./data verify "NF1:6BFOXN..." --json
    """
    from core.credentials.licence import verify
    from core.credentials.trust import TrustStore
    if (text is None) == (image is None):
        raise click.UsageError("give either TEXT or --image FILE")
    try:
        if image:
            from devices.scanning.decoders import DecoderChain, read_image
            try:
                frame = read_image(image)
            except ValueError as exc:
                raise click.UsageError(f"not an image: {exc}")
            codes = [c.text for c in DecoderChain(formats="qr").decode(frame) if c.text]
            if not codes:
                raise click.UsageError(f"no QR code found in {image}")
            text = codes[0]
        result = verify(text, TrustStore.load(ctx.settings.data_dir))
    except NafithaError as exc:
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(2)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(("GENUINE: " if result.valid else "NOT GENUINE: ") + result.message +
                   (f" ({result.detail})" if result.detail else ""))
        c = result.claims
        if c:
            from datetime import datetime, timezone
            day = lambda t: datetime.fromtimestamp(t, timezone.utc).date().isoformat()  # noqa
            click.echo(f"licence {c['number']} ({c['type']})  holder {c['holder']}")
            click.echo(f"issued {day(c['issued_at'])} by {c['office']}  "
                       f"valid until {day(c['valid_until'])}")
            if c["address"]:
                click.echo(", ".join(f"{part} {value}" for part, value in c["address"].items()))
            if c.get("conditions"):
                click.echo(f"conditions: {c['conditions']}")
    sys.exit(0 if result.valid else 1)


# --- printing ------------------------------------------------------------------------------
class DeviceProblem(NafithaError):
    code = "device_problem"


def _transport(ctx):
    import dataclasses
    from devices.printing.transports import PrinterError, open_transport
    try:
        return open_transport(dataclasses.asdict(ctx.settings.printer), ctx.settings.data_dir)
    except PrinterError as exc:
        raise DeviceProblem(str(exc))


def _check_shaping():
    from devices.printing.render import ShapingUnavailable, check_shaping
    try:
        check_shaping()
    except ShapingUnavailable as exc:
        raise DeviceProblem(str(exc))


def _print_and_report(ctx, job) -> tuple[dict, object]:
    """Run this device's printer worker until the queue is empty (or 10 s), then report."""
    from devices.printing.transports import PrinterError
    from devices.printing.worker import PrintWorker
    _check_shaping()

    def unavailable(message):
        # The job is safe in the store: say so, and that it prints when the printer can.
        return ({**ctx.office.printing.get(job["id"]), "printer_error": message},
                lambda j: click.echo(f"queued as job {j['seq']}; printer unavailable: "
                                     f"{j['printer_error']} (it prints when the printer is back)"))
    try:
        transport = _transport(ctx)
    except DeviceProblem as exc:
        return unavailable(exc.message)
    try:
        worker = PrintWorker(ctx.office, transport)
        worker.drain(timeout_s=10)
    except PrinterError as exc:
        return unavailable(str(exc))
    finally:
        transport.close()
    row = ctx.office.printing.get(job["id"])
    waiting = worker.status.waiting_for

    def human(j):
        if j["state"] == "done":
            click.echo(f"printed job {j['seq']} ({j['kind']}{', COPY' if j['copy'] else ''}, "
                       f"{j['bytes']} bytes)")
        else:
            click.echo(f"job {j['seq']} is {j['state']}: {j['last_error'] or waiting or ''}")
    return {**row, "waiting_for": waiting}, human


@cli.group()
def printer():
    """The receipt and licence printer (docs/printing.md).

    \b
    Example:
        nafitha printer status
    """


@command(printer, "status")
def printer_status(ctx):
    """Ask the printer how it is (online, paper) and count the jobs waiting.

    \b
    Example:
        nafitha printer status --json
    """
    import dataclasses
    p = ctx.settings.printer
    pending = len(ctx.office.printing.jobs(("pending", "printing")))
    try:
        transport = _transport(ctx)
    except DeviceProblem as exc:
        return {"transport": p.transport, "available": False, "error": str(exc),
                "pending_jobs": pending}, None
    try:
        status = transport.status()
    finally:
        transport.close()
    return {"transport": p.transport, "available": True, **dataclasses.asdict(status),
            "ready": status.ready, "pending_jobs": pending}, None


@command(printer, "test")
def printer_test(ctx):
    """Print a test ticket straight away (not queued).

    \b
    Example:
        nafitha printer test
    """
    from devices.printing.escpos_encode import raster_job
    from devices.printing.render import render
    from devices.printing.transports import PrinterError
    _check_shaping()
    o = ctx.settings.office
    sample = {"office_ar": o.name_ar, "office_en": o.name_en, "timezone": o.timezone,
              "number": "T000", "service_ar": "اختبار الطابعة", "service_en": "Printer test",
              "taken_at": ctx.office.store.now(), "people_ahead": 0,
              "estimated_wait_minutes": 0, "priority": None, "qr_text": "NFT:TEST:PRINTER"}
    image = render("ticket", sample, ctx.settings.printer.language,
                   ctx.settings.printer.width_dots)
    payload = raster_job(image, ctx.settings.printer.profile)
    transport = _transport(ctx)
    try:
        transport.send(payload, "test", image)
    except PrinterError as exc:
        raise DeviceProblem(str(exc))
    finally:
        transport.close()
    return {"printed": True, "bytes": len(payload), "transport": ctx.settings.printer.transport}, \
        None


@command(printer, "jobs")
@click.option("--state", "states", multiple=True,
              type=click.Choice(("pending", "printing", "done", "failed", "expired")))
def printer_jobs(ctx, states):
    """Recent print jobs, newest first.

    \b
    Example:
        nafitha printer jobs --state pending
    """
    rows = ctx.office.printing.jobs(tuple(states) or None)

    def human(rows):
        for j in rows:
            click.echo(f"{j['seq']:>5} {j['kind']:<8} {j['state']:<8} attempts {j['attempts']} "
                       f"{'COPY ' if j['copy'] else ''}{j['last_error'] or ''}")
    return rows, human


@cli.group("print")
def print_group():
    """Print a ticket, receipt, licence or Z report (queued durably, then printed).

    \b
    Example:
        nafitha print licence MUH-2026-D01-000001
    """


def _print_command(kind, ref_help, example):
    @command(print_group, kind.replace("_", "-"), help=inspect.cleandoc(f"""
        Print the {kind.replace('_', ' ')} {ref_help}.

        With --preview FILE.png only draw it to FILE.png (nothing is queued or printed).

        \b
        Example:
            {example}
        """))
    @click.argument("ref")
    @click.option("--lang", type=click.Choice(("ar", "en")), help="First language "
                  "(default: printer.language).")
    @click.option("--preview", type=click.Path(dir_okay=False), help="Write a PNG instead.")
    def cmd(ctx, ref, lang, preview):
        from core import documents
        from devices.printing.render import render
        _check_shaping()
        if preview:
            ref_id = ctx.office.printing._resolve(kind, ref)
            image = render(kind, documents.build(ctx.office, kind, ref_id),
                           lang or ctx.settings.printer.language,
                           ctx.settings.printer.width_dots)
            image.save(preview)
            return {"preview": preview, "width": image.width, "height": image.height}, None
        job = ctx.office.printing.enqueue(kind, ref, lang)
        return _print_and_report(ctx, job)
    return cmd


_print_command("ticket", "TICKET (number or id)", "nafitha print ticket R007")
_print_command("receipt", "RECEIPT (number or id)", "nafitha print receipt MUH-D01-R0000001")
_print_command("application", "APPLICATION (number or id)",
               "nafitha print application MUH-D01-A2026-000001")
_print_command("licence", "LICENCE (number or id)", "nafitha print licence MUH-2026-D01-000001")
_print_command("z_report", "of SHIFT (number or id)", "nafitha print z-report 1")


@cli.group()
def reprint():
    """Reprint a licence as a COPY (counted and audited).

    \b
    Example:
        nafitha reprint licence MUH-2026-D01-000001 --reason "paper jam"
    """


@command(reprint, "licence")
@click.argument("ref")
@click.option("--reason", required=True, help="Why a copy is printed (audited).")
@click.option("--lang", type=click.Choice(("ar", "en")))
def reprint_licence(ctx, ref, reason, lang):
    """Print a COPY of a licence; the original number is kept, the copy is counted.

    \b
    Example:
        nafitha reprint licence MUH-2026-D01-000001 --reason "paper jam"
    """
    with ctx.office.acting_as(ctx.user):
        job = ctx.office.printing.reprint_licence(ref, reason, lang)
    return _print_and_report(ctx, job)


# --- apps ----------------------------------------------------------------------------------
@cli.group(invoke_without_command=True)
@click.option("--screenshot", type=click.Path(dir_okay=False),
              help="Save a PNG of the start screen and exit (for checks).")
@click.option("--windowed", is_flag=True,
              help="Not in kiosk mode: a normal window with a cursor, Escape closes it "
                   "(development; the default is kiosk.fullscreen).")
@click.option("--exit-after", type=float, help="Close after this many seconds (demos).")
@click.option("--hub", "hub_url", metavar="URL",
              help="Work through the service centre's hub (default: hub.url, or the hub "
                   "this device joined; none: the in-process store). Pair first: nafitha "
                   "hub join URL CODE.")
@click.pass_context
def kiosk(click_ctx, screenshot, windowed, exit_after, hub_url):
    """Start the kiosk window (the resident's touchscreen).

    In kiosk mode (kiosk.fullscreen, the default) the window is fullscreen, the cursor is
    hidden, and Escape and window-close are refused; staff leave by tapping the top corner
    above the office name five times, then entering the admin PIN (kiosk.admin_pin_hash, or
    a supervisor's PIN).

    \b
    Example:
        nafitha --data ./data kiosk --windowed
    """
    if click_ctx.invoked_subcommand is not None:
        return
    ctx = click_ctx.obj
    try:
        settings = ctx.settings
        clock = _pilot_clock(ctx)
        from kiosk.app import run_kiosk
        from kiosk.backend import open_backend
        backend = _app_backend(ctx, open_backend, hub_url)
        run_kiosk(backend.settings, backend, screenshot=screenshot, exit_after=exit_after,
                  kiosk_mode=False if windowed else None, clock=clock)
    except NafithaError as exc:
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(1)


def _app_backend(ctx, open_backend, hub_url: str | None):
    """The app's backend: through the hub (--hub, hub.url, or the hub this device joined),
    else the in-process store (a field office, the embedded default)."""
    from hub.client import paired_url
    settings = ctx.settings
    hub_url = hub_url or settings.hub.url or paired_url(settings.data_dir)
    return open_backend(settings, None if hub_url else ctx.office, hub_url)


def _pilot_clock(ctx):
    """Driven by the test pilot (NAFITHA_PILOT): time moves only when the pilot says so."""
    if not os.environ.get("NAFITHA_PILOT"):
        return None
    from core.clock import FrozenClock, SystemClock
    ctx.clock = FrozenClock(os.environ.get("NAFITHA_PILOT_CLOCK") or SystemClock().now())
    return ctx.clock


@cli.command("counter")
@click.option("--screenshot", type=click.Path(dir_okay=False),
              help="Save a PNG of the first screen and exit (for checks).")
@click.option("--exit-after", type=float, help="Close after this many seconds (demos).")
@click.option("--hub", "hub_url", metavar="URL",
              help="Work through the service centre's hub (default: hub.url, or the hub "
                   "this device joined; none: the in-process store). The hub gives this "
                   "counter its name and services.")
@click.pass_obj
def counter(ctx, screenshot, exit_after, hub_url):
    """Start the counter window (the clerk's desk).

    Clerks sign in with their user name and PIN (accounts: `nafitha user add`, or central's
    reference data). Keyboard: F2 call next, F3 recall, F4 finish, F5 park, F6 search,
    F7 verify a licence, F9 lock, Tab next field, Enter confirm, Escape back. Settings:
    [counter] name, services, language, lock_after_s.

    \b
    Example:
        nafitha --data ./data user add sara --role clerk --pin 1234
        nafitha --data ./data counter
    """
    try:
        settings = ctx.settings
        clock = _pilot_clock(ctx)
        from counter.app import run_counter
        from counter.backend import open_backend
        # Unknown services in counter.services are refused here, before the window opens.
        backend = _app_backend(ctx, open_backend, hub_url)
        run_counter(backend.settings, backend, screenshot=screenshot, exit_after=exit_after,
                    clock=clock)
    except NafithaError as exc:
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(1)


@command(kiosk, "pin-hash")
@click.option("--pin", prompt=True, hide_input=True, confirmation_prompt=True,
              help="The staff exit PIN (4-8 digits).")
def kiosk_pin_hash(ctx, pin):
    """Print the hash of a staff exit PIN, for kiosk.admin_pin_hash in nafitha.toml.

    \b
    Example:
        nafitha kiosk pin-hash        (asks for the PIN twice)
    """
    import re as _re

    from core.errors import ValidationError
    from core.users import hash_pin
    if not _re.fullmatch(r"[0-9]{4,8}", pin):
        raise ValidationError("the PIN is 4 to 8 digits", field="pin")
    return {"admin_pin_hash": hash_pin(pin)}, None


from nafitha.scan_cli import scan  # noqa: E402  (its own module: cameras, serial scanners)

cli.add_command(scan)

# Under `python -m nafitha.cli` this module is __main__: let sync_cli's `from nafitha.cli
# import ...` find it instead of loading a second copy.
sys.modules.setdefault("nafitha.cli", sys.modules[__name__])
import nafitha.sync_cli  # noqa: E402,F401  (registers enrol, sync and central)
import nafitha.hub_cli  # noqa: E402,F401  (registers hub)


def main():
    try:
        cli(prog_name="nafitha")
    except NafithaError as exc:  # settings errors raised while building the context
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
