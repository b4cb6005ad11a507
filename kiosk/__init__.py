"""The kiosk residents use. `kiosk.app.run_kiosk` is what `nafitha kiosk` starts."""
