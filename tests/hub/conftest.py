import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from hubrig import RunningHub  # noqa: E402


@pytest.fixture
def hub(office):
    running = RunningHub(office)
    yield running
    running.stop()


# Each face's contract runs twice: in-process (a field office) and through a real hub.
@pytest.fixture(params=["in-process", "hub"])
def kiosk(request, office, tmp_path):
    from core.faces.kiosk import KioskFace
    if request.param == "in-process":
        return KioskFace(office)
    return request.getfixturevalue("hub").kiosk(tmp_path, "kiosk-1")


@pytest.fixture(params=["in-process", "hub"])
def counter(request, office, tmp_path, till):
    from core.faces.counter import CounterFace
    if request.param == "in-process":
        return CounterFace(office, "3")
    return request.getfixturevalue("hub").counter(tmp_path, "3")

