"""bench/catalog.py in quick mode: it measures the real loader, tree and search on the shipped
8 services and the generated 108 in the same run, and its ratio is its own figures divided."""
from bench_loader import run_quick


def test_quick_catalog_bench_compares_108_with_8():
    report = run_quick("catalog")
    small, large = report["baseline_8"], report["catalog_108"]
    assert (small["services"], large["services"], report["searches"]) == (8, 108, 20)
    for figures in (small, large):
        assert figures["load_ms"] > 0 and figures["searches_ms"] > 0
        assert figures["total_ms"] >= max(figures["load_ms"], figures["searches_ms"])
    assert report["ratio_total"] == round(large["total_ms"] / small["total_ms"], 2)
    assert report["added_ms"] == round(large["total_ms"] - small["total_ms"], 3)
    assert large["load_ms"] > small["load_ms"]  # 108 files really were read
