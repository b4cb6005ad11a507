"""ui.screens.InstantScreenManager (issue 25): a screen change leaves only the new screen
in the window at once (Kivy's ScreenManager kept the old one drawn for another frame, even
with NoTransition) and clips nothing (its stencil cost two full-window fills a frame on a
software renderer)."""
from __future__ import annotations

from kivy_env import kivy_ready


def managed(*names):
    kivy_ready()
    from kivy.uix.screenmanager import Screen

    from ui.screens import InstantScreenManager

    manager = InstantScreenManager()
    screens = {name: Screen(name=name) for name in names}
    for screen in screens.values():
        manager.add_widget(screen)
    return manager, screens


def test_a_screen_change_leaves_only_the_new_screen_at_once():
    manager, screens = managed("home", "services", "form")
    assert manager.children == [screens["home"]]  # the first one added is shown
    for name in ("services", "form", "home", "services"):
        manager.current = name
        # no frame in between: the old screen is gone in the same call
        assert manager.children == [screens[name]] and manager.current_screen is screens[name]
        assert not manager.transition.is_active
    manager.current = "services"  # the same again: nothing moves
    assert manager.children == [screens["services"]]


def test_nothing_is_clipped_by_a_stencil():
    kivy_ready()
    from kivy.graphics import StencilPush
    from kivy.uix.screenmanager import ScreenManager

    manager, _ = managed("home")
    stock = ScreenManager()

    def instructions(widget):
        return [type(i) for c in (widget.canvas.before, widget.canvas.after)
                for i in c.children]
    assert StencilPush in instructions(stock)  # what Kivy's own does, to show the test can fail
    assert StencilPush not in instructions(manager)
