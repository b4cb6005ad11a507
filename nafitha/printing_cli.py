"""`nafitha printer ...`, `print ...` and `reprint ...`: the receipt and licence printer, and
printing tickets, receipts, applications, licences and Z reports through the durable print
queue (docs/printing.md)."""
from __future__ import annotations

import inspect

import click

from core.errors import DeviceError, NafithaError
from core.printing import ANSWERS, STATES
from core.text import LANGUAGES
from nafitha.commands import Group, command


class PrintFailed(NafithaError):
    code = "print_failed"


class PrintUncertain(NafithaError):
    code = "print_uncertain"


def _transport(ctx):
    """The configured printer's transport (PrinterError, a DeviceError, when it cannot open)."""
    import dataclasses
    from devices.printing.transports import open_transport
    return open_transport(dataclasses.asdict(ctx.settings.printer), ctx.settings.data_dir)


def _check_shaping():
    from devices.printing.render import check_shaping
    check_shaping()  # ShapingUnavailable (a DeviceError): broken Arabic is worse than no paper


def print_and_report(ctx, job) -> tuple[dict, object]:
    """Run this device's printer worker until the queue is empty (or 10 s), then report."""
    from core.faces.printing import PrintJobs
    from devices.printing.worker import PrintWorker
    _check_shaping()

    def unavailable(message):
        # The job is safe in the store: say so, and that it prints when the printer can.
        return ({**ctx.office.printing.get(job["id"]), "printer_error": message},
                lambda j: click.echo(f"queued as job {j['seq']}; printer unavailable: "
                                     f"{j['printer_error']} (it prints when the printer is back)"))
    try:
        transport = _transport(ctx)
    except DeviceError as exc:
        return unavailable(exc.message)
    try:
        worker = PrintWorker(PrintJobs(ctx.office, job["printer"]), transport)
        worker.drain(timeout_s=10)
    except DeviceError as exc:
        return unavailable(exc.message)
    finally:
        transport.close()
    row = ctx.office.printing.get(job["id"])
    waiting = worker.status.waiting_for
    if row["state"] == "uncertain":
        # Left printing by a process that died: it may have come out; a person must say.
        raise PrintUncertain(f"job {row['seq']} (licence) may have come out before a stop: "
                             f"ask the person at the printer, then nafitha print answer "
                             f"{row['seq']} --came-out yes|no|unsure", job=row["id"])
    if row["state"] == "failed":
        # Not "printed": the job will not print as it is, and scripts must see that.
        raise PrintFailed(f"job {row['seq']} ({row['kind']}) failed and will not print: "
                          f"{row['last_error']}", job=row["id"])

    def human(j):
        if j["state"] == "done":
            click.echo(f"printed job {j['seq']} ({j['kind']}{', COPY' if j['copy'] else ''}, "
                       f"{j['bytes']} bytes)")
        else:
            click.echo(f"job {j['seq']} is {j['state']}: {j['last_error'] or waiting or ''}")
    return {**row, "waiting_for": waiting}, human


@click.group(cls=Group)
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
    except DeviceError as exc:
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
    finally:
        transport.close()
    return {"printed": True, "bytes": len(payload), "transport": ctx.settings.printer.transport}, \
        None


@command(printer, "jobs")
@click.option("--state", "states", multiple=True,
              type=click.Choice(STATES))
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


@click.group("print", cls=Group)
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
    @click.option("--lang", type=click.Choice(LANGUAGES), help="First language "
                  "(default: printer.language).")
    @click.option("--preview", type=click.Path(dir_okay=False), help="Write a PNG instead.")
    def cmd(ctx, ref, lang, preview):
        from core import documents
        from devices.printing.render import render
        _check_shaping()
        if preview:
            ref_id = ctx.office.printing.resolve(kind, ref)
            image = render(kind, documents.build(ctx.office, kind, ref_id),
                           lang or ctx.settings.printer.language,
                           ctx.settings.printer.width_dots)
            image.save(preview)
            return {"preview": preview, "width": image.width, "height": image.height}, None
        job = ctx.office.printing.enqueue(kind, ref, lang)
        return print_and_report(ctx, job)
    return cmd


_print_command("ticket", "TICKET (number or id)", "nafitha print ticket R007")
_print_command("receipt", "RECEIPT (number or id)", "nafitha print receipt MUH-D01-R0000001")
_print_command("application", "APPLICATION (number or id)",
               "nafitha print application MUH-D01-A2026-000001")
_print_command("licence", "LICENCE (number or id)", "nafitha print licence MUH-2026-D01-000001")
_print_command("z_report", "of SHIFT (number or id)", "nafitha print z-report 1")


@command(print_group, "answer")
@click.argument("job")
@click.option("--came-out", "came_out", required=True, type=click.Choice(ANSWERS),
              help="yes: it came out (done); no: print the original now; unsure: no other "
                   "original (a later print is a counted COPY).")
def print_answer(ctx, job, came_out):
    """Say whether a licence came out after printing stopped mid-job (a crash, a power cut):
    such a job is `uncertain` and never printed again by itself (nafitha printer jobs
    --state uncertain). The answer is audited under --user; with `no` the original prints
    now.

    \b
    Example:
        nafitha print answer 12 --came-out no
    """
    with ctx.office.acting_as(ctx.actor()):
        row = ctx.office.printing.answer(job, came_out)
    if row["state"] == "pending":
        return print_and_report(ctx, row)

    def human(j):
        click.echo(f"job {j['seq']} is {j['state']}: {j['last_error']}")
    return row, human


@click.group(cls=Group)
def reprint():
    """Reprint a licence as a COPY (counted and audited).

    \b
    Example:
        nafitha reprint licence MUH-2026-D01-000001 --reason "paper jam"
    """


@command(reprint, "licence")
@click.argument("ref")
@click.option("--reason", required=True, help="Why a copy is printed (audited).")
@click.option("--lang", type=click.Choice(LANGUAGES))
def reprint_licence(ctx, ref, reason, lang):
    """Print a COPY of a licence; the original number is kept, the copy is counted.

    \b
    Example:
        nafitha reprint licence MUH-2026-D01-000001 --reason "paper jam"
    """
    with ctx.office.acting_as(ctx.actor()):
        job = ctx.office.printing.reprint_licence(ref, reason, lang)["print_job"]
    return print_and_report(ctx, job)


def register(root: click.Group) -> None:
    root.add_command(printer)
    root.add_command(print_group)
    root.add_command(reprint)
