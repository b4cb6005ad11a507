"""The browser verifier's assets (assets/verify/) in Debian's Chromium, driven by Playwright.

    verify_site   the URL of a tiny local HTTP server serving assets/verify/ unchanged (on
                  127.0.0.1, a secure context, so WebCrypto is available)
    nf1_browser   Chromium (tests/hub/board_browser.py: /usr/bin/chromium headless, never
                  `playwright install`), one per module (a module with its own Playwright,
                  as test_verify_page.py, must not find this one still running)
    nf1_page      a page of verify_site with assets/verify/nf1.js loadable as `/nf1.js`
    nf1           nf1(script, arg) -> runs `async (nf1, arg) => {...}` in nf1_page with the
                  imported module, under each signature backend the test is parametrized with
"""
from __future__ import annotations

import functools
import http.server
import sys
import threading
from pathlib import Path
from typing import ClassVar

import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "hub"))
from board_browser import ARGS, CHROMIUM

ASSETS = Path(__file__).parents[3] / "assets" / "verify"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".js": "text/javascript", ".mjs": "text/javascript"}

    def log_message(self, *args):  # the test output is not an access log
        pass


@pytest.fixture(scope="session")
def verify_site():
    handler = functools.partial(_QuietHandler, directory=str(ASSETS))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def nf1_browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def nf1_page(nf1_browser, verify_site):
    context = nf1_browser.new_context()
    context.set_default_timeout(120_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{verify_site}/nf1.js")  # any page of the origin: the module is imported below
    page.evaluate("async () => { window.nf1 = await import('/nf1.js'); }")
    yield page
    context.close()
    assert errors == []


@pytest.fixture(params=["webcrypto", "noble"])
def backend(request):
    return request.param


@pytest.fixture
def nf1(nf1_page, backend):
    """nf1(body, arg): `body` is the text of an async function (nf1, arg) => ..., run with the
    module after choosing the signature backend; returns what it returns."""
    chosen = nf1_page.evaluate("b => window.nf1.setSignatureBackend(b)", backend)
    assert chosen == backend

    def run(body: str, arg=None):
        return nf1_page.evaluate(f"async arg => ({body})(window.nf1, arg)", arg)
    return run
