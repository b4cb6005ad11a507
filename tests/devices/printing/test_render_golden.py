"""Every document, both languages, both widths, pixel for pixel against the committed golden
PNGs (tests/devices/printing/golden/, human-checked). A difference fails with the way to
regenerate; regenerate only for a deliberate change, and look at every image before
committing it."""
from __future__ import annotations

import pytest
from PIL import Image, ImageChops

from devices.printing.render import render
from make_golden import GOLDEN, cases, golden_name

CASES = list(cases())
REGENERATE = (".venv/bin/python tests/devices/printing/make_golden.py  (then look at every "
              "PNG in tests/devices/printing/golden/ before committing them)")


@pytest.mark.parametrize("name,kind,data,lang,width", CASES,
                         ids=[golden_name(c[0], c[3], c[4])[:-4] for c in CASES])
def test_render_matches_golden(name, kind, data, lang, width, tmp_path):
    path = GOLDEN / golden_name(name, lang, width)
    assert path.exists(), f"{path.name} is missing; generate it with {REGENERATE}"
    image = render(kind, data, lang, width)
    with Image.open(path) as golden:
        golden = golden.convert("1")
    if image.size == golden.size:
        box = ImageChops.logical_xor(image, golden).getbbox()
        if box is None:
            return
        where = f"differs inside {box}"
    else:
        where = f"is {image.size[0]}x{image.size[1]}, golden {golden.size[0]}x{golden.size[1]}"
    image.save(tmp_path / path.name)
    pytest.fail(f"{path.name}: the rendering {where} (new rendering: {tmp_path / path.name}). "
                f"If the change is deliberate, regenerate: {REGENERATE}")


def test_no_stray_golden_files():
    expected = {golden_name(c[0], c[3], c[4]) for c in CASES}
    assert {p.name for p in GOLDEN.glob("*.png")} == expected
