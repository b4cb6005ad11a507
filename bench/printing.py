"""Render + encode time and bytes for each printed document, against python-escpos's own
text-mode printing of the same ticket (the baseline, measured in the same run); and the
bytes each document sends, banded (escpos_encode.raster_bytes) against the whole image as
one full-width raster (the encoder before issue 25, kept here for the comparison only), with
the send time over a serial line at 19200 and 115200 baud.

    python bench/printing.py [--runs 40] [--width 576] [--quick]

Prints JSON. Targets: ticket p95 <= 30 ms, licence p95 <= 120 ms (issue 4); every
document, both languages, at most half of the full-width bytes, and the bytes decode back to
exactly the preview (issue 25), in `checks`."""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "core" / "credentials"))

from escpos.printer import Dummy  # noqa: E402

from devices.printing.escpos_encode import raster_job  # noqa: E402
from devices.printing.render import render  # noqa: E402

TARGETS_P95_MS = {"ticket": 30, "licence": 120}
TARGET_BYTES_RATIO = 0.5
BAUDS = (19200, 115200)
BITS_PER_BYTE = 10  # 8N1: a start bit, 8 data bits, a stop bit
QUICK_RUNS = 5
OFFICE = {"office_ar": "مركز خدمات المحرق", "office_en": "Muharraq Service Centre",
          "timezone": "Asia/Bahrain"}


def sample_documents() -> dict:
    vectors = json.loads((ROOT / "tests/vectors/credentials.json").read_text(encoding="utf-8"))
    permit = next(v for v in vectors["vectors"] if v["name"].startswith("valid building"))
    ticket = {**OFFICE, "number": "R007", "service_ar": "شهادة إثبات سكن",
              "service_en": "Residence certificate", "taken_at": "2026-11-24T08:15:00+00:00",
              "people_ahead": 4, "estimated_wait_minutes": 12, "priority": None,
              "qr_text": "NFT:MUH:01M8693800V3RS3DTR98H6BCFN"}
    receipt = {**OFFICE, "receipt_number": "MUH-D01-R0000123",
               "application_number": "MUH-D01-A2026-000042", "under_review": True,
               "service_ar": "رخصة بناء أقل من 50 م²",
               "service_en": "Building permit under 50 m²", "holder_name": "فاطمة عبدالله الحداد",
               "national_id": "850101239",
               "items": [{"label_ar": "رخصة بناء أقل من 50 م²",
                          "label_en": "Building permit under 50 m²", "amount_minor": 20000}],
               "total_minor": 20000, "currency": "BHD", "method": "cash",
               "tendered_minor": 25000, "change_minor": 5000, "reference": None,
               "taken_at": "2026-11-24T08:30:00+00:00", "clerk": "sara",
               "qr_text": "NFA:MUH:MUH-D01-A2026-000042", "voided": False}
    licence = {**OFFICE, "title_ar": "رخصة بناء أقل من 50 م²",
               "title_en": "Building permit under 50 m²", "number": "MUH-2026-D01-000043",
               "licence_type": "BPS", "holder_name": "فاطمة عبدالله الحداد",
               "national_id": "850101239",
               "address": {"parcel": "02-1234", "block": "204", "road": "15",
                           "building": "1203A"},
               "issued_at": "2026-11-22T07:00:00+00:00", "valid_until": "2027-11-22T07:00:00+00:00",
               "conditions": "يسمح بالعمل من 7 صباحاً إلى 6 مساءً فقط", "qr_text": permit["text"],
               "copy": False, "reprint_count": 0}
    return {"ticket": ticket, "receipt": receipt, "licence": licence}


def byte_documents() -> dict:
    """Every kind a printer prints, for the bytes comparison: the timed three, the
    application slip and the Z report."""
    docs = sample_documents()
    application = {**OFFICE, "application_number": "MUH-D01-A2026-000044",
                   "service_ar": "شهادة إثبات سكن", "service_en": "Residence certificate",
                   "submitted_at": "2026-11-24T08:10:00+00:00",
                   "holder_name": "فاطمة عبدالله الحداد", "national_id": "850101239",
                   "fee_minor": 1000, "currency": "BHD", "paid": False, "paid_receipt": None,
                   "next_step": "pay",
                   "documents": [{"ar": "البطاقة الذكية (الهوية)", "en": "Smart card (ID)"}],
                   "qr_text": "NFA:MUH:MUH-D01-A2026-000044:K5JE44KQJ2XE"}
    z_report = {**OFFICE, "shift": 12, "clerk": "sara", "currency": "BHD",
                "opened_at": "2026-11-24T04:00:00+00:00",
                "closed_at": "2026-11-24T11:30:00+00:00", "float_minor": 20000,
                "by_method": {"cash": {"count": 5, "total_minor": 6500},
                              "card": {"count": 2, "total_minor": 21000},
                              "online": {"count": 0, "total_minor": 0}},
                "total_minor": 27500, "payments": 7,
                "voids": {"count": 1, "total_minor": 1000},
                "expected_cash_minor": 26500, "counted_minor": 26000,
                "difference_minor": -500,
                "receipts": [f"MUH-D01-R{n:07d}" for n in (12, 13, 14, 16, 17, 18, 19)]}
    return {**docs, "application": application, "z_report": z_report}


