"""A recording gateway for the sender's tests (DESIGN.md house style 3): what it was given,
what it "delivered", and scripted outcomes.

    gateway = RecordingGateway()
    gateway.play("timeout", "throttle")   # the next sends' fates, then "ok"
    gateway.delivered                     # [(ref, to, text)], each ref once if dedupes

Outcomes: ok; timeout (delivered, then GatewayTimeout); lost (GatewayTimeout, not
delivered); throttle; reject; unavailable."""
from __future__ import annotations

import itertools

from .gateway import (Gateway, GatewayDuplicate, GatewayRejected, GatewayThrottled,
                      GatewayTimeout, GatewayUnavailable, check_send)

OUTCOMES = ("ok", "timeout", "lost", "throttle", "reject", "unavailable")


class RecordingGateway(Gateway):
    name = "recording"

    def __init__(self, dedupes: bool = True, retry_after: float = 5.0):
        self.dedupes = dedupes
        self.retry_after = retry_after
        self.calls: list[tuple[str, str, str]] = []
        self.delivered: list[tuple[str, str, str]] = []
        self._script: list[str] = []
        self._ids = itertools.count(1)
        self._by_ref: dict[str, str] = {}
        self.closed = False

    def play(self, *outcomes: str) -> None:
        for outcome in outcomes:
            if outcome not in OUTCOMES:
                raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
        self._script.extend(outcomes)

    def send(self, ref: str, to: str, text: str) -> str:
        check_send(ref, to, text)
        self.calls.append((ref, to, text))
        outcome = self._script.pop(0) if self._script else "ok"
        if outcome == "unavailable":
            raise GatewayUnavailable("the recording gateway is away")
        if outcome == "throttle":
            raise GatewayThrottled("slow down", retry_after=self.retry_after)
        if outcome == "reject":
            raise GatewayRejected("no such number")
        if outcome == "lost":
            raise GatewayTimeout("no answer (and nothing delivered)")
        if self.dedupes and ref in self._by_ref:
            raise GatewayDuplicate(f"already have {ref}", gateway_id=self._by_ref[ref])
        gateway_id = f"REC{next(self._ids)}"
        self._by_ref[ref] = gateway_id
        self.delivered.append((ref, to, text))
        if outcome == "timeout":
            raise GatewayTimeout("delivered, no answer")
        return gateway_id

    def close(self) -> None:
        self.closed = True
