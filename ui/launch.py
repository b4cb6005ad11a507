"""Starting an app window: Kivy's environment and window settings first, then the app
module (which imports Kivy at its top), then its run loop. No Kivy is imported before
`launch` is called, so the CLI can import this module freely."""
from __future__ import annotations

import importlib

from .env import prepare_kivy_env


def launch(app_path: str, settings, window: dict, clock=None, **app_kwargs) -> None:
    """Run the app class at `app_path` ("kiosk.app.KioskApp") until it stops.

    window: Kivy config values {(section, key): value} set before the window exists.
    clock: the core clock the app reads (tests freeze it; default the system's)."""
    prepare_kivy_env(settings.data_dir)
    from kivy.config import Config

    for (section, key), value in window.items():
        Config.set(section, key, str(value))
    from .fonts import register_arabic_font
    register_arabic_font()
    from core.clock import SystemClock
    class_at(app_path)(settings=settings, clock=clock or SystemClock(), **app_kwargs).run()


def class_at(path: str) -> type:
    """The class at a dotted path ("kiosk.screens.home.HomeScreen"), its module imported."""
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)
