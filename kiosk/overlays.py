"""What lies over the screens: the header's words, "are you still there?", "please wait",
"did the licence come out?", "out of service" and the staff exit's PIN pad."""
from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.modalview import ModalView
from kivy.uix.widget import Widget

from ui.screens import ViewModel


class ChromeViewModel(ViewModel):
    """The header on every screen, and the fault banner (printer, a failed step)."""

    def refresh(self, app) -> None:  # noqa: D102 - reads the app, not just the flow
        flow, tr = app.flow, app.tr
        lang = flow.lang
        office = app.settings.office
        fault = ""
        if flow.visit.fault:
            fault = tr.get(f"common.fault_{flow.visit.fault}", lang)
        elif app.devices.printer_state() != "ok":
            fault = tr.get("common.fault_printer", lang)
        self.texts = {"office": office.name_ar if lang == "ar" else office.name_en,
                      "language": tr.get("common.language", lang),
                      "large_text": tr.get("common.normal_text" if flow.large_text
                                           else "common.large_text", lang),
                      "home": tr.get("common.home", lang), "fault": fault}
        self.flags = {"at_home": flow.screen == "home"}


class AdminCorner(ButtonBehavior, Widget):
    """Invisible, in the header's corner: staff tap it five times to get the PIN pad that
    leaves kiosk mode."""
    pilot_id = StringProperty("")

    def on_release(self):
        App.get_running_app().admin_tap()


class Overlay(ModalView):
    """A full-screen layer; `shown` says whether it is up."""
    shown = BooleanProperty(False)
    app = ObjectProperty(None, allownone=True)

    def __init__(self, **kwargs):
        kwargs.setdefault("auto_dismiss", False)
        super().__init__(**kwargs)

    def show(self, app) -> None:
        self.app = app
        if not self.shown:
            self.shown = True
            self.open(animation=False)

    def hide(self) -> None:
        if self.shown:
            self.shown = False
            self.dismiss(animation=False)


class IdlePrompt(Overlay):
    title = StringProperty("")
    body = StringProperty("")
    stay = StringProperty("")

    def show(self, app, seconds_left: int) -> None:
        lang = app.flow.lang
        self.title = app.tr.get("idle.title", lang)
        self.body = app.tr.get("idle.body", lang, n=seconds_left)
        self.stay = app.tr.get("idle.stay", lang)
        super().show(app)

    def on_touch_down(self, touch):
        # Any touch means "still here": the prompt goes and the touch stops here, so it
        # does not also press the key or button that lies under the prompt.
        self.hide()
        return True


class BusyOverlay(Overlay):
    """"Please wait" over a slow step, once it has taken SHOW_AFTER_S: a step that ends
    sooner (most do) goes straight to its next screen, with no flash of grey between
    (and, on a software renderer, no extra frame of ~20 ms: issue 25)."""
    SHOW_AFTER_S = 0.3
    text = StringProperty("")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._pending = None

    def show(self, app) -> None:
        self.text = app.tr.get("common.please_wait", app.flow.lang)
        if self._pending is None and not self.shown:
            self._pending = Clock.schedule_once(lambda dt: self._show_now(app),
                                                self.SHOW_AFTER_S)

    def _show_now(self, app) -> None:
        self._pending = None
        Overlay.show(self, app)

    def hide(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        super().hide()


class PrintQuestion(Overlay):
    """A licence this kiosk was printing when it stopped may have come out: whoever is at
    the kiosk says (flow.print_question), then reads what happens next (print_outcome)."""
    title = StringProperty("")
    body = StringProperty("")
    answered = BooleanProperty(False)
    texts = ObjectProperty({}, rebind=True)

    def sync(self, app) -> None:
        flow = app.flow
        if flow.print_question is None:
            self.hide()
            return
        lang, tr = flow.lang, app.tr
        self.texts = {k: tr.get(f"print_question.{k}", lang)
                      for k in ("yes", "no", "unsure", "ok")}
        self.answered = flow.print_outcome is not None
        self.title = tr.get("print_question.title", lang)
        self.body = tr.get(f"print_question.{flow.print_outcome}", lang) if self.answered \
            else tr.get("print_question.body", lang,
                        licence=flow.print_question["licence_number"])
        self.show(app)


class OutOfService(Overlay):
    """Over every screen while the kiosk is out of service (flow.out_of_service: the disk is
    nearly full, or the store refused a step for a full disk): in both languages at once,
    the kiosk's current one first, since nothing under it can be tapped; it goes by itself
    when there is room again."""
    title_1 = StringProperty("")
    body_1 = StringProperty("")
    rtl_1 = BooleanProperty(True)
    title_2 = StringProperty("")
    body_2 = StringProperty("")
    rtl_2 = BooleanProperty(False)

    def sync(self, app) -> None:
        if not app.flow.out_of_service:
            self.hide()
            return
        tr, first = app.tr, app.flow.lang
        second = "en" if first == "ar" else "ar"
        self.title_1, self.body_1 = (tr.get("out_of_service.title", first),
                                     tr.get("out_of_service.body", first))
        self.title_2, self.body_2 = (tr.get("out_of_service.title", second),
                                     tr.get("out_of_service.body", second))
        self.rtl_1, self.rtl_2 = first == "ar", second == "ar"
        self.show(app)

    def on_touch_down(self, touch):
        return True  # nothing under it is tapped


class AdminPad(Overlay):
    """Staff only: a PIN, then the kiosk closes. Reached by the hidden gesture."""
    title = StringProperty("")
    message = StringProperty("")
    close_text = StringProperty("")
    cancel_text = StringProperty("")
    masked = StringProperty("")
    keyboard = None

    def show(self, app) -> None:
        lang = app.flow.lang
        self.title = app.tr.get("admin.title", lang)
        self.message = app.tr.get("admin.pin", lang)
        self.close_text = app.tr.get("admin.exit", lang)
        self.cancel_text = app.tr.get("common.cancel", lang)
        if self.keyboard is None:
            from ui.keyboard_widget import OnScreenKeyboard
            self.keyboard = OnScreenKeyboard(sizes=app.sizes, show_done=False,
                                             layout="numeric", allow_switch=False)
            self.keyboard.bind(text=lambda _, text: setattr(self, "masked", "•" * len(text)))
            self.ids.pad.add_widget(self.keyboard)
        self.keyboard.attach("numeric", allow_switch=False, max_length=8, text="")
        super().show(app)

    def submit(self) -> None:
        pin, self.keyboard.text = self.keyboard.text, ""
        self.app.admin_pin(pin)

    def say(self, app, key: str) -> None:
        self.message = app.tr.get(key, app.flow.lang)

    def hide(self) -> None:
        if self.keyboard is not None:
            self.keyboard.text = ""
        super().hide()


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
