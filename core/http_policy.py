"""What every HTTP server of ours enforces before a route runs (the hub, central): a request
body is refused over its limit before it is read, and every answer carries the security
headers. Plain ASGI, no web framework imported: hub/app.py and central/app.py wrap their
apps in it (`app.add_middleware(HttpPolicy, ...)`)."""
from __future__ import annotations

import json

DEFAULT_MAX_BODY = 64 * 1024  # a form, a pairing code, a decision: far below this
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    # Our pages load only what our own server serves (no CDN, no inline script).
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; "
                                 b"object-src 'none'; frame-ancestors 'none'; base-uri 'none'"),
)


class HttpPolicy:
    """ASGI middleware. max_body: the limit in bytes for any route; body_limits: {path:
    bytes} for the routes that take more (central's event batches, a page of a document); a
    path ending in "/" covers every path under it (one upload path per file)."""

    def __init__(self, app, max_body: int = DEFAULT_MAX_BODY,
                 body_limits: dict[str, int] | None = None):
        self.app = app
        self.max_body = max_body
        self.body_limits = dict(body_limits or {})

    def limit_for(self, path: str) -> int:
        if path in self.body_limits:
            return self.body_limits[path]
        return next((limit for prefix, limit in self.body_limits.items()
                     if prefix.endswith("/") and path.startswith(prefix)), self.max_body)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        refused = False

        async def send_with_headers(message):
            if refused:
                return  # the 413 is already on its way: whatever the route says is dropped
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message = {**message, "headers": [
                    *message.get("headers", []),
                    *((n, v) for n, v in SECURITY_HEADERS if n not in present)]}
            await send(message)

        declared = _content_length(scope)
        if declared == -1:
            await _refuse(send_with_headers, 400, "bad_request",
                          "Content-Length is not a number")
            return
        if declared is not None and declared > limit:
            await _refuse(send_with_headers, 413, "too_large",
                          f"the request body is {declared} bytes; the limit here is {limit}")
            return
        received = 0

        async def counted_receive():
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # A body sent without a length (chunked) grew past the limit: answer
                    # now, read no more, and let the route see the client gone.
                    await _refuse(send_with_headers, 413, "too_large",
                                  f"the request body is over the limit here ({limit} "
                                  f"bytes)")
                    refused = True
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, counted_receive, send_with_headers)


def _content_length(scope) -> int | None:
    """The declared length; None when absent, -1 when it is not a number."""
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else -1
    return None


async def _refuse(send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": code, "message": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
