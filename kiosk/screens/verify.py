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


class VerifyScreen(ScanScreen):
    view_model_class = VerifyViewModel


load_kv(__file__)
