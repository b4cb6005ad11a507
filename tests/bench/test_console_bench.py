"""bench/console.py --quick runs end to end (an embedded PostgreSQL, 10,000 applications built
in the shapes ingest writes), and what it prints has the promised shape: every back-office
query measured with a median and a p95, against a SELECT 1 baseline from the same run; then
the pages themselves through the real server (`nafitha central serve --workers 2`) over HTTP,
each answering 200 with the content it must show, timed against /healthz. No timing is
asserted: only that the figures exist and are consistent."""
import pytest

from bench_loader import run_quick

pytestmark = pytest.mark.slow

QUERIES = {"awaiting_first_page", "awaiting_by_office", "awaiting_by_service",
           "awaiting_search_national_id", "awaiting_search_name", "application", "offices",
           "alerts"}


@pytest.fixture(scope="module")
def report():
    return run_quick("console")


def test_the_data_has_the_promised_size_and_proportions(report):
    rows = report["rows"]
    assert report["applications"] == rows["applications"] == rows["resident_keys"] == 10_000
    assert report["offices"] == 100 and report["devices"] == 1000
    assert report["municipalities"] == 10
    assert 0.8 * 10_000 < rows["payments"] < 10_000 and 0.8 * 10_000 < rows["licences"]
    assert 0 < rows["awaiting"] < 200  # about 0.5%
    assert rows["search_tags"] >= 3 * 10_000  # a national ID and each name word
    assert rows["events"] >= 3 * 10_000
    assert report["fields"].startswith("sealed")


def test_every_query_is_timed_against_a_baseline(report):
    queries = report["queries"]
    assert QUERIES <= set(queries) and "baseline_select_1" in queries
    for name, timing in queries.items():
        assert 0 < timing["median_ms"] <= timing["p95_ms"] <= timing["max_ms"], name
        assert timing["calls"] == 30
    assert report["awaiting_first_page_items"] > 0 and report["offices_page_devices"] == 100
    assert report["target_ms"] == 200 and isinstance(report["meets_target"], bool)


PAGES = {"applications", "application", "offices", "home", "healthz"}


def test_the_pages_answer_over_http_from_the_real_server(report):
    """The HTTP part ran against `nafitha central serve --workers 2`, signed in through the
    form: every page answered 200 with what it must show (the oldest awaiting application's
    number on the list, the application's own number and its decision form, every office,
    the front page's count and alerts) on every call."""
    http = report["http"]
    assert http["workers"] == 2 and http["sign_in_ms"] > 0
    assert set(http["checks"]) == set(http["pages"]) == PAGES
    for name, check in http["checks"].items():
        assert check["status"] == 200, name
        assert check["answered"] == check["right"] == 20, name
    assert http["oldest_awaiting"].startswith("O") and "-A2026-" in http["oldest_awaiting"]
    assert http["checks"]["offices"]["bytes"] > http["checks"]["application"]["bytes"] > \
        http["checks"]["healthz"]["bytes"]


def test_the_pages_are_timed_against_healthz_in_the_same_run(report):
    http = report["http"]
    for name, timing in http["pages"].items():
        assert 0 < timing["median_ms"] <= timing["p95_ms"] <= timing["max_ms"], name
        assert timing["calls"] == 20
        assert timing["p95_over_healthz_median"] == pytest.approx(
            timing["p95_ms"] / http["pages"]["healthz"]["median_ms"], rel=0.05, abs=0.1)
    assert isinstance(http["meets_target"], bool)
    assert set(report["load_average"]) == {"at_start", "at_end"}
