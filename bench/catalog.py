"""The catalogue's share of a kiosk's cold start at a ministry's scale (issue 25): loading the
catalogue files (core.catalog.load_catalog), building the sector -> category -> service tree
(core.service_search.browse) and the first 20 searches a resident's key presses make
(service_search.search, whose word index is built on the first), for the generated
108-service catalogue (testing/catalog_108.py) against the shipped 8 (the baseline), rounds
interleaved so both see the same machine load.

    python bench/catalog.py [--rounds 15] [--quick]

Prints JSON: medians in ms per step and in total for each catalogue, the ratio 108 / 8, and
the milliseconds the 108 add. The kiosk's own cold start (the lead's bench/kiosk.py) is
what issue 25's target (108 at most 1.2x the 8) is measured on; this is the part the
catalogue adds to it. Per search after the first: `search_ms_each`, the budget of a key press."""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core import service_search  # noqa: E402
from core.catalog import DEFAULT_CATALOG_DIR, load_catalog  # noqa: E402
from testing.catalog_108 import write_catalog_108  # noqa: E402

# A resident typing, key by key, in each language, and a few whole words: 20 searches.
SEARCHES = ("ر", "رخ", "رخص", "رخصة", "رخصة ب", "رخصة بنا", "شهادة", "اثبات سكن", "صيد",
            "ضريبه", "f", "fi", "fis", "fish", "fishing lic", "permit", "renew", "tax",
            "building رخصة", "certificate")


def cold_start(directory: Path) -> dict:
    """One cold start's catalogue work, in seconds per step."""
    began = time.perf_counter()
    catalog = load_catalog(directory)
    loaded = time.perf_counter()
    service_search.browse(catalog)
    browsed = time.perf_counter()
    first = None
    for text in SEARCHES:
        service_search.search(catalog, text, "ar")
        first = first or time.perf_counter()
    searched = time.perf_counter()
    return {"load": loaded - began, "browse": browsed - loaded, "searches": searched - browsed,
            "search_each": (searched - first) / (len(SEARCHES) - 1), "total": searched - began,
            "services": len(catalog)}


def medians(runs: list[dict]) -> dict:
    out = {f"{k}_ms": round(statistics.median(r[k] for r in runs) * 1000, 3)
           for k in ("load", "browse", "searches", "search_each", "total")}
    return {"services": runs[0]["services"], **out}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="a few rounds (the test suite)")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds = 3
    with tempfile.TemporaryDirectory(prefix="nafitha-catalog108-") as tmp:
        big = write_catalog_108(Path(tmp) / "catalog")
        small_runs, big_runs = [], []
        cold_start(DEFAULT_CATALOG_DIR), cold_start(big)  # warm the imports and file cache
        for _ in range(args.rounds):
            small_runs.append(cold_start(DEFAULT_CATALOG_DIR))
            big_runs.append(cold_start(big))
    small, large = medians(small_runs), medians(big_runs)
    report = {
        "bench": "catalog", "rounds": args.rounds, "searches": len(SEARCHES),
        "baseline_8": small, "catalog_108": large,
        "ratio_total": round(large["total_ms"] / small["total_ms"], 2),
        "added_ms": round(large["total_ms"] - small["total_ms"], 3),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
