"""The kiosk application: `nafitha kiosk` calls run_kiosk().

Until the kiosk issue lands this is one screen listing the service catalogue. Kivy is only
imported inside run_kiosk(), after prepare_kivy_env(), so importing this module opens no
window and leaves Kivy's environment (KIVY_HOME, argument parsing, logging) unset."""
from __future__ import annotations

import os
from pathlib import Path

from core.money import format_amount
from ui.env import prepare_kivy_env

TITLE = "Nafitha"
# The kiosk's target screen is a full-HD touch monitor.
WINDOW_SIZE = (1920, 1080)
# Frames to let the RecycleView lay out its rows before a screenshot is taken.
SCREENSHOT_AFTER_FRAMES = 5

HEADING = ("الخدمات", "Services")
FEE_HEADING = ("الرسوم", "Fee")
ISSUE_TEXT = {
    "instant": ("تصدر فوراً", "Issued on the spot"),
    "review": ("تتطلب مراجعة", "Needs review"),
}
# The fee of a service like the building and land tax comes from an assessment.
FEE_ASSESSED = ("حسب التقدير", "As assessed")


def service_rows(catalog) -> list[dict]:
    """What the catalogue screen shows for each service, in logical (unshaped) text."""
    rows = []
    for service in catalog:
        status_ar, status_en = ISSUE_TEXT[service.issue]
        if service.fee_from_field:
            fee_ar, fee_en = FEE_ASSESSED
        else:
            fee_ar = fee_en = format_amount(service.fee_minor, service.currency)
        rows.append({"code": service.code, "prefix": service.prefix,
                     "name_ar": service.name.ar, "name_en": service.name.en,
                     "fee_ar": fee_ar, "fee_en": fee_en,
                     "status_ar": status_ar, "status_en": status_en,
                     "instant": service.instant})
    return rows


def run_kiosk(settings, catalog, screenshot: str | None = None,
              exit_after: float | None = None) -> None:
    """Open the kiosk window and run until it is closed.

    screenshot: save a PNG of the window there once the first frames are drawn, then stop.
    exit_after: stop after this many seconds (demos, smoke tests)."""
    prepare_kivy_env(settings.data_dir)
    from kivy.config import Config

    # Window settings must be in place before kivy.core.window is imported.
    Config.set("graphics", "width", str(WINDOW_SIZE[0]))
    Config.set("graphics", "height", str(WINDOW_SIZE[1]))
    # Without this a right click leaves a red multitouch-emulation dot on the screen.
    Config.set("input", "mouse", "mouse,disable_multitouch")

    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window

    from ui.fonts import register_arabic_font

    register_arabic_font()
    from .catalog_screen import CatalogScreen, CatalogViewModel

    view_model = CatalogViewModel.from_catalog(settings, service_rows(catalog))

    class KioskApp(App):
        def build(self):
            self.title = TITLE
            return CatalogScreen(vm=view_model)

        def on_start(self):
            if exit_after is not None:
                Clock.schedule_once(lambda dt: self.stop(), exit_after)
            if screenshot:
                _after_frames(Clock, SCREENSHOT_AFTER_FRAMES, self.save_screenshot)

        def save_screenshot(self):
            # Stop on the next frame, not inside the window's on_flip dispatch.
            _screenshot_then(Window, screenshot,
                             lambda: Clock.schedule_once(lambda dt: self.stop(), 0))

    KioskApp().run()


def _after_frames(clock, frames: int, callback) -> None:
    """Call `callback` once `frames` more frames have gone by."""
    if frames <= 0:
        callback()
    else:
        clock.schedule_once(lambda dt: _after_frames(clock, frames - 1, callback), 0)


def _screenshot_then(window, path: str, done) -> None:
    """Save the next drawn frame. The pixels are read in an on_flip handler, which runs
    before the buffers are swapped: after the swap the back buffer's content is undefined."""
    target = Path(path).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)

    def on_flip(*_):
        window.unbind(on_flip=on_flip)
        # Window.screenshot numbers its files (name0001.png); move the file into place.
        saved = window.screenshot(name=str(target.with_name(f".{target.stem}-shot.png")))
        os.replace(saved, target)
        done()

    window.bind(on_flip=on_flip)
    window.canvas.ask_update()
