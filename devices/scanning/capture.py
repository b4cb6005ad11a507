"""Frame sources, chosen by configuration: `open_source(spec)` gives something to `read()`.

    0, "0"                  camera index (V4L2 on Linux)         live
    "/dev/video2"           a V4L2 device path                   live
    "rtsp://..." "http://"  a network stream (FFmpeg)            live
    "clip.avi" "clip.mp4"   a video file                         finite
    "frames/"               a folder of images, in name order    finite
    "licence.png"           one image                            finite

`read()` gives the next frame (a BGR or grey numpy array, a new array on every call) or None:
for a finite source None is the end; for a live one it means the device stopped giving
frames, and the ScanService closes it and `reopen()`s it with backoff until it is back.

Opening checks with a first read, so a bad source fails at once with one clear
ScannerError instead of a silent stream of empty frames: "no camera at index 7",
"cannot decode video file X" (a corrupted or unsupported file: refused at open, never a
stream that ends at once), "no images in DIR". A video that breaks part-way simply ends.
"""
from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path

import numpy as np

from core.errors import DeviceError

log = logging.getLogger("nafitha.scanning")

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm")
URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
# A network stream that does not answer must not hang the worker for FFmpeg's default 30 s.
STREAM_TIMEOUT_MS = 5000


class ScannerError(DeviceError):
    """A scanner or frame source cannot be used; the message says why, in plain words."""

    code = "scanner_problem"


def _cv2():
    import cv2
    if "OPENCV_LOG_LEVEL" not in os.environ:
        # OpenCV prints its own warnings for a missing camera; ours say it once, clearly.
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    return cv2


def is_live(spec: str | int) -> bool:
    """A camera or a stream (may come back when lost), as opposed to a file or a folder."""
    if isinstance(spec, int):
        return True
    spec = str(spec).strip()
    return spec.isdigit() or spec.startswith("/dev/") or bool(URL.match(spec))


class FrameSource:
    """What the ScanService reads from. `live`: lost frames mean "retry", not "the end"."""

    kind = "source"
    live = False

    def read(self) -> np.ndarray | None:
        raise NotImplementedError

    def reopen(self) -> None:
        """Open again after close() (a camera plugged back in); ScannerError if it cannot."""
        raise ScannerError(f"{self.describe()} cannot be reopened")

    def close(self) -> None:
        pass

    def describe(self) -> str:
        return self.kind

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class CaptureSource(FrameSource):
    """cv2.VideoCapture of a camera (index or /dev path), a stream URL or a video file."""

    def __init__(self, target: int | str, kind: str, width: int = 1280, height: int = 720):
        self.target, self.kind = target, kind
        self.width, self.height = width, height
        self.live = kind in ("camera", "stream")
        self._cap = None
        self._first: np.ndarray | None = None
        self._open()

    def describe(self) -> str:
        if self.kind == "camera":
            where = f"index {self.target}" if isinstance(self.target, int) else self.target
            return f"camera at {where} ({self.width}x{self.height} asked)"
        if self.kind == "stream":
            return f"stream {self.target}"
        return f"video file {self.target}"

    def _what_failed(self, opened: bool) -> str:
        if self.kind == "camera":
            where = f"index {self.target}" if isinstance(self.target, int) else self.target
            return (f"the camera at {where} gives no picture (in use by another program?)"
                    if opened else f"no camera at {where}")
        if self.kind == "stream":
            return f"cannot open stream {self.target}" if not opened else \
                f"stream {self.target} sends no picture"
        return f"cannot decode video file {self.target}"

    def _open(self) -> None:
        cv2 = _cv2()
        if self.kind == "camera":
            api = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY
            cap = cv2.VideoCapture(self.target, api)
            if cap.isOpened():
                # Most USB cameras give 720p at full rate only as MJPG; ignored where unknown.
                cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*"MJPG"))
                cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
                cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
                cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the newest frame, not a stale queue
        elif self.kind == "stream":
            cap = cv2.VideoCapture(self.target, cv2.CAP_FFMPEG,
                                   [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, STREAM_TIMEOUT_MS,
                                    cv2.CAP_PROP_READ_TIMEOUT_MSEC, STREAM_TIMEOUT_MS])
        else:
            cap = cv2.VideoCapture(self.target)
        opened = cap.isOpened()
        ok, frame = cap.read() if opened else (False, None)
        if not ok or frame is None or frame.size == 0:
            cap.release()
            raise ScannerError(self._what_failed(opened))
        self._cap, self._first = cap, frame
        if self.kind == "camera":
            log.info("%s opened at %dx%d", self.describe(), frame.shape[1], frame.shape[0])

    def read(self) -> np.ndarray | None:
        if self._first is not None:
            frame, self._first = self._first, None
            return frame
        if self._cap is None:
            return None
        ok, frame = self._cap.read()
        return frame if ok and frame is not None and frame.size else None

    def reopen(self) -> None:
        self.close()
        self._open()

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
        self._cap, self._first = None, None


