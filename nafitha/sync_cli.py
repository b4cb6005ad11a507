"""`nafitha enrol` and `nafitha sync ...` (the device: enrol with central, send the outbox and
pull reference data) and `nafitha central ...` (the reference central platform: root key,
enrolment, back office, HTTP server)."""
from __future__ import annotations

import os
import signal
from pathlib import Path

import click

from core.users import ROLES
from nafitha.commands import Group, command, parse_money


# --- the device ------------------------------------------------------------------------------
@command(None, "enrol")
@click.argument("url")
@click.argument("code")
def enrol_cmd(ctx, url, code):
    """Enrol this device with central using a one-time code.

    Gets the device's certificate (licences it signs will verify everywhere), the root key and
    a sync token (kept in <data>/keys/sync.json, mode 0600). The device's settings must name
    the office the code was made for.

    \b
    Example:
        nafitha --data ./data enrol https://central.example.bh K7QF-9XM2-PL4D
    """
    from sync.agent import enrol
    result = enrol(ctx.settings, url, code)
    return result, lambda r: click.echo(
        f"Enrolled {r['office']}/{r['device_id']} with {r['url']} (may issue "
        f"{', '.join(r['licence_types'])}; token valid until {r['token_expires_at'][:10]}).")


@click.group(cls=Group)
def sync():
    """Send the outbox to central and pull reference data.

    \b
    Example:
        nafitha --data ./data sync once
        nafitha --data ./data sync status
    """


def _status_line(s: dict) -> None:
    state = {True: "online", False: "offline", None: "never synced"}[s["online"]]
    click.echo(f"{state}; {s['pending']} event(s) waiting"
               + (f", oldest {s['backlog_age_seconds']} s old" if s["pending"] else ""))
    click.echo(f"last success: {s['last_success_at'] or 'never'}")
    if s["last_error"]:
        click.echo(f"last error:   {s['last_error']} ({s['last_error_at']})")
    click.echo(f"reference version: {s['cursor']}; central: {s['central_url'] or '-'}")
    if s["clock_skew_s"]:
        click.echo(f"warning: this device's clock is {s['clock_skew_s']} s off central's")
    documents = s.get("documents")
    if documents is not None:
        click.echo(f"documents waiting for central: {documents['files']} file(s), "
                   f"{documents['bytes']} bytes")


def _with_documents(office) -> dict:
    """The sync status with the supporting documents' files central has not confirmed."""
    return {**office.sync_status(), "documents": office.attachments.pending()}


@command(sync, "status")
def sync_status(ctx):
    """Events waiting, last success, last error and backlog age, and documents' files not
    yet confirmed by central (no network needed).

    \b
    Example:
        nafitha --data ./data sync status --json
    """
    return _with_documents(ctx.office), _status_line


@command(sync, "once")
def sync_once(ctx):
    """One cycle: push everything pending, then pull reference data. Exit 1 if it failed.

    \b
    Example:
        nafitha --data ./data sync once
    """
    from sync.agent import AgentLock, SyncAgent
    with AgentLock(ctx.settings.data_dir):
        result = SyncAgent(ctx.office).once()
    return result, lambda r: click.echo(
        f"sent {r['sent']} event(s), applied {r['pulled']['changes']} reference change(s); "
        f"{r['status']['pending']} waiting")


