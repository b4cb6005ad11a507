"""Which steps of an app's state machine (kiosk/flow.py, counter/desk.py) may run on the UI
thread and which may not (house style 4: the UI thread never blocks on I/O).

    @slow                 talks to the store or a device: on a worker, the app busy meanwhile
    @slow_when_remote     instant in-process, a LAN round trip through a hub: on a worker
                          then (without a busy overlay: it is quick unless the hub is away)
    @own_thread           waits on a person at a device for a long time (the card terminal):
                          a thread of its own, so the screen stays live and Cancel works

Unmarked steps only change what is on screen and run at once. The app shell (ui/shell.py)
reads the mark; no list of step names is kept anywhere else. No Kivy here."""
from __future__ import annotations

UI, WORKER, THREAD = "ui", "worker", "thread"


def slow(fn):
    fn.runs_on = WORKER
    return fn


def slow_when_remote(fn):
    fn.runs_on = "worker_if_remote"
    return fn


def own_thread(fn):
    fn.runs_on = THREAD
    return fn


def runs_on(step, backend) -> str:
    """UI, WORKER or THREAD for a bound step of the state machine."""
    mark = getattr(step, "runs_on", UI)
    if mark == "worker_if_remote":
        return WORKER if getattr(backend, "remote", False) else UI
    return mark
