"""`nafitha counter` starts the counter window here (counter/app.py), with Kivy's
environment and the window's settings in place before Kivy is imported."""
from __future__ import annotations

from ui.launch import launch

WINDOW_SIZE = (1440, 900)


def run_counter(settings, backend, screenshot: str | None = None,
                exit_after: float | None = None, clock=None, fullscreen: bool = False) -> None:
    """Open the counter window and run until the clerk closes it.

    backend: the counter's face of the office (core.faces.counter.CounterFace in-process,
    or the hub client's). screenshot: save a PNG of the first screen once drawn, then stop.
    exit_after: stop after this many seconds. clock: the core clock the auto-lock reads
    (tests freeze it). fullscreen: fill the screen (the appliance's session on a bare X
    server, where no window manager would place or size a window)."""
    window = {("graphics", "width"): WINDOW_SIZE[0], ("graphics", "height"): WINDOW_SIZE[1],
              ("input", "mouse"): "mouse,disable_multitouch",
              ("kivy", "exit_on_escape"): 0}  # Escape is "back" here
    if fullscreen:
        window.update({("graphics", "fullscreen"): "auto", ("graphics", "resizable"): 0})
    launch("counter.app.CounterApp", settings, window, clock=clock, backend=backend,
           screenshot=screenshot, exit_after=exit_after)