def full_width_job(image) -> bytes:
    """The encoder before issue 25 (the "before" of the bytes comparison, nothing else):
    python-escpos's GS v 0 of the whole image, white rows and margins included."""
    printer = Dummy()
    printer.hw("INIT")
    printer.image(image, impl="bitImageRaster", fragment_height=960, center=False)
    printer.cut(mode="FULL", feed=True)
    return printer.output


def send_seconds(size: int) -> dict:
    return {str(baud): round(size * BITS_PER_BYTE / baud, 2) for baud in BAUDS}


def bytes_report(width: int) -> dict:
    """Per document and language: bytes before and after, the ratio, the send times, and
    whether the bytes decode back to the preview (the printing tests' decoder)."""
    sys.path.insert(0, str(ROOT / "tests" / "devices" / "printing"))
    from escpos_decode import decode_raster

    out = {}
    for kind, data in byte_documents().items():
        for lang in ("ar", "en"):
            image = render(kind, data, lang, width)
            with contextlib.redirect_stdout(io.StringIO()):  # escpos: "media.width ... not set"
                before = len(full_width_job(image))
            payload = raster_job(image)
            (printed,) = decode_raster(payload)
            out.setdefault(kind, {})[lang] = {
                "bytes_before": before, "bytes_after": len(payload),
                "ratio": round(len(payload) / before, 3),
                "send_s_before": send_seconds(before), "send_s_after": send_seconds(len(payload)),
                "matches_preview": printed.tobytes() == image.tobytes()
                and printed.size == image.size}
    return out


def text_mode_ticket(data: dict) -> bytes:
    """The baseline: python-escpos text commands, as a first attempt would print a ticket
    (its code page cannot shape Arabic, so only the English survives)."""
    p = Dummy()
    p.set(align="center", double_height=True, double_width=True)
    p.text(f"{data['number']}\n")
    p.set(align="center")
    p.text(f"{data['office_en']}\n{data['service_en']}\n")
    p.text(f"People ahead: {data['people_ahead']}  Wait: ~{data['estimated_wait_minutes']} min\n")
    p.text(f"{data['taken_at'][:16].replace('T', ' ')}\n")
    p.cut()
    return p.output


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def timed(fn, runs: int) -> tuple[list[float], object]:
    """fn(i) for each run; callers vary the document with i so no cache serves a repeat."""
    out, times = None, []
    for i in range(runs):
        start = time.perf_counter()
        out = fn(i)
        times.append((time.perf_counter() - start) * 1000)
    return times, out


def varied(kind: str, data: dict, i: int) -> dict:
    """A different document each run (number, amounts), as on a real day."""
    if kind == "ticket":
        return {**data, "number": f"R{i % 1000:03d}", "people_ahead": i % 17}
    if kind == "receipt":
        return {**data, "receipt_number": f"MUH-D01-R{i:07d}", "tendered_minor": 25000 + i,
                "change_minor": 5000 + i}
    # a new code each time too (its last characters; it is drawn, not verified, here)
    return {**data, "number": f"MUH-2026-D01-{i:06d}",
            "qr_text": data["qr_text"][:-4] + f"{i % 10000:04d}"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--width", type=int, default=576, choices=(384, 576))
    parser.add_argument("--lang", default="ar", choices=("ar", "en"))
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_RUNS} runs per document (a smoke run)")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs = min(args.runs, QUICK_RUNS)
    docs = sample_documents()
    for kind, data in docs.items():  # warm the font caches once, as a running kiosk has
        raster_job(render(kind, data, args.lang, args.width))
    results = {}
    baseline_times, baseline_bytes = timed(
        lambda i: text_mode_ticket(varied("ticket", docs["ticket"], i)), args.runs)
    for kind, data in docs.items():
        times, payload = timed(
            lambda i: raster_job(render(kind, varied(kind, data, i), args.lang, args.width)),
            args.runs)
        entry = {"p50_ms": round(statistics.median(times), 2),
                 "p95_ms": round(percentile(times, 0.95), 2), "bytes": len(payload)}
        if kind in TARGETS_P95_MS:
            entry["target_p95_ms"] = TARGETS_P95_MS[kind]
            entry["meets_target"] = entry["p95_ms"] <= TARGETS_P95_MS[kind]
        results[kind] = entry
    results["ticket"]["ratio_p50_vs_text_mode"] = round(
        results["ticket"]["p50_ms"] / max(statistics.median(baseline_times), 1e-6), 1)
    sent = bytes_report(args.width)
    ratios = {f"{kind}/{lang}": entry["ratio"] for kind, langs in sent.items()
              for lang, entry in langs.items()}
    worst = max(ratios, key=ratios.get)
    print(json.dumps({
        "benchmark": "printing.render_encode",
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
        "width_dots": args.width, "lang": args.lang, "runs": args.runs,
        "documents": results,
        "baseline_text_mode_ticket": {"p50_ms": round(statistics.median(baseline_times), 3),
                                      "p95_ms": round(percentile(baseline_times, 0.95), 3),
                                      "bytes": len(baseline_bytes),
                                      "note": "no Arabic: the printer's code page cannot "
                                              "join or order it"},
        "bytes_sent": sent,
        "checks": {
            "target_bytes_ratio": TARGET_BYTES_RATIO,
            "worst_bytes_ratio": ratios[worst], "worst_document": worst,
            "bytes_ratio_met": all(r <= TARGET_BYTES_RATIO for r in ratios.values()),
            "matches_preview": all(e["matches_preview"] for langs in sent.values()
                                   for e in langs.values()),
            "p95_targets_met": all(e.get("meets_target", True) for e in results.values()),
        },
    }, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
