"""The browser verifier (assets/verify/) from a frame to a verdict in headless Chromium, against
`nafitha verify --image` on the same frames in the same run.

    python bench/verify_web.py [--runs 20] [--quick]

Each run photographs our own printed licence raster (devices/printing render, then rotation,
perspective, blur and noise with OpenCV) with a different licence number, gives the PNG to
the page's "Pick a photo" path and reads the page's own performance marks: nf-frame (the
file arrives) to nf-verdict (the verdict is on screen), so Playwright's round trips are not
counted. The decoder is zxing-wasm (Debian's Chromium has no BarcodeDetector on Linux) and
the signature check nf1.js.

Baseline, in this process: exactly what `nafitha verify --image FILE` does (read_image,
DecoderChain(formats="qr"), core.credentials.licence.verify with the same root), on the same
PNG files, so both sides decode and verify the same frames.

The harness (VerifySite: a static server for assets/verify plus a signed trust list, words
and a status route; licence_text, trust_envelope, licence_raster, photograph, write_y4m) is
also what tests/web/verify uses. Prints JSON."""
from __future__ import annotations

import argparse
import base64
import json
import platform
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "core" / "credentials"))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

import vector_builder as vb  # noqa: E402
from core.credentials import keys, revocation  # noqa: E402
from core.credentials.licence import claims_for, sign_claims, verify  # noqa: E402
from core.credentials.trust import TrustStore  # noqa: E402
from core.verify_words import words  # noqa: E402

ASSETS = ROOT / "assets" / "verify"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DAY = 86400
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".json": "application/json",
         ".webmanifest": "application/manifest+json", ".svg": "image/svg+xml",
         ".png": "image/png", ".wasm": "application/wasm", ".md": "text/plain"}


# ---- licences and trust lists (the test keys of tests/core/credentials/vector_builder.py) ----

def licence_text(number: str = "MUH-2026-D01-000042", now: int | None = None,
                 holder: str = "فاطمة عبدالله الحداد", **over) -> str:
    """A genuine NF1 code signed now-ish by the test device (certified by the test root)."""
    now = int(time.time()) if now is None else now
    cert = vb.cert(not_before=now - 30 * DAY, sign_until=now + 300 * DAY,
                   not_after=now + 4000 * DAY)
    row = vb.row(number=number, holder_name=holder, issued_at=now - 2 * DAY,
                 valid_until=now + 363 * DAY, device_counter=int(number[-6:]), **over)
    return sign_claims(claims_for(row, "MUH", salt=vb.SALT), vb.DEVICE, cert)


def trust_envelope(version: int, issued_at: int, revoked: tuple = (), signer=None,
                   roots=None, revocation_number: int | None = None) -> dict:
    """The NTL1 envelope central publishes at /verify/trust-list.json (contract of issue 21)."""
    signer = signer or vb.ROOT
    roots = roots or [vb.ROOT]
    rl = revocation.make(vb.ROOT, revocation_number or version, issued_at, list(revoked), {})
    payload = json.dumps({
        "format": "NTL1", "version": version, "issued_at": issued_at,
        "roots": [{"kid": keys.key_id(keys.public_bytes(k)).hex(),
                   "public_key": keys.public_bytes(k).hex()} for k in roots],
        "revocation_list": base64.b64encode(rl.to_bytes()).decode()}).encode()
    return {"format": "NTL1", "payload": base64.b64encode(payload).decode(),
            "kid": keys.key_id(keys.public_bytes(signer)).hex(),
            "signature": base64.b64encode(signer.sign(payload)).decode()}


def trust_store() -> TrustStore:
    trust = TrustStore()
    trust.add_root(keys.public_bytes(vb.ROOT))
    return trust


# ---- the printed licence, photographed ---------------------------------------------------

def licence_raster(text: str, number: str = "MUH-2026-D01-000042", lang: str = "ar"):
    """The licence as the office's printer prints it (a mode "1" PIL image, 576 dots)."""
    from devices.printing.render import render
    data = {"office_ar": "مركز خدمات المحرق", "office_en": "Muharraq Service Centre",
            "timezone": "Asia/Bahrain", "title_ar": "شهادة إثبات سكن",
            "title_en": "Residence certificate", "number": number, "licence_type": "RES",
            "holder_name": "فاطمة عبدالله الحداد", "national_id": "850101239",
            "address": {"block": "204", "road": "15", "building": "1203A"},
            "issued_at": "2026-11-22T07:00:00+00:00",
            "valid_until": "2027-11-22T07:00:00+00:00", "conditions": None,
            "qr_text": text, "copy": False, "reprint_count": 0}
    return render("licence", data, lang, 576)