@command(sync, "run")
@click.option("--cycles", type=click.IntRange(1), help="Stop after this many cycles.")
def sync_run(ctx, cycles):
    """Keep syncing until stopped (SIGTERM or Ctrl-C): promptly when there is new work,
    backing off with jitter while central is unreachable. One agent per device.

    \b
    Example:
        nafitha --data ./data sync run
    """
    from sync.agent import AgentLock, SyncAgent
    with AgentLock(ctx.settings.data_dir):
        agent = SyncAgent(ctx.office)
        signal.signal(signal.SIGTERM, lambda *_: agent.stop())
        from devices.messaging.sender import start_sender
        stop_messages = start_sender(ctx.office)  # when [messages] names a gateway
        from core import watchdog
        if watchdog.enabled():  # systemd's watchdog, pinged from the agent's own loop
            agent.loop.heartbeat, agent.loop.heartbeat_s = watchdog.ping, watchdog.interval_s()
            watchdog.ready()

        def report(result, error):
            if error is not None:
                click.echo(f"sync failed: {error.kind}: {error.message}", err=True)
            elif result["sent"] or result["pulled"]["changes"]:
                click.echo(f"sent {result['sent']}, applied {result['pulled']['changes']}; "
                           f"{result['status']['pending']} waiting")
        try:
            agent.run(cycles=cycles, on_cycle=report)
        except KeyboardInterrupt:
            pass
        finally:
            if stop_messages is not None:
                stop_messages()
        watchdog.stopping()
    return ctx.office.sync_status(), _status_line


# --- central ---------------------------------------------------------------------------------
def _default_home() -> str:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "nafitha-central")


@click.group(cls=Group)
@click.option("--home", envvar="NAFITHA_CENTRAL_HOME", default=_default_home,
              type=click.Path(file_okay=False), help="Central's directory: root key, admin "
              "token, SQLite database (default: ~/.local/share/nafitha-central).")
@click.option("--db", envvar="NAFITHA_CENTRAL_DB", help="Database URL, e.g. "
              "postgresql://user@host/nafitha (default: SQLite in --home).")
@click.pass_obj
def central(ctx, home, db):
    """The reference central platform: root key, enrolment, back office, HTTP server.

    \b
    Example:
        nafitha central --home ./central init-root
        nafitha central --home ./central serve --port 8700
    """
    ctx.central_home, ctx.central_db = Path(home), db


def _central(ctx):
    from central.service import Central
    if ctx.central is None:
        ctx.central = Central.open(ctx.central_home, ctx.central_db)
    return ctx.central


@command(central, "init-root")
def central_init_root(ctx):
    """Create the root key, the database and the admin token (shown once; also kept in
    <home>/admin.token), and publish the catalogue. Refuses if a root key exists.

    \b
    Example:
        nafitha central --home ./central init-root
    """
    from central.service import Central
    c, token = Central.init_root(ctx.central_home, ctx.central_db)
    c.close()
    from core.credentials import keys
    result = {"home": str(ctx.central_home), "root_kid": keys.key_id(c.root_public).hex(),
              "admin_token": token}
    return result, lambda r: click.echo(
        f"Root key {r['root_kid']} created in {r['home']}.\nAdmin token (keep it safe): "
        f"{r['admin_token']}")


@command(central, "serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8700, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False),
              help="Serve HTTPS with this certificate (PEM) ...")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False),
              help="... and this private key (PEM).")
@click.option("--max-connections", default=1000, show_default=True,
              type=click.IntRange(16, 100_000),
              help="Open connections per worker; more are refused at once (503).")
@click.option("--max-connections-per-address", type=click.IntRange(4, 100_000),
              help="Of those, open from one address (default: all of them: offices behind "
                   "one NAT or a reverse proxy share an address; set it when they do not).")
