"""Render + encode time and bytes for each printed document, against python-escpos's own
text-mode printing of the same ticket (the baseline, measured in the same run).

    python bench/printing.py [--runs 40] [--width 576]

Prints JSON. Targets (issue 4): ticket p95 <= 30 ms, licence p95 <= 120 ms."""
from __future__ import annotations

import argparse
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
    args = parser.parse_args(argv)
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
    }, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
