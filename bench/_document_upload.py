"""Document upload throughput against the raw link (issue 20): the uploader must reach at least
90% of what the link itself carries.

    run(quick: bool) -> dict

A local TCP proxy (`LinkProxy`) throttles what a client sends through it with a token bucket
(4 MB/s; 1 MB/s quick). The raw link is measured in the same run: the same number of bytes
sent through the same proxy to a sink that reads and discards them. Then a real central
(served by uvicorn on loopback, in this process) receives the pages of one application from a
real office through that proxy: the office's events are pushed directly (not timed), then
the agent's uploader (sync/uploads.py) sends the files, timed. Reported: raw_link_mb_s,
upload_mb_s, ratio, target_ratio (0.9), the bytes and files sent and the chunk size the
uploader settled on.

LinkProxy is also what tests/sync/test_document_upload.py puts between an agent and central to
drop connections: after a number of bytes sent (`cut_after`, mid-chunk), every few seconds
(`cut_every_s`), or by cutting a reply short (`truncate_replies`)."""
from __future__ import annotations

import random
import socket
import tempfile
import threading
import time
from pathlib import Path

MB = 1_000_000
PIECE = 16 * 1024


class TokenBucket:
    """`rate` bytes a second, a burst of at most `burst` bytes; take(n) waits for n tokens."""

    def __init__(self, rate: float, burst: int | None = None):
        self.rate = float(rate)
        self.burst = burst or max(PIECE, int(rate * 0.02))
        self.tokens = float(self.burst)
        self.at = time.monotonic()
        self.lock = threading.Lock()

    def take(self, n: int) -> None:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
            self.at = now
            self.tokens -= n
            owed = -self.tokens / self.rate if self.tokens < 0 else 0.0
        if owed > 0:
            time.sleep(owed)


class LinkProxy:
    """A TCP proxy on loopback to `upstream` (host, port); `.url` once started.

    rate: bytes a second from client to upstream (None: unthrottled). cut_after(): the bytes
    the next connection may carry towards upstream before it is cut (None: never); the bytes
    up to the cut are forwarded, the rest never. cut_every_s: every connection open is cut at
    this interval. truncate_replies: the numbers (1-based, over the proxy's life) of the
    replies cut short after their first 20 bytes. Counts: bytes_up (forwarded to upstream),
    cuts, replies."""

    def __init__(self, upstream: tuple[str, int], rate: float | None = None, cut_after=None,
                 cut_every_s: float | None = None, truncate_replies: set[int] | None = None):
        self.upstream = upstream
        self.bucket = TokenBucket(rate) if rate else None
        self.cut_after = cut_after
        self.cut_every_s = cut_every_s
        self.truncate_replies = set(truncate_replies or ())
        self.lock = threading.Lock()
        self.bytes_up = 0
        self.cuts = 0
        self.replies = 0
        self.open: set = set()
        self._stop = threading.Event()
        self.listener = None
        self.url = None

    def start(self) -> LinkProxy:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()
        if self.cut_every_s:
            threading.Thread(target=self._cutter, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.listener.close()
        with self.lock:
            conns = list(self.open)
        for pair in conns:
            self._close(pair, counted=False)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- connections ---------------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                up = socket.create_connection(self.upstream, timeout=30)
            except OSError:
                client.close()
                continue
            for s in (client, up):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pair = (client, up)
            budget = self.cut_after() if self.cut_after else None
            with self.lock:
                self.open.add(pair)
            threading.Thread(target=self._pump_up, args=(pair, budget), daemon=True).start()
            threading.Thread(target=self._pump_down, args=(pair,), daemon=True).start()

    def _pump_up(self, pair, budget: int | None) -> None:
        client, up = pair
        try:
            while True:
                data = client.recv(PIECE)
                if not data:
                    break
                if budget is not None and len(data) >= budget:
                    if budget:
                        up.sendall(data[:budget])
                        self._count(budget)
                    self._close(pair)  # cut mid-stream: the rest never reaches upstream
                    return
                if self.bucket:
                    self.bucket.take(len(data))
                up.sendall(data)
                self._count(len(data))
                if budget is not None:
                    budget -= len(data)
        except OSError:
            pass
        self._close(pair, counted=False)

    def _pump_down(self, pair) -> None:
        client, up = pair
        try:
            while True:
                data = up.recv(65536)
                if not data:
                    break
                if data.startswith(b"HTTP/1.1 "):
                    with self.lock:
                        self.replies += 1
                        cut = self.replies in self.truncate_replies
                    if cut:  # the reply cut short: central did the work, the client never hears
                        client.sendall(data[:20])
                        self._close(pair)
                        return
                client.sendall(data)
        except OSError:
            pass
        self._close(pair, counted=False)

    def _count(self, n: int) -> None:
        with self.lock:
            self.bytes_up += n

    def _close(self, pair, counted: bool = True) -> None:
        with self.lock:
            if pair not in self.open:
                return
            self.open.discard(pair)
            if counted:
                self.cuts += 1
        for s in pair:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _cutter(self) -> None:
        while not self._stop.wait(self.cut_every_s):
            with self.lock:
                conns = list(self.open)
            for pair in conns:
                self._close(pair)


# --- the raw link -----------------------------------------------------------------------------
class Sink:
    """A TCP server that reads and discards; `received` bytes, `done` once `expect` arrived."""

    def __init__(self, expect: int):
        self.expect = expect
        self.received = 0
        self.done = threading.Event()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.address = self.server.getsockname()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.server.accept()
        with conn:
            while self.received < self.expect:
                data = conn.recv(65536)
                if not data:
                    break
                self.received += len(data)
        self.done.set()
        self.server.close()


def raw_link_mb_s(rate: float, nbytes: int) -> float:
    """Send nbytes through a LinkProxy at `rate` to a sink: what the link itself carries."""
    sink = Sink(nbytes)
    with LinkProxy(sink.address, rate=rate) as proxy:
        port = int(proxy.url.rsplit(":", 1)[1])
        payload = random.Random(1).randbytes(256 * 1024)
        started = time.perf_counter()
        with socket.create_connection(("127.0.0.1", port)) as s:
            sent = 0
            while sent < nbytes:
                piece = payload[:min(len(payload), nbytes - sent)]
                s.sendall(piece)
                sent += len(piece)
            sink.done.wait(120)
        seconds = time.perf_counter() - started
    return sink.received / seconds / MB


# --- the uploader -----------------------------------------------------------------------------
def noise_jpeg(rng, target: int) -> bytes:
    """A JPEG of random pixels of about `target` bytes (at most 2,000,000: a page's limit)."""
    import cv2
    import numpy as np
    side = int((target / 1.9) ** 0.5)
    for _ in range(6):
        pixels = np.frombuffer(rng.randbytes(side * side * 3), np.uint8).reshape(side, side, 3)
        _, encoded = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, 90])
        data = encoded.tobytes()
        if 0.85 * target <= len(data) <= min(target * 1.1, 2_000_000):
            return data
        side = max(64, int(side * (target / len(data)) ** 0.5 * 0.98))
    return data


