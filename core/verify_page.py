"""Which files of the browser verifier (assets/verify/) a server hands out at /verify/, with
what media type and headers: central and every hub serve the same folder the same way.

    asset("vendor/zxing-wasm/reader/zxing_reader.wasm") -> (path, "application/wasm") | None

Pure: paths only, no HTTP (central may use it)."""
from __future__ import annotations

from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parents[1] / "assets" / "verify"
INDEX = "index.html"
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json", ".wasm": "application/wasm",
    ".webmanifest": "application/manifest+json", ".svg": "image/svg+xml",
    ".png": "image/png", ".ico": "image/x-icon", ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8", ".woff2": "font/woff2", ".ttf": "font/ttf"}
# LICENSE files of vendored packages have no extension
NAMED_TYPES = {"LICENSE": "text/plain; charset=utf-8"}
MAX_PATH = 200
# The page's own policy: core.http_policy's, plus WebAssembly (the QR reader), the picked
# photo and the camera's stream (blob: URLs), and its service worker; still nothing from
# elsewhere and no inline script.
CSP = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; "
       "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; "
       "worker-src 'self'; manifest-src 'self'; object-src 'none'; frame-ancestors 'none'; "
       "base-uri 'none'; form-action 'none'")


def asset(relative: str, root: Path = ASSETS_DIR) -> tuple[Path, str] | None:
    """The file under `root` a request for /verify/<relative> names, with its media type;
    None for anything else (a directory, a hidden or unknown kind of file such as a build
    script, a path that leaves the folder)."""
    if not isinstance(relative, str) or not relative or len(relative) > MAX_PATH or \
            "\\" in relative or "\x00" in relative:
        return None
    parts = relative.split("/")
    if any(p in ("", ".", "..") or p.startswith(".") for p in parts):
        return None
    name = parts[-1]
    suffix = Path(name).suffix.lower()
    media = NAMED_TYPES.get(name) or MEDIA_TYPES.get(suffix)
    if media is None:
        return None
    base = Path(root).resolve()
    path = (base / relative).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        return None
    return path, media


def headers(relative: str) -> dict[str, str]:
    """Caching and policy: the page, its worker and the manifest are checked for a newer copy
    on each load (the service worker keeps the page offline); the rest may be cached a day."""
    fresh = relative in (INDEX, "sw.js", "manifest.webmanifest") or relative.endswith(".json")
    return {"Content-Security-Policy": CSP,
            "Cache-Control": "no-cache" if fresh else "public, max-age=86400"}
