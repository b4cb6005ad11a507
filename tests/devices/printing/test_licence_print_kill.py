"""SIGKILL at every step of a licence's print makes no second original (issue 18).

A process issues a licence and prints it on a paper file (licence_print_kill.py), killed by
SIGKILL at one step. The office then starts again: the person at the printer is asked about
a licence that may have come out, and answers from what is on the paper (or is unsure); the
printer's worker runs; then someone asks for the licence again. On the paper there is never
more than one whole original, and every later print is a counted COPY."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import InvalidState
from core.faces.printing import PrintJobs
from devices.printing.worker import PrintWorker

from licence_print_kill import STEPS, PaperTransport, what_came_out

ROOT = Path(__file__).resolve().parents[3]
CHILD = Path(__file__).with_name("licence_print_kill.py")
# Where the job is after each kill: what the restarted worker finds.
LEFT = {"queued": "pending", "printing": "printing", "mid_send": "printing",
        "sent": "printing", "done": "done"}


def originals(paper: Path) -> list[bytes]:
    return [body for name, body, whole in what_came_out(paper) if whole and "copy" not in name]


def copies(paper: Path) -> list[bytes]:
    return [body for name, body, whole in what_came_out(paper) if whole and "copy" in name]


@pytest.mark.parametrize("step, person", [(s, "looks") for s in STEPS] +
                         [(s, "unsure") for s in ("printing", "mid_send", "sent")])
def test_sigkill_at_every_step_of_a_licence_print_makes_no_second_original(
        office, submit_valid, till, tmp_path, step, person):
    app = submit_valid()
    office.payments.take(app["id"], "cash", till.clerk, tendered_minor=1000)
    paper = tmp_path / "paper.bin"
    child = subprocess.run([sys.executable, str(CHILD), str(office.settings.data_dir),
                            app["number"], step, str(paper)],
                           env={**os.environ, "PYTHONPATH": f"{ROOT}:{CHILD.parent}"},
                           capture_output=True, timeout=60)
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    lic = office.store.one("SELECT id, number FROM licences")
    job = office.store.one("SELECT * FROM print_jobs WHERE ref_id = ?", (lic["id"],))
    assert job["state"] == LEFT[step]
    came_out = bool(originals(paper))
    assert came_out == (step in ("sent", "done"))

    # The office starts again: a licence that may have come out is asked about, not sent.
    jobs = PrintJobs(office)
    asked = jobs.recover()
    assert [j["id"] for j in asked] == ([job["id"]] if LEFT[step] == "printing" else [])
    answer = None
    if asked:
        answer = "unsure" if person == "unsure" else "yes" if came_out else "no"
        with office.acting_as(till.clerk):
            office.printing.answer(job["id"], answer)
    worker = PrintWorker(jobs, PaperTransport(paper))
    assert worker.drain(timeout_s=5) == "idle"
    expected = 0 if answer == "unsure" and not came_out else 1
    assert len(originals(paper)) == expected

    # Asked again (any face queues through PrintQueue.enqueue): refused, it is a COPY now.
    with pytest.raises(InvalidState) as refused:
        office.printing.enqueue("licence", lic["number"])
    assert refused.value.details["reason"] == "original_printed"
    office.printing.reprint_licence(lic["number"], "the resident asked for another")
    assert worker.drain(timeout_s=5) == "idle"
    assert len(originals(paper)) == expected  # still no second original
    [copy] = copies(paper)
    assert copy not in originals(paper)  # the COPY band: other bytes than the original
    assert office.licences.get(lic["id"])["reprint_count"] == 1
    answers = office.store.all("SELECT actor, data FROM audit WHERE action = 'print.answered'")
    assert [(a["actor"], json.loads(a["data"])["came_out"]) for a in answers] == \
        ([(till.clerk, answer)] if answer else [])
