"""`nafitha messages ...`: messages to residents' phones (core/messages.py,
devices/messaging, docs/messages.md): the queue and its states, consent, following a ticket,
sending what is due, checking the templates."""
from __future__ import annotations

import signal

import click

from core.messages import CONSENT_CHANNELS, KINDS, STATES, masked
from nafitha.commands import Group, command, local_time


@click.group(cls=Group)
def messages():
    """Messages to residents' phones ("your turn is near", "called", the receipt, an
    application's decision), sent through the gateway of the [messages] settings, only to
    numbers whose consent is recorded (docs/messages.md).

    \b
    Example:
        nafitha messages consent add 36001234 --channel counter
        nafitha messages follow R012 36001234 --language ar
        nafitha messages list
    """


def _line(m, tz):
    click.echo(f"{local_time(m['created_at'], tz)}  {m['state']:<9} {m['kind']:<18} "
               f"{masked(m['number'])}  tries {m['attempts']}  {m['ref']}"
               + (f"  ({m['last_error']})" if m["last_error"] else ""))


@command(messages, "list")
@click.option("--state", type=click.Choice(STATES), help="Only messages in this state.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True,
              help="How many, newest first.")
def messages_list(ctx, state, limit):
    """The newest messages with their states (queued, sent, failed, expired, cancelled,
    dropped), how often each was tried and why it is not sent. Numbers are masked here;
    --json shows them whole.

    \b
    Example:
        nafitha messages list --state queued
    """
    rows = ctx.office.messages.list(state, limit)
    return rows, lambda rows: [_line(m, ctx.settings.tz) for m in rows] or \
        click.echo("no messages")


@click.group(cls=Group)
def consent():
    """A phone number's consent to messages: recorded when the resident agrees, withdrawn
    when they ask (then nothing queued to it is sent).

    \b
    Example:
        nafitha messages consent add 36001234 --channel counter
    """


messages.add_command(consent)


@command(consent, "add")
@click.argument("number")
@click.option("--channel", type=click.Choice(CONSENT_CHANNELS), default="counter",
              show_default=True, help="Where the resident agreed.")
def consent_add(ctx, number, channel):
    """Record that the resident agreed to messages on NUMBER (local or +country; a number
    not in the office's phone format is refused).

    \b
    Example:
        nafitha --user sara messages consent add 36001234 --channel counter
    """
    with ctx.office.acting_as(ctx.actor()):
        row = ctx.office.messages.give_consent(number, channel)
    return row, lambda r: click.echo(f"{masked(r['number'])}: consent given "
                                     f"{local_time(r['given_at'], ctx.settings.tz)} "
                                     f"({r['channel']}, {r['given_by']})")


@command(consent, "withdraw")
@click.argument("number")
def consent_withdraw(ctx, number):
    """Withdraw NUMBER's consent: its queued messages are cancelled and the tickets and
    applications it followed no longer send to it.

    \b
    Example:
        nafitha messages consent withdraw +97336001234
    """
    with ctx.office.acting_as(ctx.actor()):
        result = ctx.office.messages.withdraw_consent(number)
    return result, lambda r: click.echo(f"{masked(r['number'])}: consent withdrawn; "
                                        f"{r['cancelled']} queued message(s) cancelled")


@command(consent, "show")
@click.argument("number")
def consent_show(ctx, number):
    """NUMBER's consent: when and where it was given, and withdrawn.

    \b
    Example:
        nafitha messages consent show 36001234
    """
    row = ctx.office.messages.consent_of(number)

    def human(r):
        if r is None:
            click.echo("no consent recorded")
            return
        tz = ctx.settings.tz
        click.echo(f"{masked(r['number'])}: given {local_time(r['given_at'], tz)} "
                   f"({r['channel']}, {r['given_by']})"
                   + (f"; withdrawn {local_time(r['withdrawn_at'], tz)}"
                      if r["withdrawn_at"] else ""))
    return row, human


@command(messages, "follow")
@click.argument("ticket")
@click.argument("number")
@click.option("--language", type=click.Choice(["ar", "en"]), default="ar", show_default=True)
@click.option("--near", type=click.IntRange(1, 50),
              help="'Your turn is near' at this many ahead (default: messages.near_threshold).")
@click.option("--consent", "consent_channel", type=click.Choice(CONSENT_CHANNELS),
              help="The resident agrees now, here (recorded); without it the number's "
                   "consent must already be on record.")
