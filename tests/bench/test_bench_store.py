"""bench/store.py runs in quick mode, and its signed run really signed every head (the
bench checks each run's audit log and exits if a run was not what it claims)."""
import contextlib
import io
import json

from bench_loader import load_bench


def test_quick_store_bench_reports_both_rates_and_the_signed_head_ratio():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert load_bench("store").main(["--ops", "40", "--rounds", "1"]) == 0
    report = json.loads(out.getvalue())
    signed = report["signed_audit_head"]
    assert signed["ops_per_s"]["median"] > 0 and report["nafitha_ops_per_s"]["median"] > 0
    assert signed["ratio_vs_unsigned"] == round(
        signed["ops_per_s"]["median"] / report["nafitha_ops_per_s"]["median"], 3)
    assert signed["meets_target"] == (signed["ratio_vs_unsigned"] >= 0.9)


def test_a_run_that_did_not_sign_is_refused(monkeypatch):
    import pytest

    bench = load_bench("store")
    monkeypatch.setattr(bench.ceremony, "request", lambda *a, **k: None)  # no key made
    with pytest.raises(SystemExit, match="signed run's audit log"):
        bench.run_nafitha(5, signed=True)
