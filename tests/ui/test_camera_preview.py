"""ui.camera.CameraPreview in a real window (textures need a GL context): one subprocess
runs the scenario under Xvfb and reports counters and screenshots."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
WINDOW = (640, 480)
RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)

SCENARIO = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, ROOT)
    from pathlib import Path
    from ui.env import prepare_kivy_env
    prepare_kivy_env(sys.argv[1])
    shots = Path(sys.argv[2])
    from kivy.config import Config
    Config.set("graphics", "width", "640")
    Config.set("graphics", "height", "480")
    Config.set("graphics", "resizable", "0")
    import numpy as np
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.uix.floatlayout import FloatLayout
    from ui.camera import CameraPreview
    from testing.screenshot import after_frames, save_next_frame

    def pattern(w, h):
        # BGR: left half red, right half blue, the top quarter green.
        frame = np.zeros((h, w, 3), np.uint8)
        frame[:, : w // 2] = (0, 0, 255)
        frame[:, w // 2 :] = (255, 0, 0)
        frame[: h // 4] = (0, 255, 0)
        return frame

    class Fake:
        '''A new array on every call, like ScanService.latest_frame().'''
        def __init__(self, size):
            self.size, self.calls, self.fail = size, 0, False
        def latest_frame(self):
            self.calls += 1
            if self.fail:
                raise OSError("camera unplugged")
            return None if self.size is None else pattern(*self.size)

    class Same:
        def __init__(self):
            self.frame = pattern(64, 48)
        def latest_frame(self):
            return self.frame

    out = {}

    def steps(app):
        root = app.root
        # 1. No frame yet: nothing drawn, no error.
        empty = CameraPreview(source_service=Fake(None))
        root.add_widget(empty)
        for _ in range(5):
            empty.poll()
        out["empty"] = [empty.frames_shown, empty.textures_created, list(empty._rect.size),
                        list(empty.frame_size), empty.source_service.calls]
        root.remove_widget(empty)

        # 2. One texture per frame size, reused.
        fake = Fake((64, 48))
        preview = CameraPreview(source_service=fake)
        root.add_widget(preview)
        for _ in range(100):
            preview.poll()
        out["same_size"] = [preview.frames_shown, preview.textures_created]
        fake.size = (100, 50)
        for _ in range(10):
            preview.poll()
        fake.size = (64, 48)
        for _ in range(10):
            preview.poll()
        out["sizes"] = [preview.frames_shown, preview.textures_created,
                        list(preview.frame_size)]

        # 3. The same array again is not uploaded again.
        same = Same()
        preview.source_service = same
        for _ in range(10):
            preview.poll()
        out["same_array_shown"] = preview.frames_shown - out["sizes"][0]

        # 4. A failing service: nothing raised, the last frame stays.
        preview.source_service = fake
        fake.fail = True
        out["failing_poll"] = [preview.poll(), preview.poll()]
        fake.fail = False

        # 5. Screenshots: mirrored (default), then not mirrored, then letterboxed.
        preview.show_frame(pattern(64, 48))
        yield ("shot", "mirrored.png")
        preview.mirror = False
        yield ("shot", "plain.png")
        # 101 pixels: rows of 303 bytes, not a multiple of GL's default 4-byte alignment.
        preview.show_frame(pattern(101, 50))
        yield ("shot", "letterbox.png")

        # 6. Polling at fps while started, only then.
        before = preview.frames_shown
        calls = fake.calls
        yield ("sleep", 0.5)
        out["idle_calls"] = fake.calls - calls
        preview.start()
        out["running_after_start"] = preview.running
        yield ("sleep", 1.0)
        out["polled_frames"] = preview.frames_shown - before
        # Taken out of its parent: it stops by itself.
        root.remove_widget(preview)
        out["running_after_remove"] = preview.running
        calls = fake.calls
        yield ("sleep", 0.3)
        out["calls_after_remove"] = fake.calls - calls

        # 7. Its screen (an ancestor) is removed: the next tick stops it.
        holder = FloatLayout()
        inner = CameraPreview(source_service=Fake((32, 24)))
        holder.add_widget(inner)
        root.add_widget(holder)
        inner.start()
        yield ("sleep", 0.3)
        root.remove_widget(holder)
        yield ("sleep", 0.3)
        out["running_after_ancestor_removed"] = inner.running
        out["shown_by_inner"] = inner.frames_shown

    class PreviewApp(App):
        def build(self):
            return FloatLayout()

        def on_start(self):
            self._steps = steps(self)
            after_frames(Clock, 3, self.next)

        def next(self, *_):
            try:
                kind, arg = next(self._steps)
            except StopIteration:
                print(json.dumps(out))
                self.stop()
                return
            if kind == "shot":
                save_next_frame(Window, shots / arg,
                                lambda: Clock.schedule_once(self.next, 0))
            else:
                Clock.schedule_once(self.next, arg)

    PreviewApp().run()
""")


