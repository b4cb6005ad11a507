"""Capture to stored for a document page photographed in a 1920x1080 frame: page clean-up
(devices/documents/cleanup.py), encoding, and writing the bytes content-addressed with fsync;
against the baseline of storing the raw frame as a JPEG (what a capture without clean-up
would keep), measured in the same run.

    python bench/documents.py [--frames 30] [--seed 1] [--quick]

Prints JSON. Targets (issue 20): capture p95 <= 500 ms; a text page <= 250 kB.

The frames are made in memory before timing (tests/devices/documents/synthetic_pages.py): an
A4 page with Arabic and English text and a QR code (every fourth one a page with a colour
picture instead), on a cluttered desk, turned up to +-25 degrees, some with keystone, some
dim and noisy, some with a shadow over a third of the frame. Each capture is timed from the
frame in memory to the page stored by the office store (core/attachments.py add_page in a
temporary data directory: the file content-addressed and fsynced, its event and audit entry
committed). Besides the times it reports what makes them worth
reading: the largest corner error, how many cleaned text pages still decode their QR code,
and how many pages "auto" took for the wrong kind.

If bench/_document_upload.py exists (the sync side's upload benchmark) its run(quick) result
is reported under "upload".
"""
from __future__ import annotations

import argparse
import importlib.util
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
sys.path.insert(0, str(ROOT / "tests" / "devices" / "documents"))

import cv2
import numpy as np

from devices.documents.cleanup import clean_page, encode_page
from devices.scanning.decoders import DecoderChain
from synthetic_pages import a4_page, photograph

TARGETS = {"capture_p95_ms_max": 500, "text_page_kb_max": 250}
QR_TEXT = "NFA:MUH:MUH-D01-A2026-000042"
UPLOAD_HOOK = ROOT / "bench" / "_document_upload.py"


class OfficeStore:
    """The real office store (core/attachments.py) in a temporary data directory: each page
    is added to a building permit's drawings (content-addressed, fsynced, its event and audit
    entry in the same SQLite transaction), a new permit when one is near its size limit."""

    def __init__(self, directory: Path):
        from core.clock import SystemClock
        from core.office import Office
        from core.settings import load_settings
        self.office = Office.open(load_settings(directory, environ={
            "NAFITHA_OFFICE__CODE": "MUH", "NAFITHA_DEVICE__ID": "D01"}), clock=SystemClock())
        self.application, self.held = None, 0

    def add(self, data: bytes, media_type: str) -> dict:
        from core.attachments import MAX_APPLICATION_BYTES
        from core.text import with_check_digit
        if self.application is None or self.held + len(data) > MAX_APPLICATION_BYTES:
            self.application = self.office.applications.submit("building-permit-small", {
                "full_name": "Bench Resident",
                "national_id": with_check_digit("85010001", "luhn"), "phone": "33334444",
                "block": "204", "road": "15", "building": "12", "parcel": "02-1234",
                "area_m2": "45"})["id"]
            self.held = 0
        self.held += len(data)
        return self.office.attachments.add_page(self.application, "drawing", data, media_type,
                                                "camera", "bench")

    def close(self) -> None:
        self.office.close()


def make_frames(count: int, seed: int) -> list[dict]:
    """`count` photographed pages, varied deterministically by `seed`."""
    rng = np.random.default_rng(seed)
    text_page, photo_page = a4_page(QR_TEXT), a4_page(photo=True)
    frames = []
    for i in range(count):
        photo = i % 4 == 3
        params = {"angle_deg": float(rng.uniform(-25, 25)),
                  "keystone": float(rng.choice([0.0, rng.uniform(0.05, 0.2)])),
                  "light": float(rng.choice([1.0, rng.uniform(0.45, 0.7)])),
                  "noise": float(rng.uniform(2, 6)), "shadow": bool(rng.random() < 0.4),
                  "height_px": 760.0, "seed": int(seed * 1000 + i)}
        shot = photograph(photo_page if photo else text_page, **params)
        frames.append({"frame": shot.frame, "corners": shot.corners,
                       "kind": "photo" if photo else "text", "params": params})
    return frames


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def capture(frame: np.ndarray, store: OfficeStore):
    page = clean_page(frame)
    data, media_type = encode_page(page)
    return page, data, media_type, store.add(data, media_type)


