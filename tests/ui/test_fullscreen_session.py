"""The appliance's session (core/appliance.py: xinit on a bare X server, no window manager)
starts the counter with --fullscreen: the window fills the screen whatever its own default
size (1440x900 here, on a 1920x1080 screen), instead of being drawn in a corner."""
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

pytestmark = pytest.mark.ui

NAVY = (11, 37, 69)  # the header bar's colour (ui/theme)


def test_the_screen_size_is_read_before_the_window_exists(xvfb_display):
    from ui.launch import screen_size

    assert screen_size() == (1920, 1080)


def test_a_fullscreen_counter_fills_the_screen(xvfb_display, tmp_path):
    script = Path(sys.executable).with_name("nafitha")
    shot = tmp_path / "counter.png"
    out = subprocess.run([str(script), "--data", str(tmp_path / "data"), "counter",
                          "--fullscreen", "--screenshot", str(shot)],
                         capture_output=True, text=True, timeout=90)
    assert out.returncode == 0, out.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == (1920, 1080)
    # The header across the whole top, and the status bar to the far corner: a window of
    # its own 1440x900 in the corner would leave these black.
    assert image.getpixel((10, 6)) == image.getpixel((1910, 6)) == NAVY
    assert image.getpixel((1910, 1075)) != (0, 0, 0)
