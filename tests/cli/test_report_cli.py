"""`nafitha report day|week|month|range` on a generated month (testing/kpi_month.py): the
CLI shows the figures computed by hand, in Arabic and English tables, as JSON, CSV and
XLSX; bad ranges and unknown services are refused with nothing changed; `queue stats` agrees."""
from __future__ import annotations

import io
import json
import sqlite3
from datetime import date

import openpyxl
import pytest
from click.testing import CliRunner

from core import kpis
from nafitha.cli import cli
from testing.kpi_month import R, generate_month

AFTER = date(2026, 12, 1)


@pytest.fixture(scope="module")
def month(tmp_path_factory, root_key):
    data = tmp_path_factory.mktemp("report-cli") / "data"
    office, expected = generate_month(data, "Asia/Bahrain", 2026, 11, seed=3,
                                      tickets_per_day=(8, 14), root_key=root_key)
    db = office.settings.db_path
    office.close()
    return data, db, expected


def nafitha(data, *args, expect=0):
    result = CliRunner().invoke(cli, ["--data", str(data), *args],
                                env={"NAFITHA_DATA": None, "NAFITHA_CONFIG": None,
                                     "LANG": "C.UTF-8"}, catch_exceptions=False)
    assert result.exit_code == expect, (result.output, result.stderr)
    return result


def as_report(output: str) -> dict:
    got = json.loads(output)
    assert got.pop("generated_at")
    return got


def every_row(db) -> dict:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = "
                                             "'table' AND name NOT LIKE 'sqlite_%'")]
        return {t: sorted(map(repr, conn.execute(f"SELECT * FROM {t}"))) for t in tables}
    finally:
        conn.close()


def test_the_month_week_and_day_as_json_are_the_hand_computed_figures(month):
    data, _db, expected = month
    assert as_report(nafitha(data, "report", "month", "2026-11", "--json").output) == \
        dict(expected)
    week = kpis.Period.week(date(2026, 11, 10))
    got = as_report(nafitha(data, "report", "week", "2026-11-10", "--service", "R",
                            "--json").output)
    assert got == expected.for_period(week, AFTER, [R])
    assert got["period"]["from"] == "2026-11-08"  # the Sunday
    day = kpis.Period.day("2026-11-10")
    assert as_report(nafitha(data, "report", "day", "2026-11-10", "--json").output) == \
        expected.for_period(day, AFTER)
    rng = kpis.Period.parse("2026-11-05", "2026-11-19")
    assert as_report(nafitha(data, "report", "range", "2026-11-05", "2026-11-19",
                             "--json").output) == expected.for_period(rng, AFTER)


def test_tables_in_english_and_arabic(month):
    data, _db, expected = month
    total = expected.for_period(kpis.Period.day("2026-11-10"), AFTER)["visits"]["total"]
    english = nafitha(data, "report", "day", "2026-11-10", "--lang", "en").output
    lines = english.splitlines()
    assert lines[0] == "Summary"
    assert "Tickets" in english and any(
        line.split()[:2] == ["Tickets", str(total["tickets"])] for line in lines)
    wait = f"{total['wait_s']['mean'] / 60:.1f}"
    assert any(line.startswith("Mean wait (min)") and line.split()[-1] == wait
               for line in lines)
    assert "Visits by service" in english and "Residence certificate" in english
    arabic = nafitha(data, "report", "day", "2026-11-10", "--lang", "ar").output
    assert arabic.splitlines()[0] == "الملخص"
    assert any(line.split()[:1] == ["التذاكر"] and line.split()[-1] == str(total["tickets"])
               for line in arabic.splitlines())
    assert "شهادة إثبات سكن" in arabic and "Summary" not in arabic


def test_csv_and_xlsx_files(month, tmp_path):
    data, _db, expected = month
    out = tmp_path / "month.csv"
    nafitha(data, "report", "month", "2026-11", "--csv", "--out", str(out), "--lang", "en")
    text = out.read_bytes().decode("utf-8-sig")
    assert text.startswith("Summary") and "Visits by service" in text
    assert f"Tickets,{expected['visits']['total']['tickets']}" in text
    book = tmp_path / "month.xlsx"
    nafitha(data, "report", "month", "2026-11", "--xlsx", "--out", str(book))
    sheets = openpyxl.load_workbook(io.BytesIO(book.read_bytes())).sheetnames
    assert len(sheets) > 5
    refused = nafitha(data, "report", "month", "2026-11", "--xlsx", expect=1)
    assert "--out" in refused.stderr


@pytest.mark.parametrize("args, words", [
    (("range", "2026-11-10", "2026-11-01"), "ends (2026-11-01) before it starts"),
    (("range", "2025-01-01", "2026-02-05"), "at most 366 days"),
    (("day", "2026-02-30"), "not a date"),
    (("month", "2026-13"), "no month"),
    (("month", "2026-11", "--service", "nope"), "unknown service: nope"),
])
def test_bad_input_is_refused_and_changes_nothing(month, args, words):
    data, db, _expected = month
    before = every_row(db)
    refused = nafitha(data, "report", *args, expect=1)
    assert words in refused.stderr
    as_json = nafitha(data, "report", *args, "--json", expect=1)
    assert json.loads(as_json.output.splitlines()[0])["error"] == "invalid_input"
    assert every_row(db) == before


def test_queue_stats_agree(month):
    data, _db, expected = month
    total = expected.for_period(kpis.Period.day("2026-11-12"), AFTER)["visits"]["total"]
    stats = json.loads(nafitha(data, "queue", "stats", "--day", "2026-11-12", "--json").output)
    assert stats["tickets"] == total["tickets"]
    assert stats["mean_wait_minutes"] == round(total["wait_s"]["mean"] / 60, 2)
    assert stats["mean_service_minutes"] == round(total["service_s"]["mean"] / 60, 2)
    ended = total["served"] + total["no_show"]
    assert stats["no_show_rate"] == round(total["no_show"] / ended, 3)


def test_help_ends_with_examples():
    for command in ("day", "week", "month", "range"):
        text = CliRunner().invoke(cli, ["report", command, "--help"]).output
        assert text.rstrip().splitlines()[-1].strip().startswith("nafitha report " + command)
