"""Screenshots of a Kivy window that work under Xvfb.

    after_frames(Clock, 5, lambda: save_next_frame(Window, "shots/home.png", done))

Kivy has nothing to import here: the window and the clock are passed in."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable


def after_frames(clock, frames: int, callback: Callable[[], object]) -> None:
    """Call `callback()` once `frames` more frames have gone by (0: now)."""
    if frames <= 0:
        callback()
    else:
        clock.schedule_once(lambda dt: after_frames(clock, frames - 1, callback), 0)


def save_next_frame(window, path: str | os.PathLike, done: Callable[[], object],
                    on_error: Callable[[BaseException], object] | None = None) -> None:
    """Save the next drawn frame as a PNG at `path` (its folder is created), then call
    `done()` from inside the window's on_flip dispatch: to stop the app afterwards, schedule
    the stop (Clock.schedule_once) rather than stopping there.

    The pixels are read in an on_flip handler, which runs before the buffers are swapped:
    after the swap the back buffer's content is undefined (on Mesa/Xvfb it is often black).
    If saving fails, `on_error(exc)` is called if given, else the exception propagates."""
    target = Path(path).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)

    def on_flip(*_):
        window.unbind(on_flip=on_flip)
        try:
            # Window.screenshot numbers its files (name0001.png); move the file into place.
            saved = window.screenshot(name=str(target.with_name(f".{target.stem}-shot.png")))
            if not saved:
                raise RuntimeError(f"the window could not save a screenshot for {target}")
            os.replace(saved, target)
        except Exception as exc:
            if on_error is None:
                raise
            on_error(exc)
            return
        done()

    window.bind(on_flip=on_flip)
    window.canvas.ask_update()
