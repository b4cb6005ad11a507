"""`nafitha report ...`: the centre's figures for a day, a week, a month or a range
(docs/kpis.md), computed by core/kpis.py like the hub's and the console's pages."""
from __future__ import annotations

import os
import sys
from datetime import date

import click

from core import kpis
from core.errors import ValidationError
from nafitha.commands import Group, command

LANGS = ("ar", "en")
# The visit columns a terminal has room for (core.report_files.VISIT_COLUMNS names them all).
VISIT_COLUMNS_SHOWN = ("tickets", "served", "no_show", "cancelled", "left", "wait_mean",
                       "wait_p90", "within_target", "service_mean", "rating_mean")


@click.group(cls=Group)
def report():
    """The centre's figures: waiting, service, applications, licences, revenue, staff time
    (docs/kpis.md defines each). Tables in the CLI's language (--lang, default from LANG);
    --json for the whole report; --csv or --xlsx (with --out FILE) for a spreadsheet.
    `report z SHIFT` is a shift's Z report.

    \b
    Example:
        nafitha report day 2026-12-06
        nafitha report week 2026-12-06 --service residence-certificate
        nafitha report month 2026-11 --xlsx --out november.xlsx
        nafitha report range 2026-11-01 2026-11-15 --json
    """


def report_options(fn):
    fn = click.option("--service", "services", multiple=True,
                      help="Only this service (code or prefix; repeat for several).")(fn)
    fn = click.option("--lang", type=click.Choice(LANGS),
                      help="The tables' language (default: ar when LANG starts with ar, "
                           "else en).")(fn)
    fn = click.option("--csv", "as_csv", is_flag=True, help="Every table as CSV (UTF-8).")(fn)
    fn = click.option("--xlsx", "as_xlsx", is_flag=True,
                      help="Every table as an XLSX workbook (needs --out).")(fn)
    return click.option("--out", type=click.Path(dir_okay=False, writable=True),
                        help="Write the CSV / XLSX / JSON to this file.")(fn)


@command(report, "day")
@click.argument("day", required=False)
@report_options
def report_day(ctx, day, **options):
    """The figures of one local DAY (YYYY-MM-DD; default today).

    \b
    Example:
        nafitha report day 2026-12-06 --lang ar
    """
    return _report(ctx, lambda today: kpis.Period.day(day or today), **options)


@command(report, "week")
@click.argument("day", required=False)
@report_options
def report_week(ctx, day, **options):
    """The week (Sunday to Saturday) that contains DAY (default today).

    \b
    Example:
        nafitha report week 2026-12-06 --csv --out week.csv
    """
    return _report(ctx, lambda today: kpis.Period.week(day or today), **options)


@command(report, "month")
@click.argument("month", required=False)
@report_options
def report_month(ctx, month, **options):
    """The calendar MONTH (YYYY-MM; default this month).

    \b
    Example:
        nafitha report month 2026-11 --xlsx --out november.xlsx
    """
    def period(today: str) -> kpis.Period:
        text = month or today[:7]
        try:
            year, number = (int(part) for part in text.split("-"))
        except ValueError:
            raise ValidationError(f"month: {text!r} is not YYYY-MM", field="from",
                                  reason="not_a_month") from None
        return kpis.Period.month(year, number)
    return _report(ctx, period, **options)


@command(report, "range")
@click.argument("first")
@click.argument("last")
@report_options
def report_range(ctx, first, last, **options):
    """From FIRST to LAST (local days, both included; at most 366 days).

    \b
    Example:
        nafitha report range 2026-11-01 2026-11-15 --service R
    """
    return _report(ctx, lambda today: kpis.Period.parse(first, last), **options)


def _report(ctx, period_of, services, lang, as_csv, as_xlsx, out):
    office = ctx.office
    today = office.queue.today()
    period = period_of(today)  # a bad or backwards period is refused before anything is read
    codes = _service_codes(office, services)
    result = kpis.report(kpis.HubFacts(office.store), period, services=codes,
                         today=date.fromisoformat(today))
    lang = lang or ("ar" if os.environ.get("LANG", "").startswith("ar") else "en")
    if as_csv or as_xlsx:
        from core import report_files
        labels = office.report_labels()
        if as_xlsx:
            if not out:
                raise ValidationError("--xlsx needs --out FILE (a workbook is not text)",
                                      field="out", reason="out_required")
            data = report_files.report_xlsx(result, labels, lang)
        else:
            data = report_files.report_csv(result, labels, lang)
        _write(data, out)
        return result, lambda _r: click.echo(f"written: {out}", err=True) if out else None
    if out:
        import json
        _write(json.dumps(result, ensure_ascii=False, indent=2).encode("utf-8"), out)
        return result, lambda _r: click.echo(f"written: {out}", err=True)
    return result, lambda r: _print_tables(r, office.report_labels(), lang)


def _service_codes(office, services) -> list[str] | None:
    """The codes asked for (a code or a prefix each); an unknown one is refused."""
    if not services:
        return None
    by_name = {}
    for svc in office.catalog:
        by_name[svc.code] = by_name[svc.prefix] = svc.code
    kpis.check_filters(services=services, known_services=list(by_name))
    return sorted({by_name[s] for s in services})


def _write(data: bytes, out: str | None) -> None:
    if out:
        with open(out, "wb") as fh:
            fh.write(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


def _print_tables(result: dict, labels: dict, lang: str) -> None:
    """The summary, then each table with rows, in `lang`, cut to what a terminal shows."""
    from core import report_files
    shown = {report_files.word(k, lang) for k in VISIT_COLUMNS_SHOWN}
    for table in report_files.tables(result, labels, lang):
        if not table.rows:
            continue
        keep = list(range(len(table.columns)))
        if table.key.startswith("visits_by_"):
            keys = 1 if table.key in ("visits_by_hour", "visits_by_day") else 2
            keep = list(range(keys)) + [i for i, c in enumerate(table.columns)
                                        if i >= keys and c.title in shown]
        if table.key == "visits_by_hour":  # hours nobody came add nothing to read
            rows = [r for r in table.rows if r[1]]
        else:
            rows = table.rows
        kinds = [c.kind for c in table.columns]
        cells = [[table.columns[i].title for i in keep]]
        for n, row in enumerate(rows):
            row_kinds = kinds[:-1] + [table.row_kinds[n]] if table.row_kinds else kinds
            cells.append([_cell(row[i], row_kinds[i]) for i in keep])
        widths = [max(len(line[i]) for line in cells) for i in range(len(keep))]
        click.echo(table.title)
        for line in cells:
            click.echo("  ".join(text.ljust(width) for text, width in zip(line, widths))
                       .rstrip())
        click.echo()


def _cell(value, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "share":
        return f"{value * 100:.1f}%"
    if kind in ("minutes", "rating"):
        return f"{value:.1f}"
    return str(value)


def register(cli: click.Group) -> None:
    # One `report` group: a shift's Z report (`report z`, nafitha/payments_cli.py) joins it.
    earlier = cli.commands.get("report")
    if isinstance(earlier, click.Group) and earlier is not report:
        for name, sub in earlier.commands.items():
            report.add_command(sub, name)
    cli.add_command(report)
