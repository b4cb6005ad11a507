"""bench/reports.py: its generated centre has the promised shape, and --quick runs end to end
(a real hub store filled with 3 days of one centre, an embedded PostgreSQL with central's own
schema and 3 offices x 3 days): the JSON has every promised key, each report's figures equal
what was loaded for its period, and every timing is a positive number. No timing is asserted:
the targets (day <= 1 s, month <= 3 s, 100 offices' closed month on PostgreSQL, as the console
serves it, <= 5 s) are reported by the bench, not tested. The kept month equals a fresh
computation."""
import random
from collections import Counter
from datetime import date

import pytest
from bench_loader import load_bench, run_quick

from core.kpis import FACT_TABLES

FIGURES = ("day_report_s", "day_report_p95_s", "day_count_s", "month_report_s",
           "month_report_p95_s", "month_count_s", "pg_month_report_s",
           "pg_month_report_p95_s", "pg_month_count_s", "pg_month_compute_s",
           "pg_month_compute_p95_s")
# Computing does more than counting its rows; a kept report is read, not computed, and may
# take less than the count (pg_month_ratio_to_count is only positive).
RATIOS = ("day_ratio_to_count", "month_ratio_to_count", "pg_month_compute_ratio_to_count")


def test_a_generated_day_has_the_shape_of_a_busy_centre():
    bench = load_bench("reports")
    rows = bench.office_day(random.Random(7), "MUH", date(2025, 3, 10), 5000)
    assert set(rows) == set(FACT_TABLES)
    for name, batch in rows.items():
        assert all(len(row) == len(FACT_TABLES[name].columns) for row in batch), name
    visits = [dict(zip(FACT_TABLES["kpi_visits"].column_names, r)) for r in rows["kpi_visits"]]
    assert len(visits) == 5000 and len({v["ticket_id"] for v in visits}) == 5000
    states = Counter(v["state"] for v in visits)
    assert 0.04 < states["no_show"] / 5000 < 0.06 and 0.01 < states["cancelled"] / 5000 < 0.03
    assert 0 < states["waiting"] < 0.01 * 5000  # left unserved
    hours = Counter(v["hour"] for v in visits)
    assert set(hours) == set(range(7, 14)) and hours.most_common(1)[0][0] == 9  # the peak
    assert len({v["service_code"] for v in visits}) == 8
    assert len({v["counter"] for v in visits} - {None}) == 10
    assert len({v["clerk"] for v in visits} - {None}) == 10  # 10 of the 15 on duty
    assert {v["channel"] for v in visits} == {"kiosk", "appointment", "counter"}
    waits = sorted(v["wait_s"] for v in visits if v["wait_s"] is not None)
    assert waits[len(waits) // 2] < sum(waits) / len(waits)  # skewed: mean above median
    assert all(v["wait_s"] is None for v in visits if v["state"] in ("cancelled", "waiting"))
    assert all((v["service_s"] is not None) == (v["state"] == "done") for v in visits)
    assert all(v["day"] == "2025-03-10" and v["taken_at"].startswith("2025-03-10T")
               for v in visits)  # 07:00-14:00 in Bahrain is the same UTC date
    served = states["done"]
    assert 0.3 * served < len(rows["kpi_applications"]) < 0.6 * served
    assert 0 < len(rows["kpi_licences"]) < len(rows["kpi_applications"])
    assert 0 < len(rows["kpi_payments"]) <= len(rows["kpi_applications"])
    time_rows = [dict(zip(FACT_TABLES["kpi_counter_time"].column_names, r))
                 for r in rows["kpi_counter_time"]]
    per_counter = Counter()
    for row in time_rows:
        per_counter[row["counter"]] += row["seconds"]
    assert per_counter == {c: 7 * 3600 for c in bench.COUNTERS}  # 07:00-14:00 whole
    assert {r["state"] for r in time_rows} == {"open", "break", "back_office"}


@pytest.fixture(scope="module")
def report():
    return run_quick("reports")


@pytest.mark.slow
def test_the_json_has_every_figure_against_its_baseline(report):
    for name in FIGURES:
        assert isinstance(report[name], float) and report[name] > 0, name
    assert report["day_report_p95_s"] >= report["day_report_s"]
    assert report["month_report_p95_s"] >= report["month_report_s"]
    for name in RATIOS:
        assert report[name] > 1, name  # a report does more than count its rows
    assert report["pg_month_ratio_to_count"] > 0
    assert report["central"]["kept_scopes"] == 4  # every office, and each of 3 municipalities
    assert report["checks"]["pg_kept_equals_computed"] == {"calls": 1, "right": 1}
    assert report["targets_s"] == {"day_report_s": 1.0, "month_report_s": 3.0,
                                   "pg_month_report_s": 5.0}
    assert isinstance(report["meets_target"], bool)
    for part in ("hub", "central"):
        for name, timing in report[part]["timings"].items():
            assert 0 < timing["median_s"] <= timing["p95_s"] <= timing["max_s"], name
            assert timing["calls"] == 3
    assert report["machine"]["cpus"] >= 1


@pytest.mark.slow
def test_the_reports_say_what_was_loaded(report):
    """--quick loads 3 days of one month: the month's report counts every ticket loaded; each
    timed call's tickets, served, applications and revenue equalled the rows of its period."""
    hub, central = report["hub"], report["central"]
    assert hub["days"] == 3 and hub["pragmas"] == {"journal_mode": "wal", "synchronous": 2}
    assert 3 * 1200 * 0.85 <= hub["rows"]["kpi_visits"] <= 3 * 1200 * 1.15
    assert hub["reports"]["month"]["tickets"] == hub["rows"]["kpi_visits"]
    assert hub["reports"]["month"]["period"]["kind"] == "month"
    assert hub["reports"]["day"]["tickets"] < hub["reports"]["month"]["tickets"]
    assert 0 < hub["reports"]["day"]["served"] < hub["reports"]["day"]["tickets"]
    assert hub["reports"]["month"]["wait_s"]["median"] > 0
    assert central["offices"] == 3 and central["report"]["tickets"] == \
        central["rows"]["kpi_visits"] > hub["rows"]["kpi_visits"]
    assert "Alembic" in central["schema"] and central["postgresql"]
    assert report["figures_right"] is True
    for name, check in report["checks"].items():
        if name != "pg_kept_equals_computed":  # once
            assert check["calls"] == check["right"] == 4, name  # a warm-up + 3 timed
    assert {"day_report_tickets", "month_report_revenue", "pg_month_report_applications",
            "pg_month_report_offices", "pg_month_count", "pg_month_compute_tickets",
            "pg_month_compute_offices"} <= set(report["checks"])
