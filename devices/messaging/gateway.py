"""What the sender sees of an SMS gateway, whatever its make (docs/messages.md).

    gateway_id = gateway.send(ref, "+97336001234", text)

`ref` is the message's unique reference: a gateway that de-duplicates (`dedupes`) drops a
second send under the same ref, so a resend after a timeout is never a second SMS. Each way a
send can end is its own error, with its own stable code:

    GatewayUnavailable  nothing was sent (no connection, the gateway down or refusing our
                        credentials): try again later, the attempt does not count
    GatewayTimeout      sent, no answer: it may have been delivered (resend under the same
                        ref only to a gateway that de-duplicates)
    GatewayThrottled    the gateway asks us to slow down (retry_after seconds)
    GatewayRejected     refused for good (a number it cannot reach, a text it will not take)
    GatewayDuplicate    it already has this ref: the message was sent (gateway_id if known)
"""
from __future__ import annotations

import re
from abc import ABC, abstractmethod

from core.errors import DeviceError

REFERENCE = re.compile(r"[A-Za-z0-9:_.-]{1,64}")
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
MAX_TEXT = 1000  # characters; a template's message is a few hundred at most


class GatewayError(DeviceError):
    code = "gateway_error"


class GatewayUnavailable(GatewayError):
    code = "gateway_unavailable"

    def __init__(self, message: str, retry_after: float | None = None, **details):
        super().__init__(message, **details)
        self.retry_after = retry_after


class GatewayTimeout(GatewayError):
    code = "gateway_timeout"


class GatewayThrottled(GatewayError):
    code = "gateway_throttled"

    def __init__(self, message: str, retry_after: float = 30.0, **details):
        super().__init__(message, retry_after=retry_after, **details)
        self.retry_after = retry_after


class GatewayRejected(GatewayError):
    code = "gateway_rejected"


class GatewayDuplicate(GatewayError):
    code = "gateway_duplicate"

    def __init__(self, message: str, gateway_id: str | None = None, **details):
        super().__init__(message, gateway_id=gateway_id, **details)
        self.gateway_id = gateway_id


def check_send(ref: object, to: object, text: object) -> None:
    """A GatewayRejected for anything a gateway must never be sent; nothing leaves."""
    if not isinstance(ref, str) or not REFERENCE.fullmatch(ref):
        raise GatewayRejected(f"message reference {ref!r} is not 1-64 letters, digits or :_.-")
    if not isinstance(to, str) or not E164.fullmatch(to):
        raise GatewayRejected(f"{to!r} is not an international number (+ and 7-15 digits)")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        raise GatewayRejected(f"a message's text is 1-{MAX_TEXT} characters")


class Gateway(ABC):
    name = "gateway"
    # True: a second send under the same ref is dropped by the gateway (a timed-out message
    # may be resent); False: a timed-out message is marked failed rather than risk two.
    dedupes = True

    @abstractmethod
    def send(self, ref: str, to: str, text: str) -> str:
        """Hand one message to the gateway; its id there. Raises the errors above."""

    def close(self) -> None:
        """Let go of connections (and a simulator started for this gateway)."""
