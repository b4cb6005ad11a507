"""`nafitha issue`, `licence ...` and `verify`: issue (and optionally print) the licence of an
approved, paid application, show or revoke licences, and check offline whether a licence's QR
code is genuine."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from core.errors import NafithaError
from nafitha.commands import Command, Group, command, local_time, supervisor_options
from nafitha.printing_cli import PrintFailed, print_and_report


def _licence_line(lic):
    holder = lic["holder_name"] or f"(personal data {lic.get('personal_data')})"
    click.echo(f"{lic['number']}  {holder}  valid until {lic['valid_until'][:10]}"
               + (f"  REVOKED ({lic['revoke_reason']})" if lic["revoked_at"] else ""))


@command(None, "issue")
@click.argument("number")
@click.option("--print", "and_print", is_flag=True,
              help="Queue the licence for printing in the same transaction, then print it.")
def issue_cmd(ctx, number, and_print):
    """Issue the licence of an approved, paid application.

    \b
    Example:
        nafitha issue MUH-D01-A2026-000001 --print
    """
    with ctx.office.acting_as(ctx.actor()):
        if not and_print:
            return ctx.office.licences.issue(number), _licence_line
        lic = ctx.office.printing.issue_licence(number)  # issued and queued together
    try:
        printed, human = print_and_report(ctx, lic["print_job"])
    except PrintFailed as exc:
        raise PrintFailed(f"licence {lic['number']} is issued, but its {exc.message}",
                          **exc.details, licence=lic["number"])
    return {**lic, "print_job": printed}, lambda r: (_licence_line(r), human(r["print_job"]))


@click.group(cls=Group)
def licence():
    """Show, revoke or write licences as PDF.

    \b
    Example:
        nafitha licence show MUH-2026-D01-000001
    """


@command(licence, "show")
@click.argument("number")
@click.option("--qr", "qr_only", is_flag=True,
              help="Print only the licence's QR text (NF1:...), e.g. for `nafitha verify`.")
def licence_show(ctx, number, qr_only):
    """Show a licence: holder, address, dates in the office's time zone, state, and its
    QR text (--json: the stored record, times in UTC).

    \b
    Example:
        nafitha licence show MUH-2026-D01-000001
    """
    record = ctx.office.licences.get(number)
    if qr_only:
        return record, lambda r: click.echo(r["signed_payload"])
    return record, lambda r: click.echo(_licence_lines(r, ctx.settings.tz))


def _licence_lines(r: dict, tz) -> str:
    """A licence as people read it: no raw JSON, local times with the zone's name."""
    address = r.get("address")
    if isinstance(address, str):
        try:
            address = json.loads(address)
        except ValueError:
            pass
    if isinstance(address, dict):
        address = ", ".join(f"{part} {value}" for part, value in address.items() if value)
    zone = getattr(tz, "key", str(tz))
    state = f"revoked {local_time(r['revoked_at'], tz)}: {r['revoke_reason']}" \
        if r.get("revoked_at") else "valid"
    lines = [f"licence      {r['number']}  ({r['service_code']})",
             f"holder       {r['holder_name']}  national ID {r['national_id']}",
             f"address      {address or '-'}",
             f"issued       {local_time(r['issued_at'], tz)} ({zone})",
             f"valid until  {local_time(r['valid_until'], tz)} ({zone})",
             f"state        {state}",
             f"reprints     {r.get('reprint_count') or 0}"]
    if r.get("conditions"):
        lines.append(f"conditions   {r['conditions']}")
    lines.append(f"qr           {r['signed_payload']}")
    return "\n".join(lines)


@command(licence, "pdf")
@click.argument("number")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True),
              help="The PDF file to write (replaced if it exists).")
@click.option("--lang", type=click.Choice(["ar", "en"]), default=None,
              help="The document's first language (default: the printer's, [printer] "
                   "language).")
def licence_pdf_cmd(ctx, number, out, lang):
    """Write a licence as an A4 PDF with its signed QR code: for an office printer (thermal
    paper fades) or to send to the resident. A revoked licence gets none.

    \b
    Example:
        nafitha licence pdf MUH-2026-D01-000001 --out licence.pdf --lang en
    """
    from devices.printing.certificate_pdf import licence_pdf

    content = licence_pdf(ctx.office, number, lang)  # made before the file is touched
    target = Path(out)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(content)
    os.replace(partial, target)  # a reader never opens half a PDF
    result = {"licence": number, "out": str(target), "bytes": len(content)}
    return result, lambda r: click.echo(f"wrote {r['out']} ({r['bytes']} bytes)")


@command(licence, "revoke")
@click.argument("number")
@click.option("--reason", required=True)
@supervisor_options
def licence_revoke(ctx, number, reason, supervisor, pin):
    """Revoke a licence, with a reason (a supervisor's PIN required).

    \b
    Example:
        nafitha licence revoke MUH-2026-D01-000001 --reason "issued in error" --supervisor huda
    """
    with ctx.office.as_supervisor(supervisor, pin):
        return ctx.office.licences.revoke(number, reason), _licence_line


@click.command("verify", cls=Command)
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
        # An unreadable code's detail is the decoder's (base45, CBOR): say what a code is.
        hint = " A licence code is the whole text of its QR, starting NF1:; copy it whole, " \
               "or give a photo of the QR with --image." if result.reason == "malformed" \
            else f" ({result.detail})" if result.detail else ""
        click.echo(("GENUINE: " if result.valid else "NOT GENUINE: ") + result.message + hint)
        c = result.claims
        if c:
            from datetime import datetime
            tz = ctx.settings.tz  # the verifier's own zone: the dates people read there
            day = lambda t: datetime.fromtimestamp(t, tz).date().isoformat()  # noqa
            click.echo(f"licence {c['number']} ({c['type']})  holder {c['holder']}")
            click.echo(f"issued {day(c['issued_at'])} by {c['office']}  "
                       f"valid until {day(c['valid_until'])}")
            if c["address"]:
                click.echo(", ".join(f"{part} {value}" for part, value in c["address"].items()))
            if c.get("conditions"):
                click.echo(f"conditions: {c['conditions']}")
    sys.exit(0 if result.valid else 1)


def register(root: click.Group) -> None:
    root.add_command(issue_cmd)
    root.add_command(licence)
    root.add_command(verify_cmd)
