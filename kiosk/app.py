"""The kiosk's window (ui/shell.py's app shell): `nafitha kiosk` starts it through
kiosk/main.py, which prepares Kivy's environment before this module imports Kivy.

A resident's whole visit by touch, in Arabic (the default) or English: a queue ticket, an
application paid by card or at the counter (and, where the service allows, its documents
photographed by the camera), a licence checked by camera, an application followed by its
slip, a licence paid elsewhere collected with its slip or bill number. The flow
(kiosk/flow.py) holds the state; each screen (kiosk/screens/: a .py, a .kv and a
view-model) renders it; store and device work runs where the flow's
steps are marked to (ui/steps.py)."""
from __future__ import annotations

import dataclasses
import logging
import os
from datetime import timedelta

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.properties import ObjectProperty

import ui.camera  # noqa: F401 - registers CameraPreview for the .kv files
import ui.widgets  # noqa: F401 - KLabel, KButton, MirrorBox for the .kv files
from ui import theme, worker
from ui.launch import class_at
from ui.screens import InstantScreenManager, load_kv
from ui.shell import ShellApp, jsonable
from ui.steps import UI
from ui.theme import Sizes

from .access import ACCESS_ACTIONS, KioskAccess
from .devices import KioskDevices
from .flow import KioskFlow
from .overlays import (AdminPad, BusyOverlay, ChromeViewModel, IdlePrompt, OutOfService,
                       PrintQuestion)

log = logging.getLogger("nafitha.kiosk")

# Staff exit: this many taps on the hidden corner within ADMIN_TAP_WINDOW_S seconds.
ADMIN_TAPS = 5
ADMIN_TAP_WINDOW_S = 4.0
ADMIN_MAX_WRONG = 5
ADMIN_LOCK_S = 300
# How often the kiosk reads its data directory's free space (out of service below
# settings.health.disk_refuse_mb). Under the test pilot NAFITHA_PILOT_DISK_FREE_MB, and the
# pilot call "disk_free_mb", stand in for the reading.
DISK_CHECK_S = 5.0
DISK_FREE_ENV = "NAFITHA_PILOT_DISK_FREE_MB"
SCREEN_CLASSES = {
    "home": "home.HomeScreen", "services": "services.ServicesScreen",
    "search": "search.SearchScreen",
    "priority": "priority.PriorityScreen", "ticket": "ticket.TicketScreen",
    "service": "service.ServiceScreen", "form": "form.FormScreen",
    "review": "review.ReviewScreen", "payment": "payment.PaymentScreen",
    "result": "result.ResultScreen", "documents": "documents.DocumentsScreen",
    "verify": "verify.VerifyScreen",
    "verified": "verified.VerifiedScreen", "status": "status.StatusScreen",
    "status_result": "status_result.StatusResultScreen",
    "collect": "collect.CollectScreen", "collected": "collected.CollectedScreen",
    "appointment": "appointment.AppointmentScreen"}

load_kv(os.path.join(os.path.dirname(__file__), "screens", "chrome.kv"))