def messages_follow(ctx, ticket, number, language, near, consent_channel):
    """Send TICKET's moments (near, called) and its application's receipt and decision to
    NUMBER. Refused when messages are off (messages.gateway none) or without consent.

    \b
    Example:
        nafitha messages follow R012 36001234 --language en --consent counter
    """
    with ctx.office.acting_as(ctx.actor()):
        sub = ctx.office.messages.subscribe_ticket(ticket, number, language, near,
                                                   consent_channel)
    return sub, lambda s: click.echo(f"{s['subject']} -> {masked(s['number'])} "
                                     f"({s['language']}, near at {s['near_threshold']})")


def _gateway(ctx):
    from devices.messaging import open_gateway
    gateway = open_gateway(ctx.settings.messages)
    if gateway is None:
        raise click.UsageError("messages.gateway is none: set [messages] gateway (http, "
                               "smpp or simulated) first")
    return gateway


@command(messages, "send-pending")
def messages_send_pending(ctx):
    """Once: queue what is due, send every queued message whose time has come, and say how
    each went. A message past its moment is never sent (it is marked expired). Exit 1 when
    the gateway could not be reached.

    \b
    Example:
        nafitha messages send-pending
    """
    from core.coordinator import Unavailable
    from devices.messaging.sender import MessageSender
    gateway = _gateway(ctx)
    sender = MessageSender(ctx.office, gateway)
    totals = {"sent": 0, "failed": 0, "unreachable": None}
    try:
        while True:
            result = sender.poll()
            if not isinstance(result, dict):
                break
            totals["sent"] += result["sent"]
            totals["failed"] += result["failed"]
    except Unavailable as exc:
        totals["unreachable"] = exc.message
    finally:
        gateway.close()
    totals["states"] = ctx.office.messages.counts()
    if totals["unreachable"]:
        click.echo(f"Error: {totals['unreachable']}", err=True)
        raise SystemExit(1)
    return totals, lambda t: click.echo(
        f"sent {t['sent']}, failed {t['failed']}; "
        + ("held: " + ", ".join(f"{k} {v}" for k, v in sorted(t["states"].items()))
           if t["states"] else "no messages held"))


@command(messages, "run")
@click.option("--polls", type=click.IntRange(1), help="Stop after this many polls.")
def messages_run(ctx, polls):
    """Keep sending until stopped (SIGTERM or Ctrl-C), backing off while the gateway is
    away. `hub serve` and `sync run` already run this loop when a gateway is set; use this
    on a device that runs neither.

    \b
    Example:
        nafitha messages run
    """
    from devices.messaging.sender import sender_loop
    gateway = _gateway(ctx)
    loop = sender_loop(ctx.office, gateway)
    signal.signal(signal.SIGTERM, lambda *_: loop.stop())
    try:
        loop.run(max_polls=polls)
    except KeyboardInterrupt:
        pass
    finally:
        gateway.close()
    counts = ctx.office.messages.counts()
    return counts, lambda c: click.echo(", ".join(f"{k} {v}" for k, v in sorted(c.items()))
                                        or "no messages")


SAMPLES = {"number": "R012", "ahead": 3, "counter": "3", "office": "{office}",
           "service": "{service}", "wait_minutes": 12, "amount": "1.000 BHD",
           "receipt": "MUH-D01-R0000007", "application": "MUH-D01-A2026-000012",
           "state": "approved"}


@command(messages, "templates")
@click.option("--file", "path", type=click.Path(dir_okay=False, exists=True),
              help="Check this file instead of the one the settings use.")
def messages_templates(ctx, path):
    """Check the message templates (the shipped assets/messages.toml, or messages.templates)
    and show each kind in Arabic and English with sample values. A template missing a
    placeholder its kind needs, or using one it may not, is refused naming it (exit 1).

    \b
    Example:
        nafitha messages templates --file ./my-messages.toml
    """
    from core.messages import load_templates
    templates = load_templates(path) if path else ctx.office.messages.templates
    o = ctx.settings.office
    shown = {}
    for kind, (_, allowed) in KINDS.items():
        for lang in ("ar", "en"):
            values = {k: SAMPLES[k] for k in allowed}
            values["office"] = o.name_ar if lang == "ar" else o.name_en
            values["service"] = "service"
            if "state" in values:
                values["state"] = templates.state_words("approved", lang)
            shown[f"{kind}.{lang}"] = templates.render(kind, lang, values)
    return {"source": templates.source, "rendered": shown}, lambda r: (
        click.echo(f"{r['source']}: every template checks out"),
        [click.echo(f"{k}: {v}") for k, v in r["rendered"].items()])


def register(root: click.Group) -> None:
    root.add_command(messages)
