"""The counter benchmark's bench: the real `nafitha counter` driven by the pilot, with a fake
network printer that records every byte and a camera that sees an image file, on a data
directory with a certified device and two accounts (clerk sara 1234, supervisor huda 987654).
tests/ui/counter_rig.py builds on CounterBench."""
from __future__ import annotations

import sys
from pathlib import Path

# bench/ on the path only for this import (bench/counter.py and bench/kiosk.py would hide
# the apps' packages of the same names from later imports).
_BENCH = str(Path(__file__).resolve().parent)
sys.path.insert(0, _BENCH)
try:
    from _kiosk import NAFITHA, START, AppBench  # noqa: E402
finally:
    sys.path.remove(_BENCH)

CLERK = ("sara", "1234")
SUPERVISOR = ("huda", "987654")


class CounterBench(AppBench):
    def __init__(self, tmp: Path, lang: str = "ar", printer_state: str = "ok",
                 camera: bool = True, extra_env: dict | None = None):
        super().__init__(tmp, lang, printer_state, camera, {
            "NAFITHA_COUNTER__LANGUAGE": lang, **(extra_env or {})})
        office = self.office()
        try:
            office.users.create(CLERK[0], "clerk", CLERK[1])
            office.users.create(SUPERVISOR[0], "supervisor", SUPERVISOR[1])
        finally:
            office.close()

    def argv(self, windowed: bool = True) -> list[str]:
        return [NAFITHA, "--data", str(self.data), "counter"]

    def kiosk_application(self, fields: dict, service: str = "residence-certificate",
                          with_ticket: bool = True) -> dict:
        """What a resident does at the kiosk: a ticket and an application (unpaid). Each
        resident arrives a second after the one before (the queue is first come, first
        served)."""
        office = self.office()
        self._arrivals = getattr(self, "_arrivals", 0) + 1
        office.store.clock.advance(seconds=self._arrivals)
        try:
            with office.acting_as("kiosk"):
                ticket = office.queue.take_ticket(service) if with_ticket else None
                app = office.applications.submit(service, fields,
                                                 ticket=ticket["id"] if ticket else None)
            return {"ticket": ticket, "application": app}
        finally:
            office.close()


def sign_in(pilot, user: tuple[str, str] = CLERK) -> None:
    """Type the user name and PIN on the physical keyboard, Enter."""
    pilot.keys(user[0])
    pilot.press_key("tab")
    pilot.keys(user[1])
    pilot.press_key("enter")
    pilot.settle()