def photograph(raster, seed: int = 0, size: tuple[int, int] = (640, 480)) -> np.ndarray:
    """A phone's view of the printed QR (BGR): the QR and its surroundings on a grey desk,
    slightly rotated, in perspective, blurred, unevenly lit, with sensor noise."""
    rng = np.random.default_rng(seed)
    page = np.array(raster.convert("L"))
    for detector in (cv2.QRCodeDetector(), cv2.QRCodeDetectorAruco()):
        found, corners = detector.detect(page)
        if found:
            break
    else:
        raise ValueError("the printed licence has no QR code OpenCV can locate")
    x0, y0 = corners[0].min(axis=0)
    x1, y1 = corners[0].max(axis=0)
    margin = 60
    crop = page[max(0, int(y0) - margin):int(y1) + margin,
                max(0, int(x0) - margin):int(x1) + margin]
    w, h = size
    scale = 0.78 * min(w, h) / max(crop.shape)
    cw, ch = crop.shape[1] * scale, crop.shape[0] * scale
    cx, cy = w / 2 + rng.uniform(-15, 15), h / 2 + rng.uniform(-10, 10)
    square = np.float32([[0, 0], [crop.shape[1], 0], [crop.shape[1], crop.shape[0]],
                         [0, crop.shape[0]]])
    angle = np.deg2rad(rng.uniform(-7, 7))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    box = np.float32([[-cw / 2, -ch / 2], [cw / 2, -ch / 2], [cw / 2, ch / 2], [-cw / 2, ch / 2]])
    tilt = np.float32([[rng.uniform(-12, 12), rng.uniform(-12, 12)] for _ in range(4)])
    target = (box + tilt) @ rot.T + np.float32([cx, cy])
    matrix = cv2.getPerspectiveTransform(square, target.astype(np.float32))
    paper = np.full_like(crop, 235)
    paper[crop < 128] = 35
    view = cv2.warpPerspective(paper, matrix, (w, h), borderValue=120)
    light = np.linspace(0.85, 1.1, w)[None, :] * np.linspace(1.05, 0.9, h)[:, None]
    view = np.clip(view * light + rng.normal(0, 6, (h, w)), 0, 255).astype(np.uint8)
    view = cv2.GaussianBlur(view, (3, 3), 0.9)
    return cv2.cvtColor(view, cv2.COLOR_GRAY2BGR)


def write_y4m(path: Path, frames: list[np.ndarray], fps: int = 10) -> Path:
    """YUV4MPEG2, 4:2:0, the format Chromium's --use-file-for-fake-video-capture plays."""
    h, w = frames[0].shape[:2]
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420\n".encode())
        for frame in frames:
            out.write(b"FRAME\n")
            out.write(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
    return path


# ---- the server: assets/verify at /verify/, with a trust list, the words and a status -----

class VerifySite:
    """A static server of assets/verify at /verify/ on 127.0.0.1 (a secure context), with
    trust-list.json (self.envelope; None gives 404), words.json (core.verify_words) and
    status/{number} (self.statuses: number -> dict; others "unknown"). self.requests records
    each path asked for."""

    def __init__(self, envelope: dict | None = None):
        self.envelope = envelope
        self.statuses: dict[str, dict] = {}
        self.requests: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                path = self.path.split("?")[0]
                site.requests.append(path)
                if not path.startswith("/verify/"):
                    return self.reply(404, b"{}", ".json")
                rest = path[len("/verify/"):] or "index.html"
                if rest == "trust-list.json":
                    if site.envelope is None:
                        return self.reply(404, b"{}", ".json")
                    return self.reply(200, json.dumps(site.envelope).encode(), ".json")
                if rest == "words.json":
                    return self.reply(200, json.dumps(words(), ensure_ascii=False).encode(),
                                      ".json")
                if rest.startswith("status/"):
                    from urllib.parse import unquote
                    number = unquote(rest[len("status/"):])
                    body = site.statuses.get(number, {"status": "unknown", "revoked_at": None,
                                                      "as_of": "2026-12-01T00:00:00+00:00"})
                    return self.reply(200, json.dumps(body).encode(), ".json")
                file = (ASSETS / rest).resolve()
                if ASSETS not in file.parents or not file.is_file():
                    return self.reply(404, b"not found", ".md")
                self.reply(200, file.read_bytes(), file.suffix)

            def reply(self, code: int, body: bytes, suffix: str):
                self.send_response(code)
                self.send_header("Content-Type", TYPES.get(suffix, "application/octet-stream"))
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/verify/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> VerifySite:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def open_page(browser, site: VerifySite, viewport=(390, 844)):
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                  device_scale_factor=1, service_workers="allow")
    page = context.new_page()
    page.goto(site.url)
    page.wait_for_selector("body[data-ready=true]")
    return context, page


def page_verdict(page, png: Path, timeout: float = 20000) -> dict:
    """Give the page a photo; wait for its verdict; the page's own frame-to-verdict time."""
    page.evaluate("performance.clearMarks()")
    page.set_input_files("#photo", str(png))
    page.wait_for_selector("#verdict:not([hidden])", timeout=timeout)
    ms = page.evaluate("""() => {
        const f = performance.getEntriesByName('nf-frame'), v = performance.getEntriesByName('nf-verdict');
        return v.length && f.length ? v[0].startTime - f[0].startTime : null; }""")
    code = page.get_attribute("#verdict", "data-code")
    page.click("#again")
    return {"code": code, "ms": ms}