def _read_image(path: Path) -> np.ndarray | None:
    cv2 = _cv2()
    try:
        data = np.fromfile(path, dtype=np.uint8)  # imread cannot open non-ASCII paths
    except OSError:
        return None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    return image if image is not None and image.size else None


class FolderSource(FrameSource):
    """The images of a folder in name order, then the end (tests and demos). An image that
    cannot be read is skipped with a warning."""

    kind = "folder"

    def __init__(self, folder: Path):
        self.folder = folder
        self.paths = sorted(p for p in folder.iterdir()
                            if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.paths:
            raise ScannerError(f"no images in {folder} (looked for "
                               f"{', '.join(IMAGE_SUFFIXES)})")
        self._next = 0
        self.current: Path | None = None  # the file of the frame last read

    def describe(self) -> str:
        return f"folder {self.folder} ({len(self.paths)} images)"

    def read(self) -> np.ndarray | None:
        while self._next < len(self.paths):
            path = self.paths[self._next]
            self._next += 1
            image = _read_image(path)
            if image is not None:
                self.current = path
                return image
            log.warning("skipping %s: not a readable image", path)
        return None


class ImageSource(FrameSource):
    """One image file: one frame, then the end."""

    kind = "image"

    def __init__(self, path: Path):
        self.path = path
        self._frame = _read_image(path)
        if self._frame is None:
            raise ScannerError(f"cannot read image {path}")

    def describe(self) -> str:
        return f"image {self.path}"

    def read(self) -> np.ndarray | None:
        frame, self._frame = self._frame, None
        return frame


def open_source(spec: str | int, width: int = 1280, height: int = 720) -> FrameSource:
    """The frame source `spec` names (see the module doc); ScannerError, clearly worded, if
    it does not exist or gives no frame."""
    if isinstance(spec, bool) or not isinstance(spec, (int, str, os.PathLike)):
        raise ScannerError(f"a frame source is a camera index, a path or a URL, not {spec!r}")
    if width <= 0 or height <= 0:
        raise ScannerError(f"a frame size is positive, not {width}x{height}")
    if isinstance(spec, int):
        if spec < 0:
            raise ScannerError(f"no camera at index {spec}")
        return CaptureSource(spec, "camera", width, height)
    text = str(spec).strip()
    if not text:
        raise ScannerError("no frame source given (a camera index, a path or a URL)")
    if text.isdigit():
        return CaptureSource(int(text), "camera", width, height)
    if URL.match(text):
        return CaptureSource(text, "stream", width, height)
    if text.startswith("/dev/"):
        if not os.path.exists(text):
            raise ScannerError(f"no camera at {text}")
        return CaptureSource(text, "camera", width, height)
    path = Path(text).expanduser()
    if path.is_dir():
        return FolderSource(path)
    if not path.exists():
        raise ScannerError(f"{path}: no such file or folder")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return ImageSource(path)
    return CaptureSource(str(path), "video", width, height)
