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


def test_the_bytes_each_document_sends_are_at_most_half_and_still_the_preview():
    report, module = run_bench("--quick", "--width", "576")
    sent = report["bytes_sent"]
    assert set(sent) == {"ticket", "receipt", "licence", "application", "z_report"}
    for langs in sent.values():
        assert set(langs) == {"ar", "en"}
        for entry in langs.values():
            assert entry["bytes_after"] <= 0.5 * entry["bytes_before"]
            assert entry["matches_preview"] is True
            # 8N1: ten bits on the wire per byte
            assert entry["send_s_after"]["19200"] == round(entry["bytes_after"] / 1920, 2)
            assert entry["send_s_before"]["115200"] < entry["send_s_before"]["19200"]
    checks = report["checks"]
    assert checks["bytes_ratio_met"] and checks["matches_preview"] and checks["p95_targets_met"]
    assert checks["worst_bytes_ratio"] <= checks["target_bytes_ratio"] == 0.5
    # the "before" is the whole image at full width: a ticket's rows x 72 bytes, and more
    image = module.render("ticket", module.sample_documents()["ticket"], "ar", 576)
    assert sent["ticket"]["ar"]["bytes_before"] >= image.height * 72