def baseline_verdict(png: Path, trust: TrustStore) -> dict:
    """What `nafitha verify --image FILE` does, in this process."""
    from devices.scanning.decoders import DecoderChain, read_image
    start = time.perf_counter()
    codes = [c.text for c in DecoderChain(formats="qr").decode(read_image(str(png))) if c.text]
    result = verify(codes[0], trust) if codes else None
    ms = (time.perf_counter() - start) * 1000
    return {"code": result.reason if result else "no_code", "ms": ms}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict:
    return {"p50_ms": round(percentile(values, 0.5), 2), "p95_ms": round(percentile(values, 0.95), 2),
            "mean_ms": round(statistics.fmean(values), 2), "runs": len(values)}


def flipped_signature(text: str) -> str:
    """The same code with one bit of its signature flipped: a forgery, bad_signature."""
    from core.credentials import base45
    raw = bytearray(base45.decode(text[4:]))
    raw[-5] ^= 0x01
    return text[:4] + base45.encode(bytes(raw))


def screenshots(out_dir: Path) -> list[Path]:
    """Phone-size (390x844) pictures in Arabic and English: genuine, not genuine (a forged
    signature), revoked (central says so online), and an old trust list (40 days, offline)."""
    from playwright.sync_api import sync_playwright
    out_dir.mkdir(parents=True, exist_ok=True)
    now = int(time.time())
    number = "MUH-2026-D01-000042"
    text = licence_text(number, now)
    forged = flipped_signature(text)
    site = VerifySite().start()
    written = []
    scenes = {"genuine": (text, 1, {"status": "valid"}, False),
              "not-genuine": (forged, 1, {"status": "valid"}, False),
              "revoked": (text, 1, {"status": "revoked",
                                    "revoked_at": "2026-12-02T09:00:00+00:00"}, False),
              "old-trust-list": (text, 40, {"status": "valid"}, True)}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            for lang in ("ar", "en"):
                for name, (code, age_days, status, offline) in scenes.items():
                    site.envelope = trust_envelope(2, now - age_days * DAY)
                    site.statuses[number] = {"revoked_at": None, "as_of": None, **status}
                    context, page = open_page(browser, site)
                    if lang == "en":
                        page.click("#lang")
                    if offline:
                        context.set_offline(True)
                    page.fill("#paste", code)
                    page.click("#check")
                    page.wait_for_selector("#verdict:not([hidden])")
                    page.wait_for_selector("#status:not([hidden])", timeout=5000) \
                        if name != "not-genuine" else None
                    path = out_dir / f"{name}-{lang}.png"
                    page.screenshot(path=str(path), full_page=True)
                    written.append(path)
                    context.close()
            browser.close()
    finally:
        site.stop()
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="4 runs, for the test suite")
    parser.add_argument("--screenshots", type=Path, metavar="DIR",
                        help="write the phone-size pictures (docs/screenshots/verify) instead")
    args = parser.parse_args(argv)
    if args.screenshots:
        print(json.dumps([str(p) for p in screenshots(args.screenshots)]))
        return 0
    runs = 4 if args.quick else args.runs
    now = int(time.time())
    site = VerifySite(trust_envelope(1, now - DAY)).start()
    trust = trust_store()
    from playwright.sync_api import sync_playwright
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        pngs, texts = [], []
        for i in range(runs + 1):  # the first one warms the page (wasm compile), not counted
            number = f"MUH-2026-D01-{100 + i:06d}"
            text = licence_text(number, now)
            png = Path(tmp) / f"frame{i}.png"
            cv2.imwrite(str(png), photograph(licence_raster(text, number), seed=i))
            pngs.append(png)
            texts.append(text)
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            context, page = open_page(browser, site)
            web = [page_verdict(page, png) for png in pngs]
            context.close()
        finally:
            browser.close()
        python = [baseline_verdict(png, trust) for png in pngs]
    site.stop()
    web, python = web[1:], python[1:]
    agree = [w["code"] == b["code"] for w, b in zip(web, python)]
    out = {"benchmark": "verify_web.frame_to_verdict",
           "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
           "frames": "640x480 photos of the printed licence (rotated, perspective, blur, noise)",
           "browser": {**summary([w["ms"] for w in web]), "decoder": "zxing-wasm",
                       "verdicts": [w["code"] for w in web]},
           "baseline_nafitha_verify_image_in_process": {
               **summary([b["ms"] for b in python]), "verdicts": [b["code"] for b in python]},
           "verdicts_agree": all(agree), "runs": runs}
    out["browser_over_baseline_p50"] = round(out["browser"]["p50_ms"] /
                                             max(out["baseline_nafitha_verify_image_in_process"]["p50_ms"], 1e-6), 2)
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0 if all(agree) else 1


if __name__ == "__main__":
    sys.exit(main())
