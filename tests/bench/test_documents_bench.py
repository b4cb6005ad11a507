"""bench/documents.py --quick reports what the issue asks for, and its pages are real ones:
every text page is within 250 kB and still decodes its QR code."""
import hashlib

import pytest

from bench_loader import load_bench, run_quick


@pytest.fixture(scope="module")
def report():
    return run_quick("documents")


def test_the_report_has_capture_times_page_sizes_and_the_baseline(report):
    assert report["benchmark"] == "documents" and report["settings"]["quick"] is True
    assert report["settings"]["frame_size"] == [1920, 1080]
    assert 0 < report["capture_p50_ms"] <= report["capture_p95_ms"] <= report["capture_max_ms"]
    baseline = report[report["baseline"]]
    assert 0 < baseline["p50_ms"] <= baseline["p95_ms"] and baseline["kb_median"] > 0
    targets = report["targets"]
    assert (targets["capture_p95_ms_max"], targets["text_page_kb_max"]) == (500, 250)
    assert targets["met"] == {"capture_p95_ms": report["capture_p95_ms"] <= 500,
                              "text_page_kb": report["text_page_kb"] <= 250}
    assert targets["all_met"] == all(targets["met"].values())


def test_text_pages_are_small_and_legible_and_photos_are_kept_as_photos(report):
    assert 0 < report["text_page_kb"] <= 250
    assert report["text_pages"] >= 3
    assert report["text_pages_qr_decoded"] == report["text_pages"]
    assert report["photo_page_kb"] > report["text_page_kb"]  # colour JPEG, not 1-bit
    assert report["auto_mode_errors"] == 0
    assert report["corner_error_px_max"] <= 6


def test_store_writes_each_content_once_under_its_hash(tmp_path):
    bench = load_bench("documents")
    first = bench.store(b"page one", tmp_path)
    digest = hashlib.sha256(b"page one").hexdigest()
    assert first == tmp_path / digest[:2] / digest and first.read_bytes() == b"page one"
    assert bench.store(b"page one", tmp_path) == first
    bench.store(b"page two", tmp_path)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(
        [digest, hashlib.sha256(b"page two").hexdigest()])  # no temp file left behind


def test_the_upload_figures_come_from_the_sync_side_hook_when_it_is_there(tmp_path,
                                                                           monkeypatch):
    bench = load_bench("documents")
    monkeypatch.setattr(bench, "UPLOAD_HOOK", tmp_path / "_document_upload.py")
    assert bench.upload_result(quick=True) is None
    (tmp_path / "_document_upload.py").write_text(
        "def run(quick):\n    return {'ratio': 0.95, 'quick': quick}\n", encoding="utf-8")
    assert bench.upload_result(quick=True) == {"ratio": 0.95, "quick": True}