@pytest.fixture(scope="module")
def run(xvfb_display, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("camera")
    # A file, not -c: App.load_kv looks for the source file of the App class.
    script = tmp / "preview_scenario.py"
    script.write_text(SCENARIO.replace("ROOT)", repr(str(ROOT)) + ")", 1))
    result = subprocess.run([sys.executable, str(script), str(tmp / "data"), str(tmp)],
                            cwd=ROOT, capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1]), tmp, result.stderr


def near(pixel, colour, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour))


@pytest.mark.ui
def test_no_frame_draws_nothing_and_raises_nothing(run):
    out, _, _ = run
    assert out["empty"] == [0, 0, [0, 0], [0, 0], 5]


@pytest.mark.ui
def test_one_texture_per_frame_size_is_reused(run):
    out, _, _ = run
    assert out["same_size"] == [100, 1]
    # 100x50 makes a second texture; going back to 64x48 reuses the first.
    assert out["sizes"] == [120, 2, [64, 48]]


@pytest.mark.ui
def test_the_same_array_is_uploaded_once(run):
    out, _, _ = run
    assert out["same_array_shown"] == 1


@pytest.mark.ui
def test_a_failing_service_is_logged_once_and_draws_nothing_new(run):
    out, _, stderr = run
    assert out["failing_poll"] == [False, False]
    # Logged once for the failure streak, not on every poll.
    assert stderr.count("latest_frame() failed") == 1, stderr
    assert "camera unplugged" in stderr


@pytest.mark.ui
def test_the_preview_is_upright_and_mirrored_like_a_selfie(run):
    _, tmp, _ = run
    image = Image.open(tmp / "mirrored.png").convert("RGB")
    assert image.size == WINDOW
    w, h = image.size
    # The frame's top quarter (green) is at the top of the screen...
    assert near(image.getpixel((w // 2, h // 10)), GREEN)
    # ... and its left half (red) is on the right: a mirror.
    assert near(image.getpixel((3 * w // 4, 2 * h // 3)), RED)
    assert near(image.getpixel((w // 4, 2 * h // 3)), BLUE)


@pytest.mark.ui
def test_mirror_false_shows_the_frame_as_the_camera_sees_it(run):
    _, tmp, _ = run
    image = Image.open(tmp / "plain.png").convert("RGB")
    w, h = image.size
    assert near(image.getpixel((w // 2, h // 10)), GREEN)
    assert near(image.getpixel((w // 4, 2 * h // 3)), RED)
    assert near(image.getpixel((3 * w // 4, 2 * h // 3)), BLUE)


@pytest.mark.ui
def test_a_wider_frame_keeps_its_aspect_ratio(run):
    _, tmp, _ = run
    image = Image.open(tmp / "letterbox.png").convert("RGB")
    w, h = image.size
    # 101x50 in 640x480: 640x317, with black bars of about 81 pixels above and below.
    assert near(image.getpixel((w // 2, 40)), (0, 0, 0))
    assert near(image.getpixel((w // 2, h - 40)), (0, 0, 0))
    assert near(image.getpixel((w // 2, 82 + 20)), GREEN)
    # Every row lands where it should (a 303-byte row is not 4-byte aligned).
    for y in (170, 280, 390):
        assert near(image.getpixel((w // 2 - 12, y)), RED), y
        assert near(image.getpixel((w // 2 + 12, y)), BLUE), y


@pytest.mark.ui
def test_it_polls_only_while_started_and_stops_when_removed(run):
    out, _, _ = run
    assert out["idle_calls"] == 0
    assert out["running_after_start"] is True
    # About 15 frames in a second: fewer on a loaded machine, never the UI's 60.
    assert 3 <= out["polled_frames"] <= 17
    assert out["running_after_remove"] is False
    assert out["calls_after_remove"] == 0


@pytest.mark.ui
def test_it_stops_when_its_screen_leaves_the_window(run):
    out, _, _ = run
    assert out["running_after_ancestor_removed"] is False
    assert out["shown_by_inner"] > 0
