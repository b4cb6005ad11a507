"""`make run` starts `nafitha kiosk`: the console script opens the window on the local store."""
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

pytestmark = pytest.mark.ui


def test_nafitha_kiosk_opens_the_start_screen_on_a_fresh_data_dir(xvfb_display, tmp_path):
    script = Path(sys.executable).with_name("nafitha")
    shot = tmp_path / "kiosk.png"
    data = tmp_path / "fresh" / "data"  # does not exist yet: `make run` on a new machine
    out = subprocess.run([str(script), "--data", str(data), "kiosk", "--windowed",
                          "--screenshot", str(shot)],
                         capture_output=True, text=True, timeout=90)
    assert out.returncode == 0, out.stderr[-2000:]
    assert (data / "nafitha.db").exists(), "the kiosk runs on the in-process store"
    image = Image.open(shot).convert("RGB")
    assert image.size == (1920, 1080)
    # the navy header bar the office name sits on, across the top
    assert image.getpixel((960, 6)) == image.getpixel((1900, 6)) == (11, 37, 69)
    assert len(image.getcolors(maxcolors=1 << 16) or []) > 200
