"""A kiosk for everyone (issue 25; docs/kiosk.md "For everyone"): the audio guide, the
keypad and the high-contrast theme, mixed into KioskApp so kiosk/app.py keeps only hooks.

- Audio guide: the start screen's button, or headphones plugged in (the keypad's F9 key;
  F10 unplugged). While on, each screen's words and the focused control are spoken in the
  resident's language (ui/audio.py speaks, ui/keypad.py decides what). No audio device: a
  notice in both languages on the start screen, the kiosk works on, silently.
- Keypad: ui/keypad.py's navigator, generic over whatever controls a screen has.
- High contrast: the start screen's button; ui/theme.py's palette, the screens built again.
Both go back to the kiosk's settings when the visit is wiped (the next resident), unless the
headphones are still plugged in."""
from __future__ import annotations

import logging

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.properties import BooleanProperty
from kivy.uix.modalview import ModalView

from ui import theme
from ui.audio import RecordingSpeaker, make_speaker
from ui.keypad import KEYCODES, KeypadNavigator, spoken_label
from ui.heap import FREEZE_HEAP_AFTER_S, freeze_heap

log = logging.getLogger("nafitha.kiosk")

ACCESS_ACTIONS = ("toggle_audio_guide", "toggle_high_contrast")
DIALOG_CHECK_S = 0.5
OVERLAYS = ("idle_prompt", "busy_overlay", "admin_pad", "print_question", "out_of_service")


class KioskAccess:
    audio_guide = BooleanProperty(False)
    high_contrast = BooleanProperty(False)
    no_audio = BooleanProperty(False)      # the guide was asked for and cannot be heard
    keypad_active = BooleanProperty(False)  # the focus ring shows once the keypad is used
    headphones = False

    def start_access(self) -> None:
        """Called once the screens exist (build_root)."""
        self.keypad = KeypadNavigator(self, make_speaker())
        # Dialogs ("still there?", the print question) open outside render: watch for them.
        Clock.schedule_interval(lambda dt: self._watch_dialogs(), DIALOG_CHECK_S)

    @property
    def lang(self) -> str:
        return self.flow.lang

    def scope(self):
        """What the keypad walks: an open dialog, else the current screen."""
        for widget in Window.children:
            if isinstance(widget, ModalView) and getattr(widget, "shown", True):
                return widget
        return self.manager.current_screen

    def go_back(self) -> None:
        if self.flow.screen != "home":
            self.act("back")

    def keypad_used(self) -> None:
        self.keypad_active = True
        self.last_activity = self.clock.now()

    # --- the start screen's buttons, and the jack -------------------------------------------
    def access_act(self, name: str) -> None:
        if name == "toggle_audio_guide":
            self.set_audio_guide(not self.audio_guide)
        elif name == "toggle_high_contrast":
            self.set_high_contrast(not self.high_contrast)

    def set_audio_guide(self, on: bool, plugged: bool = False) -> None:
        if plugged:
            self.headphones = on
        speaker = self.keypad.speaker
        self.no_audio = on and not speaker.available
        if self.no_audio:
            log.warning("audio guide asked for, no sound: %s", speaker.problem)
        self.audio_guide = on
        self.keypad.guide = on and speaker.available
        self.keypad_active = self.keypad_active or on
        if not on:
            speaker.stop()
        self.render()
        if self.keypad.guide:
            self.keypad.announce(self.tr.get("access.guide_started", self.flow.lang))
            self.keypad.screen_shown(self._access_key(), force=True)

    def set_high_contrast(self, on: bool) -> None:
        if on == self.high_contrast:
            return
        self.high_contrast = on
        theme.use_palette("high_contrast" if on else "standard")
        self.rebuild_screens()

    def rebuild_screens(self) -> None:
        """Every screen and dialog built again, so their .kv rules read the new colours."""
        from ui.launch import class_at

        from .app import SCREEN_CLASSES

        Window.clearcolor = theme.PAPER  # the screens' background (KioskApp.build_root)
        if self._shown is not None:
            self.screens[self._shown].left(self)
            self._shown = None
        for name, path in SCREEN_CLASSES.items():
            old = self.screens.get(name)
            if old is not None:
                self.manager.remove_widget(old)
            self.screens[name] = class_at(f"kiosk.screens.{path}")(name=name)
            self.manager.add_widget(self.screens[name])
        for attr in OVERLAYS:
            old = getattr(self, attr, None)
            if old is not None and not getattr(old, "shown", False):
                setattr(self, attr, type(old)())
        self._form_key = None
        self.render()
        # The screens built at the start were frozen out of the collector: let it take them.
        Clock.schedule_once(lambda dt: freeze_heap(), FREEZE_HEAP_AFTER_S)

    def access_wiped(self) -> None:
        """The next resident starts with the kiosk's own settings."""
        if not self.headphones:
            self.audio_guide = self.keypad.guide = False
            self.no_audio = False
            self.keypad.speaker.stop()
        self.keypad_active = self.headphones
        if self.high_contrast:
            self.high_contrast = False
            theme.use_palette("standard")
            self.rebuild_screens()

    def access_at_rest(self) -> bool:
        """Nothing the last resident chose is left on (plugged headphones stay)."""
        return not self.high_contrast and (not self.audio_guide or self.headphones)

    # --- after each render ------------------------------------------------------------------
    def _access_key(self):
        scope = self.scope()
        dialog = type(scope).__name__ if isinstance(scope, ModalView) else None
        return (self.flow.screen, self.flow.lang, theme.palette, dialog)

    def _watch_dialogs(self) -> None:
        if self.keypad_active:
            self.keypad.screen_shown(self._access_key(), only_if_new=True)

    def access_rendered(self) -> None:
        self.keypad.screen_shown(self._access_key())

    # --- the test pilot -----------------------------------------------------------------
    def access_state(self) -> dict:
        focused = self.keypad.focused
        return {"audio_guide": self.audio_guide, "high_contrast": self.high_contrast,
                "no_audio": self.no_audio, "headphones": self.headphones,
                "palette": theme.palette,
                "focused": spoken_label(focused) if focused is not None else None,
                "focused_id": getattr(focused, "pilot_id", None),
                "ring": self.keypad.ring_box()}

    def access_call(self, name: str, *args):
        """Pilot calls: spoken (the recording), keypad (one press of a key by Kivy's name),
        hold_key (a key held: N auto-repeats before it is let go)."""
        from kivy.core.window import Keyboard

        if name == "spoken":
            speaker = self.keypad.speaker
            return [list(s) for s in speaker.spoken] if isinstance(speaker,
                                                                  RecordingSpeaker) else []
        if name in ("keypad", "hold_key"):
            # Kivy's key names, or the keypad's own (headphones_in: its jack key).
            names = {name: code for code, name in KEYCODES.items()}
            code = Keyboard.keycodes.get(args[0]) or names[args[0]]
            repeats = int(args[1]) if name == "hold_key" else 1
            for _ in range(repeats):
                Window.dispatch("on_key_down", code, 0, None, [])
            Window.dispatch("on_key_up", code, 0)
            return self.access_state()
        raise ValueError(f"no pilot call {name!r}")
