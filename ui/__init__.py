"""What the kiosk and the counter share: the app shell (shell.py, launch.py, hooks.py), the
screen pattern (screens.py), step marks (steps.py), workers, widgets, RTL text, fonts, the
keyboard, the theme, translations and refusals in words (messages.py).

Modules that import Kivy (shell, screens, widgets, keyboard_widget, camera) are imported only
once ui.env.prepare_kivy_env has run (ui/launch.py sees to it); the rest import no Kivy."""
