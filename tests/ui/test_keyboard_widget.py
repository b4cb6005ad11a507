"""The on-screen keyboard driven for real: a tiny Kivy app in a subprocess under Xvfb, tapped
with touch events at the centres of its key widgets (found by pilot_id), judged by its state
and by screenshots.

The screenshots go to a temporary directory; with NAFITHA_UPDATE_SCREENSHOTS=1 they are also
copied to docs/screenshots/keyboard-{ar,en,numeric}.png (look at them before committing)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PIL import Image

from ui.theme import BLUE, KEY, KEY_PRESSED, WHITE, Sizes

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 120
DPI = 92.0
WINDOW = (1920, 1080)
LAYOUT_SHOTS = ("ar", "en", "numeric")

# argv: data dir, results JSON, screenshot dir. Steps run one per frame from a generator;
# `yield` hands the frame back to Kivy so touches are dispatched and the window redrawn.
PILOT = textwrap.dedent("""
    import gc, json, sys, time, traceback
    from pathlib import Path

    from ui.env import prepare_kivy_env

    data_dir, results_path, shots = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    prepare_kivy_env(data_dir)
    from kivy.config import Config

    Config.set("graphics", "width", "%(width)d")
    Config.set("graphics", "height", "%(height)d")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.tests.common import UnitTestTouch
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.label import Label

    from ui.fonts import register_arabic_font
    from ui.rtl import shape_markup
    from ui.theme import INK, PAPER, Sizes

    register_arabic_font()
    from ui.keyboard_widget import KeyButton, OnScreenKeyboard

    results = {"done": 0, "keys": []}


    def find(root, pilot_id):
        # What a test pilot does: walk the widget tree for the id.
        found = [w for w in root.walk() if getattr(w, "pilot_id", None) == pilot_id]
        assert len(found) <= 1, f"{len(found)} widgets are {pilot_id}"
        return found[0] if found else None


    def centre(widget):
        return widget.to_window(*widget.center)


    def tap(root, value, while_down=None):
        # A finger: down at the key's centre, a frame, up.
        key = find(root, "key:" + value)
        assert key is not None, f"no key:{value} on the screen"
        touch = UnitTestTouch(*centre(key))
        touch.touch_down()
        yield
        if while_down:
            yield from while_down(key)
        touch.touch_up()
        yield


    def type_keys(root, *values):
        for value in values:
            yield from tap(root, value)


    def screenshot(name):
        saved = []

        def on_flip(*_):
            Window.unbind(on_flip=on_flip)
            path = Window.screenshot(name=str(shots / f".{name}-shot.png"))
            Path(path).replace(shots / f"{name}.png")
            saved.append(True)

        Window.bind(on_flip=on_flip)
        Window.canvas.ask_update()
        while not saved:
            yield


    def key_boxes(kb):
        return {v: [b.x, b.y, b.width, b.height] for v, b in kb.keys_by_value.items()}


    def alive_key_buttons():
        gc.collect()
        # type(), not isinstance(): Kivy's weak proxies of a widget pass isinstance() too.
        return sum(type(o) is KeyButton for o in gc.get_objects())


    def ink_box(button):
        # Where the label's ink is, in window coordinates: the texture (drawn centred on the
        # key) is mostly empty line height, so its own size says little.
        width, height = button.texture_size
        texture = button.texture
        alpha = texture.pixels[3::4]
        rows = [y for y in range(height) if any(alpha[y * width:(y + 1) * width])]
        cols = [x for x in range(width) if any(alpha[x::width])]
        if not rows:
            return None
        if texture.tex_coords[1] > texture.tex_coords[5]:  # stored top row first
            rows = [height - 1 - y for y in reversed(rows)]
        left = int(button.center_x - width / 2)
        bottom = int(button.center_y - height / 2)
        x, y = button.to_window(left + cols[0], bottom + rows[0])
        return [x, y, cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1]


    def pilot(app):
        root, kb = app.root, app.kb
        yield
        yield

        # Arabic: "سلام", the last key held down for the screenshot (its pressed colour).
        yield from type_keys(root, "س", "ل", "ا")

        def hold(key):
            results["text_while_held"] = kb.text  # on_press: typed before the finger lifts
            results["held_state"] = key.state
            yield from screenshot("ar")

        yield from tap(root, "م", while_down=hold)
        results["held_box"] = list(kb.keys_by_value["م"].pos) + list(kb.keys_by_value["م"].size)
        results["idle_box"] = list(kb.keys_by_value["ب"].pos) + list(kb.keys_by_value["ب"].size)
        results["arabic"] = kb.text
        results["pilot_ids_ar"] = sorted(w.pilot_id for w in root.walk()
                                         if getattr(w, "pilot_id", ""))
        results["boxes_ar"] = key_boxes(kb)
        results["keyboard_box"] = [kb.x, kb.y, kb.width, kb.height]

        # Switch to English, "Ab1" with shift, then a backspace.
        yield from tap(root, "switch")
        results["layout_after_switch"] = kb.layout
        yield from tap(root, "shift")
        yield from screenshot("en-shift")
        results["shift_latched"] = [kb.shift, kb.keys_by_value["shift"].latched,
                                    kb.keys_by_value["a"].text]
        yield from type_keys(root, "a", "b", "1")
        results["english"] = kb.text
        results["shift_after"] = [kb.shift, kb.keys_by_value["a"].text]
        yield from tap(root, "backspace")
        results["after_backspace"] = kb.text
        results["boxes_en"] = key_boxes(kb)
        yield from screenshot("en")

        # Back to Arabic: the lam-alef key types two letters, a backspace removes one.
        yield from type_keys(root, "switch", "لا")
        results["lam_alef"] = kb.text
        yield from tap(root, "backspace")
        results["lam_alef_backspace"] = kb.text

        # One tap reported twice (two touches on one key in the same frame) types once.
        kb.text = ""
        ba = kb.keys_by_value["ب"]
        first, second = UnitTestTouch(*centre(ba)), UnitTestTouch(*centre(ba))
        first.touch_down()
        second.touch_down()
        yield
        first.touch_up()
        second.touch_up()
        yield
        results["double_report"] = kb.text
        del first, second, ba  # touches remember the widgets they touched
        # Taps one after the other all count, however fast (as a test pilot sends them):
        # with the keyboard's clock stopped they all come at the same instant.
        kb.now = lambda: 1000.0
        for _ in range(3):
            yield from tap(root, "ب")
        kb.now = time.monotonic
        results["fast_taps"] = kb.text

        yield from tap(root, "done")
        results["done_after_done_key"] = results["done"]

        # A field that must stay in English: no switch key on the screen.
        kb.attach("en", allow_switch=False, max_length=3)
        yield
        results["no_switch"] = {"in_keys": "switch" in kb.keys_by_value,
                                "on_screen": find(root, "key:switch") is not None,
                                "space": kb.keys_by_value["space"].width}
        yield from type_keys(root, "x", "y", "z", "w")
        results["max_length_text"] = kb.text

        # An amount: the number pad with its decimal point.
        kb.attach("numeric", decimals=True, max_length=8)
        yield
        yield from type_keys(root, "1", "2", ".", "5")
        results["amount"] = kb.text
        results["boxes_numeric"] = key_boxes(kb)
        yield from screenshot("numeric")
        kb.attach("numeric", decimals=False)
        yield
        results["whole_number_keys"] = sorted(kb.keys_by_value)

        # Reconfiguring again and again reuses the key widgets: nothing piles up.
        def cycle():
            for layout, switch, decimals in (("ar", True, False), ("en", True, False),
                                             ("numeric", True, True), ("en", False, False),
                                             ("numeric", True, False)):
                kb.attach(layout, allow_switch=switch, decimals=decimals)
                kb.press("switch") if "switch" in kb.keys_by_value else None
        cycle()
        yield
        results["rows_after_one_cycle"] = len(kb.children)
        results["buttons_after_one_cycle"] = alive_key_buttons()
        for _ in range(20):
            cycle()
        yield
        results["rows_after_many"] = len(kb.children)
        results["buttons_after_many"] = alive_key_buttons()
        # New sizes (large text) rebuild the keys; the old widgets go away.
        kb.sizes = Sizes(dpi=%(dpi)r, large_text=True)
        cycle()
        yield
        results["buttons_after_resize"] = alive_key_buttons()
        # Every label fits its key, in both text sizes.
        for large in (True, False):
            kb.sizes = Sizes(dpi=%(dpi)r, large_text=large)
            for layout in ("ar", "en", "numeric"):
                kb.attach(layout, decimals=True)
                yield
                yield
                results.setdefault(f"labels_large_{large}", {}).update(
                    {f"{layout} {v}": [ink_box(b), list(b.to_window(*b.pos)) + list(b.size)]
                     for v, b in kb.keys_by_value.items()})


    class KeyboardApp(App):
        def build(self):
            Window.clearcolor = PAPER
            root = BoxLayout(orientation="vertical")
            field = Label(font_name="NafithaArabic", markup=True, font_size=64, color=INK)
            root.add_widget(field)
            self.kb = OnScreenKeyboard(layout="ar", sizes=Sizes(dpi=%(dpi)r))
            self.kb.bind(text=lambda kb, text: setattr(field, "text", shape_markup(text)))
            self.kb.bind(on_done=lambda kb: results.__setitem__("done", results["done"] + 1))
            self.kb.bind(on_key=lambda kb, value: results["keys"].append(value))
            root.add_widget(self.kb)
            return root

        def on_start(self):
            steps = pilot(self)

            def step(dt):
                try:
                    next(steps)
                except StopIteration:
                    self.finish()
                    return False
                except Exception:
                    results["error"] = traceback.format_exc()
                    self.finish()
                    return False

            Clock.schedule_interval(step, 0)

        def finish(self):
            results_path.write_text(json.dumps(results, ensure_ascii=False))
            Clock.schedule_once(lambda dt: self.stop(), 0)


    KeyboardApp().run()
