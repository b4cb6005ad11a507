"""Kivy pieces shared by the kiosk and the counter: RTL text, fonts, the Kivy environment.

Nothing here imports Kivy at module level, so `core`-only tools and tests can import `ui`
without a display; Kivy itself is imported only after `ui.env.prepare_kivy_env` ran."""
