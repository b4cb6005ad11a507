"""The kiosk's screens: each is a .py (the Screen and its view-model) and a .kv (layout).
The .kv files bind only to their view-model (`root.vm`) and to the app's theme and sizes."""
