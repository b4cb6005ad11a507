"""bench/hub.py runs end to end in its quick form (a real hub process, 10 kiosks and 5
counters in worker processes, 4 tickets per kiosk), and what it prints has the promised
shape, checks that hold, and counts that agree with each other. The timing target is
reported, not asserted (it depends on the machine)."""
import pytest

from bench_loader import run_quick

pytestmark = pytest.mark.slow

FIGURES = ("take_ticket", "call_next", "start_serving", "finish")


@pytest.fixture(scope="module")
def report():
    return run_quick("hub")


def test_every_ticket_was_taken_called_served_and_finished_once(report):
    assert report["parameters"]["quick"] is True
    assert report["parameters"]["kiosks"] == 10 and report["parameters"]["counters"] == 5
    counts = report["counts"]
    assert counts["errors"] == 0 and report["errors"] == []
    assert counts["tickets_taken"] == 40 == counts["health"]
    assert counts["called"] == counts["started"] == counts["finished"] == 40
    assert counts["empty_calls"] >= 5  # each counter stops at its first empty call
    assert report["hub"]["exit_code"] == 0


def test_the_correctness_checks_hold(report):
    checks = report["checks"]
    for name in ("numbers_unique", "numbers_consecutive_per_prefix", "no_ticket_called_twice",
                 "calls_recorded_with_counter_and_clerk", "every_ticket_called_and_finished",
                 "all"):
        assert checks[name] is True, name
    assert checks["store_matches"] == {
        "tickets": True, "ticket_ids": True, "all_done_at_the_counter_that_called": True,
        "events": True, "outbox": True}
    # The fixed mix: 3 of 5 residence certificates, 1 address form, 1 building permit.
    assert checks["per_prefix"] == {"A": 8, "B": 8, "R": 24}


def test_each_figure_has_its_baseline_ratio_and_target(report):
    for name in FIGURES:
        figure = report[name]
        assert figure["n"] == 40, name
        assert 0 < figure["p50_ms"] <= figure["p95_ms"] <= figure["p99_ms"] <= \
            figure["max_ms"] < 30_000, name
    health = report["baseline"]["health"]
    assert health["n"] == 40 and 0 < health["p50_ms"] <= health["p99_ms"]
    assert report["baseline"]["health_idle"]["n"] == 50
    ratios = report["ratios"]
    assert ratios["take_ticket_p50_over_health_p50"] == round(
        report["take_ticket"]["p50_ms"] / health["p50_ms"], 2)
    assert ratios["call_next_p99_over_health_p99"] == round(
        report["call_next"]["p99_ms"] / health["p99_ms"], 2)
    target = report["target"]
    assert target["p99_ms_at_most"] == 100
    assert target["met"] == (report["take_ticket"]["p99_ms"] <= 100 and
                             report["call_next"]["p99_ms"] <= 100)
    throughput = report["throughput"]
    assert throughput["tickets_per_s"] > 0 and throughput["total_s"] >= \
        throughput["ticket_phase_s"] > 0
    assert set(report["cpu_s"]) == {"hub", "kiosk_workers", "counter_workers", "wall"}
