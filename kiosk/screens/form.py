"""The application form, one field per step: the question, what is typed, an inline error
in the resident's language, and the keyboard the field asks for (Arabic/English letters or
a number pad) or large buttons for a choice."""
from __future__ import annotations


from ui.messages import field_error, field_hint

from ui.widgets import make

from ui.screens import AppScreen, ViewModel, load_kv

DECIMAL_TYPES = ("area_m2", "money")


class FormViewModel(ViewModel):
    def compute(self, flow, tr):
        lang, v = flow.lang, flow.visit
        if flow.screen != "form" or not v.service:
            return {}, [], {}
        fields = flow.fields()
        f = fields[v.step]
        choice = f.type == "choice"
        shown = v.draft
        if choice:
            shown = next((o.label.get(lang) for o in f.options if o.value == v.draft), "")
        texts = {"service": flow.service().name.get(lang),
                 "step": tr.get("form.step", lang, i=v.step + 1, n=len(fields)),
                 "label": f.label.get(lang),
                 "optional": "" if f.required else tr.get("form.optional", lang),
                 # what the field expects, before a wrong try says it (issue 25)
                 "hint": "" if v.error else field_hint(
                     f.type, lang, digits_setting=tr.digits,
                     national_id_pattern=flow.validation.national_id_pattern,
                     phone_pattern=flow.validation.phone_pattern),
                 "value": shown,
                 "error": field_error(v.error, f.label, lang, digits_setting=tr.digits)
                 if v.error else "",
                 "back": tr.get("common.back", lang),
                 "next": tr.get("form.review" if v.back_to_review or v.step == len(fields) - 1
                                else "common.next", lang)}
        options = [{"value": o.value, "label": o.label.get(lang),
                    "selected": o.value == v.draft} for o in f.options]
        progress = [{"state": "done" if i < v.step else "current" if i == v.step else "todo"}
                    for i in range(len(fields))]
        flags = {"choice": choice, "key": f.key, "type": f.type,
                 "keyboard": f.keyboard or "", "max_length": f.max_length,
                 "decimals": f.type in DECIMAL_TYPES, "error": bool(v.error),
                 "progress": progress}
        return texts, options, flags


class FormScreen(AppScreen):
    view_model_class = FormViewModel
    keyboard = None

    def on_vm(self, *_):
        self.vm.bind(rows=self._fill_options, flags=self._fill_progress)

    def _fill_options(self, *_):
        box = self.ids.options
        box.clear_widgets()
        for row in self.vm.rows:
            box.add_widget(make("OptionButton", pilot_id=f"option:{row['value']}",
                                value=row["value"], logical=row["label"],
                                kind="go" if row["selected"] else "secondary"))

    def _fill_progress(self, *_):
        box = self.ids.progress
        box.clear_widgets()
        for i, step in enumerate(self.vm.flags.get("progress", [])):
            box.add_widget(make("StepDot", state_name=step["state"], number=str(i + 1)))

    def entered(self, app) -> None:
        self.attach_keyboard(app)

    def attach_keyboard(self, app) -> None:
        """Set the keyboard up for the current field (called on each new step)."""
        flags = self.vm.flags
        slot = self.ids.keyboard_slot
        if flags.get("choice") or not flags:
            slot.clear_widgets()
            return
        self._make_keyboard(app)
        if self.keyboard.parent is None:
            slot.add_widget(self.keyboard)
        self.keyboard.sizes = app.sizes
        layout = app.flow.lang if flags["keyboard"] == "text" else "numeric"
        self.keyboard.attach(layout, allow_switch=flags["keyboard"] == "text",
                             max_length=flags.get("max_length"),
                             decimals=flags.get("decimals", False),
                             text=app.flow.visit.draft)

    def _make_keyboard(self, app) -> None:
        if self.keyboard is None:
            from ui.keyboard_widget import OnScreenKeyboard
            self.keyboard = OnScreenKeyboard(sizes=app.sizes, show_done=False)
            self.keyboard.bind(text=lambda _, text: app.typed(text))

    def warm(self, app) -> None:
        # The keyboard and its pages for the kiosk's language and for digits (~70 ms each
        # the first time); attach_keyboard sets it up for the real field.
        self._make_keyboard(app)
        self.keyboard.sizes = app.sizes
        for layout in ("numeric", app.flow.lang):
            self.keyboard.attach(layout, allow_switch=layout != "numeric")

    def wipe(self) -> None:
        if self.keyboard is not None:
            self.keyboard.text = ""


load_kv(__file__)
