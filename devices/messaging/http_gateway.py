"""A generic HTTP SMS gateway, in the shape most providers share:

    POST <url>   Authorization: Bearer <api key>
                 {"to": "+97336001234", "text": "...", "reference": "<ref>"}
                 (+ "channel": "whatsapp" where residents are reached on WhatsApp: the
                 aggregators that carry it take the same shape; sms sends no channel)
    2xx          {"id": "<the provider's message id>"}   (also "message_id" / "messageId")
    409          the reference was seen before: {"id": ...} of the first message
    429          slow down; Retry-After: seconds
    5xx, 401/403 not taken now (the provider down, or our key refused): try later
    other 4xx    refused for good (a bad number)

Short timeouts (connect at most 3 s): a read timeout means "sent, no answer", which the
provider's de-duplication by reference makes safe to resend."""
from __future__ import annotations

import requests
import urllib3

from .gateway import (Gateway, GatewayDuplicate, GatewayRejected, GatewayThrottled,
                      GatewayTimeout, GatewayUnavailable, check_send)

USER_AGENT = "nafitha-messages/1"


class HttpGateway(Gateway):
    name = "http"
    dedupes = True

    def __init__(self, url: str, api_key: str, timeout_s: float = 5.0,
                 session: requests.Session | None = None, on_close=None,
                 channel: str = "sms"):
        self.url = url
        self.channel = channel
        self.timeout = (min(3.0, timeout_s), timeout_s)
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        if api_key:
            self.session.headers["Authorization"] = f"Bearer {api_key}"
        self._on_close = on_close

    def send(self, ref: str, to: str, text: str) -> str:
        check_send(ref, to, text)
        try:
            body = {"to": to, "text": text, "reference": ref}
            if self.channel != "sms":
                body["channel"] = self.channel
            response = self.session.post(self.url, json=body, timeout=self.timeout)
        except requests.ConnectTimeout:
            raise GatewayUnavailable(f"the SMS gateway at {self.url} did not accept a "
                                     f"connection")
        except requests.ReadTimeout:
            raise GatewayTimeout(f"the SMS gateway took the message {ref} but did not answer "
                                 f"within {self.timeout[1]:g} s")
        except requests.ConnectionError as exc:
            reason = getattr(exc.args[0], "reason", None) if exc.args else None
            if isinstance(reason, urllib3.exceptions.NewConnectionError):
                raise GatewayUnavailable(f"the SMS gateway at {self.url} is unreachable")
            # The connection broke after the request went: it may have been taken.
            raise GatewayTimeout(f"the connection to the SMS gateway broke while sending "
                                 f"{ref}")
        except requests.RequestException as exc:
            raise GatewayUnavailable(f"the request to the SMS gateway failed: "
                                     f"{type(exc).__name__}")
        status = response.status_code
        body = _json(response)
        gateway_id = _message_id(body)
        if 200 <= status < 300:
            return gateway_id or ""
        if status == 409:
            raise GatewayDuplicate(f"the SMS gateway already has {ref}", gateway_id=gateway_id)
        if status == 429:
            raise GatewayThrottled("the SMS gateway asks to slow down",
                                   retry_after=_retry_after(response) or 30.0)
        message = (body.get("message") or body.get("error")) if isinstance(body, dict) else None
        if status >= 500 or status in (401, 403, 408):
            raise GatewayUnavailable(f"the SMS gateway did not take it ({status}"
                                     f"{': ' + str(message)[:120] if message else ''})",
                                     retry_after=_retry_after(response), status=status)
        raise GatewayRejected(f"the SMS gateway refused it ({status}"
                              f"{': ' + str(message)[:120] if message else ''})", status=status)

    def close(self) -> None:
        self.session.close()
        if self._on_close is not None:
            self._on_close()


def _json(response):
    try:
        return response.json()
    except ValueError:
        return None


def _message_id(body) -> str | None:
    if not isinstance(body, dict):
        return None
    for key in ("id", "message_id", "messageId"):
        if body.get(key) is not None:
            return str(body[key])[:100]
    return None


def _retry_after(response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
