"""Start: what would you like to do? Six large choices, and the buttons for everyone: the
audio guide and the high-contrast theme (kiosk/access.py)."""
from __future__ import annotations

from kivy.app import App

from ui.screens import AppScreen, ViewModel, load_kv

CHOICES = ("ticket", "apply", "verify", "status", "collect", "appointment")


class HomeViewModel(ViewModel):
    def compute(self, flow, tr):
        lang = flow.lang
        rows = [{"mode": mode, "title": tr.get(f"home.{mode}", lang),
                 "hint": tr.get(f"home.{mode}_hint", lang)}
                for mode in CHOICES]
        texts = {"welcome": tr.get("home.welcome", lang), "prompt": tr.get("home.prompt", lang)}
        app = App.get_running_app()  # the guide and the theme are the app's, not the flow's
        guide, contrast = (getattr(app, "audio_guide", False), getattr(app, "high_contrast", False))
        texts["audio_guide"] = tr.get("access.guide_stop" if guide else "access.guide_start", lang)
        texts["high_contrast"] = tr.get("access.contrast_off" if contrast else "access.contrast_on",
                                        lang)
        if getattr(app, "no_audio", False):
            # For whoever helps the resident: both languages, whichever is on screen.
            other = "en" if lang == "ar" else "ar"
            texts["no_audio"] = tr.get("access.no_audio", lang)
            texts["no_audio_other"] = tr.get("access.no_audio", other)
        return texts, rows, {"audio_guide": guide, "high_contrast": contrast,
                             "large_text": flow.large_text}


class HomeScreen(AppScreen):
    view_model_class = HomeViewModel


load_kv(__file__)