""") % {"width": WINDOW[0], "height": WINDOW[1], "dpi": DPI}


@pytest.fixture(scope="module")
def pilot(xvfb_display, tmp_path_factory) -> tuple[dict, Path]:
    tmp = tmp_path_factory.mktemp("keyboard")
    shots, results_path = tmp / "shots", tmp / "results.json"
    shots.mkdir()
    # A file, not `python -c`: Kivy's App looks for a .kv file next to its class's source.
    script = tmp / "keyboard_pilot.py"
    script.write_text(PILOT, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    run = subprocess.run([sys.executable, str(script), str(tmp / "data"), str(results_path),
                          str(shots)], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=TIMEOUT_S)
    assert run.returncode == 0, f"keyboard app exited {run.returncode}:\n{run.stderr}"
    assert results_path.is_file(), f"the pilot wrote no results:\n{run.stderr}"
    results = json.loads(results_path.read_text())
    assert "error" not in results, results["error"] + run.stderr
    if os.environ.get("NAFITHA_UPDATE_SCREENSHOTS") == "1":
        for name in LAYOUT_SHOTS:
            shutil.copyfile(shots / f"{name}.png",
                            ROOT / "docs" / "screenshots" / f"keyboard-{name}.png")
    return results, shots


def shot(pilot, name: str) -> Image.Image:
    return Image.open(pilot[1] / f"{name}.png").convert("RGB")


def pixel_at(image: Image.Image, x: float, y: float) -> tuple:
    """The pixel at Kivy window coordinates (origin bottom left)."""
    return image.getpixel((int(x), image.height - 1 - int(y)))


def close(px: tuple, rgba: tuple, tolerance: int = 6) -> bool:
    """Whether a pixel has the colour of a theme rgba tuple."""
    return all(abs(a - round(b * 255)) <= tolerance for a, b in zip(px, rgba[:3]))


@pytest.mark.ui
def test_typing_arabic_then_english_with_shift_and_a_backspace(pilot):
    results, _ = pilot
    assert results["arabic"] == "سلام"
    assert results["layout_after_switch"] == "en"
    assert results["english"] == "سلامAb1"
    assert results["after_backspace"] == "سلامAb"


@pytest.mark.ui
def test_shift_is_shown_latched_with_capitals_and_lets_go_after_one_letter(pilot):
    results, _ = pilot
    assert results["shift_latched"] == [True, True, "[font=Roboto]A[/font]"]
    assert results["shift_after"] == [False, "[font=Roboto]a[/font]"]


@pytest.mark.ui
def test_a_key_types_when_touched_not_when_released(pilot):
    results, _ = pilot
    assert results["text_while_held"] == "سلام"
    assert results["held_state"] == "down"


@pytest.mark.ui
def test_lam_alef_types_two_letters_and_backspace_removes_one(pilot):
    results, _ = pilot
    assert results["lam_alef"].endswith("Ab\u0644\u0627")
    assert results["lam_alef_backspace"].endswith("Ab\u0644")


@pytest.mark.ui
def test_one_tap_reported_twice_types_once_but_quick_taps_all_count(pilot):
    results, _ = pilot
    assert results["double_report"] == "ب"
    assert results["fast_taps"] == "بببب"


@pytest.mark.ui
def test_done_and_key_events(pilot):
    results, _ = pilot
    assert results["done_after_done_key"] == 1
    assert results["keys"][:5] == ["س", "ل", "ا", "م", "switch"]
    assert results["keys"].count("ب") == 4  # the double report counted once


@pytest.mark.ui
def test_a_field_can_forbid_switching_and_limit_its_length(pilot):
    results, _ = pilot
    assert results["no_switch"]["in_keys"] is False
    assert results["no_switch"]["on_screen"] is False
    assert results["no_switch"]["space"] > results["boxes_en"]["space"][2]
    assert results["max_length_text"] == "xyz"


@pytest.mark.ui
def test_number_pad_types_an_amount_and_hides_the_point_for_whole_numbers(pilot):
    results, _ = pilot
    assert results["amount"] == "12.5"
    assert "." in results["boxes_numeric"]
    assert sorted(results["whole_number_keys"]) == sorted(
        [str(d) for d in range(10)] + ["backspace", "done"])


@pytest.mark.ui
def test_every_key_is_at_least_15_mm_and_on_screen(pilot):
    results, _ = pilot
    smallest = Sizes(dpi=DPI).key
    assert smallest >= 55  # 15 mm at 92 dpi is 54.3 px
    for layout in LAYOUT_SHOTS:
        boxes = results[f"boxes_{layout}"]
        assert boxes, layout
        for value, (x, y, w, h) in boxes.items():
            assert w >= smallest and h >= smallest, f"{layout} key {value}: {w} x {h} px"
            assert 0 <= x and x + w <= WINDOW[0] and 0 <= y and y + h <= WINDOW[1], value
    # The keyboard sits at the bottom of the window, across its width.
    x, y, w, h = results["keyboard_box"]
    assert (x, y, w) == (0, 0, WINDOW[0]) and h < WINDOW[1] / 2


@pytest.mark.ui
@pytest.mark.parametrize("large_text", [False, True])
def test_every_label_fits_its_key(pilot, large_text):
    results, _ = pilot
    labels = results[f"labels_large_{large_text}"]
    assert len(labels) > 100
    margin = 3
    blank = [key for key, (ink, _) in labels.items() if ink is None and key != "ar space"]
    assert not blank
    outside = {key: (ink, box) for key, (ink, box) in labels.items() if ink and not (
        box[0] + margin <= ink[0] and ink[0] + ink[2] <= box[0] + box[2] - margin
        and box[1] + margin <= ink[1] and ink[1] + ink[3] <= box[1] + box[3] - margin)}
    assert not outside, "labels reaching the edge of their key (ink, key)"


@pytest.mark.ui
def test_keys_are_found_by_pilot_id(pilot):
    results, _ = pilot
    ids = set(results["pilot_ids_ar"])
    assert {"key:ب", "key:لا", "key:backspace", "key:space", "key:switch", "key:7",
            "key:done"} <= ids
    assert "key:a" not in ids  # only the keys of the layout on screen are in the tree


@pytest.mark.ui
def test_reconfiguring_reuses_key_widgets(pilot):
    results, _ = pilot
    assert results["rows_after_many"] == results["rows_after_one_cycle"]
    assert results["buttons_after_many"] == results["buttons_after_one_cycle"]
    assert results["buttons_after_resize"] == results["buttons_after_one_cycle"]


@pytest.mark.ui
def test_a_held_key_is_drawn_in_the_pressed_colour(pilot):
    results, _ = pilot
    image = shot(pilot, "ar")
    for box, colour in ((results["held_box"], KEY_PRESSED), (results["idle_box"], KEY)):
        x, y, w, h = box
        # Inside the key, beside its label.
        px = pixel_at(image, x + 8, y + h / 2)
        assert close(px, colour), f"{px} at the edge of the key at {box}"


@pytest.mark.ui
def test_a_latched_shift_has_a_white_ring_that_goes_with_it(pilot):
    results, _ = pilot
    x, y, w, h = results["boxes_en"]["shift"]
    latched, after = shot(pilot, "en-shift"), shot(pilot, "en")
    assert close(pixel_at(latched, x - 2, y + h / 2), WHITE)
    assert close(pixel_at(after, x - 2, y + h / 2), BLUE)


@pytest.mark.ui
@pytest.mark.parametrize("name", LAYOUT_SHOTS)
def test_screenshots_show_key_labels_on_light_keys(pilot, name):
    results, _ = pilot
    image = shot(pilot, name)
    assert image.size == WINDOW
    grey = image.convert("L")
    for value, (x, y, w, h) in results[f"boxes_{name}"].items():
        if value == "done":
            continue  # white on green
        key = grey.crop((int(x), image.height - int(y + h), int(x + w), image.height - int(y)))
        dark = sum(key.histogram()[:80])
        # Every key carries a label: dark ink on a light key.
        assert dark > 20, f"{name} key {value!r} looks blank ({dark} dark pixels)"