def central_serve(ctx, host, port, workers, tls_cert, tls_key, max_connections,
                  max_connections_per_address):
    """Serve the API (OpenAPI document at /openapi.json) until stopped. A request's head
    must arrive within 10 s and its body within 60 s plus a second per 16 KiB; idle
    connections close after 75 s; a repeated error is logged once a minute (docs/sync.md).

    \b
    Example:
        nafitha central --home ./central serve --host 0.0.0.0 --port 8700
    """
    from central.reports import keep_in_background
    from central.service import Central
    from hub.server import LimitedH11Protocol, Listener, ServerLimits, serve
    Central.open(ctx.central_home, ctx.central_db).close()  # migrate once, before workers
    # One keeper per server (not per worker): last month's reports ready before the first
    # reader asks (docs/console/reports.md).
    keep_in_background(lambda: Central.open(ctx.central_home, ctx.central_db))
    os.environ["NAFITHA_CENTRAL_HOME"] = str(ctx.central_home)
    os.environ["NAFITHA_CENTRAL_DB"] = ctx.central_db or ""
    # Keep-alive longer than a device's pause between batches: a connection closing just as
    # the device reuses it would look like a network fault. A body's deadline leaves time
    # for the protocol's largest batch (16 MiB) on a slow link.
    limits = ServerLimits(max_connections=max_connections, header_timeout_s=10,
                          body_timeout_s=60, keepalive_s=75,
                          max_connections_per_address=min(
                              max_connections_per_address or max_connections,
                              max_connections))
    if workers == 1:
        from central.app import app_from_environment
        serve([Listener(app_from_environment(), host, port, certfile=tls_cert,
                        keyfile=tls_key, name="central", limits=limits)])
    else:
        # uvicorn's supervisor runs the workers; each uses our protocol (the head and body
        # deadlines) and answers 503 past max_connections once a request arrives.
        import uvicorn
        uvicorn.run("central.app:app_from_environment", factory=True, host=host, port=port,
                    workers=workers, log_level="warning", ssl_certfile=tls_cert,
                    ssl_keyfile=tls_key, http=LimitedH11Protocol,
                    limit_concurrency=max_connections,
                    timeout_keep_alive=limits.keepalive_s)
    return {"stopped": True}, lambda r: None


@command(central, "enrol-code")
@click.option("--office", required=True, help="The office code, e.g. MUH.")
@click.option("--types", help="Licence types the device may issue, comma separated "
                              "(default: all in the catalogue).")
@click.option("--ttl-hours", default=72, show_default=True, type=int)
@click.option("--role", required=True, type=click.Choice(("hub", "counter", "kiosk", "board")),
              help="What the device is. Only a hub or a counter, which sign clerks in, "
                   "receives the office's PIN hashes (docs/privacy.md).")
def central_enrol_code(ctx, office, types, ttl_hours, role):
    """Make a one-time enrolment code for a device of OFFICE.

    \b
    Example:
        nafitha central --home ./central enrol-code --office MUH --role hub
    """
    result = _central(ctx).enrol_code(office, types.split(",") if types else None, ttl_hours,
                                      role=role)
    return result, lambda r: click.echo(f"{r['code']}  (office {r['office']}, {r['role']}, "
                                        f"valid until {r['expires_at'][:16]})")


@central.group("user")
def central_user():
    """Clerk accounts, sent to the office with the reference data.

    \b
    Example:
        nafitha central user add --office MUH --username sara --role clerk --pin 1234
    """


@command(central_user, "add")
@click.option("--office", required=True)
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--pin", required=True, help="4-8 digits for a clerk, 6-8 for a supervisor "
              "(stored only as a slow salted hash).")
def central_user_add(ctx, office, username, role, pin):
    """Add (or replace) a clerk account for an office.

    \b
    Example:
        nafitha central user add --office MUH --username sara --role clerk --pin 1234
    """
    return _central(ctx).add_user(office, username, role, pin), None


@command(central_user, "disable")
@click.option("--office", required=True)
@click.option("--username", required=True)
def central_user_disable(ctx, office, username):
    """Disable an account at its office (on the office's next pull).

    \b
    Example:
        nafitha central user disable --office MUH --username sara
    """
    return _central(ctx).disable_user(office, username), None


@command(central, "fee")
@click.argument("service")
@click.argument("amount")
def central_fee(ctx, service, amount):
    """Set a service's fee in BHD (1.500 is one and a half dinars) for every office.

    \b
    Example:
        nafitha central fee residence-certificate 1.500
    """
    raw = _central(ctx).set_fee(service, parse_money(amount, "amount", ctx))
    return {"service": service, "fee": raw["fee"]}, None


