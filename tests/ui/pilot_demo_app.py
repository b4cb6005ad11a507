"""A small real Kivy app for tests/ui/test_pilot.py: `python tests/ui/pilot_demo_app.py`.

Home screen: start (-> the form screen), pay (disabled), load (a ui.worker task), crash
(raises in on_release), a scrolling list of rows, a hidden and an off-window button.
Form screen: an entry label typed into with on-screen keys (key:a .. key:e, key:shift,
key:space, key:backspace), help (long press), back.
An idle counter listens to Window.on_touch_down; pilot_advance moves an injected clock and
an idle form goes back home after IDLE_S. Honours NAFITHA_PILOT; PILOT_DEMO_FAIL=1 makes it
fail before the window opens."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ui.env import prepare_kivy_env  # noqa: E402

WINDOW_SIZE = (800, 600)
IDLE_S = 30.0
LONG_PRESS_S = 0.8
LETTERS = "abcde"
ROWS = 30


def main() -> None:
    data = Path(tempfile.mkdtemp(prefix="pilot-demo-"))
    try:
        run(data)
    finally:
        shutil.rmtree(data, ignore_errors=True)


def run(data: Path) -> None:
    prepare_kivy_env(data)
    if os.environ.get("PILOT_DEMO_FAIL") == "1":
        raise RuntimeError("demo app told to fail at start (PILOT_DEMO_FAIL=1)")
    from kivy.config import Config

    Config.set("graphics", "width", str(WINDOW_SIZE[0]))
    Config.set("graphics", "height", str(WINDOW_SIZE[1]))
    Config.set("graphics", "resizable", "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")

    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.button import Button
    from kivy.uix.floatlayout import FloatLayout
    from kivy.uix.gridlayout import GridLayout
    from kivy.uix.label import Label
    from kivy.uix.screenmanager import Screen, ScreenManager, SlideTransition
    from kivy.uix.scrollview import ScrollView

    from ui import worker

    def button(text, pilot_id, **kwargs):
        widget = Button(text=text, **kwargs)
        widget.pilot_id = pilot_id
        return widget

    def label(text, pilot_id, **kwargs):
        widget = Label(text=text, **kwargs)
        widget.pilot_id = pilot_id
        return widget

    def slow_answer(seconds):
        time.sleep(seconds)
        return 42

    class DemoApp(App):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.now = 1_000_000.0          # the injected clock (pilot_advance moves it)
            self.last_touch_at = self.now
            self.window_touches = 0
            self.idle_resets = 0
            self.shift = False
            self.presses: dict[str, int] = {}
            self.help_shown = False
            self._long_press = None

        def build(self):
            self.title = "Pilot demo"
            self.sm = ScreenManager(transition=SlideTransition(duration=0.3))
            self.sm.add_widget(self._home())
            self.sm.add_widget(self._form())
            self.sm.add_widget(self._broken())
            Window.bind(on_touch_down=self._window_touch)
            return self.sm

        def _home(self):
            screen = Screen(name="home")
            root = FloatLayout()
            left = BoxLayout(orientation="vertical", size_hint=(0.5, 1),
                             pos_hint={"x": 0, "y": 0}, spacing=4, padding=8)
            left.add_widget(label("Home", "title"))
            greeting = label("abahrm", "greeting")   # drawn text (shaped) ...
            greeting.pilot_text = "مرحبا"            # ... and the logical text
            left.add_widget(greeting)
            start = button("Start", "start")
            start.bind(on_release=lambda *_: self._count("start") or self.go("form"))
            left.add_widget(start)
            left.add_widget(button("Pay", "pay", disabled=True))
            load = button("Load", "load")
            load.bind(on_release=lambda *_: self.load())
            left.add_widget(load)
            self.result = label("not loaded", "result")
            left.add_widget(self.result)
            crash = button("Crash", "crash")
            crash.bind(on_release=self._crash)
            left.add_widget(crash)
            left.add_widget(button("Ghost", "ghost", opacity=0))
            root.add_widget(left)

            rows = GridLayout(cols=1, size_hint_y=None, spacing=2)
            rows.bind(minimum_height=rows.setter("height"))
            for i in range(ROWS):
                row = button(f"Row {i}", f"row:{i}", size_hint_y=None, height=60)
                row.bind(on_release=lambda _w, i=i: setattr(self.result, "text", f"picked {i}"))
                rows.add_widget(row)
            scroll = ScrollView(size_hint=(0.5, 1), pos_hint={"x": 0.5, "y": 0})
            scroll.pilot_id = "rows"
            scroll.add_widget(rows)
            root.add_widget(scroll)
            # Laid out past the window's right edge: never visible.
            root.add_widget(button("Away", "offscreen", size_hint=(None, None),
                                   size=(100, 50), pos=(WINDOW_SIZE[0] + 50, 10)))
            screen.add_widget(root)
            return screen

        def _form(self):
            screen = Screen(name="form")
            box = BoxLayout(orientation="vertical", spacing=4, padding=8)
            self.entry = label("", "entry", font_size=32)
            box.add_widget(self.entry)
            keys = GridLayout(cols=4, spacing=4)
            self.letter_keys = []
            for char in LETTERS:
                key = button(char, f"key:{char}")
                key.bind(on_release=lambda w, c=char: self.key(c))
                self.letter_keys.append(key)
                keys.add_widget(key)
            for name, action in (("shift", self.toggle_shift), ("space", lambda: self.key(" ")),
                                 ("backspace", self.backspace)):
                key = button(name, f"key:{name}")
                key.bind(on_release=lambda w, a=action: a())
                keys.add_widget(key)
            box.add_widget(keys)
            help_button = button("Hold for help", "help")
            help_button.bind(on_press=self._help_down, on_release=self._help_up)
            box.add_widget(help_button)
            back = button("Back", "back")
            back.bind(on_release=lambda *_: self.go("home"))
            box.add_widget(back)
            screen.add_widget(box)
            return screen

        def _broken(self):
            """What the layout check finds (testing/layout_check.py): one of each defect."""
            screen = Screen(name="broken")
            root = FloatLayout()
            header = type("DemoHeader", (BoxLayout,), {})(
                size_hint=(1, None), height=60, pos_hint={"x": 0, "top": 1})
            header.add_widget(label("Demo", "header_title"))
            root.add_widget(header)
            # Placed 40 px into the header bar.
            root.add_widget(label("Under", "under", size_hint=(None, None), size=(200, 60),
                                  pos_hint={"x": 0.1, "top": (WINDOW_SIZE[1] - 20)
                                            / WINDOW_SIZE[1]}))
            row = BoxLayout(size_hint=(None, None), size=(300, 40), pos=(20, 200))
            # A child laid out twice as tall as its row.
            row.add_widget(label("Tall", "tall", size_hint=(None, None), size=(100, 80)))
            root.add_widget(row)
            cut = label("A sentence far too long for the narrow box it was given", "cut",
                        size_hint=(None, None), size=(120, 40), pos=(400, 100),
                        shorten=True, max_lines=1)
            cut.text_size = cut.size
            root.add_widget(cut)
            root.add_widget(label("Fits", "fits", size_hint=(None, None), size=(200, 40),
                                  pos=(400, 300)))
            screen.add_widget(root)
            return screen

        # -- behaviour ---------------------------------------------------------------------

        def _window_touch(self, _window, _touch):
            # The kiosk's idle timer listens here: any touch anywhere is activity.
            self.window_touches += 1
            self.last_touch_at = self.now

        def _count(self, name):
            self.presses[name] = self.presses.get(name, 0) + 1

        def go(self, screen):
            self.sm.current = screen

        def key(self, char):
            if self.shift:
                char = char.upper()
                self.toggle_shift()
            self.entry.text += char

        def toggle_shift(self):
            self.shift = not self.shift
            for key, char in zip(self.letter_keys, LETTERS):
                key.text = char.upper() if self.shift else char

        def backspace(self):
            self.entry.text = self.entry.text[:-1]

        def load(self, seconds=0.5):
            self.result.text = "loading"
            worker.run_in_background(slow_answer, seconds,
                                     on_done=lambda v: setattr(self.result, "text", f"loaded {v}"),
                                     on_error=lambda e: setattr(self.result, "text", f"error {e}"))

        def _crash(self, *_):
            raise RuntimeError("demo crash on purpose")

        def _help_down(self, *_):
            self._long_press = Clock.schedule_once(self._show_help, LONG_PRESS_S)

        def _help_up(self, *_):
            if self._long_press is not None:
                self._long_press.cancel()
                self._long_press = None

        def _show_help(self, _dt):
            self.help_shown = True

        def check_idle(self):
            if self.sm.current != "home" and self.now - self.last_touch_at >= IDLE_S:
                self.idle_resets += 1
                self.entry.text = ""
                self.go("home")

        # -- pilot hooks -------------------------------------------------------------------

        def on_start(self):
            Clock.schedule_interval(lambda dt: self.check_idle(), 1.0)
            pilot_socket = os.environ.get("NAFITHA_PILOT")
            if pilot_socket:
                from testing.pilot import start_pilot

                start_pilot(self, pilot_socket)

        def on_stop(self):
            worker.shutdown()

        def pilot_state(self):
            return {"screen": self.sm.current, "entry": self.entry.text,
                    "result": self.result.text, "window_touches": self.window_touches,
                    "idle_resets": self.idle_resets, "now": self.now, "shift": self.shift,
                    "help_shown": self.help_shown, "presses": dict(self.presses),
                    "window_size": list(Window.size)}

        def pilot_advance(self, seconds):
            self.now += seconds
            self.check_idle()

        def pilot_call(self, name, *args):
            if name == "echo":
                return list(args)
            if name == "load":
                self.load(*args)
                return "started"
            if name == "reset":  # back to the first screen, nothing typed or loaded
                if self.shift:
                    self.toggle_shift()
                self.entry.text = ""
                self.result.text = "not loaded"
                self.help_shown = False
                self.last_touch_at = self.now
                self.go("home")
                return None
            if name == "broken":  # the layout check's screen
                self.sm.transition.duration = 0
                self.go("broken")
                return None
            if name == "fail":
                raise ValueError("pilot_call told to fail")
            raise KeyError(f"no hook {name!r}")

    DemoApp().run()


if __name__ == "__main__":
    main()
