"""Raw HTTP/1.1 over a socket, to send what a well-behaved client library will not: a
declared length with no body, a chunked body that never ends (tests of core/http_policy.py
against the hub and central)."""
from __future__ import annotations

import json
import socket
import ssl
import time
from urllib.parse import urlparse


def raw_request(url: str, path: str, head_lines: list[str], chunks=(), timeout_s=10.0):
    """Send the request line, `head_lines` and then each chunk; returns (status, headers,
    json body, seconds to the answer). Stops sending once the server has answered."""
    parsed = urlparse(url)
    began = time.monotonic()
    with socket.create_connection((parsed.hostname, parsed.port), timeout=timeout_s) as sock:
        if parsed.scheme == "https":  # a hub: its own certificate, not checked by a probe
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
            sock = context.wrap_socket(sock)
        head = [f"POST {path} HTTP/1.1", f"Host: {parsed.hostname}",
                "Content-Type: application/json", *head_lines, "", ""]
        sock.sendall("\r\n".join(head).encode())
        try:
            for chunk in chunks:
                sock.sendall(chunk)
        except OSError:
            pass  # the server answered and closed: what a refusal before reading looks like
        data = b""
        while b"\r\n\r\n" not in data:
            part = sock.recv(65536)
            if not part:
                break
            data += part
        head_text, _, rest = data.partition(b"\r\n\r\n")
        lines = head_text.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in
                                                          lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            part = sock.recv(65536)
            if not part:
                break
            rest += part
    status = int(lines[0].split()[1])
    return status, headers, json.loads(rest[:length] or b"null"), time.monotonic() - began


def endless_chunks(size: int = 64 * 1024, count: int = 4000):
    """About 256 MB in chunks, if anyone kept reading."""
    piece = b"x" * size
    for _ in range(count):
        yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
