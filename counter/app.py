"""The counter's window (ui/shell.py's app shell): `nafitha counter` starts it through
counter/main.py, which prepares Kivy's environment before this module imports Kivy.

A clerk's day by keyboard and by touch, in Arabic (the default) or English: sign in, open the
shift, call tickets, serve applications (the kiosk's and walk-ins'), take payments, issue
and print licences, verify licences by camera, close the shift with a Z report. The desk
(counter/desk.py) holds the state; each screen (counter/screens/: a .py, a .kv and a
view-model) renders it inside the frame of root.kv; store and device work runs where the
desk's steps are marked to (ui/steps.py)."""
from __future__ import annotations

import logging
import os

from kivy.clock import Clock
from kivy.core.window import Keyboard, Window
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import ObjectProperty

import ui.camera  # noqa: F401 - CameraPreview for the .kv files
import ui.widgets  # noqa: F401 - KLabel, KButton, MirrorBox for the .kv files
from ui import theme, worker
from ui.shell import ShellApp, jsonable
from ui.theme import Sizes

from .desk import SHORTCUTS, Desk
from .devices import CounterDevices
from .print_question import PrintQuestion
from .screens import SCREEN_CLASSES, screen_class
from .screens import items  # noqa: F401 - the item widgets for the .kv files
from .screens.chrome import ChromeViewModel

log = logging.getLogger("nafitha.counter")

REFRESH_EVERY_S = 3.0

Builder.load_file(os.path.join(os.path.dirname(__file__), "screens", "root.kv"))
KEYS_BY_CODE = {code: name for name, code in Keyboard.keycodes.items()}
SHORTCUT_STEPS = dict(SHORTCUTS)


