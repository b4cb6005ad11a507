"""The cold-start baseline of bench/kiosk.py: the least a Kivy app can be, one window of the
kiosk's size (1920x1080, not resizable) with one label, plus the pilot so it is timed the same
way (`state` says screen "home", then a screenshot of a drawn frame).

    NAFITHA_PILOT=/tmp/p.sock python bench/_minimal_kivy_app.py TMPDIR
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ui.env import prepare_kivy_env  # noqa: E402  (what the kiosk does before Kivy, too)


def main(tmp: str) -> None:
    prepare_kivy_env(Path(tmp) / "minimal-app")
    from kivy.config import Config

    Config.set("graphics", "width", "1920")
    Config.set("graphics", "height", "1080")
    Config.set("graphics", "resizable", "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")

    from kivy.app import App
    from kivy.uix.label import Label

    class MinimalApp(App):
        def build(self):
            self.title = "Minimal"
            return Label(text="Hello", font_size=64)

        def on_start(self):
            pilot_socket = os.environ.get("NAFITHA_PILOT")
            if pilot_socket:
                from testing.pilot import start_pilot
                start_pilot(self, pilot_socket)

        def pilot_state(self):
            return {"screen": "home"}

    MinimalApp().run()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.getcwd())
