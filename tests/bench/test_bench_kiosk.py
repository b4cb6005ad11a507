"""bench/kiosk.py runs end to end in its quick form (its own Xvfb, the real kiosk driven by the
pilot, 2 cold starts of each app, 6 journeys), and what it prints has the promised shape,
sane values and figures that agree with each other."""
import os

import pytest

from bench_loader import load_bench, run_quick

pytestmark = [pytest.mark.slow, pytest.mark.ui]


@pytest.fixture(scope="module")
def bench():
    return load_bench("kiosk")


@pytest.fixture(scope="module")
def report():
    return run_quick("kiosk")


def test_every_journey_completed_and_the_store_holds_exactly_what_they_made(report):
    params, journeys = report["parameters"], report["journeys"]
    assert params["quick"] is True and params["journeys"] == 6 and params["launches"] == 2
    assert journeys["requested"] == journeys["completed"] == 6
    assert journeys["failed"] == [] and journeys["kiosk_exit_code"] == 0
    assert {k: v["completed"] for k, v in journeys["by_kind"].items()} == \
        {"apply": 2, "ticket": 2, "verify": 2}
    assert all(v["median_s"] > 0 for v in journeys["by_kind"].values())
    store = report["store"]
    assert store["expected"] == {"tickets": 2, "applications": 2, "applications_issued": 2,
                                 "payments_card": 2, "licences": 2, "terminal_charges": 2,
                                 "print_jobs": 6}  # 2 tickets; 2 licences, 2 receipts
    assert store["found"] == store["expected"] and store["exact"] is True


def test_cold_start_is_timed_for_the_kiosk_and_the_minimal_app(report):
    cold = report["cold_start"]
    for app in ("kiosk", "baseline_minimal_kivy"):
        entry = cold[app]
        assert len(entry["all_ms"]) == 2 and all(ms > 0 for ms in entry["all_ms"])
        assert 0 < entry["pilot_ready_median_ms"] <= entry["home_state_median_ms"] \
            <= entry["median_ms"]
        assert entry["first_launch_ms"] > 0 and entry["rss_after_first_frame_kib"] > 0
    assert cold["ratio_kiosk_vs_minimal"] == round(
        cold["kiosk"]["median_ms"] / cold["baseline_minimal_kivy"]["median_ms"], 2)
    # the baseline really is smaller: one label, no store, no devices
    assert cold["kiosk"]["rss_after_first_frame_kib"] > \
        cold["baseline_minimal_kivy"]["rss_after_first_frame_kib"]
    assert report["machine"]["display"] == "Xvfb 1920x1080x24"


def test_taps_are_reported_against_an_inert_tap_and_a_settle(report):
    taps = report["taps"]
    for name in ("screen_change", "screen_change_ui_only", "form_next_field",
                 "baseline_inert_tap", "baseline_settle", "key_press_in_type",
                 "pay_now_to_result_drawn"):
        entry = taps[name]
        assert entry["n"] > 0 and 0 < entry["p50_ms"] <= entry["p95_ms"] <= entry["max_ms"]
    # one inert tap per ticket and apply journey, one settle per journey
    assert taps["baseline_inert_tap"]["n"] == 4 and taps["baseline_settle"]["n"] == 6
    # apply: home, service, start_form, last next, done; ticket: home, service, priority,
    # done; verify: home, done
    assert taps["screen_change"]["n"] == 2 * 5 + 2 * 4 + 2 * 2
    assert sum(t["n"] for t in taps["per_transition"].values()) == taps["screen_change"]["n"]
    assert "home:ticket (home->services)" in taps["per_transition"]
    assert taps["screen_change_minus_inert_p50_ms"] == round(
        taps["screen_change"]["p50_ms"] - taps["baseline_inert_tap"]["p50_ms"], 1)


def test_memory_is_sampled_at_the_start_after_warmup_and_at_the_end(report):
    memory = report["memory"]
    samples = memory["samples"]
    assert [s["journeys"] for s in samples] == [0, 3, 6]
    assert all(s["rss_kib"] > 0 and s["hwm_kib"] >= s["rss_kib"] and s["threads"] > 0
               and s["fds"] > 0 and s["app_texts"] > 0 for s in samples)
    assert memory["rss_start_kib"] == samples[0]["rss_kib"]
    assert memory["rss_after_warmup_kib"] == samples[1]["rss_kib"]
    assert memory["rss_end_kib"] == samples[-1]["rss_kib"]
    assert memory["growth_after_warmup_pct"] == round(
        (memory["rss_end_kib"] - memory["rss_after_warmup_kib"])
        / memory["rss_after_warmup_kib"] * 100, 2)


def test_targets_follow_the_figures(report):
    targets = report["targets"]
    assert targets["memory_growth_after_warmup_max_pct"] == 10.0
    met = targets["met"]
    assert met["memory_growth_after_warmup"] == \
        (report["memory"]["growth_after_warmup_pct"] <= 10.0)
    assert met["journeys_completed"] is True and met["store_counts_exact"] is True
    assert targets["all_met"] == all(met.values())


def test_helpers(bench):
    from core.text import with_check_digit

    assert bench.percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.95) == 5.0
    assert bench.summary([0.1, 0.2, 0.3]) == {"n": 3, "p50_ms": 200.0, "p95_ms": 300.0,
                                              "max_ms": 300.0}
    cpr = bench.valid_cpr(7)
    assert len(cpr) == 9 and with_check_digit(cpr[:8], "luhn") == cpr
    assert bench.valid_cpr(7) != bench.valid_cpr(8)
    status = bench.proc_status(os.getpid())
    assert status["VmRSS"] > 0 and status["Threads"] >= 1 and status["fds"] > 0
