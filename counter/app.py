"""The counter application: `nafitha counter` calls run_counter().

A clerk's day by keyboard and by touch, in Arabic (the default) or English: sign in, open the
shift, call tickets, serve applications (the kiosk's and walk-ins'), take payments, issue
and print licences, verify licences by camera, close the shift with a Z report. The desk
(counter/desk.py) holds the state, counter/views.py says what to show, the window here
shows it; store and device work runs on a worker (ui/worker.py).

Kivy is only imported inside run_counter(), after prepare_kivy_env()."""
from __future__ import annotations

import logging
import os
import threading

from ui.env import prepare_kivy_env

log = logging.getLogger("nafitha.counter")

TITLE = "Nafitha counter"
WINDOW_SIZE = (1440, 900)
# Steps that only change what is on screen: run at once on the UI thread.
INSTANT_STEPS = ("focus", "choose", "choose_method", "choose_service", "next_field",
                 "start_payment", "start_transfer", "start_apply", "open_search",
                 "open_verify", "start_close_shift", "request", "lock", "new_shift")
# Every other desk step talks to the store or a device: on the worker.
SLOW_STEPS = ("submit", "back", "refresh", "call_next", "recall", "no_show", "park",
              "finish", "resume", "show_application", "issue", "print_receipt", "print_z",
              "scanned", "sign_out")
REFRESH_EVERY_S = 3.0


def run_counter(settings, backend, screenshot: str | None = None,
                exit_after: float | None = None, clock=None) -> None:
    """Open the counter window and run until the clerk closes it.

    screenshot: save a PNG of the first screen once drawn, then stop. exit_after: stop
    after this many seconds. clock: the core clock the auto-lock reads (tests freeze it)."""
    prepare_kivy_env(settings.data_dir)
    from kivy.config import Config

    Config.set("graphics", "width", str(WINDOW_SIZE[0]))
    Config.set("graphics", "height", str(WINDOW_SIZE[1]))
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("kivy", "exit_on_escape", "0")  # Escape is "back" here

    from ui.fonts import register_arabic_font
    register_arabic_font()
    from core.clock import SystemClock
    app = _counter_app_class()(settings=settings, backend=backend,
                               clock=clock or SystemClock(), screenshot=screenshot,
                               exit_after=exit_after)
    app.run()


