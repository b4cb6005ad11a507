"""bench/documents.py --quick reports what the issue asks for, and its pages are real ones:
every text page is within 250 kB and still decodes its QR code."""
import hashlib

import pytest

from bench_loader import load_bench, run_quick

# The smallest PNG the office store takes: 1x1, white.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108020000009077"
                    "53de0000000c4944415408d763f8ffff3f0005fe02fea7d6a9e40000000049454e44ae426082")


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


def test_pages_are_stored_by_the_office_store_each_content_once(tmp_path):
    bench = load_bench("documents")
    store = bench.OfficeStore(tmp_path)
    try:
        first = store.add(PNG, "image/png")
        again = store.add(PNG, "image/png")
        attachments = store.office.attachments
        pages = attachments.pages(first["application_id"])
        assert [p["page"] for p in pages] == [1, 2] and first["sha256"] == again["sha256"]
        assert first["sha256"] == hashlib.sha256(PNG).hexdigest()
        assert attachments.read(first["sha256"]) == PNG
        files = [f for f in (tmp_path / "documents").rglob("*") if f.is_file()]
        assert [f.name for f in files] == [first["sha256"]]  # once, and no temp file left
    finally:
        store.close()


def test_the_upload_figures_come_from_the_sync_side_hook_when_it_is_there(tmp_path,
                                                                           monkeypatch):
    bench = load_bench("documents")
    monkeypatch.setattr(bench, "UPLOAD_HOOK", tmp_path / "_document_upload.py")
    assert bench.upload_result(quick=True) is None
    (tmp_path / "_document_upload.py").write_text(
        "def run(quick):\n    return {'ratio': 0.95, 'quick': quick}\n", encoding="utf-8")
    assert bench.upload_result(quick=True) == {"ratio": 0.95, "quick": True}
