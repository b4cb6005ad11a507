"""What both apps do once they run: a stop after --exit-after seconds, and, only when asked,
the development aids of the testing package: the test pilot when NAFITHA_PILOT names its
socket, and a PNG of the first screen for --screenshot (then a stop)."""
from __future__ import annotations

import os

# Frames to let an app's layouts settle before its --screenshot is taken.
SCREENSHOT_AFTER_FRAMES = 8


def start_app_hooks(app, screenshot_path: str | None, exit_after: float | None) -> None:
    from kivy.clock import Clock
    from kivy.core.window import Window

    pilot_socket = os.environ.get("NAFITHA_PILOT")
    if pilot_socket:
        from testing.pilot import start_pilot
        start_pilot(app, pilot_socket)
    if exit_after is not None:
        Clock.schedule_once(lambda dt: app.stop(), exit_after)
    if screenshot_path:
        from testing.screenshot import after_frames, save_next_frame
        after_frames(Clock, SCREENSHOT_AFTER_FRAMES, lambda: save_next_frame(
            Window, screenshot_path, lambda: Clock.schedule_once(lambda dt: app.stop(), 0)))