def _counter_app_class():
    """Defined on first use: Kivy must not be imported at module level."""
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Keyboard, Window
    from kivy.factory import Factory
    from kivy.lang import Builder
    from kivy.properties import BooleanProperty, DictProperty, ObjectProperty

    import ui.camera  # noqa: F401 - CameraPreview for the .kv files
    import ui.widgets  # noqa: F401 - KLabel, KButton, MirrorBox for the .kv files
    from ui import worker
    from ui.i18n import Translations
    from ui.screenshot import start_app_hooks
    from ui.theme import Sizes

    from .desk import SHORTCUTS, Desk
    from .devices import CounterDevices
    from .screens import items
    from .views import Views

    Builder.load_file(os.path.join(os.path.dirname(__file__), "screens", "root.kv"))
    keys_by_code = {code: name for name, code in Keyboard.keycodes.items()}
    shortcut_steps = dict(SHORTCUTS)

    class CounterApp(App):
        sizes = ObjectProperty(None)
        px = DictProperty()
        rtl = BooleanProperty(True)
        chrome = DictProperty()
        busy = BooleanProperty(False)
        single_column = BooleanProperty(True)

        def __init__(self, settings, backend, clock, screenshot=None, exit_after=None,
                     **kwargs):
            self.settings, self.backend, self.clock = settings, backend, clock
            self.screenshot_path, self.exit_after = screenshot, exit_after
            self.tr = Translations.load("counter", settings.office.digits)
            self.devices = CounterDevices.from_settings(backend)
            services = backend.counter_services()
            self.desk = Desk(self.backend, self.devices, settings.counter.language, services)
            self.views = Views(self.desk, self.tr, settings)
            self.status = {"sync": {}, "printer": "ok", "camera": "closed"}
            super().__init__(**kwargs)
            self.sizes = Sizes(settings.counter.screen_dpi, text_scale=0.7, button_mm=15.0)
            self.rtl = self.desk.lang == "ar"
            self.last_activity = clock.now()
            self.screen_data = {}
            self._camera_on = False
            self._refreshing = False
            self._generation = 0  # counts the clerk's steps (a stale refresh is dropped)
            self._sync, self._sync_asked = {}, False

        def on_sizes(self, *_):
            self.px = self.sizes.as_dict()

        def build(self):
            self.title = TITLE
            self.root_widget = Factory.CounterRoot()
            Window.bind(on_key_down=self._key_down, on_textinput=self._text_input,
                        on_touch_down=self._touched)
            Clock.schedule_interval(lambda dt: self.check_idle(), 1.0)
            Clock.schedule_interval(lambda dt: self.background_refresh(), REFRESH_EVERY_S)
            # Queue changes (a kiosk's ticket, another counter's call) within a second: the
            # hub's live events, or the store's change marker in-process.
            self._watch_stop = threading.Event()
            self.backend.watch(lambda marker: Clock.schedule_once(
                lambda dt: self.background_refresh()), self._watch_stop)
            self.devices.on_printed = lambda: Clock.schedule_once(
                lambda dt: self.update_status())
            self.devices.start()
            self.update_status()
            self.render()
            return self.root_widget

        def on_start(self):
            start_app_hooks(self, self.screenshot_path, self.exit_after)

        def on_stop(self):
            self._watch_stop.set()
            self.devices.close()
            worker.shutdown()
            self.backend.close()

        # --- acting ---------------------------------------------------------------------
        def act(self, name: str, *args):
            """A tap, a shortcut or Enter: the desk's step, on the worker if it is slow."""
            self.last_activity = self.clock.now()
            if self.busy:
                return
            self._generation += 1
            if name == "toggle_language":
                self.desk.lang = "en" if self.desk.lang == "ar" else "ar"
                self.rtl = self.desk.lang == "ar"
                if self.desk.apply_service:  # field labels are in the clerk's language
                    values = self.desk.form.values()
                    self.desk.choose_service(self.desk.apply_service)
                    for f in self.desk.form.fields[1:]:
                        f.value = values.get(f.key, "")
                self.render()
                return
            step = getattr(self.desk, name)
            if name in INSTANT_STEPS:
                try:
                    step(*args)
                except Exception as exc:  # noqa: BLE001 - shown, the desk is kept
                    self.desk.failed(exc)
                self.render()
                return
            if name not in SLOW_STEPS:
                raise ValueError(f"no counter step {name!r}")
            self.busy = True
            worker.run_in_background(step, *args, on_done=lambda _: self._slow_done(),
                                     on_error=self._slow_failed)

        def _slow_done(self):
            self.busy = False
            self.update_status()
            self.render()

        def _slow_failed(self, exc):
            self.desk.failed(exc)
            self._slow_done()

        # --- the keyboard ---------------------------------------------------------------
        def _text_input(self, _window, text):
            self.last_activity = self.clock.now()
            if self.busy or self.desk.form is None:
                return False
            self._generation += 1
            self.desk.type_text(text)
            self.render()
            return True

        def _key_down(self, _window, key, _scancode, _codepoint, modifiers):
            self.last_activity = self.clock.now()
            name = keys_by_code.get(key, "")
            if name in ("enter", "numpadenter"):
                self.act("submit")
            elif name == "backspace":
                if not self.busy:
                    self.desk.backspace()
                    self.render()
            elif name == "tab":
                if not self.busy:
                    self.desk.next_field(-1 if "shift" in (modifiers or []) else 1)
                    self.render()
            elif name == "escape":
                self.act("back")
            elif name in shortcut_steps and self.desk.user and not self.desk.locked \
                    and self.desk.screen not in ("shift_open", "z_report"):
                step = shortcut_steps[name]
                if step in ("recall", "finish", "park", "call_next") and \
                        self.desk.screen != "desk":
                    return True  # queue keys work on the desk, not inside a form
                self.act(step)
            else:
                return False
            return True

        def _touched(self, *_):
            self.last_activity = self.clock.now()
            return False

        # --- idle lock and refreshing ---------------------------------------------------
        def check_idle(self):
            if self.desk.user is None:
                self.last_activity = self.clock.now()  # the idle time starts at sign-in
                return
            if self.desk.locked or self.busy:
                return
            idle = (self.clock.now() - self.last_activity).total_seconds()
            if idle >= self.settings.counter.lock_after_s:
                log.info("counter locked after %.0f s idle", idle)
                self.desk.lock()
                self.render()

        def background_refresh(self):
            """New tickets from the kiosks, decisions from the back office, sync state. Read
            beside the clerk's work: taps are never refused for it, and a result that a
            step of the clerk's overtook is dropped."""
            if self.busy or self.desk.user is None or self.desk.locked or \
                    self.desk.screen != "desk" or self._refreshing:
                self.update_status()
                if not self.busy:
                    self.render()
                return
            self._refreshing = True
            generation = self._generation

            def fetched(data):
                self._refreshing = False
                if generation == self._generation and not self.busy and \
                        self.desk.screen == "desk":
                    self.desk.apply_refresh(data)
                    self.update_status()
                    self.render()

            def failed(exc):
                self._refreshing = False
                log.warning("background refresh failed: %s", exc)

            worker.run_in_background(self.desk.fetch_refresh, on_done=fetched,
                                     on_error=failed)

        def update_status(self):
            """The status bar from what is known now; the sync state (a hub round trip)
            is fetched on a worker and shown when it arrives."""
            self.status = {"sync": self._sync, "hub": self.backend.hub_online(),
                           "printer": self.devices.printer_state(),
                           "camera": self.devices.camera.state if self._camera_on
                           else "closed"}
            if self._sync_asked:
                return
            self._sync_asked = True

            def fetched(sync):
                self._sync_asked = False
                if sync != self._sync:
                    self._sync = sync
                    self.update_status()
                    self.render()

            def failed(exc):
                self._sync_asked = False
                log.warning("sync status unavailable: %s", exc)

            worker.run_in_background(self.backend.sync_status, on_done=fetched,
                                     on_error=failed)

        # --- showing ----------------------------------------------------------------------
        def render(self):
            screen = self.views.screen()
            self.screen_data = screen
            self.chrome = self.views.chrome(self.status)
            columns = screen["columns"]
            self.single_column = len(columns) == 1
            ids = self.root_widget.ids
            for index, box in enumerate((ids.col0, ids.col1, ids.col2)):
                items.fill(box, columns[index] if index < len(columns) else [])
            self._camera(any(i["type"] == "camera" for col in columns for i in col))
            Clock.schedule_once(lambda dt: self._show_focused(), 0)

        def _show_focused(self):
            """Scroll the field that has the keyboard into view (a long walk-in form)."""
            box = self.root_widget.ids.col0
            view = box.parent
            if box.height <= view.height:
                view.scroll_y = 1  # it all fits: from the top
                return
            for child in box.children:
                if getattr(child, "item_class", "") == "CField" and child.focused:
                    view.scroll_to(child, padding=20, animate=False)
                    return

        def _camera(self, wanted: bool):
            preview = self._preview()
            if wanted and not self._camera_on:
                try:
                    service = self.devices.open_scanner(
                        lambda text: Clock.schedule_once(lambda dt: self.scanned(text)))
                except Exception as exc:  # noqa: BLE001 - said in the status bar
                    log.error("camera unavailable: %s", exc)
                    service = None
                self._camera_on = True
                if preview is not None:
                    preview.source_service = service
                    preview.start()
            elif not wanted and self._camera_on:
                self._camera_on = False
                self.devices.close_scanner()
            if wanted and preview is not None and not preview.running:
                preview.source_service = self.devices.camera.service
                preview.start()

        def _preview(self):
            for box in (self.root_widget.ids.col0,):
                for child in box.children:
                    if getattr(child, "item_class", "") == "CCamera":
                        return child.ids.preview
            return None

        def scanned(self, text: str):
            if not self.busy and self.desk.screen in ("verify", "search"):
                self.act("scanned", text)

        # --- the test pilot's hooks ---------------------------------------------------------
        def pilot_state(self) -> dict:
            d = self.desk
            form = None
            if d.form is not None:
                form = {"name": d.form.name, "focus": d.form.focused.key if d.form.fields
                        else None, "values": d.form.values(),
                        "errors": {f.key: bool(f.error) for f in d.form.fields}}
            return {"screen": d.screen, "lang": d.lang, "rtl": self.rtl, "busy": self.busy,
                    "user": d.user, "locked": d.locked, "form": form,
                    "ticket": d.ticket, "application": _jsonable(d.application),
                    "overview": _jsonable(d.overview),
                    "notice": dict(self.chrome.get("notice", {})),
                    "chrome": {k: v for k, v in self.chrome.items() if k != "notice"},
                    "screen_data": _jsonable(self.screen_data), "printed": self.devices.printed,
                    "z": _jsonable(d.z)}

        def pilot_advance(self, seconds: float):
            self.clock.advance(seconds=seconds)
            self.check_idle()

        def pilot_busy(self):
            return "counter step running" if self.busy else None

        def pilot_call(self, name: str, *args):
            if name == "layout":
                # Where each item of each column is (for layout tests): class, x, y, w, h.
                return [[(getattr(w, "item_class", ""), w.x, w.y, w.width, w.height)
                         for w in reversed(box.children)]
                        for box in (self.root_widget.ids.col0, self.root_widget.ids.col1,
                                    self.root_widget.ids.col2)]
            if name == "camera_box":
                # The camera preview's box in a screenshot (left, top, right, bottom), or None.
                preview = self._preview()
                if preview is None:
                    return None
                x, y = preview.to_window(*preview.pos)
                return [round(x), round(Window.height - y - preview.height),
                        round(x + preview.width), round(Window.height - y)]
            if name == "refresh":
                self.background_refresh()
                return None
            raise ValueError(f"no pilot call {name!r}")

    return CounterApp


def _jsonable(value):
    import json
    return json.loads(json.dumps(value, default=str))