@command(central, "decide")
@click.argument("number")
@click.argument("decision", type=click.Choice(("approve", "reject")))
@click.option("--reason", help="Why (required to reject; shown to the resident).")
@click.option("--conditions", help="Conditions printed on the licence (approve).")
def central_decide(ctx, number, decision, reason, conditions):
    """Back office: approve or reject an application that needs review.

    \b
    Example:
        nafitha central decide MUH-D01-A2026-000004 approve --conditions "works 7am-5pm"
    """
    state = {"approve": "approved", "reject": "rejected"}[decision]
    return _central(ctx).decide(number, state, reason, conditions), None


@command(central, "revoke")
@click.argument("number")
@click.option("--reason", required=True)
def central_revoke(ctx, number, reason):
    """Revoke a licence: a new root-signed revocation list reaches every office.

    \b
    Example:
        nafitha central revoke MUH-2026-D01-000001 --reason "issued in error"
    """
    return _central(ctx).revoke_licence(number, reason), None


@command(central, "erase")
@click.argument("numbers", nargs=-1, required=True)
@click.option("--reason", required=True, help="Why (e.g. the resident's request and its "
                                              "reference).")
def central_erase(ctx, numbers, reason):
    """Erase residents' personal data: each application's resident key is deleted here and
    on every device of its office at their next pull. Numbers, states, payments and every
    audit chain stay; names, national IDs, phones and addresses become unreadable. Cannot be
    undone (docs/privacy.md).

    \b
    Example:
        nafitha central erase MUH-D01-A2026-000004 --reason "resident's request R-2026-17"
    """
    return _central(ctx).erase_resident(list(numbers), reason), None


@command(central, "revoke-device")
@click.option("--office", required=True)
@click.option("--device", required=True)
def central_revoke_device(ctx, office, device):
    """Revoke a device: its token stops working and licences it signs from now on fail.

    \b
    Example:
        nafitha central revoke-device --office MUH --device D02
    """
    return _central(ctx).revoke_device(office, device), None


@command(central, "offices")
def central_offices(ctx):
    """Offices and devices: last contact, events held, gaps, backlog, clock skew.

    \b
    Example:
        nafitha central offices --json
    """
    def human(rows):
        for o in rows:
            click.echo(f"{o['office']}: last contact {o['last_contact_at'] or 'never'}, "
                       f"backlog {o['backlog']}, missing {o['missing_events']}")
            for d in o["devices"]:
                click.echo(f"  {d['device_id']}: {d['received']} events (last seq "
                           f"{d['last_seq']}), backlog {d['backlog']}, gaps {d['gaps'] or '-'}"
                           + (f", clock {d['clock_skew_s']} s off" if d["clock_skew_s"]
                              and abs(d["clock_skew_s"]) > 300 else ""))
    return _central(ctx).offices(), human


@command(central, "rejections")
def central_rejections(ctx):
    """Refused batches and events, newest first.

    \b
    Example:
        nafitha central rejections
    """
    return _central(ctx).rejections(), None


@command(central, "licence")
@click.argument("number")
def central_licence(ctx, number):
    """A licence's status as central knows it (what GET /v1/licences/NUMBER returns).

    \b
    Example:
        nafitha central licence MUH-2026-D01-000001
    """
    return _central(ctx).licence_status(number), None


@command(central, "compact")
def central_compact(ctx):
    """Drop superseded reference changes; devices behind get a full snapshot next pull.

    \b
    Example:
        nafitha central compact
    """
    return _central(ctx).compact(), None


# --- the console's people, municipalities and API keys (docs/console.md) ------------------------
CONSOLE_ROLES = ("officer", "operations", "finance", "admin", "auditor")  # central.staff.ROLES
NEW_PASSWORD_ENV = "NAFITHA_NEW_PASSWORD"
CLI_ACTOR = "cli"  # how the console audit names what the CLI did


def _staff(ctx):
    from central.staff import Staff
    return Staff(_central(ctx))


@central.group("staff", cls=Group)
def central_staff():
    """The console's staff: officers, operations, finance, admins and auditors.

    \b
    Example:
        nafitha central staff add huda --role admin --full-name "Huda Saleh"
        nafitha central staff list
    """


