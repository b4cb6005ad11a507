"""The one app shell the kiosk and the counter share: start-up and shut-down, the theme's
sizes, running the state machine's steps (at once, on a worker, or on a thread of their own,
as ui/steps.py marks them; the app is `busy` meanwhile and ignores taps), watching for
activity (idle handling), and the test pilot's hooks.

    class KioskApp(ShellApp):
        translations = "kiosk"
        def make_state(self): return KioskFlow(...)      # the state machine
        def render(self): ...                            # show the state
        def check_idle(self): ...                        # what idleness means here

Imported only once ui.env.prepare_kivy_env ran (ui/launch.py sees to it): it imports Kivy."""
from __future__ import annotations

import json
import logging
import threading

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.properties import BooleanProperty, DictProperty, ObjectProperty

from . import worker
from .heap import FREEZE_HEAP_AFTER_S, freeze_heap
from .i18n import Translations
from .steps import THREAD, UI, runs_on

log = logging.getLogger("nafitha.ui")


class ShellApp(App):
    sizes = ObjectProperty(None)
    px = DictProperty()  # sizes.as_dict(), what the .kv files read
    rtl = BooleanProperty(True)
    busy = BooleanProperty(False)

    translations = ""      # assets/translations/<name>.toml
    title_text = "Nafitha"
    idle_check_s = 1.0     # how often check_idle runs

    def __init__(self, settings, backend, clock, screenshot=None, exit_after=None, **kwargs):
        self.settings, self.backend, self.clock = settings, backend, clock
        self.screenshot_path, self.exit_after = screenshot, exit_after
        self.tr = Translations.load(self.translations, settings.office.digits)
        self.last_activity = clock.now()
        super().__init__(**kwargs)

    def on_sizes(self, *_):
        self.px = self.sizes.as_dict()

    # --- start and stop --------------------------------------------------------------------
    def build(self):
        self.title = self.title_text
        root = self.build_root()
        Window.bind(on_touch_down=self._touched)
        Clock.schedule_interval(lambda dt: self.check_idle(), self.idle_check_s)
        self.render()
        return root

    def build_root(self):
        raise NotImplementedError

    def on_start(self):
        from .hooks import start_app_hooks
        start_app_hooks(self, self.screenshot_path, self.exit_after)
        self._start_watchdog()
        from .heartbeat import start_heartbeat  # health reports, off this thread
        start_heartbeat(self)
        Clock.schedule_once(lambda dt: freeze_heap(), FREEZE_HEAP_AFTER_S)

    def _start_watchdog(self) -> None:
        """systemd's watchdog (core/watchdog.py), pinged from this, the UI thread: a hung
        screen stops the pings and systemd restarts the app. READY=1 once drawn."""
        from core import watchdog
        if not watchdog.enabled():
            return

        def drawn(*_):
            Window.unbind(on_flip=drawn)
            watchdog.ready()
        Window.bind(on_flip=drawn)
        Clock.schedule_interval(lambda dt: watchdog.ping(), watchdog.interval_s())

    def on_stop(self):
        from core import watchdog
        watchdog.stopping()
        from .heartbeat import stop_heartbeat
        stop_heartbeat(self)
        self.stop_devices()
        worker.shutdown()
        self.backend.close()

    def stop_devices(self) -> None:
        """Let go of printers, terminals and cameras."""

    # --- steps of the state machine ---------------------------------------------------------
    @property
    def state(self):
        """The state machine whose steps taps run (the kiosk's flow, the counter's desk)."""
        raise NotImplementedError

    def run_step(self, name: str, *args) -> str:
        """Run the state machine's step `name` where its mark says (ui/steps.py); the app is
        busy until a slow step is done. Returns where it ran (the app's screens react)."""
        step = getattr(self.state, name)
        where = runs_on(step, self.backend)
        if where == UI:
            try:
                step(*args)
            except Exception as exc:  # noqa: BLE001 - shown, the state is kept
                self.state.failed(exc)
            self.render()
            return where
        self.busy = True
        if where == THREAD:
            threading.Thread(target=self._on_thread, args=(step, args), name=f"step-{name}",
                             daemon=True).start()
        else:
            worker.run_in_background(step, *args, on_done=lambda _: self.step_done(),
                                     on_error=self.step_failed)
        return where

    def _on_thread(self, step, args) -> None:
        try:
            step(*args)
        except Exception as exc:  # noqa: BLE001 - shown on screen
            Clock.schedule_once(lambda dt, exc=exc: self.step_failed(exc))
        else:
            Clock.schedule_once(lambda dt: self.step_done())

    def step_done(self) -> None:
        self.busy = False
        self.last_activity = self.clock.now()
        self.render()

    def step_failed(self, exc: BaseException) -> None:
        self.state.failed(exc)
        self.step_done()

    def render(self) -> None:
        raise NotImplementedError

    # --- activity and idleness ---------------------------------------------------------------
    def _touched(self, *_):
        self.last_activity = self.clock.now()
        return False  # the touch goes on

    def idle_seconds(self) -> float:
        return (self.clock.now() - self.last_activity).total_seconds()

    def check_idle(self) -> None:
        """What idleness means for this app (the kiosk forgets the resident, the counter
        locks); runs every idle_check_s."""

    # --- the test pilot's hooks (testing/pilot.py) ------------------------------------------
    def pilot_advance(self, seconds: float):
        self.clock.advance(seconds=seconds)
        self.check_idle()

    def pilot_busy(self):
        return f"{self.translations} step running" if self.busy else None


def jsonable(value):
    """A value as JSON would carry it (dates as text): what the pilot's state returns."""
    return json.loads(json.dumps(value, default=str))
