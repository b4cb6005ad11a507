"""Live queue updates for counters and display boards (server-sent events).

The board's picture and the calls to announce are core's (Queue.board, Queue.calls_since).
One poller per hub watches the queue's change marker (the newest ticket event's id, which
grows with every change, whichever process made it). On a change it works out the calls to
announce and the board's new picture once, and hands both to every open stream. A stream
that falls behind is dropped; its browser or counter reconnects and starts from a fresh
picture, so a slow TV never holds the hub's memory."""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.responses import StreamingResponse

log = logging.getLogger("nafitha.hub")

POLL_S = 0.2
STREAM_QUEUE = 64  # messages a stream may fall behind before it is dropped
HEARTBEAT_S = 15.0  # a quiet stream sends a comment this often (and finds a gone client)
def sse(event: str, data: dict, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


class Live:
    """The poller and the open streams. Runs on the server's event loop."""

    def __init__(self, office, poll_s: float = POLL_S):
        self.office = office
        self.poll_s = poll_s
        self.streams: set[asyncio.Queue] = set()
        self.marker = 0
        self.snapshot: dict | None = None
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self.marker = await asyncio.to_thread(self.office.queue.change_marker)
        self.snapshot = await asyncio.to_thread(self.office.queue.board)
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        for q in list(self.streams):
            q.put_nowait(None)
        if self._task is not None:
            self._task.cancel()

    def poke(self) -> None:
        """Look now (called from a request's thread after it changed the queue)."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_s)
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                await self._check()
            except Exception:  # noqa: BLE001 - the poller must outlive one bad read
                log.exception("live updates: reading the queue failed")
                await asyncio.sleep(1.0)

    async def _check(self) -> None:
        marker = await asyncio.to_thread(self.office.queue.change_marker)
        if marker == self.marker:
            return
        calls = await asyncio.to_thread(self.office.queue.calls_since, self.marker)
        self.snapshot = await asyncio.to_thread(self.office.queue.board)
        self.marker = marker
        message = {"marker": marker, "calls": calls, "snapshot": self.snapshot}
        for q in list(self.streams):
            try:
                q.put_nowait(message)
            except asyncio.QueueFull:
                # Fell behind: end the stream; its client reconnects to a fresh picture.
                self.streams.discard(q)
                while not q.empty():
                    q.get_nowait()
                q.put_nowait(None)

    def subscribe(self) -> asyncio.Queue:
        q: asyncio.Queue = asyncio.Queue(STREAM_QUEUE)
        self.streams.add(q)
        return q

    def unsubscribe(self, q: asyncio.Queue) -> None:
        self.streams.discard(q)


def event_stream(request: Request, live: Live, first: Callable[[], Awaitable[list[str]]],
                 on_change: Callable[[dict], Awaitable[list[str]]]) -> StreamingResponse:
    """One client's server-sent events: what `first()` gives on connect, then what
    `on_change(message)` gives for each of the poller's messages (an empty list sends
    nothing), a comment when quiet. Subscribed before the first look, so no change falls
    between the two; ends when the poller drops it (it fell behind) or the client left."""
    async def body():
        q = live.subscribe()
        try:
            yield "retry: 1000\n\n"
            for chunk in await first():
                yield chunk
            while True:
                try:
                    # asyncio.timeout, not wait_for: wait_for makes a task per message, and
                    # 500 phones' streams wake at every queue change (bench/phone.py).
                    async with asyncio.timeout(HEARTBEAT_S):
                        message = await q.get()
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield ": ping\n\n"
                    continue
                if message is None:
                    return
                for chunk in await on_change(message):
                    yield chunk
        finally:
            live.unsubscribe(q)

    return StreamingResponse(body(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
