"""`nafitha kiosk` starts the kiosk window here (kiosk/app.py), with Kivy's environment and
the window's settings in place before Kivy is imported."""
from __future__ import annotations

from ui.launch import launch

# The kiosk's target screen is a full-HD touch monitor.
WINDOW_SIZE = (1920, 1080)


def run_kiosk(settings, backend, screenshot: str | None = None,
              exit_after: float | None = None, kiosk_mode: bool | None = None,
              clock=None) -> None:
    """Open the kiosk window and run until staff close it.

    backend: the kiosk's face of the office (core.faces.kiosk.KioskFace in-process, or the
    hub client's). screenshot: save a PNG of the start screen once drawn, then stop.
    exit_after: stop after this many seconds (demos, smoke tests). kiosk_mode: fullscreen,
    no cursor, Escape and window-close refused (default: the kiosk.fullscreen setting).
    clock: the core clock the idle timer reads (tests freeze it)."""
    kiosk_mode = settings.kiosk.fullscreen if kiosk_mode is None else kiosk_mode
    window = {("graphics", "width"): WINDOW_SIZE[0], ("graphics", "height"): WINDOW_SIZE[1],
              ("graphics", "resizable"): 0,
              # Without this a right click leaves a red multitouch-emulation dot.
              ("input", "mouse"): "mouse,disable_multitouch",
              ("kivy", "exit_on_escape"): 0 if kiosk_mode else 1}
    if kiosk_mode:
        window.update({("graphics", "fullscreen"): "auto", ("graphics", "show_cursor"): 0})
    launch("kiosk.app.KioskApp", settings, window, clock=clock, backend=backend,
           kiosk_mode=kiosk_mode, screenshot=screenshot, exit_after=exit_after)
