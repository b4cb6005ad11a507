"""The camera as the kiosk and the counter use it: opened when a scan screen shows, closed
when it goes, each code handed to a callback (from the scanner's thread). No Kivy here."""
from __future__ import annotations


class CameraScanner:
    """spec: what devices.scanning.open_source opens; size: the frame size asked for."""

    def __init__(self, spec, size=(1280, 720), debounce_s: float = 2.0):
        self.spec = spec
        self.size = size
        self.debounce_s = debounce_s
        self.service = None

    def open(self, on_code):
        """Start the camera; on_code(text) is called from the scanner's thread. Returns the
        ScanService (its status says whether the camera works)."""
        from devices.scanning.service import ScanService

        self.close()
        service = ScanService(self.spec, debounce_s=self.debounce_s, width=self.size[0],
                              height=self.size[1])
        service.subscribe(lambda event: on_code(event.text) if event.text else None)
        self.service = service.start()
        return service

    def close(self) -> None:
        if self.service is not None:
            self.service.stop()
            self.service = None

    @property
    def state(self) -> str:
        """The scanner's state while open ("no_camera" while closed)."""
        return self.service.status.state if self.service is not None else "no_camera"
