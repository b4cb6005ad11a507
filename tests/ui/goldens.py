"""Golden screenshots shared by the kiosk and counter tests: compare each new screenshot
with its golden (docs/screenshots/<app>/), or refresh the goldens with
NAFITHA_UPDATE_SCREENSHOTS=1 after looking at the new images."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from PIL import Image, ImageChops

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
UPDATE = os.environ.get("NAFITHA_UPDATE_SCREENSHOTS") == "1"
# A pixel "differs" when a channel moves by more than this; a screen may have this share of
# differing pixels (anti-aliasing noise) before it counts as changed.
PIXEL_TOLERANCE = 48
CHANGED_SHARE = 0.004


def differs(new: Path, golden: Path, ignore: list | None = None) -> str | None:
    """ignore: boxes (left, top, right, bottom) whose pixels may differ (a camera preview
    showing a code with fresh random bytes in it)."""
    a, b = Image.open(new).convert("RGB"), Image.open(golden).convert("RGB")
    if a.size != b.size:
        return f"size {a.size} != {b.size}"
    for box in ignore or ():
        a.paste((0, 0, 0), tuple(box))
        b.paste((0, 0, 0), tuple(box))
    diff = ImageChops.difference(a, b).convert("L").point(
        lambda v: 255 if v > PIXEL_TOLERANCE else 0)
    share = sum(diff.histogram()[255:]) / (a.size[0] * a.size[1])
    return f"{share:.2%} of pixels changed" if share > CHANGED_SHARE else None


def check_goldens(app: str, shots: Path, names: list[str], lang: str,
                  ignore: dict | None = None) -> list[str]:
    """Problems found comparing shots/<name>-<lang>.png with the goldens of `app`;
    ignore: {name: [box, ...]} regions allowed to differ."""
    golden_dir = DOCS / app
    problems = []
    for name in names:
        new, golden = shots / f"{name}-{lang}.png", golden_dir / f"{name}-{lang}.png"
        if UPDATE:
            golden_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(new, golden)
            continue
        if not golden.exists():
            problems.append(f"{golden.name}: no golden (run with NAFITHA_UPDATE_SCREENSHOTS=1 "
                            f"and look at it)")
            continue
        why = differs(new, golden, (ignore or {}).get(name))
        if why:
            kept = Path(os.environ.get("NAFITHA_SCREENSHOT_DIFFS", "/tmp")) / \
                f"{app}-{new.name}"
            shutil.copyfile(new, kept)
            problems.append(f"{golden.name}: {why} (new image kept at {kept})")
    return problems