class CounterApp(ShellApp):
    chrome = ObjectProperty(None)
    translations = "counter"
    title_text = "Nafitha counter"

    def __init__(self, settings, backend, clock, screenshot=None, exit_after=None, **kwargs):
        self.devices = CounterDevices.from_settings(backend)
        self.desk = Desk(backend, self.devices, settings.counter.language,
                         backend.counter_services)
        self.status = {"sync": {}, "printer": "ok", "camera": "closed"}
        super().__init__(settings, backend, clock, screenshot, exit_after, **kwargs)
        self.sizes = Sizes(settings.counter.screen_dpi, text_scale=0.7, button_mm=15.0)
        self.chrome = ChromeViewModel()
        self.rtl = self.desk.lang == "ar"
        self.screens = {}
        self.screen_data = {}
        self._camera_on = False
        self._refreshing = False
        self._generation = 0  # counts the clerk's steps (a stale refresh is dropped)
        self._sync, self._sync_asked = {}, False

    @property
    def state(self):
        return self.desk

    # --- building ---------------------------------------------------------------------
    def build_root(self):
        Window.clearcolor = theme.PAPER
        self.root_widget = Factory.CounterRoot()
        manager = self.root_widget.ids.screens
        for name in SCREEN_CLASSES:
            self.screens[name] = screen_class(name)(name=name)
            manager.add_widget(self.screens[name])
        self.print_question = PrintQuestion()
        Window.bind(on_key_down=self._key_down, on_textinput=self._text_input)
        Clock.schedule_interval(lambda dt: self.background_refresh(), REFRESH_EVERY_S)
        # Queue changes (a kiosk's ticket, another counter's call) within a second: the
        # hub's live events, or the store's change marker in-process.
        self._watch = self.backend.watch(lambda marker: Clock.schedule_once(
            lambda dt: self.background_refresh()))
        self.devices.on_printed = lambda: Clock.schedule_once(lambda dt: self.update_status())
        self.devices.start()
        self.update_status()
        return self.root_widget

    def stop_devices(self) -> None:
        self._watch.stop(timeout_s=0)
        self.devices.close()

    # --- acting ---------------------------------------------------------------------
    def act(self, name: str, *args):
        """A tap, a shortcut or Enter: the desk's step, where its mark says."""
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
        self.run_step(name, *args)

    def _mark_own_change_seen(self) -> None:
        """The queue as this step left it, drawn already: the watch does not report it back
        (core/faces/device.py DeviceFace.watch)."""
        mark_seen = getattr(self._watch, "mark_seen", None)
        if mark_seen is None:
            return
        try:
            mark_seen()
        except Exception as exc:  # noqa: BLE001 - at worst one refresh more
            log.warning("queue marker unavailable: %s", exc)

    def step_done(self):
        # In-process the sync count is a local read, taken now so the step's result and
        # the status bar are drawn in one frame: fetched on a worker, its answer redrew the
        # screen a second time after every step (bench/counter.py --profile). Through a
        # hub it is a round trip: on a worker, as before.
        if not getattr(self.backend, "remote", False):
            try:
                self._sync = self.backend.sync_status()
            except Exception as exc:  # noqa: BLE001 - the bar keeps the last known state
                log.warning("sync status unavailable: %s", exc)
            self.update_status(fetch_sync=False)
            self._mark_own_change_seen()
        else:
            self.update_status()
        super().step_done()

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
        name = KEYS_BY_CODE.get(key, "")
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
        elif name in SHORTCUT_STEPS and self.desk.user and not self.desk.locked \
                and self.desk.screen not in ("shift_open", "z_report"):
            step = SHORTCUT_STEPS[name]
            if step in ("recall", "finish", "park", "call_next") and \
                    self.desk.screen != "desk":
                return True  # queue keys work on the desk, not inside a form
            self.act(step)
        else:
            return False
        return True

    # --- idle lock and refreshing ---------------------------------------------------
    def check_idle(self):
        if self.desk.user is None:
            self.last_activity = self.clock.now()  # the idle time starts at sign-in
            return
        if self.desk.locked or self.busy:
            return
        idle = self.idle_seconds()
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
                status = self.status
                changed = self.desk.apply_refresh(data)
                self.update_status()
                if changed or self.status != status:
                    self.render()

        def failed(exc):
            self._refreshing = False
            log.warning("background refresh failed: %s", exc)

        worker.run_in_background(self.desk.fetch_refresh, on_done=fetched, on_error=failed)

    def update_status(self, fetch_sync: bool = True):
        """The status bar from what is known now; the sync state (a hub round trip)
        is fetched on a worker and shown when it arrives."""
        self.status = {"sync": self._sync, "hub": self.backend.hub_online(),
                       "printer": self.devices.printer_state(),
                       "camera": self.devices.camera.state if self._camera_on
                       else "closed"}
        if self._sync_asked or not fetch_sync:
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

        worker.run_in_background(self.backend.sync_status, on_done=fetched, on_error=failed)

    # --- showing ----------------------------------------------------------------------
    @property
    def current(self):
        return self.screens[self.desk.screen]

    def render(self):
        screen = self.current
        screen.refresh(self.desk, self.tr)
        self.root_widget.ids.screens.current = self.desk.screen
        self.screen_data = {"title": screen.vm.texts.get("title", ""),
                            "columns": list(screen.vm.rows)}
        self.chrome.status = self.status
        self.chrome.refresh(self.desk, self.tr)
        self._camera(any(i["type"] == "camera" for col in screen.vm.rows for i in col))
        self.print_question.sync(self.desk, self.tr)
        Clock.schedule_once(lambda dt: self._show_focused(), 0)

    def _show_focused(self):
        """Scroll the field that has the keyboard into view (a long walk-in form)."""
        box = self.current.column(0)
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
        for index in range(3):  # the documents screen has it in its middle column
            for child in self.current.column(index).children:
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
        chrome = {**self.chrome.texts, **self.chrome.flags,
                  "shortcuts": list(self.chrome.rows)}
        notice = {"text": chrome.pop("notice"), "tone": chrome.pop("notice_tone")}
        return {"screen": d.screen, "lang": d.lang, "rtl": self.rtl, "busy": self.busy,
                "user": d.user, "locked": d.locked, "form": form,
                "ticket": d.ticket, "application": jsonable(d.application),
                "overview": jsonable(d.overview), "notice": notice, "chrome": chrome,
                "screen_data": jsonable(self.screen_data), "printed": self.devices.printed,
                "z": jsonable(d.z), "documents": self._documents_state(),
                "print_question": {"shown": self.print_question.shown,
                                   "title": self.print_question.title,
                                   "body": self.print_question.body}}

    def _documents_state(self) -> dict | None:
        docs = self.desk.documents
        if docs is None:
            return None
        return {"key": docs.key, "source": docs.source, "files": list(docs.files),
                "review": [{"media_type": p.media_type, "bytes": len(p.data),
                            "source": p.source, "size": list(p.preview.shape[:2])}
                           for p in docs.review],
                "checklist": jsonable(docs.checklist)}

    def pilot_call(self, name: str, *args):
        if name == "layout":
            # Where each item of each column is (for layout tests): class, x, y, w, h.
            return [[(getattr(w, "item_class", ""), w.x, w.y, w.width, w.height)
                     for w in reversed(self.current.column(index).children)]
                    for index in range(3)]
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
        if name == "draws":  # frames drawn since the first ask (bench/counter.py counts them)
            if not hasattr(self, "_draws"):
                self._draws = [0]
                Window.bind(on_flip=lambda *_: self._draws.__setitem__(0, self._draws[0] + 1))
            return {"drawn": self._draws[0], "ticks": Clock.frames}
        if name == "redraw":  # one frame of the same screen (bench/counter.py's baseline)
            Window.canvas.ask_update()
            return None
        if name == "box":  # where a widget is in the window: [x, y, width, height]
            stack = [self.root_widget]
            while stack:
                widget = stack.pop()
                if getattr(widget, "pilot_id", "") == args[0]:
                    x, y = widget.to_window(*widget.pos)
                    return [round(x), round(y), round(widget.width), round(widget.height)]
                stack.extend(widget.children)
            return None
        if name == "window":  # the window's and the root's sizes (fullscreen tests)
            return {"window": list(Window.size), "root": list(self.root.size)}
        raise ValueError(f"no pilot call {name!r}")
