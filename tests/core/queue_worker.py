"""A counter in its own process (used by test_queue_parallel.py).

    python queue_worker.py DATA_DIR COUNTER CALLS GO_FILE

Opens the office, says it is ready, waits for GO_FILE so that all counters start at the
same instant, calls next CALLS times and prints the ids it got as JSON."""
import json
import sys
import time
from pathlib import Path

from core.clock import SystemClock
from core.office import Office
from core.settings import load_settings


def main(data_dir: str, counter: str, calls: int, go_file: str) -> None:
    office = Office.open(load_settings(data_dir, environ={}), clock=SystemClock())
    Path(data_dir, f"ready-{counter}").touch()
    go = Path(go_file)
    deadline = time.monotonic() + 60
    while not go.exists():
        if time.monotonic() > deadline:
            raise SystemExit("never told to go")
        time.sleep(0.0005)
    got = []
    for _ in range(calls):
        ticket = office.queue.call_next(counter)
        got.append(ticket["id"] if ticket else None)
    office.close()
    print(json.dumps(got))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
