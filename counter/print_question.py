"""Over the counter's screens: "did the licence come out?" for a licence this counter's
printer was printing when it stopped (desk.print_question); the clerk's answer is the desk's
step answer_print."""
from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.modalview import ModalView


class PrintQuestion(ModalView):
    title = StringProperty("")
    body = StringProperty("")
    texts = ObjectProperty({}, rebind=True)
    shown = BooleanProperty(False)

    def __init__(self, **kwargs):
        kwargs.setdefault("auto_dismiss", False)
        super().__init__(**kwargs)

    def sync(self, desk, tr) -> None:
        asked = desk.print_question if desk.user and not desk.locked else None
        if asked is None:
            if self.shown:
                self.shown = False
                self.dismiss(animation=False)
            return
        lang = desk.lang
        self.texts = {k: tr.get(f"print_question.{k}", lang) for k in ("yes", "no", "unsure")}
        self.title = tr.get("print_question.title", lang)
        self.body = tr.get("print_question.body", lang, licence=asked["licence_number"])
        if not self.shown:
            self.shown = True
            self.open(animation=False)


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
