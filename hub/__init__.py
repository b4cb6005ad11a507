"""The service centre's hub: one queue and one store for the kiosks, counters and display
boards on the centre's LAN (docs/hub.md). `hub.app` is the server; `hub.client` is what a
kiosk or counter uses to reach it (the only part of hub/ they may import)."""