def _serve(app):
    import uvicorn
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("central did not start")
        time.sleep(0.02)
    return server, thread, port


def upload_mb_s(rate: float, pages: int, page_bytes: int, workdir: Path) -> dict:
    from central.app import create_app
    from central.service import Central
    from core.clock import SystemClock
    from core.office import Office
    from core.settings import load_settings
    from core.text import with_check_digit
    from sync.agent import SyncAgent, enrol

    central, _ = Central.init_root(workdir / "central")
    server, thread, port = _serve(create_app(central))
    office = None
    try:
        settings = load_settings(workdir / "office", environ={
            "NAFITHA_OFFICE__CODE": "MUH", "NAFITHA_DEVICE__ID": "D01"})
        enrol(settings, f"http://127.0.0.1:{port}", central.enrol_code("MUH",
                                                                      role="hub")["code"])
        office = Office.open(settings, clock=SystemClock())
        app = office.applications.submit("building-permit-small", {
            "full_name": "Bench Resident", "national_id": with_check_digit("85010001", "luhn"),
            "phone": "33334444", "block": "204", "road": "15", "building": "12",
            "parcel": "02-1234", "area_m2": "45"})
        rng = random.Random(20)
        total = 0
        for _ in range(pages):
            data = noise_jpeg(rng, page_bytes)
            total += len(data)
            office.attachments.add_page(app["id"], "drawing", data, "image/jpeg", "import",
                                        "bench")
        direct = SyncAgent(office, url=f"http://127.0.0.1:{port}")
        direct.push()  # the events, not timed: the uploader's part is the files
        with LinkProxy(("127.0.0.1", port), rate=rate) as proxy:
            agent = SyncAgent(office, url=proxy.url)
            started = time.perf_counter()
            result = agent.uploader.upload_all()
            seconds = time.perf_counter() - started
            chunk = agent.uploader.chunk
        assert result["uploaded"] == pages and not result["failed"], result
        return {"upload_mb_s": total / seconds / MB, "bytes": total, "files": pages,
                "seconds": round(seconds, 2), "chunk_bytes": chunk,
                "link_bytes": proxy.bytes_up}
    finally:
        if office is not None:
            office.close()
        server.should_exit = True
        thread.join(10)
        central.close()


def run(quick: bool) -> dict:
    rate = (1 if quick else 4) * MB
    pages, page_bytes = (3, 800_000) if quick else (10, 1_900_000)
    with tempfile.TemporaryDirectory(prefix="nafitha-upload-bench-") as tmp:
        upload = upload_mb_s(rate, pages, page_bytes, Path(tmp))
    raw = raw_link_mb_s(rate, upload["bytes"])
    return {"raw_link_mb_s": round(raw, 3), "upload_mb_s": round(upload["upload_mb_s"], 3),
            "ratio": round(upload["upload_mb_s"] / raw, 3), "target_ratio": 0.9,
            "link_rate_mb_s": rate / MB, "files": upload["files"], "bytes": upload["bytes"],
            "upload_seconds": upload["seconds"], "chunk_bytes": upload["chunk_bytes"],
            "link_bytes": upload["link_bytes"], "quick": quick}


if __name__ == "__main__":
    import json
    import sys
    # Run as a script, bench/ comes first on the path, and bench/sync.py is not our sync.
    here = Path(__file__).resolve().parent
    sys.path[:] = [str(here.parent)] + [p for p in sys.path if Path(p or ".").resolve() != here]
    print(json.dumps(run("--quick" in sys.argv[1:]), indent=1))
