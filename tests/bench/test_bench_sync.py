"""bench/sync.py runs end to end with tiny sizes (central in its own process, SQLite and an
embedded PostgreSQL), and what it prints has the promised shape and positive rates."""
import contextlib
import gzip
import io
import json
import random

import pytest

from bench_loader import load_bench

from core.clock import FrozenClock, UlidFactory

EVENTS, BASELINE, DEVICES, BATCH = 300, 20, 3, 10


@pytest.fixture(scope="module")
def bench():
    return load_bench("sync")


@pytest.fixture(scope="module")
def report(bench):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert bench.main(["--events", str(EVENTS), "--baseline-events", str(BASELINE),
                           "--rounds", "1", "--devices", str(DEVICES),
                           "--batch-events", str(BATCH), "--rate", "120", "--duration", "0.5",
                           "--workers", "1"]) == 0
    return json.loads(out.getvalue())


def positive(summary):
    return summary["median"] > 0 and summary["all"] and all(v > 0 for v in summary["all"])


@pytest.mark.slow
def test_the_drain_is_measured_on_both_databases_against_one_request_per_event(report):
    drain = report["drain"]
    assert set(drain["backends"]) == {"sqlite", "postgresql"}
    assert drain["events"] == EVENTS and drain["baseline_events"] == BASELINE
    assert drain["batch_size"] == 500
    for backend in drain["backends"].values():
        assert positive(backend["events_per_s"]) and positive(backend["seconds"])
        assert positive(backend["baseline_one_request_per_event_events_per_s"])
        assert positive(backend["baseline_seconds"])
        assert backend["requests"] == 1  # 300 events, batches of 500
        assert backend["ratio_vs_baseline"] > 0
        assert isinstance(backend["meets_target"], bool)
    assert drain["target_events_per_s"] == 10_000 and drain["target_ratio_vs_baseline"] == 20
    assert isinstance(drain["meets_target"], bool)


@pytest.mark.slow
def test_the_load_runs_paced_and_unpaced_with_latencies(report):
    load = report["load"]
    assert load["database"] == "postgresql" and load["devices"] == DEVICES
    assert "devices" in load["model"] and "jitter" in load["model"]
    expected = DEVICES * load["batches_per_device"] * BATCH
    assert load["events_per_run"] == expected
    assert {r["mode"] for r in load["runs"]} == {"paced", "unpaced"}
    for run in load["runs"]:
        assert run["workers"] == 1 and run["errors"] == 0
        assert run["events_per_s"] > 0
        latency = run["latency_ms"]
        assert 0 < latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]
        for one in run["each_round"]:
            assert one["events"] == expected
            assert one["requests"] == DEVICES * load["batches_per_device"]
            assert one["events_per_s_whole_run"] > 0
    assert load["chosen_workers"] == 1
    assert load["target_events_per_s"] == 5_000 and load["target_p99_ms"] == 500
    assert isinstance(load["meets_target"], bool)
    assert report["events"].startswith("synthetic user.pin_failed")


def test_load_events_are_what_the_store_writes(bench, tmp_path):
    """The pre-built load batches carry events of the same shape as Store.record's, with
    a correct audit chain, and the backlog the agent pushes in the drain is real."""
    data = bench.make_backlog(tmp_path / "d", "D01", 3)
    from core.office import Office
    office = Office.open(bench.device_settings(data, "D01"))
    real = [json.loads(r["body"]) for r in office.store.all("SELECT body FROM outbox")]
    office.close()
    assert len(real) == 3
    clock = FrozenClock("2026-11-24T08:00:00+00:00")
    batches = bench.device_batches("MUH", "D01", 2, 3, UlidFactory(clock, random.Random(1)),
                                   "2026-11-24T08:00:00.000+00:00")
    decoded = [json.loads(gzip.decompress(b)) for b in batches]
    assert [b["pending"] for b in decoded] == [6, 3]
    events = [e for b in decoded for e in b["events"]]
    assert [set(e) for e in events] == [set(real[0])] * 6
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5, 6]
    from sync import protocol
    protocol.check_audit_chain(events)  # raises when a link is wrong
    protocol.check_audit_chain(real)


def test_fleet_and_percentiles(bench):
    members = bench.fleet(9)
    assert len(set(members)) == 9 and members[0] == ("O001", "D01") and members[4] == ("O002",
                                                                                       "D01")
    values = sorted(range(1, 101))
    assert bench.percentile(values, 50) == 50 and bench.percentile(values, 99) == 99
    assert bench.percentile([7.0], 99) == 7.0