def baseline(frame: np.ndarray, store: OfficeStore) -> bytes:
    """The raw frame as a JPEG (quality 80), stored the same way."""
    _, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 80])
    data = buf.tobytes()
    store.add(data, "image/jpeg")
    return data


def measure(frames: list[dict], store: OfficeStore) -> dict:
    chain = DecoderChain(formats="qr")
    times, base_times, base_kb = [], [], []
    text_kb, photo_kb, corner_errors = [], [], []
    qr_read = mode_errors = 0
    capture(frames[0]["frame"], store)  # first-call costs (OpenCV, Pillow, SQLite)
    for i, item in enumerate(frames):
        started = time.perf_counter()
        page, data, _, _ = capture(item["frame"], store)
        times.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        raw = baseline(item["frame"], store)
        base_times.append((time.perf_counter() - started) * 1000)
        base_kb.append(len(raw) / 1000)
        corner_errors.append(float(np.linalg.norm(page.corners - item["corners"], axis=1).max()))
        mode_errors += page.mode != item["kind"]
        if item["kind"] == "text":
            text_kb.append(len(data) / 1000)
            qr_read += any(d.text == QR_TEXT for d in chain.decode(page.image))
        else:
            photo_kb.append(len(data) / 1000)
    text_pages = sum(item["kind"] == "text" for item in frames)
    return {
        "capture_p50_ms": round(statistics.median(times), 1),
        "capture_p95_ms": round(percentile(times, 0.95), 1),
        "capture_max_ms": round(max(times), 1),
        "text_page_kb": round(max(text_kb), 1) if text_kb else None,
        "text_page_kb_median": round(statistics.median(text_kb), 1) if text_kb else None,
        "photo_page_kb": round(max(photo_kb), 1) if photo_kb else None,
        "corner_error_px_max": round(max(corner_errors), 2),
        "text_pages": text_pages, "text_pages_qr_decoded": qr_read,
        "auto_mode_errors": mode_errors,
        "baseline_raw_jpeg": {"p50_ms": round(statistics.median(base_times), 1),
                              "p95_ms": round(percentile(base_times, 0.95), 1),
                              "kb_median": round(statistics.median(base_kb), 1)},
    }


def upload_result(quick: bool) -> dict | None:
    """bench/_document_upload.py's run(quick), when the sync side has written it."""
    if not UPLOAD_HOOK.exists():
        return None
    spec = importlib.util.spec_from_file_location("bench_document_upload", UPLOAD_HOOK)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.run(quick=quick)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="a few frames, in seconds")
    args = parser.parse_args(argv)
    count = 4 if args.quick else args.frames
    if count < 1:
        parser.error("--frames must be at least 1")
    started = time.perf_counter()
    frames = make_frames(count, args.seed)
    built = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="nafitha-bench-documents-") as tmp:
        store = OfficeStore(Path(tmp))
        try:
            figures = measure(frames, store)
        finally:
            store.close()
    met = {"capture_p95_ms": figures["capture_p95_ms"] <= TARGETS["capture_p95_ms_max"],
           "text_page_kb": figures["text_page_kb"] is not None and
           figures["text_page_kb"] <= TARGETS["text_page_kb_max"]}
    result = {
        "benchmark": "documents",
        "what": "capture to stored (clean_page + encode_page + the office store's add_page: "
                "content-addressed fsynced file, event and audit) of an A4 page photographed in a 1920x1080 frame, against storing "
                "the raw frame as a JPEG",
        "settings": {"frames": count, "seed": args.seed, "quick": args.quick,
                     "frame_size": [1920, 1080], "cv2_threads": cv2.getNumThreads()},
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count(), "opencv": cv2.__version__,
                    "numpy": np.__version__},
        **figures,
        "baseline": "baseline_raw_jpeg",
        "targets": {**TARGETS, "met": met, "all_met": all(met.values())},
        "seconds": {"build_frames": round(built, 2)},
    }
    upload = upload_result(args.quick)
    if upload is not None:
        result["upload"] = upload
    result["seconds"]["total"] = round(time.perf_counter() - started, 2)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
