"""Starting an app window: Kivy's environment and window settings first, then the app
module (which imports Kivy at its top), then its run loop. No Kivy is imported before
`launch` is called, so the CLI can import this module freely."""
from __future__ import annotations

import importlib
import os

from .env import prepare_kivy_env


def launch(app_path: str, settings, window: dict, clock=None, **app_kwargs) -> None:
    """Run the app class at `app_path` ("kiosk.app.KioskApp") until it stops.

    window: Kivy config values {(section, key): value} set before the window exists.
    clock: the core clock the app reads (tests freeze it; default the system's)."""
    prepare_kivy_env(settings.data_dir)
    from kivy.config import Config

    # No multisampling: the screens are text and straight edges, and on a software renderer
    # (Mesa's llvmpipe, as on a kiosk PC without a GPU driver) Kivy's default of 2 samples
    # made every frame cost ~2.5x (67 ms against 26 ms at 1920x1080, bench/kiosk.py).
    window = {("graphics", "multisamples"): 0, **window}

    if window.get(("graphics", "fullscreen")):
        size = screen_size()
        if size:
            window = {**window, ("graphics", "width"): size[0], ("graphics", "height"): size[1]}
    for (section, key), value in window.items():
        Config.set(section, key, str(value))
    from .fonts import register_arabic_font
    register_arabic_font()
    from core.clock import SystemClock
    app = class_at(app_path)(settings=settings, clock=clock or SystemClock(), **app_kwargs)
    profile_to = os.environ.get("NAFITHA_PROFILE_TO")  # bench/kiosk.py, bench/counter.py
    if not profile_to:
        app.run()
        return
    import cProfile
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        app.run()
    finally:  # the UI thread's time (the steps run on a worker)
        profiler.disable()
        profiler.dump_stats(profile_to)


def class_at(path: str) -> type:
    """The class at a dotted path ("kiosk.screens.home.HomeScreen"), its module imported."""
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def screen_size() -> tuple[int, int] | None:
    """The X screen's size in pixels, read before the window exists; None without X.

    A fullscreen window is created at this size: one created smaller and then made
    fullscreen on a bare X server (the appliance's session, no window manager) is drawn
    in its first size's corner of the screen (Kivy 2.3 on SDL 2, seen under Xvfb)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("X11")
    if not name or not os.environ.get("DISPLAY"):
        return None
    try:
        x11 = ctypes.CDLL(name)
    except OSError:
        return None
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    for fn in ("XDefaultScreen", "XDisplayWidth", "XDisplayHeight", "XCloseDisplay"):
        getattr(x11, fn).argtypes = [ctypes.c_void_p] + ([ctypes.c_int] if fn.startswith(
            "XDisplay") else [])
    display = x11.XOpenDisplay(None)
    if not display:
        return None
    try:
        screen = x11.XDefaultScreen(display)
        return x11.XDisplayWidth(display, screen), x11.XDisplayHeight(display, screen)
    finally:
        x11.XCloseDisplay(display)
