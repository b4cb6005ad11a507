"""bench/verify_web.py --quick: the browser's frame-to-verdict figures and the baseline's exist,
come from the same frames, and the verdicts agree."""
from bench_loader import run_quick


def test_quick_run_measures_both_sides_on_the_same_frames_and_they_agree():
    out = run_quick("verify_web")
    web, base = out["browser"], out["baseline_nafitha_verify_image_in_process"]
    assert out["runs"] == 4 and web["runs"] == base["runs"] == 4
    for side in (web, base):
        assert 0 < side["p50_ms"] <= side["p95_ms"]
    assert web["verdicts"] == base["verdicts"] == ["valid"] * 4
    assert out["verdicts_agree"] is True
    assert out["browser_over_baseline_p50"] > 0
