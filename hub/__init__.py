"""The service centre's hub: one queue and one store for the kiosks, counters and display
boards on the centre's LAN (docs/hub.md). `hub.app` is the server, its faces' routes derived
in `hub.routes`; a kiosk or counter reaches it through `hubclient`, never through this
package."""
