"""bench/printing.py runs and reports what it measured; the bytes it times really print."""
import contextlib
import io
import json

from bench_loader import load_bench


def run_bench(*args) -> dict:
    module = load_bench("printing")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert module.main(["--runs", "3", *args]) == 0
    return json.loads(out.getvalue()), module


def test_the_report_covers_each_document_against_the_text_mode_baseline():
    report, module = run_bench("--width", "384")
    docs = report["documents"]
    assert set(docs) == {"ticket", "receipt", "licence"}
    for entry in docs.values():
        assert 0 < entry["p50_ms"] <= entry["p95_ms"] and entry["bytes"] > 1000
    assert docs["ticket"]["target_p95_ms"] == 30 and docs["licence"]["target_p95_ms"] == 120
    assert report["baseline_text_mode_ticket"]["bytes"] < docs["ticket"]["bytes"]
    # the baseline really is text mode: its bytes hold the ticket number as text
    baseline = module.text_mode_ticket(module.sample_documents()["ticket"])
    assert b"R007" in baseline and b"\x1dv0" not in baseline


def test_varied_documents_differ_each_run():
    _, module = run_bench()
    docs = module.sample_documents()
    assert module.varied("licence", docs["licence"], 1)["qr_text"] != \
        module.varied("licence", docs["licence"], 2)["qr_text"]
    assert module.varied("ticket", docs["ticket"], 5)["number"] == "R005"
