"""A live camera preview for the scan screens.

    preview = CameraPreview(source_service=scan_service)   # anything with latest_frame()
    # in the screen:  on_enter: preview.start()   on_leave: preview.stop()

The preview only reads `latest_frame()` (numpy BGR, never blocks; None until a frame came):
all camera work stays on the ScanService thread. It polls at `fps` (15: enough to aim a
code, a quarter of the UI's frame budget) while started, and stops by itself when it is
taken out of its parent or finds it is no longer in a window (its screen was removed).

It uploads each new frame into one Texture per frame size and colour format, reused for
every frame of that size: allocating a texture per frame leaks GPU memory at camera rate on
some drivers and costs a reallocation each time. The image is flipped vertically once when
the texture is made (numpy rows run top to bottom, GL's bottom to top) and, with
`mirror=True`, drawn mirrored like a selfie camera, so a resident moving a paper to the
left sees it move left. It keeps the frame's aspect ratio inside the widget (letterboxed).

A frame is uploaded only if it is a different array from the last one: ScanService returns
a new array for every frame and never writes into it."""
from __future__ import annotations

import logging

from kivy.graphics import Color, Rectangle
from kivy.graphics.texture import Texture
from kivy.properties import (BooleanProperty, ListProperty, NumericProperty,
                             ObjectProperty)
from kivy.uix.widget import Widget

log = logging.getLogger("nafitha.ui.camera")

# numpy channel count -> Kivy colour format of the frame.
_COLORFMT = {1: "luminance", 3: "bgr", 4: "bgra"}


class CameraPreview(Widget):
    source_service = ObjectProperty(None, allownone=True)
    """Anything with latest_frame() -> numpy array (H x W x 3 BGR, H x W grey, or
    H x W x 4 BGRA, uint8) or None."""
    mirror = BooleanProperty(True)
    fps = NumericProperty(15)
    background = ListProperty([0, 0, 0, 1])
    """Colour behind the image (letterbox bars, and the whole widget before a frame)."""
    frames_shown = NumericProperty(0)
    """Frames uploaded and drawn so far."""
    textures_created = NumericProperty(0)
    """Textures allocated so far (one per frame size and format)."""
    frame_size = ListProperty([0, 0])
    """Width and height of the last frame shown; [0, 0] before the first."""

    def __init__(self, **kwargs):
        self._event = None
        self._textures: dict[tuple[int, int, str], Texture] = {}
        self._texture: Texture | None = None
        self._last_frame = None
        self._failing = False
        super().__init__(**kwargs)
        with self.canvas:
            self._bg_color = Color(*self.background)
            self._bg = Rectangle(pos=self.pos, size=self.size)
            Color(1, 1, 1, 1)
            # No texture and zero size until the first frame: nothing is drawn.
            self._rect = Rectangle(pos=self.pos, size=(0, 0))
        self.bind(pos=self._layout, size=self._layout, mirror=self._apply_mirror,
                  background=lambda *_: setattr(self._bg_color, "rgba", self.background),
                  fps=self._restart_if_running)

    # -- running ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._event is not None

    def start(self) -> None:
        """Poll the service at `fps` until stop(). Calling it again does nothing."""
        if self._event is None:
            from kivy.clock import Clock

            self._event = Clock.schedule_interval(self.poll, 1.0 / max(1.0, self.fps))

    def stop(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None

    def _restart_if_running(self, *_):
        if self.running:
            self.stop()
            self.start()

    def on_parent(self, _widget, parent) -> None:
        if parent is None:
            self.stop()

    # -- drawing ---------------------------------------------------------------------------

    def poll(self, _dt: float = 0.0) -> bool:
        """Show the service's latest frame if it is new. Returns True if one was drawn."""
        if self._event is not None and self.get_root_window() is None:
            self.stop()  # an ancestor (the screen) was removed from the window
            return False
        service = self.source_service
        if service is None:
            return False
        try:
            frame = service.latest_frame()
        except Exception:
            if not self._failing:
                log.exception("camera preview: latest_frame() failed")
                self._failing = True
            return False
        if self._failing:
            log.info("camera preview: frames are back")
            self._failing = False
        if frame is None or frame is self._last_frame:
            return False
        return self.show_frame(frame)

    def show_frame(self, frame) -> bool:
        """Upload `frame` (numpy uint8) and draw it. Returns False for a shape it cannot
        draw (logged once per shape)."""
        channels = 1 if frame.ndim == 2 else frame.shape[2]
        colorfmt = _COLORFMT.get(channels) if frame.ndim in (2, 3) else None
        if colorfmt is None or frame.dtype.name != "uint8" or 0 in frame.shape[:2]:
            key = ("bad", tuple(frame.shape), frame.dtype.name)
            if key not in self._textures:
                self._textures[key] = None
                log.warning("camera preview: cannot draw a %s frame of shape %s",
                            frame.dtype, frame.shape)
            return False
        height, width = frame.shape[:2]
        key = (width, height, colorfmt)
        texture = self._textures.get(key)
        if texture is None:
            texture = Texture.create(size=(width, height), colorfmt=colorfmt,
                                     bufferfmt="ubyte")
            texture.flip_vertical()
            self._textures[key] = texture
            self.textures_created += 1
        # tobytes() also makes a contiguous copy of a sliced (strided) frame.
        texture.blit_buffer(frame.tobytes(), colorfmt=colorfmt, bufferfmt="ubyte")
        self._last_frame = frame
        if texture is not self._texture:
            self._texture = texture
            self._rect.texture = texture
            self._apply_mirror()
            self.frame_size = [width, height]
            self._layout()
        else:
            # The texture changed under the same instruction: ask for a redraw.
            self.canvas.ask_update()
        self.frames_shown += 1
        return True

    def clear(self) -> None:
        """Forget the frames and textures (the next frame starts over); draws nothing."""
        self._textures.clear()
        self._texture = None
        self._last_frame = None
        self._rect.texture = None
        self._rect.size = (0, 0)
        self.frame_size = [0, 0]

    def _apply_mirror(self, *_):
        if self._texture is None:
            return
        u0, v0, u1, v1, u2, v2, u3, v3 = self._texture.tex_coords
        if self.mirror:
            # Swap left and right: bottom-left <-> bottom-right, top-right <-> top-left.
            self._rect.tex_coords = (u1, v1, u0, v0, u3, v3, u2, v2)
        else:
            self._rect.tex_coords = (u0, v0, u1, v1, u2, v2, u3, v3)

    def _layout(self, *_):
        self._bg.pos, self._bg.size = self.pos, self.size
        if self._texture is None:
            return
        tw, th = self._texture.size
        scale = min(self.width / tw, self.height / th) if tw and th else 0
        w, h = tw * scale, th * scale
        self._rect.size = (w, h)
        self._rect.pos = (self.x + (self.width - w) / 2, self.y + (self.height - h) / 2)
