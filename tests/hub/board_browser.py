"""Debian's Chromium for the board tests, driven by Playwright (never `playwright install`:
the machine is offline). `with chromium() as browser:` gives a Playwright Browser with a fresh
temporary profile; browser.new_page(viewport={"width": 1920, "height": 1080}) is a TV."""
from __future__ import annotations

from contextlib import contextmanager

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextmanager
def chromium():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()
