"""bench/server_limits.py in quick mode: both servers really ran under the same attack, and
what it prints agrees with itself: serve() closed every stalled connection, held at most the
flooding address's bound of them, and answered the probe (another address) throughout, the
baseline closed none; the flood is one traceback against one each."""
import contextlib
import io
import json

from bench_loader import load_bench


def test_quick_server_limits_bench_measures_both_servers():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert load_bench("server_limits").main(["--quick"]) == 0
    report = json.loads(out.getvalue())
    limited, baseline = report["limited"], report["baseline"]
    assert report["parameters"]["quick"] is True
    assert limited["stalled_opened"] == baseline["stalled_opened"] == 300
    assert limited["stalled_closed_by_server"] == 300
    assert baseline["stalled_closed_by_server"] == 0  # plain uvicorn holds them all
    assert baseline["stalled_held_after_opening"] == 300
    assert 0 < limited["stalled_held_after_opening"] <= \
        report["parameters"]["max_connections_per_address"] == 64
    assert report["parameters"]["probe_from"] != report["parameters"]["flood_from"]
    assert limited["probe"]["sent"] > 10 and limited["probe"]["answered_share"] >= 0.99
    assert 0 < limited["server_descriptors_peak"] < report["parameters"]["fd_limit"]
    assert limited["flood"]["answered_500"] == baseline["flood"]["answered_500"] == 100
    assert limited["log"]["traceback_lines"] == 1 and baseline["log"]["traceback_lines"] == 100
    assert report["log_bytes_ratio"] > 10 and report["meets_target"] is True
