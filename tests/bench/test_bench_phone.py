"""bench/phone.py runs end to end in its quick form (a real hub process, 30 phones following
their own tickets over the plain port's event streams in a worker process, the board's
stream, 5 calls in each phase), and what it prints has the promised shape, checks that
hold, and figures that agree with each other. The timing targets are reported, not
asserted (they depend on the machine)."""
import pytest

from bench_loader import run_quick

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report():
    return run_quick("phone")


def test_every_phone_followed_every_call(report):
    assert report["parameters"]["quick"] is True
    assert report["parameters"]["phones"] == 30 and report["parameters"]["calls"] == 5
    counts = report["counts"]
    assert counts["connected"] == 30 and counts["missed"] == 0 and counts["errors"] == 0
    # Call k changes what phones k-1.. show: 30 + 29 + 28 + 27 + 26 states, after the first.
    assert counts["phone_events"] >= 30 + 140
    assert report["call_to_each_phone"]["n"] == 140
    for name, held in report["checks"].items():
        assert held is True, name
    assert report["hub"]["exit_code"] == 0


def test_each_figure_has_its_baseline_ratio_and_target(report):
    figure = report["call_to_phone"]
    assert figure["n"] == 5
    assert 0 < figure["p50_ms"] <= figure["p99_ms"] <= figure["max_ms"] < 30_000
    assert report["call_to_phone_p99_ms"] == figure["p99_ms"]
    for board in ("board_with_phones", "board_without_phones"):
        assert report["baseline"][board]["n"] == 5, board
    assert report["ratios"]["call_to_phone_p99_over_board_p99"] == round(
        figure["p99_ms"] / report["baseline"]["board_with_phones"]["p99_ms"], 2)
    take = report["take_ticket"]
    assert take["with_phones"]["n"] > 0 and take["without_phones"]["n"] > 0
    targets = report["targets"]
    assert targets["call_to_phone_p99_ms_at_most"] == 1000
    assert targets["take_ticket_p99_ms_at_most"] == 100
    assert targets["met"] == (figure["p99_ms"] <= 1000 and
                              take["with_phones"]["p99_ms"] <= 100)
