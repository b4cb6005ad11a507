"""ui.worker: work runs off the main thread, results come back on it through Kivy's Clock.

Kivy is imported in a subprocess (its Clock is ticked by hand, no window needed), so this
pytest process never imports Kivy."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCENARIO = textwrap.dedent("""
    import json, sys, threading, time
    from ui.env import prepare_kivy_env
    prepare_kivy_env(sys.argv[1])
    from kivy.clock import Clock
    from ui import worker

    out = {}
    main = threading.main_thread()
    release = threading.Event()

    def work(a, b, scale=1):
        release.wait(10)
        return {"sum": (a + b) * scale, "thread": threading.current_thread().name}

    def fail(message):
        raise ValueError(message)

    def tick_until(condition, timeout=10):
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise SystemExit("timed out waiting: pending=%d" % worker.pending())
            Clock.tick()

    def on_done(result):
        out["result"] = result
        out["done_on_main"] = threading.current_thread() is main
        out["pending_in_callback"] = worker.pending()

    def on_error(exc):
        out["error"] = [type(exc).__name__, str(exc)]
        out["error_on_main"] = threading.current_thread() is main

    future = worker.run_in_background(work, 2, 3, scale=10, on_done=on_done)
    worker.run_in_background(fail, "no printer", on_error=on_error)
    out["pending_while_running"] = worker.pending()
    tick_until(lambda: "error" in out)
    out["pending_while_blocked"] = worker.pending()
    # The result is ready on the worker but not delivered until the main thread ticks.
    release.set()
    future.result(10)
    out["delivered_before_tick"] = "result" in out
    out["pending_before_tick"] = worker.pending()
    tick_until(lambda: worker.pending() == 0)
    out["pending_after"] = worker.pending()

    # No on_error: logged, not lost, and pending still returns to 0.
    logged = []
    import logging
    class Keep(logging.Handler):
        def emit(self, record):
            logged.append(record.getMessage())
    logging.getLogger("nafitha.ui.worker").addHandler(Keep())
    worker.run_in_background(fail, "unseen")
    tick_until(lambda: worker.pending() == 0)
    out["logged"] = logged

    # Many tasks share a few named worker threads.
    names = set()
    for i in range(20):
        worker.run_in_background(lambda: threading.current_thread().name,
                                 on_done=names.add)
    tick_until(lambda: worker.pending() == 0)
    out["thread_names"] = sorted(names)
    out["daemon"] = all(t.daemon for t in threading.enumerate()
                        if t.name.startswith("ui-worker"))

    # shutdown() cancels what has not started; pending() does not stay up for it.
    gate = threading.Event()
    for _ in range(6):
        worker.run_in_background(gate.wait, 10)
    worker.shutdown()
    gate.set()
    tick_until(lambda: worker.pending() == 0)
    # ... and the next task starts a fresh pool.
    worker.run_in_background(lambda: "again", on_done=lambda v: out.setdefault("again", v))
    tick_until(lambda: worker.pending() == 0)
    worker.shutdown(wait=True)
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def outcome(tmp_path_factory) -> dict:
    data = tmp_path_factory.mktemp("worker")
    result = subprocess.run([sys.executable, "-c", SCENARIO, str(data)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_result_is_delivered_on_the_main_thread(outcome):
    assert outcome["result"]["sum"] == 50
    assert outcome["result"]["thread"].startswith("ui-worker-")
    assert outcome["done_on_main"] is True
    # Only a Clock tick on the main thread delivers it.
    assert outcome["delivered_before_tick"] is False


def test_errors_go_to_on_error_on_the_main_thread(outcome):
    assert outcome["error"] == ["ValueError", "no printer"]
    assert outcome["error_on_main"] is True


def test_an_error_without_on_error_is_logged(outcome):
    assert outcome["logged"] == ["background task fail failed"]


def test_pending_counts_until_the_callback_has_run(outcome):
    assert outcome["pending_while_running"] == 2
    assert outcome["pending_while_blocked"] == 1
    assert outcome["pending_before_tick"] == 1
    # Still counted inside its own callback: the UI is updating.
    assert outcome["pending_in_callback"] == 1
    assert outcome["pending_after"] == 0


def test_a_few_named_daemon_threads_do_the_work(outcome):
    assert 1 <= len(outcome["thread_names"]) <= 4
    assert all(name.startswith("ui-worker-") for name in outcome["thread_names"])
    assert outcome["daemon"] is True


def test_shutdown_cancels_waiting_tasks_and_a_new_pool_starts_on_demand(outcome):
    assert outcome["again"] == "again"


def test_importing_the_worker_does_not_import_kivy():
    code = "import sys, ui.worker; sys.exit('kivy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0
