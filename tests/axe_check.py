"""axe-core in a Playwright page, offline: the vendored copy (tests/vendor/axe-core, from the
npm registry) is injected into the page, never fetched.

    serious = axe_violations(page)   # [] when the page has no serious or critical violation

The pages' Content-Security-Policy allows only their own scripts, so open them in a context
made with `browser.new_context(bypass_csp=True)` for the injection to run.
"""
from __future__ import annotations

from pathlib import Path

AXE_JS = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


def axe_violations(page, impacts: tuple[str, ...] = BLOCKING) -> list[dict]:
    """The page's axe-core violations of these impacts, each with its rule, impact, help and
    the first few offending elements (enough to fix it from a test's failure message)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [{"rule": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"][:5]]}
            for v in result["violations"] if v["impact"] in impacts]