class KioskApp(KioskAccess, ShellApp):
    chrome = ObjectProperty(None)
    translations = "kiosk"
    idle_check_s = 0.25

    def __init__(self, settings, backend, clock, kiosk_mode, screenshot=None,
                 exit_after=None, **kwargs):
        self.kiosk_mode = kiosk_mode
        self.devices = KioskDevices.from_settings(backend)
        self.flow = KioskFlow(backend, self.devices, settings.kiosk.language)
        self.flow.large_text = settings.kiosk.large_text
        super().__init__(settings, backend, clock, screenshot, exit_after, **kwargs)
        self.sizes = Sizes(settings.kiosk.screen_dpi, settings.kiosk.large_text)
        self.chrome = ChromeViewModel()
        self.rtl = self.flow.lang == "ar"
        self.admin_taps: list = []
        self.admin_wrong = 0
        self.admin_locked_until = None
        self.screens = {}
        self._shown = None
        self._form_key = None
        self._disk_free_override = None
        if os.environ.get("NAFITHA_PILOT") and os.environ.get(DISK_FREE_ENV):
            self._disk_free_override = float(os.environ[DISK_FREE_ENV])

    @property
    def state(self):
        return self.flow

    # --- building ---------------------------------------------------------------------
    def build_root(self):
        manager = InstantScreenManager()
        # The screens' background is the window's clear colour, not a rectangle of their
        # own: on a software renderer every full-screen fill costs ~7 ms a frame (issue 25).
        Window.clearcolor = theme.PAPER
        for name, path in SCREEN_CLASSES.items():
            self.screens[name] = class_at(f"kiosk.screens.{path}")(name=name)
            manager.add_widget(self.screens[name])
        self.manager = manager
        self.idle_prompt = IdlePrompt()
        self.busy_overlay = BusyOverlay()
        self.admin_pad = AdminPad()
        self.print_question = PrintQuestion()
        self.out_of_service = OutOfService()
        Window.bind(on_request_close=self._request_close)
        Window.bind(on_keyboard=self._key)
        self.start_access()  # audio guide, keypad, high contrast (kiosk/access.py)
        return manager

    def on_start(self):
        super().on_start()
        # A licence left printing by a stop is asked about before the first resident.
        Clock.schedule_once(lambda dt: self.run_step("check_unfinished_prints"))
        self.check_disk()
        Clock.schedule_interval(lambda dt: self.check_disk(), DISK_CHECK_S)
        self._warm_screens(iter(list(self.screens.values())))

    def _warm_screens(self, screens) -> None:
        """Each screen builds ahead what its first visit would (AppScreen.warm), one screen
        a frame after the start screen is up, so no first resident waits for it."""
        screen = next(screens, None)
        if screen is None:
            return
        try:
            screen.warm(self)
        except Exception:  # noqa: BLE001 - only a head start: the first visit builds it
            log.exception("warming the %s screen", screen.name)
        Clock.schedule_once(lambda dt: self._warm_screens(screens))

    # --- out of service: the disk is (nearly) full ---------------------------------------
    def disk_free_mb(self) -> float | None:
        if self._disk_free_override is not None:
            return self._disk_free_override
        from core.support import free_mb
        try:
            return free_mb(self.settings.data_dir)
        except OSError:
            return None

    def check_disk(self) -> None:
        """Out of service while free space is under health.disk_refuse_mb (or for a while
        after the store refused a step for a full disk); back by itself when there is room."""
        if not self.flow.check_disk(self.disk_free_mb(), self.settings.health.disk_refuse_mb,
                                    self.clock.now()):
            return
        if self.flow.out_of_service:
            log.error("kiosk out of service: the disk is (nearly) full")
            if not self.busy:
                self.wipe()  # the resident is sent to the counter: nothing of theirs stays
                return
        else:
            log.warning("kiosk back in service: there is room on the disk again")
        self.out_of_service.sync(self)

    def stop_devices(self) -> None:
        self.devices.close()

    # --- kiosk mode -------------------------------------------------------------------
    def _request_close(self, *_):
        # True refuses: in kiosk mode only the staff exit closes the window.
        return self.kiosk_mode and not getattr(self, "_leaving", False)

    def _key(self, _window, key, *_):
        return self.kiosk_mode and key == 27  # Escape: swallowed in kiosk mode

    def admin_tap(self):
        now = self.clock.now()
        self.admin_taps = [t for t in self.admin_taps
                           if (now - t).total_seconds() <= ADMIN_TAP_WINDOW_S] + [now]
        if len(self.admin_taps) >= ADMIN_TAPS:
            self.admin_taps = []
            self.admin_pad.show(self)

    def admin_pin(self, pin: str):
        """The PIN pad's Close button; checked on a worker (scrypt is slow on purpose)."""
        now = self.clock.now()
        if self.admin_locked_until and now < self.admin_locked_until:
            self.admin_pad.say(self, "admin.wrong")
            return

        def leave(*_):
            log.warning("kiosk closed by staff")
            self._leaving = True
            self.stop()

        def day_closed(z_report):
            if z_report is not None:
                check = z_report.get("card_check")
                log.warning("kiosk shift %s closed: %s", z_report.get("shift"),
                            f"{check['matched']} card payments matched, {check['differences']} "
                            f"differences" if check else "not reconciled (no terminal report)")
            leave()

        def day_not_closed(exc):
            log.warning("the kiosk's day could not be closed (%s): reconcile it later with "
                        "`nafitha payments reconcile`", getattr(exc, "message", exc))
            leave()

        def checked(ok):
            if ok:
                # Staff close the kiosk at the end of its day: its card shift closes,
                # reconciled against the terminal's batch report (docs/payment.md).
                worker.run_in_background(self.flow.close_day, on_done=day_closed,
                                         on_error=day_not_closed)
                return
            self.admin_wrong += 1
            if self.admin_wrong >= ADMIN_MAX_WRONG:
                self.admin_locked_until = self.clock.now() + timedelta(seconds=ADMIN_LOCK_S)
                self.admin_wrong = 0
                log.warning("kiosk staff exit locked for %d s after wrong PINs", ADMIN_LOCK_S)
            self.admin_pad.say(self, "admin.wrong")

        worker.run_in_background(self.backend.check_admin_pin, pin, on_done=checked,
                                 on_error=lambda exc: self.admin_pad.say(self, "admin.wrong"))

    # --- acting on taps ---------------------------------------------------------------
    def act(self, name: str, *args):
        """A tap on a screen: run the flow's step (where its mark says), then show the
        result. Taps while a slow step runs are ignored, except Cancel on the card
        terminal."""
        if name == "cancel_payment":
            self.flow.cancel_payment()
            return
        if self.busy:
            return
        if name == "home":
            self.wipe()
            return
        if name in ACCESS_ACTIONS:
            self.access_act(name)
            return
        if name in ("toggle_language", "toggle_large_text"):
            getattr(self.flow, name)()
            self.rtl = self.flow.lang == "ar"
            self.sizes = Sizes(self.settings.kiosk.screen_dpi, self.flow.large_text)
            self._form_key = None
            self.render()
            return
        self.flow.visit.fault = None
        field_check = name in ("next_step", "choose_option")
        where = self.run_step(name, *args)
        if where == UI:
            return
        # "Please wait" over a slow step, except at the card terminal (its own screen says
        # what happens) and for a field checked through the hub (quick unless it is away).
        if self.flow.screen != "payment" and not field_check and name != "pay":
            self.busy_overlay.show(self)
        self.refresh_current()

    def step_done(self):
        self.busy_overlay.hide()
        super().step_done()

    def typed(self, text: str):
        """The form's keyboard changed the field's text."""
        if self.flow.screen == "form":
            self.flow.type_into_field(text)
            self.refresh_current()

    # --- scanning ---------------------------------------------------------------------
    def start_scanner(self):
        try:
            return self.devices.open_scanner(
                lambda text: Clock.schedule_once(lambda dt: self.scanned(text)))
        except Exception as exc:  # noqa: BLE001 - no camera: said on screen
            log.error("camera unavailable: %s", exc)
            return None

    def stop_scanner(self):
        self.devices.close_scanner()

    def scanner_state(self) -> str:
        scanner = self.devices.scanner
        return scanner.status.state if scanner is not None else "no_camera"

    def scanned(self, text: str):
        if self.busy:
            return
        if self.flow.screen == "verify":
            self.act("verify", text)
        elif self.flow.screen == "status":
            self.act("find", text)
        elif self.flow.screen == "collect":
            self.act("collect", text)
        elif self.flow.screen == "appointment":
            self.act("booking_scanned", text)

    # --- showing --------------------------------------------------------------------
    def render(self):
        """Show the flow's screen with fresh words."""
        name = self.flow.screen
        screen = self.screens[name]
        self.chrome.refresh(self)
        if self._shown != name:
            if self._shown is not None:
                self.screens[self._shown].left(self)
            screen.refresh(self.flow, self.tr)
            self.manager.current = name
            self._shown = name
            self._form_key = None
            screen.entered(self)
        else:
            screen.refresh(self.flow, self.tr)
        if name == "form":
            key = (self.flow.visit.step, self.flow.lang, self.flow.large_text)
            if key != self._form_key:
                self._form_key = key
                screen.attach_keyboard(self)
        self.print_question.sync(self)
        self.out_of_service.sync(self)
        self.access_rendered()

    def refresh_current(self):
        self.chrome.refresh(self)
        self.screens[self.flow.screen].refresh(self.flow, self.tr)
        self.print_question.sync(self)

    # --- idle -----------------------------------------------------------------------
    def check_idle(self):
        """60 s without a touch: "are you still there?"; 10 s more: wipe everything."""
        k = self.settings.kiosk
        at_rest = self.flow.screen == "home" and not self.flow.has_personal_data and \
            self.flow.lang == self.flow.default_language and not self.flow.large_text \
            and self.access_at_rest()
        if self.busy or at_rest:
            self.last_activity = self.clock.now()
            return
        idle = self.idle_seconds()
        if idle >= k.idle_s + k.idle_warning_s:
            log.info("kiosk idle for %.0f s: visit wiped", idle)
            self.wipe()
        elif idle >= k.idle_s:
            self.idle_prompt.show(self, max(0, round(k.idle_s + k.idle_warning_s - idle)))

    def wipe(self):
        """Forget the resident: every screen's words, every field, the keyboards."""
        self.idle_prompt.hide()
        self.admin_pad.hide()
        if self._shown is not None:
            self.screens[self._shown].left(self)
            self._shown = None
        self.flow.wipe()
        for screen in self.screens.values():
            screen.vm.clear()
            if hasattr(screen, "wipe"):
                screen.wipe()
        self.rtl = self.flow.lang == "ar"
        self.sizes = Sizes(self.settings.kiosk.screen_dpi, self.settings.kiosk.large_text)
        self.last_activity = self.clock.now()
        self.access_wiped()
        self.render()

    # --- the test pilot's hooks ---------------------------------------------------------
    def pilot_state(self) -> dict:
        screen = self.screens[self.flow.screen]
        visit = dataclasses.asdict(self.flow.visit)
        visit["error"] = str(self.flow.visit.error.problem) if self.flow.visit.error else None
        docs = self.flow.visit.documents
        visit["documents"] = docs.summary() if docs is not None else None  # not the pictures
        return {"screen": self.flow.screen, "lang": self.flow.lang, "busy": self.busy,
                "rtl": self.rtl, "large_text": self.flow.large_text,
                "idle_prompt": self.idle_prompt.shown, "admin_pad": self.admin_pad.shown,
                "print_question": {"shown": self.print_question.shown,
                                   "answered": self.print_question.answered,
                                   "title": self.print_question.title,
                                   "body": self.print_question.body},
                "texts": dict(screen.vm.texts), "flags": jsonable(screen.vm.flags),
                "rows": jsonable(list(screen.vm.rows)), "visit": jsonable(visit),
                "chrome": dict(self.chrome.texts), "scanner": self.scanner_state(),
                "out_of_service": {"flow": self.flow.out_of_service,
                                   "shown": self.out_of_service.shown},
                "access": self.access_state()}

    def pilot_busy(self):
        if self.busy and self.flow.visit.payment_state == "waiting":
            return None  # settled: the resident is at the card terminal
        return "kiosk step running" if self.busy else None

    def pilot_call(self, name: str, *args):
        if name == "all_texts":
            # Every text held by any widget or view-model, shown or not.
            return _all_texts(self)
        if name == "window":
            from kivy.config import Config
            return {"fullscreen": Window.fullscreen, "show_cursor": Window.show_cursor,
                    "size": list(Window.size),
                    "exit_on_escape": Config.getint("kivy", "exit_on_escape")}
        if name == "request_close":
            # What the window manager's close button does; True: refused.
            return bool(Window.dispatch("on_request_close"))
        if name == "escape":
            return bool(Window.dispatch("on_keyboard", 27, 9, None, []))
        if name == "touch_targets":
            return _touch_targets(Window)
        if name == "disk_free_mb":
            # The free space the kiosk reads from now on (None: the real reading), checked now.
            self._disk_free_override = None if args[0] is None else float(args[0])
            self.check_disk()
            return self.flow.out_of_service
        if name in ("spoken", "keypad", "hold_key"):
            return self.access_call(name, *args)
        raise ValueError(f"no pilot call {name!r}")


