"""The ECR-style wire protocol between the kiosk and a card terminal (docs/payment.md).

    frame = STX + fields joined by FS (printable ASCII) + ETX + LRC
    LRC   = XOR of every byte after STX up to and including ETX

The receiver answers a good frame with ACK and a frame with a bad LRC with NAK; the sender
sends a frame again on NAK or when no ACK comes within the ACK timeout, at most
`max_resends` times. Both ends use `Link`: the client over pyserial, the simulator over the
master side of a pseudo-terminal.

Messages (kiosk -> terminal): SALE ref amount currency | STATUS ref | CANCEL ref | PING |
                              BATCH | SETTLE
Replies (terminal -> kiosk):  RESULT ref status amount currency authcode last4 message tid
                              stan | WAIT ref text | PONG READY|BUSY |
                              ENTRY tid stan authcode ref amount currency time (one per
                              approval since the last settlement), then
                              BATCHEND tid count total | SETTLED tid count total
RESULT status: APPROVED, DECLINED, CANCELLED, TIMEOUT, UNKNOWN (never seen), PENDING (the
answer to STATUS while that sale is still in progress). An approval's reference is
tid-stan-authcode (core.payments.TERMINAL_REF).
"""
from __future__ import annotations

import logging
import time
from collections import deque
from typing import Callable, Protocol, Sequence

from .terminal import PaymentTerminalError

log = logging.getLogger("nafitha.payment.protocol")

STX, ETX, FS, ACK, NAK = 0x02, 0x03, 0x1C, 0x06, 0x15
MAX_FRAME_BYTES = 1024  # far above any message; bounds the garbage a noisy line can pile up
RESULT_STATUSES = ("APPROVED", "DECLINED", "CANCELLED", "TIMEOUT", "UNKNOWN", "PENDING")
RESULT_FIELDS = 10  # RESULT ref status amount currency authcode last4 message tid stan
ENTRY_FIELDS = 8    # ENTRY tid stan authcode ref amount currency time
BATCHEND_FIELDS = 4  # BATCHEND tid count total (SETTLED the same)


def lrc(data: bytes) -> int:
    value = 0
    for byte in data:
        value ^= byte
    return value


def _check_field(field: str) -> bytes:
    if not isinstance(field, str) or not field.isascii() or not field.isprintable():
        raise PaymentTerminalError(f"frame field {field!r} must be printable ASCII text")
    return field.encode("ascii")


def encode_frame(fields: Sequence[str]) -> bytes:
    """STX + fields + ETX + LRC. Raises PaymentTerminalError for a field that is not
    printable ASCII (it could not be told apart from the framing)."""
    if not fields:
        raise PaymentTerminalError("a frame needs at least the message name")
    body = bytes([FS]).join(_check_field(f) for f in fields) + bytes([ETX])
    return bytes([STX]) + body + bytes([lrc(body)])


def decode_frame(frame: bytes) -> list[str]:
    """The fields of one complete frame; PaymentTerminalError if it is not one."""
    events = FrameReader().feed(frame)
    if len(events) != 1 or events[0][0] != "frame":
        raise PaymentTerminalError(f"not one good frame: {frame.hex(' ')}")
    return events[0][1]


class FrameReader:
    """Splits a byte stream into ("ack",), ("nak",), ("frame", fields) and ("bad", raw)
    events. Bytes outside a frame other than ACK/NAK are line noise and skipped."""

    def __init__(self):
        self._body: bytearray | None = None  # None: between frames
        self._want_lrc = False

    def feed(self, data: bytes) -> list[tuple]:
        events: list[tuple] = []
        for byte in data:
            if self._want_lrc:
                body = bytes(self._body) + bytes([ETX])
                self._body, self._want_lrc = None, False
                events.append(self._decoded(body[:-1]) if lrc(body) == byte
                              else ("bad", bytes([STX]) + body + bytes([byte])))
            elif self._body is None:
                if byte == STX:
                    self._body = bytearray()
                elif byte == ACK:
                    events.append(("ack",))
                elif byte == NAK:
                    events.append(("nak",))
            elif byte == ETX:
                self._want_lrc = True
            elif byte == STX:  # a new frame began: the one before was cut short
                events.append(("bad", bytes([STX]) + bytes(self._body)))
                self._body = bytearray()
            else:
                self._body.append(byte)
                if len(self._body) > MAX_FRAME_BYTES:
                    events.append(("bad", bytes([STX]) + bytes(self._body)))
                    self._body = None
        return events

    @staticmethod
    def _decoded(body: bytes) -> tuple:
        if any(b < 0x20 or b > 0x7E for b in body if b != FS):
            return ("bad", bytes([STX]) + body)  # the right LRC over bytes no one sends
        return ("frame", body.decode("ascii").split(chr(FS)))


