"""Sign in with a user name and PIN."""
from __future__ import annotations

from ui.screens import load_kv

from .base import CounterViewModel, PanelScreen


class SignInViewModel(CounterViewModel):

    def screen(self) -> dict:
        return self._panel(self.t("signin.title"), self.t("signin.hint"),
                           [self.button("submit", self.t("signin.button"), "submit")])


class SignInScreen(PanelScreen):
    view_model_class = SignInViewModel


load_kv(__file__)
