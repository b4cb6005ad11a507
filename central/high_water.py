"""A restored device's catch-up (docs/operations/backup.md): the events central holds from
that device after the outbox position its backup recorded, bodies as the device sent them.

The device adopts them (core/backup.py): their audit entries close its audit chain up to
what central holds (so what it records next follows on, not a fork), they stand in its
outbox as sent, and the numbers they carry (tickets, receipts, licences, applications,
bills) become its sequences' high-water marks, so no number issued after the backup is
issued again. Only the device itself (its bearer token) reads its own events."""
from __future__ import annotations

import sqlalchemy as sa
from fastapi import FastAPI, Header, Query
from pydantic import BaseModel, Field

from .db import events
from .service import Central

TAIL_PATH = "/v1/devices/self/tail"


class DeviceTail(BaseModel):
    device: str = Field(description="office/device of the token")
    after_seq: int
    last_seq: int = Field(description="the highest outbox seq central holds from it")
    more: bool = Field(description="another page follows (ask again after the last seq)")
    events: list[str] = Field(description="each event's body as the device sent it "
                                          "(canonical JSON), oldest first")


def tail(central: Central, device: dict, after_seq: int, limit: int) -> dict:
    """This device's events with an outbox seq above after_seq, oldest first (at most
    limit); `more`: a further page waits; `last_seq`: the highest seq central holds."""
    key = device["key"]
    with central.engine.connect() as conn:
        rows = conn.execute(sa.select(events.c.seq, events.c.body)
                            .where(events.c.device_key == key, events.c.seq > after_seq)
                            .order_by(events.c.seq).limit(limit + 1)).all()
        last = conn.execute(sa.select(sa.func.max(events.c.seq))
                            .where(events.c.device_key == key)).scalar()
    return {"device": key, "after_seq": after_seq, "last_seq": last or 0,
            "more": len(rows) > limit, "events": [r.body for r in rows[:limit]]}


def add_high_water_routes(app: FastAPI, central: Central) -> None:
    from .app import ERRORS

    @app.get(TAIL_PATH, response_model=DeviceTail, responses=ERRORS, tags=["devices"])
    def device_tail(after_seq: int = Query(0, ge=0), limit: int = Query(1000, ge=1, le=5000),
                    authorization: str | None = Header(default=None)):
        """The calling device's events after its backup's outbox position (a restore's
        high-water marks: docs/operations/backup.md). Bodies are canonical JSON text."""
        return tail(central, central.authenticate(authorization), after_seq, limit)