class BytePort(Protocol):
    def read(self, timeout_s: float) -> bytes:
        """What arrived within timeout_s (b"" if nothing); raises when the line is gone."""

    def write(self, data: bytes) -> None: ...


class Link:
    """One end of the line: sends frames and waits for their ACK, acknowledges what
    arrives and keeps it in order for receive().

    accept(fields) -> bool, if given, is asked before a good frame is acknowledged; False
    means "stay silent" (no ACK, the frame is dropped), as a terminal that is down would.
    Test hooks: corrupt_next (send our next frames with a wrong LRC), nak_next (NAK the next
    good frames as if garbled), drop_next (ignore the next frames: no ACK at all)."""

    def __init__(self, port: BytePort, *, ack_timeout_s: float = 1.0, max_resends: int = 3,
                 accept: Callable[[list[str]], bool] | None = None, name: str = "link",
                 clock: Callable[[], float] = time.monotonic):
        self.port = port
        self.ack_timeout_s = ack_timeout_s
        self.max_resends = max_resends
        self.accept = accept
        self.name = name
        self.clock = clock
        self.inbox: deque[list[str]] = deque()
        self._reader = FrameReader()
        self.corrupt_next = self.nak_next = self.drop_next = 0
        self.naks_sent = self.naks_received = self.resends = 0

    def send(self, fields: Sequence[str]) -> bool:
        """True once the other end acknowledged the frame; False after 1 + max_resends
        tries without an ACK (nobody is listening)."""
        frame = encode_frame(fields)
        for attempt in range(1 + self.max_resends):
            if attempt:
                self.resends += 1
                log.debug("%s: sending %s again (try %d)", self.name, fields[0], attempt + 1)
            if self.corrupt_next > 0:
                self.corrupt_next -= 1
                self.port.write(frame[:-1] + bytes([frame[-1] ^ 0xFF]))
            else:
                self.port.write(frame)
            answer = self._await_ack(self.clock() + self.ack_timeout_s)
            if answer == "ack":
                return True
        return False

    def _await_ack(self, deadline: float) -> str | None:
        while True:
            remaining = deadline - self.clock()
            if remaining <= 0:
                return None
            for event in self._pump(remaining):
                if event == "ack":
                    return "ack"
                if event == "nak":
                    self.naks_received += 1
                    return "nak"

    def receive(self, timeout_s: float) -> list[str] | None:
        """The next frame from the other end (already acknowledged), or None after
        timeout_s. An ACK or NAK arriving here answers nothing we sent and is dropped."""
        deadline = self.clock() + timeout_s
        while not self.inbox:
            remaining = deadline - self.clock()
            if remaining <= 0:
                return None
            self._pump(remaining)
        return self.inbox.popleft()

    def _pump(self, timeout_s: float) -> list[str]:
        """Read once; acknowledge frames into the inbox; return the ACK/NAK seen."""
        controls = []
        for event in self._reader.feed(self.port.read(timeout_s)):
            kind = event[0]
            if kind in ("ack", "nak"):
                controls.append(kind)
            elif kind == "bad":
                log.debug("%s: bad frame %s, asking for it again", self.name,
                          event[1].hex(" "))
                self.naks_sent += 1
                self.port.write(bytes([NAK]))
            elif self.drop_next > 0:
                self.drop_next -= 1
            elif self.nak_next > 0:
                self.nak_next -= 1
                self.naks_sent += 1
                self.port.write(bytes([NAK]))
            elif self.accept is None or self.accept(event[1]):
                self.port.write(bytes([ACK]))
                self.inbox.append(event[1])
        return controls


def result_fields(reference: str, status: str, amount_minor: int | None = None,
                  currency: str = "", authcode: str = "", last4: str = "",
                  message: str = "", terminal_id: str = "", stan: str = "") -> list[str]:
    return ["RESULT", reference, status, "" if amount_minor is None else str(amount_minor),
            currency, authcode, last4, message, terminal_id, stan]
