"""bench/national.py --quick runs end to end (real enrolment, real Offices' event streams,
central in its own process on an embedded PostgreSQL, a generator and a console load beside
it): every event sent is acknowledged exactly once, central holds what was sent and refused
nothing, and the JSON carries the figures the full run reports. No timings are asserted."""
import pytest
from bench_loader import load_bench, run_quick


@pytest.fixture(scope="module")
def report():
    return run_quick("national")


EVENT_TYPES = ("ticket.taken", "ticket.called", "ticket.serving", "ticket.finished",
               "application.submitted", "payment.taken", "licence.issued")


@pytest.mark.slow
def test_every_event_sent_is_acknowledged_once_and_nothing_is_refused(report):
    runs = report["runs"]
    assert runs and {r["mode"] for r in runs} == {"paced", "unpaced"}
    sent = report["fleet"]["events_per_run"]
    for run in runs:
        assert run["events_sent"] == sent
        assert run["acknowledged"] == sent and run["acknowledged_unique"] == sent
        assert run["acknowledged_exactly_once"] is True
        assert run["refused"] == 0 and run["errors"] == {}
        counts = run["central_counts"]
        assert counts["events"] == counts["audit"] == sent
        assert counts["refused_events"] == 0 and counts["rejections"] == 0
        assert counts["licences"] == report["mix"]["measured"]["by_type"]["licence.issued"]
        assert run["central_holds_what_was_sent"] is True
        # The back office decided every review application the devices then applied.
        by_type = report["mix"]["measured"]["by_type"]
        assert run["decisions"] == by_type.get("application.approved", 0) + \
            by_type.get("application.rejected", 0)
    assert report["summary"]["every_event_acknowledged_once"] is True


@pytest.mark.slow
def test_the_mix_is_realistic_and_stated(report):
    mix = report["mix"]
    assert set(mix["stated"]) >= {"tickets", "applications", "payments", "licences",
                                  "decisions", "pin_failures"}
    by_type = mix["measured"]["by_type"]
    for kind in EVENT_TYPES:
        assert by_type.get(kind, 0) > 0, kind
    tickets = sum(v for k, v in by_type.items() if k.startswith("ticket."))
    assert tickets > sum(by_type.values()) / 2  # tickets are the bulk
    assert by_type.get("application.approved", 0) + by_type.get("application.rejected", 0) > 0


@pytest.mark.slow
def test_the_json_has_the_figures(report):
    assert report["target_events_per_s"] == 5_000 and report["target_p99_ms"] == 500
    for run in report["runs"]:
        assert run["workers"] == 1
        assert run["events_per_s"] > 0
        for key in ("p50", "p95", "p99"):
            assert run["batch_latency_ms"][key] is not None
            assert run["healthz_baseline_ms"][key] is not None
        assert run["console"]["requests"] > 0 and run["console"]["errors"] == {}
        assert run["console"]["latency_ms"]["p50"] is not None
        assert set(run["cpu_cores"]) >= {"central_workers", "postgresql", "generator",
                                         "console_load", "machine_busy_share"}
        # The ceiling is the machine's cores over what one event costs all of it.
        cores = run["cpu_cores"]
        assert cores["cpu_ms_per_event"] > 0
        assert cores["machine_ceiling_events_per_s"] == pytest.approx(
            cores["machine_cores"] * 1000 / cores["cpu_ms_per_event"], rel=0.01)
        assert "activity" in run["postgresql"]
        assert isinstance(run["meets_target"], bool)
    summary = report["summary"]
    assert set(summary) >= {"paced_events_per_s", "paced_p99_ms", "unpaced_events_per_s",
                            "cpu_cores", "meets_target_with_workers"}


def test_console_pages_name_the_offices_page_and_licences():
    bench = load_bench("national")
    pages = bench.console_pages(["M001-2026-D01-000001", "M001-2026-D01-000002"])
    assert pages[0] == "/v1/admin/offices"
    assert "/v1/licences/M001-2026-D01-000001" in pages
    assert bench.percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
