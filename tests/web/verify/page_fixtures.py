"""Fixtures for the verifier page's tests (assets/verify/ in Chromium). The harness itself is
bench/verify_web.py (one owner: the benchmark measures the same page the tests check).

    vw           the bench module: VerifySite, licence_text, trust_envelope, photograph, ...
    now          the wall clock, Unix seconds (the page verifies at the browser's time)
    licence      (text, number): a genuine code signed now-ish by the test device
    camera_file  a .y4m video of our printed licence raster, photographed with distortions
    browser      Debian's Chromium with that file as its fake camera (permission granted);
                 lan.test resolves to 127.0.0.1 (a plain-HTTP, not secure, origin)
    site         VerifySite serving assets/verify with trust list version 2 (issued yesterday)
    page         a fresh 390x844 context and page on the site, loaded and ready
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench_loader import load_bench  # noqa: E402

DAY = 86400
NUMBER = "MUH-2026-D01-000042"


@pytest.fixture(scope="session")
def vw():
    return load_bench("verify_web")


@pytest.fixture(scope="session")
def now():
    import time
    return int(time.time())


@pytest.fixture(scope="session")
def licence(vw, now):
    return vw.licence_text(NUMBER, now), NUMBER


@pytest.fixture(scope="session")
def camera_file(vw, licence, tmp_path_factory):
    text, number = licence
    raster = vw.licence_raster(text, number)
    frames = [vw.photograph(raster, seed=s) for s in range(6)]
    return vw.write_y4m(tmp_path_factory.mktemp("camera") / "licence.y4m", frames)


@pytest.fixture(scope="module")
def browser(vw, camera_file):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=vw.CHROMIUM, headless=True, args=vw.ARGS + [
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={camera_file}",
            "--host-resolver-rules=MAP lan.test 127.0.0.1"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def site(vw, now):
    s = vw.VerifySite(vw.trust_envelope(2, now - DAY)).start()
    yield s
    s.stop()


@pytest.fixture
def page(vw, browser, site):
    context, pg = vw.open_page(browser, site)
    yield pg
    context.close()


# ---- reading the page ----------------------------------------------------------------

def shown(page) -> dict:
    page.wait_for_selector("#verdict:not([hidden])")
    return page.evaluate("""() => {
        const v = document.getElementById('verdict'), t = (id) => document.getElementById(id);
        return {code: v.dataset.code, ok: v.dataset.ok, headline: t('headline').textContent,
                reason: t('reason').textContent, kind: t('kind').dataset.kind,
                kind_text: t('kind').textContent, status: t('status').dataset.status,
                status_text: t('status').textContent,
                facts: [...document.querySelectorAll('#facts dd')].map((d) => d.textContent),
                html: v.innerHTML}; }""")


def camera(page) -> dict:
    page.click("#camera")
    page.wait_for_selector("#verdict:not([hidden])", timeout=30000)
    return shown(page)


def until(page, js: str, timeout: float = 20.0):
    """Poll a page expression (the page's CSP refuses wait_for_function's eval)."""
    import time
    end = time.monotonic() + timeout
    while not page.evaluate(js):
        assert time.monotonic() < end, f"never true: {js}"
        time.sleep(0.1)


def wait_offline_ready(page):
    """The service worker controls the page and holds what a reload needs."""
    until(page, """async () => {
        if (!navigator.serviceWorker.controller) return false;
        const c = await caches.open('nafitha-verify-v1');
        const need = ['nf1.js', 'app.js', 'words.json', 'trust-list.json',
                      'vendor/zxing-wasm/reader/zxing_reader.wasm',
                      'vendor/noble-ed25519/index.js'];
        for (const n of need) if (!(await c.match(new URL(n, location.href).pathname))
                                   && !(await c.match(new URL(n, location.href).href))) return false;
        return true; }""")