def _touch_targets(window) -> list[dict]:
    """Every tappable widget on screen with its size in pixels."""
    from kivy.uix.behaviors import ButtonBehavior

    found = []

    def walk(widget, hidden):
        hidden = hidden or widget.opacity == 0
        if isinstance(widget, ButtonBehavior) and not hidden and not widget.disabled and \
                widget.width > 0 and widget.get_root_window() is not None:
            found.append({"id": getattr(widget, "pilot_id", "") or type(widget).__name__,
                          "width": widget.width, "height": widget.height})
        for child in widget.children:
            walk(child, hidden)

    walk(window, False)
    return found


def _all_texts(app) -> list[str]:
    texts = []

    def walk(widget):
        for attr in ("text", "logical"):
            value = getattr(widget, attr, None)
            if isinstance(value, str) and value:
                texts.append(value)
        for child in widget.children:
            walk(child)

    from kivy.core.window import Window
    walk(Window)
    for screen in app.screens.values():
        walk(screen)
        texts.extend(str(v) for v in screen.vm.texts.values())
        texts.extend(str(r) for r in screen.vm.rows)
        if getattr(screen, "keyboard", None) is not None:
            texts.append(screen.keyboard.text)
    texts.append(repr(dataclasses.asdict(app.flow.visit)))
    return texts
