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
