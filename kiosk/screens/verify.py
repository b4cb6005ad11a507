"""Verify a licence: the camera's picture and what to do; the answer comes on `verified`."""
from __future__ import annotations

from kivy.clock import Clock

from ui.screens import AppScreen, ViewModel, load_kv

CAMERA_FAULTS = ("no_camera", "reconnecting")


class ScanViewModel(ViewModel):
    """Shared by the verify and status screens: `camera_state` is the scanner's state."""
    key = "verify"

    def compute(self, flow, tr):
        lang = flow.lang
        camera_state = self.flags.get("camera_state", "")
        texts = {"title": tr.get(f"{self.key}.title", lang),
                 "instructions": tr.get(f"{self.key}.instructions", lang),
                 "camera_off": tr.get("verify.camera_off", lang)
                 if camera_state in CAMERA_FAULTS else "",
                 "back": tr.get("common.back", lang)}
        # No camera: not a black box but another way, a phone at the public check page
        # printed on every licence (licence.verify_url), when the office has one.
        url = flow.backend.settings.licence.verify_url
        phone = camera_state in CAMERA_FAULTS and url and self.key == "verify"
        texts["phone_way"] = tr.get("verify.phone_way", lang) if phone else ""
        texts["phone_url"] = url if phone else ""  # a line of its own: Latin, left to right
        return texts, [], {"camera_state": camera_state,
                           "camera_off": camera_state in CAMERA_FAULTS}


class VerifyViewModel(ScanViewModel):
    key = "verify"


class ScanScreen(AppScreen):
    """Starts the camera while showing, stops it when left."""
    _watch = None

    def entered(self, app) -> None:
        service = app.start_scanner()
        self.ids.preview.source_service = service
        self.ids.preview.start()
        self._watch = Clock.schedule_interval(lambda dt: self._camera(app), 0.5)
        self._camera(app)

    def _camera(self, app) -> None:
        state = app.scanner_state()
        if state != self.vm.flags.get("camera_state"):
            self.vm.flags = {**self.vm.flags, "camera_state": state}
            app.refresh_current()

    def left(self, app) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        self.ids.preview.stop()
        self.ids.preview.clear()  # the last frame may show someone's licence
        self.ids.preview.source_service = None
        app.stop_scanner()


class TypedScanScreen(ScanScreen):
    """A scan screen whose code can also be typed, with the national ID beside it (collect a
    paid licence, check in an appointment): one on-screen keyboard serves the field the
    resident tapped. A subclass names each field's keyboard (`keyboards`: field -> (layout,
    max length)), the flow's action for typing (`type_action`), and `field_and_text`."""
    keyboards: dict[str, tuple[str, int]] = {}
    type_action = ""
    keyboard = None
    _app = None
    _attached = None  # (field, sizes): the keyboard is set up for it

    def field_and_text(self, visit) -> tuple[str, str]:
        """The field being typed in and its text now (as the keyboard shows it)."""
        raise NotImplementedError

    def entered(self, app) -> None:
        super().entered(app)
        self._app = app
        if self.keyboard is None:
            from ui.keyboard_widget import OnScreenKeyboard
            self.keyboard = OnScreenKeyboard(sizes=app.sizes, show_done=False, layout="en",
                                             allow_switch=False)
            self.keyboard.bind(text=lambda _, text: self._typed(app, text))
            self.ids.keyboard_slot.add_widget(self.keyboard)
        self._attached = None
        self._attach(app)

    def refresh(self, state, tr) -> None:
        super().refresh(state, tr)
        if self._app is not None and state.screen == self.name:
            self._attach(self._app)  # a field tapped, or a scanned code filled in

    def _typed(self, app, text: str) -> None:
        if self._attached is not None:
            app.act(self.type_action, text)

    def _attach(self, app) -> None:
        """The keyboard for the field the resident tapped, holding that field's text."""
        field, text = self.field_and_text(app.flow.visit)
        key = (field, app.sizes)
        if key == self._attached:
            return
        self._attached = None  # the text set below is not the resident's typing
        layout, max_length = self.keyboards[field]
        self.keyboard.sizes = app.sizes
        self.keyboard.attach(layout, allow_switch=False, max_length=max_length, text=text)
        self._attached = key

    def left(self, app) -> None:
        super().left(app)
        self._app = None

    def wipe(self) -> None:
        self._attached = None
        if self.keyboard is not None:
            self.keyboard.text = ""


class VerifyScreen(ScanScreen):
    view_model_class = VerifyViewModel


load_kv(__file__)
