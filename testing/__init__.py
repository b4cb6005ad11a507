"""Development aids, not part of any app's work: the test pilot that drives a real Kivy app
from another process (pilot.py, pilot_client.py), a virtual display (xvfb.py) and window
screenshots (screenshot.py). The apps load them only when asked (NAFITHA_PILOT, the
--screenshot option: ui/hooks.py); tests and benchmarks use them directly."""
