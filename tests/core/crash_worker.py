"""Runs operations in a loop until killed (used by test_crash_consistency.py)."""
import sys
import time
from pathlib import Path

from core.credentials import ceremony, keys
from core.credentials.trust import device_cert_path
from core.errors import InvalidState
from core.office import Office
from core.settings import load_settings
from core.text import with_check_digit


def main(data_dir: str) -> None:
    settings = load_settings(data_dir, environ={})
    if not device_cert_path(settings.data_dir).exists():
        # first start: a throwaway root certifies this device (docs/keys.md)
        ceremony.setup_device(settings.data_dir, keys.generate(), "D01", "MUH", ["RES"],
                              int(time.time()))
    office = Office.open(settings)
    try:
        office.payments.open_shift("kiosk", 0)
    except InvalidState:
        pass  # still open from before the last kill
    Path(data_dir, "ready").touch()
    i = 0
    while True:
        i += 1
        office.queue.take_ticket("R", "elderly" if i % 5 == 0 else None)
        called = office.queue.call_next("1", ["R"])
        if called:
            office.queue.finish(called["id"])
        app = office.applications.submit("residence-certificate", {
            "full_name": f"Resident {i}", "national_id": with_check_digit(f"{85000000 + i}", "luhn"),
            "phone": "33123456", "block": "204", "road": "15", "building": "12"})
        office.payments.take(app["id"], "cash", "kiosk", tendered_minor=2000)
        office.licences.issue(app["id"])
        # One whole round done in this run: the test kills only after this (a loaded machine
        # would otherwise kill some runs before they did anything).
        if i == 1:
            Path(data_dir, "progress").touch()


if __name__ == "__main__":
    main(sys.argv[1])
