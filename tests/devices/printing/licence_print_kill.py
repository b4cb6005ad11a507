"""Issues a licence and prints it on a paper file, SIGKILLing itself at one step (used by
test_licence_print_kill.py). A self-SIGKILL at a chosen point is an outside SIGKILL at that
exact moment, without guessing timings.

    python licence_print_kill.py DATA_DIR APPLICATION STEP PAPER_FILE

STEP: queued (the licence and its job committed), printing (the job marked printing),
mid_send (half the bytes on paper), sent (every byte on paper, done not recorded), done
(done recorded), none (no kill)."""
from __future__ import annotations

import os
import re
import signal
import sys
from pathlib import Path

from core.faces.printing import PrintJobs
from devices.printing.transports import PrinterStatus, Transport

STEPS = ("queued", "printing", "mid_send", "sent", "done")
_RECORD = re.compile(rb"<<JOB-5f0c ([\w-]+) (\d+)>>\n")
_END = b"\n<<END>>\n"


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class PaperTransport(Transport):
    """A printer whose paper is a file: each job a header, its bytes, and an end mark once
    every byte is out (fsynced, so a kill right after leaves it on the paper)."""

    def __init__(self, paper: Path, kill_at: str | None = None):
        super().__init__()
        self.paper, self.kill_at = Path(paper), kill_at

    def status(self) -> PrinterStatus:
        return PrinterStatus(True, "ok")

    def send(self, data: bytes, job_name: str, image=None) -> None:
        with open(self.paper, "ab") as paper:
            paper.write(b"<<JOB-5f0c %s %d>>\n" % (job_name.encode(), len(data)))
            half = len(data) // 2 if self.kill_at == "mid_send" else len(data)
            paper.write(data[:half])
            if half == len(data):
                paper.write(_END)
            paper.flush()
            os.fsync(paper.fileno())
        if self.kill_at in ("mid_send", "sent"):
            die()


def what_came_out(paper: Path) -> list[tuple[str, bytes, bool]]:
    """Each job on the paper: (job name, its bytes, whether all of them came out). A job cut
    short runs up to the next job's header."""
    data = paper.read_bytes() if paper.exists() else b""
    headers = list(_RECORD.finditer(data))
    assert data[:1] in (b"", b"<"), "paper garbled"
    out = []
    for header, after in zip(headers, [*headers[1:], None]):
        name, size = header.group(1).decode(), int(header.group(2))
        segment = data[header.end():after.start() if after else len(data)]
        whole = len(segment) == size + len(_END) and segment.endswith(_END)
        out.append((name, segment[:size], whole))
    return out


class DyingJobs(PrintJobs):
    """The device's print queue, dying right after the step it was told to."""

    def __init__(self, office, kill_at: str):
        super().__init__(office)
        self.kill_at = kill_at

    def mark_printing(self, job_id):
        job = super().mark_printing(job_id)
        if self.kill_at == "printing":
            die()
        return job

    def mark_done(self, job_id, size):
        job = super().mark_done(job_id, size)
        if self.kill_at == "done":
            die()
        return job


def main(data_dir: str, application: str, step: str, paper: str) -> None:
    from core.office import Office
    from core.settings import load_settings
    from devices.printing.worker import PrintWorker

    office = Office.open(load_settings(data_dir, environ={}))
    office.printing.issue_licence(application, "ar")
    if step == "queued":
        die()
    worker = PrintWorker(DyingJobs(office, step), PaperTransport(Path(paper), step))
    assert worker.print_next() == "printed"
    office.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
