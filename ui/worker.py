"""Device and store work off the Kivy main thread (DESIGN.md house style 4).

    run_in_background(store.submit_application, draft,
                      on_done=self.show_receipt, on_error=self.show_error)

`fn(*args, **kwargs)` runs on a small shared pool of worker threads; its result (or the
exception it raised) is handed to `on_done(result)` / `on_error(exc)` on the Kivy main thread
through `Clock.schedule_once`, so callbacks may touch widgets and view-model properties.

`pending()` counts tasks whose callbacks have not run yet: the test pilot waits for it to
reach 0 before it reads the screen, so a test never sees a half-finished update.

The workers are daemon threads. concurrent.futures.ThreadPoolExecutor joins its threads when
the interpreter exits, so one printer call stuck in a USB timeout would keep a kiosk that
was told to stop from ever exiting; here a stopped app exits and the stuck call dies with it.
Kivy is imported only when a result is delivered, so this module imports without a display.
"""
from __future__ import annotations

import itertools
import logging
import queue
import threading
from concurrent.futures import Future
from typing import Any, Callable

log = logging.getLogger("nafitha.ui.worker")

WORKERS = 4


class _DaemonPool:
    """A fixed number of daemon threads taking (future, fn, args, kwargs) from a queue."""

    _pool_numbers = itertools.count(1)

    def __init__(self, workers: int):
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._workers = workers
        self._number = next(self._pool_numbers)
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn: Callable, *args, **kwargs) -> Future:
        future: Future = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the UI worker pool is shut down")
            self._queue.put((future, fn, args, kwargs))
            # One more thread per task until there are `workers`: an idle kiosk has none.
            if len(self._threads) < self._workers:
                thread = threading.Thread(
                    target=self._work, daemon=True,
                    name=f"ui-worker-{self._number}-{len(self._threads) + 1}")
                self._threads.append(thread)
                thread.start()
        return future

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            future, fn, args, kwargs = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # handed to on_error, never lost
                future.set_exception(exc)
            else:
                future.set_result(result)

    def shutdown(self, wait: bool = False, timeout: float | None = None) -> None:
        with self._lock:
            self._closed = True
            # Tasks that have not started are cancelled (their done callbacks still run).
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    item[0].cancel()
            for _ in self._threads:
                self._queue.put(None)
            threads = list(self._threads)
        if wait:
            for thread in threads:
                thread.join(timeout)


_pool: _DaemonPool | None = None
_pool_lock = threading.Lock()
_pending = 0
_pending_lock = threading.Lock()


def _get_pool() -> _DaemonPool:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = _DaemonPool(WORKERS)
        return _pool


def _add_pending(delta: int) -> None:
    global _pending
    with _pending_lock:
        _pending += delta


def pending() -> int:
    """Tasks submitted whose result has not been handed to its callback yet."""
    with _pending_lock:
        return _pending


def run_in_background(fn: Callable[..., Any], *args,
                      on_done: Callable[[Any], Any] | None = None,
                      on_error: Callable[[BaseException], Any] | None = None,
                      **kwargs) -> Future:
    """Run fn(*args, **kwargs) on a worker thread; then, on the Kivy main thread, call
    on_done(result) or on_error(exception). Without on_error an exception is logged (with
    its traceback) to the "nafitha.ui.worker" logger. Returns the Future (for tests and
    cancellation; do not block the UI thread on it).

    A callback that raises propagates into Kivy's event loop like any other UI bug."""
    _add_pending(1)
    try:
        future = _get_pool().submit(fn, *args, **kwargs)
    except BaseException:
        _add_pending(-1)
        raise
    name = getattr(fn, "__qualname__", repr(fn))
    future.add_done_callback(lambda f: _deliver(f, name, on_done, on_error))
    return future


def _deliver(future: Future, name: str, on_done, on_error) -> None:
    """Runs on the worker thread (or the submitting one if the task was cancelled)."""
    if future.cancelled():
        _add_pending(-1)
        return
    try:
        from kivy.clock import Clock
    except BaseException:
        _add_pending(-1)
        raise

    def on_main_thread(_dt):
        try:
            exc = future.exception()
            if exc is None:
                if on_done is not None:
                    on_done(future.result())
            elif on_error is not None:
                on_error(exc)
            else:
                log.error("background task %s failed", name, exc_info=exc)
        finally:
            _add_pending(-1)

    Clock.schedule_once(on_main_thread, 0)


def shutdown(wait: bool = False, timeout: float | None = 5.0) -> None:
    """Stop the workers (call from App.on_stop). Tasks not started yet are cancelled;
    running ones finish (their callbacks may then never run if the loop has stopped).
    wait=True joins the threads for up to `timeout` seconds each. A later
    run_in_background() starts a fresh pool."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=wait, timeout=timeout)
