"""Kivy in the test process itself, for view-models tested without a window: its home in a
temporary directory and no argument parsing, without leaving those settings in the
environment the tests' app processes inherit."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def kivy_ready() -> None:
    if "kivy" in sys.modules:
        return
    from ui.env import prepare_kivy_env

    saved = dict(os.environ)
    prepare_kivy_env(Path(tempfile.mkdtemp(prefix="nafitha-tests-kivy-")))
    import kivy.event  # noqa: F401 - Kivy reads its environment now
    os.environ.clear()
    os.environ.update(saved)
