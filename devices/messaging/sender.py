"""The sender: one background loop (core/coordinator.py) that looks for what is due
(Messages.queue_changed), then hands each due message to the gateway (docs/messages.md).

- Each message is claimed just before its send (its attempt counted, its next attempt a
  lease ahead), so a sender that dies mid-send leaves it to be retried under the same ref.
- Sent, or a duplicate (the gateway already had the ref): sent. Rejected: failed.
- Throttled: retried after what the gateway asked, and the loop backs off as long.
- Timed out (it may have gone): retried under the same ref if the gateway de-duplicates,
  else failed rather than risk a second SMS.
- Unavailable (nothing went): released without counting the attempt; the loop backs off
  (logging once when the gateway goes and once when it is back) and sends when it is back.
- Never after its moment: Messages.claim refuses an expired message.
"""
from __future__ import annotations

import logging
import time

from core.coordinator import IDLE, Coordinator, Unavailable

from .gateway import (Gateway, GatewayDuplicate, GatewayRejected, GatewayThrottled,
                      GatewayTimeout, GatewayUnavailable)

log = logging.getLogger("nafitha.messages")
BATCH = 20
PURGE_EVERY_S = 3600.0


class MessageSender:
    def __init__(self, office, gateway: Gateway, batch: int = BATCH):
        self.office = office
        self.messages = office.messages
        self.gateway = gateway
        self.batch = batch
        self._next_purge = 0.0

    def poll(self):
        """Queue what is due, then send what is queued: {"sent": n, "failed": n}, or IDLE
        when there was nothing to send. Raises Unavailable when the gateway is away or asks
        to slow down (the loop backs off)."""
        self.messages.queue_changed()
        if time.monotonic() >= self._next_purge:
            self._next_purge = time.monotonic() + PURGE_EVERY_S
            self.messages.purge()
        due = self.messages.due(self.batch)
        if not due:
            return IDLE
        sent = failed = 0
        for row in due:
            outcome = self.send_one(row["id"])
            sent += outcome == "sent"
            failed += outcome == "failed"
        return {"sent": sent, "failed": failed}

    def send_one(self, message_id: str) -> str | None:
        """Send one queued message now if it may be: the state it is left in (None: it was
        not sendable, e.g. expired or claimed by another sender)."""
        m = self.messages
        claimed = m.claim(message_id)
        if claimed is None:
            return None
        try:
            gateway_id = self.gateway.send(claimed["ref"], claimed["number"], claimed["text"])
        except GatewayDuplicate as exc:
            m.mark_sent(message_id, exc.gateway_id, duplicate=True)
            return "sent"
        except GatewayRejected as exc:
            m.mark_failed(message_id, f"rejected: {exc.message}")
            return "failed"
        except GatewayThrottled as exc:
            m.mark_retry(message_id, "throttled", exc.retry_after)
            raise Unavailable(f"the SMS gateway asks to slow down ({exc.retry_after:g} s)",
                              retry_after=exc.retry_after)
        except GatewayTimeout as exc:
            if self.gateway.dedupes:
                m.mark_retry(message_id, "timeout")
            else:
                m.mark_failed(message_id, "timeout: it may have been delivered; not resent "
                                          "(the gateway does not de-duplicate)")
            raise Unavailable(exc.message)
        except GatewayUnavailable as exc:
            m.release(message_id, f"unavailable: {exc.message}")
            raise Unavailable(exc.message, retry_after=exc.retry_after)
        m.mark_sent(message_id, gateway_id)
        return "sent"


def sender_loop(office, gateway: Gateway, idle_s: float = 1.0, max_backoff_s: float = 60.0,
                sleep=None) -> Coordinator:
    """The sender's Coordinator (not started): polls every idle_s, backs off while the
    gateway is away."""
    sender = MessageSender(office, gateway)
    loop = Coordinator(f"messages via {gateway.name}", sender.poll, log, idle_s=idle_s,
                       retry_s=1.0, max_backoff_s=max_backoff_s, sleep=sleep)
    loop.sender = sender
    return loop


def start_sender(office, idle_s: float = 1.0):
    """Where the sync agent runs (`hub serve`, `sync run`): the sender loop started on its
    own thread when the [messages] settings name a gateway; a function that stops it (and
    closes the gateway), or None when messages are off."""
    from . import open_gateway
    gateway = open_gateway(office.settings.messages)
    if gateway is None:
        return None
    _ = office.messages.templates  # a bad templates file stops the start, in words
    loop = sender_loop(office, gateway, idle_s=idle_s).start()
    log.info("messages: sending through the %s gateway", gateway.name)

    def stop() -> None:
        loop.stop()
        gateway.close()
    return stop