@command(central_staff, "add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(CONSOLE_ROLES))
@click.option("--municipality", help="The municipality's code (default: national staff, who "
                                     "see every municipality).")
@click.option("--full-name", required=True, help="As shown in the console and its audit.")
@click.option("--language", default="ar", show_default=True, type=click.Choice(("ar", "en")))
def central_staff_add(ctx, username, role, municipality, full_name, language):
    """Add a member of staff. The password (at least 12 characters) comes from
    NAFITHA_NEW_PASSWORD or is asked twice with hidden input. An admin sets up a second factor
    (TOTP) at their first sign-in.

    \b
    Example:
        nafitha central staff add sara --role officer --municipality CAP --full-name "Sara Ali"
    """
    password = os.environ.get(NEW_PASSWORD_ENV) or click.prompt(
        f"Password for {username}", hide_input=True, confirmation_prompt=True)
    return _staff(ctx).add(CLI_ACTOR, username, full_name, role, municipality, password,
                           language), None


@command(central_staff, "list")
def central_staff_list(ctx):
    """Every member of staff: role, municipality, active, second factor, lock.

    \b
    Example:
        nafitha central staff list --json
    """
    def human(rows):
        for r in rows:
            click.echo(f"{r['username']:<20} {r['role']:<10} {r['municipality'] or 'national':<9} "
                       f"{'active' if r['active'] else 'disabled'}"
                       f"{', totp' if r['has_totp'] else ''}"
                       f"{', locked until ' + r['locked_until'] if r['locked_until'] else ''}")
    return _staff(ctx).list(), human


@command(central_staff, "disable")
@click.argument("username")
def central_staff_disable(ctx, username):
    """Disable a member of staff: their sessions end at once.

    \b
    Example:
        nafitha central staff disable sara
    """
    return _staff(ctx).disable(CLI_ACTOR, username), None


@central.group("municipality", cls=Group)
def central_municipality():
    """Municipalities: each owns offices, and its staff see only those.

    \b
    Example:
        nafitha central municipality add CAP --name-ar "أمانة العاصمة" --name-en "Capital"
    """


@command(central_municipality, "add")
@click.argument("code")
@click.option("--name-ar", required=True)
@click.option("--name-en", required=True)
def central_municipality_add(ctx, code, name_ar, name_en):
    """Add a municipality (code: 1-8 capital letters or digits).

    \b
    Example:
        nafitha central municipality add CAP --name-ar "أمانة العاصمة" --name-en "Capital"
    """
    return _staff(ctx).add_municipality(CLI_ACTOR, code, name_ar, name_en), None


@central.group("office", cls=Group)
def central_office():
    """Offices: which municipality each belongs to.

    \b
    Example:
        nafitha central office assign MUH CAP
    """


@command(central_office, "assign")
@click.argument("office")
@click.argument("municipality")
def central_office_assign(ctx, office, municipality):
    """Give OFFICE to MUNICIPALITY (an office not yet known is added).

    \b
    Example:
        nafitha central office assign MUH CAP
    """
    return _staff(ctx).assign_office(CLI_ACTOR, office, municipality), None


@command(central_office, "timezone")
@click.argument("office")
@click.argument("zone")
def central_office_timezone(ctx, office, zone):
    """Count OFFICE's days and hours in ZONE (an IANA time zone; the default is Asia/Bahrain)
    for the reports; its figures are projected again from its events (docs/console/reports.md).

    \b
    Example:
        nafitha central office timezone RIF Asia/Riyadh
    """
    from central.reports import set_timezone
    return set_timezone(_central(ctx), office.upper(), zone, by=CLI_ACTOR), \
        lambda r: click.echo(f"{r['office']}: {r['timezone']} ({r['events']} events projected)")


@command(central, "open-data")
@click.argument("month")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Directory to write the files into (made if missing).")
@click.option("--municipality", help="Only this municipality's offices (default: every office).")
def central_open_data(ctx, month, out_dir, municipality):
    """Write MONTH's open data (YYYY-MM, a month that is over): the CSV and JSON rows, the data
    dictionary (Table Schema) and the CKAN package, checked against their own dictionary.
    Counts below the threshold (5, or NAFITHA_OPEN_DATA_MIN_COUNT) are suppressed
    (docs/open-data.md).

    \b
    Example:
        nafitha central open-data 2026-11 --out ./open-data/2026-11
    """
    from central.open_data import export
    files = export(_central(ctx), month, municipality=municipality)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        (out / name).write_bytes(body)
    return {"month": month, "directory": str(out), "files": sorted(files)}, \
        lambda r: click.echo(f"{r['month']}: {', '.join(r['files'])} in {r['directory']}")


@command(central, "keep-reports")
@click.option("--month", help="YYYY-MM, a month that is over (default: the last closed one).")
def central_keep_reports(ctx, month):
    """Compute and keep a closed month's reports for every office and for each
    municipality, so the console serves them at once (the server does this each hour for
    the last closed month). A late fact of that month forgets them again
    (docs/console/reports.md).

    \b
    Example:
        nafitha central keep-reports --month 2026-11
    """
    from central import reports
    period = reports.month_period(month) if month else None
    kept = reports.keep_closed_months(_central(ctx), period)
    return {"month": (period or reports.last_closed_month(_central(ctx))).first[:7],
            "scopes": kept}, lambda r: click.echo("\n".join(
                f"{r['month']} {s['municipality'] or 'all offices'} ({s['offices']} offices): "
                f"{'kept now' if s['kept'] else 'already kept'}" for s in r["scopes"]))


@central.group("api-key", cls=Group)
def central_api_key():
    """Named API keys for /v1/admin (scripts, automation), each with a role.

    \b
    Example:
        nafitha central api-key add reports --role auditor
    """


@command(central_api_key, "add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(CONSOLE_ROLES))
@click.option("--municipality", help="Limit the key to one municipality (default: national).")
def central_api_key_add(ctx, name, role, municipality):
    """Create a key and print it once (only its hash is kept): send it as
    `Authorization: Bearer <key>`.

    \b
    Example:
        nafitha central api-key add decisions-bot --role officer --municipality CAP
    """
    secret = _staff(ctx).add_key(CLI_ACTOR, name, role, municipality)
    return {"name": name, "role": role, "municipality": municipality, "key": secret}, \
        lambda r: click.echo(f"API key {r['name']} (shown once, keep it safe): {r['key']}")


@command(central_api_key, "list")
def central_api_key_list(ctx):
    """Every key: role, municipality, last use, revoked (never the key itself).

    \b
    Example:
        nafitha central api-key list
    """
    def human(rows):
        for r in rows:
            click.echo(f"{r['name']:<20} {r['role']:<10} {r['municipality'] or 'national':<9} "
                       f"last used {r['last_used_at'] or 'never'}"
                       f"{', revoked ' + r['revoked_at'] if r['revoked_at'] else ''}")
    return _staff(ctx).keys(), human


@command(central_api_key, "revoke")
@click.argument("name")
def central_api_key_revoke(ctx, name):
    """Revoke a key: calls with it are refused (401) from now on.

    \b
    Example:
        nafitha central api-key revoke decisions-bot
    """
    return _staff(ctx).revoke_key(CLI_ACTOR, name), None


@command(central, "biller-secret")
@click.option("--rotate", is_flag=True, help="Make a new secret (the networks must be given "
                                              "it: the old one stops working at once).")
def central_biller_secret(ctx, rotate):
    """Print the secret the payment networks sign bill inquiries and payment notifications
    with (HMAC-SHA256; kept in <home>/biller.key, mode 0600), made on first use.

    \b
    Example:
        nafitha central --home ./central biller-secret --rotate
    """
    secret = _central(ctx).bills.secret(rotate=rotate).decode()
    return {"secret": secret, "rotated": rotate, "file": str(ctx.central_home / "biller.key")}, \
        lambda r: click.echo(r["secret"])


@central.group("settlement", cls=Group)
def central_settlement():
    """The payment networks' daily settlement files (CSV).

    \b
    Example:
        nafitha central settlement import sadad-2026-12-06.csv
    """


@command(central_settlement, "import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def central_settlement_import(ctx, file):
    """Import a settlement file: header exactly
    date,transaction_id,bill_number,amount_minor,paid_at,network and every line of one date.
    A wrong header or a date already imported is refused (nothing kept); duplicated lines and
    lines for unknown bills are kept and shown by `reconcile`.

    \b
    Example:
        nafitha central settlement import sadad-2026-12-06.csv
    """
    text = Path(file).read_text(encoding="utf-8")
    return _central(ctx).bills.import_settlement(text), lambda r: click.echo(
        f"Imported {r['lines']} line(s) for {r['date']} ({r['duplicate_lines']} duplicated, "
        f"{r['unknown_bills']} for unknown bills).")


@command(central, "reconcile")
@click.argument("date")
def central_reconcile(ctx, date):
    """The differences between DATE's settlement file and the payment notifications of that
    day: in the file but not notified, notified but not in the file, amount differs,
    duplicate line, unknown bill, refund due (expired, cancelled, double).

    \b
    Example:
        nafitha central reconcile 2026-12-06 --json
    """
    def human(r):
        if not r["file_imported"]:
            click.echo(f"No settlement file imported for {r['date']}.")
        click.echo(f"{r['date']}: {r['lines']} line(s), {r['notifications']} "
                   f"notification(s), {len(r['differences'])} difference(s)")
        for d in r["differences"]:
            click.echo(f"  {d['kind']:<22} {d['transaction_id']:<24} {d['bill_number']}")
    return _central(ctx).bills.reconcile(date), human


@command(central, "revenue")
@click.argument("date_from", metavar="FROM")
@click.argument("date_to", metavar="[TO]", required=False)
@click.option("--office", help="Only this office (its code, e.g. MUH).")
def central_revenue(ctx, date_from, date_to, office):
    """The money taken from FROM to TO (YYYY-MM-DD, UTC days, both included; TO defaults to
    FROM, at most 366 days) by day, office and channel: counter cash, counter card, kiosk
    card, network; with totals, and apart the refunds due (paid twice, or a bill expired or
    cancelled). A payment is counted once: network money only from the networks'
    notifications.

    \b
    Example:
        nafitha central revenue 2026-12-01 2026-12-31 --office MUH --json
    """
    from central.revenue import revenue
    from core.money import format_amount

    def human(r):
        channels = r["channels"]
        click.echo(f"Revenue {r['from']} to {r['to']} (UTC days)"
                   + (f", office {r['office']}" if r["office"] else ""))

        def line(first: str, row: dict) -> None:
            click.echo(" ".join([first, *(f"{format_amount(row[c], row['currency'], False):>13}"
                                          for c in [*channels, "total"])]))
        click.echo(" ".join([f"{'date':<10} {'office':<8} {'':<3}",
                             *(f"{c:>13}" for c in [*channels, "total"])]))
        for d in r["days"]:
            line(f"{d['date']:<10} {d['office']:<8} {d['currency']:<3}", d)
        for t in r["totals"]:
            line(f"{'total':<19} {t['currency']:<3}", t)
        if not r["days"]:
            click.echo("No payment in these days.")
        click.echo(f"Refunds due: {len(r['refunds_due'])}")
        for f in r["refunds_due"]:
            click.echo(f"  {f['date']} {f['office']:<8} {f['transaction_id']:<24} "
                       f"{f['bill_number']} {format_amount(f['amount_minor'], f['currency'])} "
                       f"({f['reason']})")
    return revenue(_central(ctx), date_from, date_to, office=office), human


def register(root: click.Group) -> None:
    root.add_command(enrol_cmd)
    root.add_command(sync)
    root.add_command(central)
