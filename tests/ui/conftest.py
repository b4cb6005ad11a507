"""A virtual X display for tests that drive the real Kivy apps (marked `ui`).

The display is started here rather than by xvfb-run so `pytest` alone works (testing/xvfb.py: on
a display number Xvfb picks itself), and is shut down when the session ends."""
from __future__ import annotations

import pytest

from testing.xvfb import Xvfb, XvfbError


@pytest.fixture(scope="session")
def xvfb_display():
    """Start Xvfb, point DISPLAY (and so every subprocess) at it, yield ":N"."""
    try:
        display = Xvfb().start()
    except XvfbError as exc:
        # Not a skip: a green run without the UI tests would hide a broken kiosk.
        pytest.fail(str(exc), pytrace=False)
    try:
        yield display.display
    finally:
        display.close()
