"""A card terminal simulator on a pseudo-terminal: the kiosk's client opens `.port` (the slave
device path) with pyserial exactly as it would a real terminal, and the simulator answers on
the master side from a daemon thread, with the frame layer of protocol.py (ACK, NAK, LRC,
resends) and the terminal's memory of every reference it has seen.

It is the demo terminal of `payment.transport = "simulated"` (every sale approved unless
scripted otherwise) and the recording fake of the tests:

    with SimulatedTerminal() as sim:
        sim.script("declined", message="INSUFFICIENT FUNDS")
        SerialPaymentTerminal(sim.port).charge("K-1", 1500, "BHD")
        sim.charges    # [(reference, amount_minor, currency)] approved, once each
        sim.received   # every frame it accepted, as lists of fields

A scripted outcome is used by the next new SALE:
    approved / declined  the card is presented at once ("INSERT CARD", "ENTER PIN"), the
                         answer comes after delay_s; a CANCEL meanwhile is refused, as a
                         terminal cannot call back an authorisation in flight
    timeout              no card: no answer until CANCEL (delay_s > 0: the terminal gives up
                         by itself after delay_s with RESULT TIMEOUT)
    cancelled            the card holder presses cancel on the terminal after delay_s
    no_answer / offline  the terminal goes silent on that SALE (no ACK) and stays silent
                         until set_offline(False)

Its batch (BATCH: every approval since the last SETTLE) can play the differences the end of
the day's reconciliation must find: `add_unreported(reference, amount)` (an approval the
kiosk never reported), `omit(reference)` (an approval left out of the batch, as if the
terminal never made it) and `alter_amount(reference, amount)` (the batch shows another
amount).
"""
from __future__ import annotations

import itertools
import logging
import os
import select
import threading
import time
import tty
from collections import deque
from dataclasses import dataclass
from typing import Callable, Iterator

from core.money import CURRENCY_EXPONENT

from .protocol import Link, result_fields
from .terminal import MAX_AMOUNT_MINOR, REFERENCE_PATTERN

log = logging.getLogger("nafitha.payment.simulator")

SCRIPTED_OUTCOMES = ("approved", "declined", "timeout", "cancelled", "no_answer", "offline")
FINAL = ("APPROVED", "DECLINED")  # a SALE repeating these references gets the stored RESULT
IDLE_POLL_S = 0.05


@dataclass(frozen=True)
class _Script:
    outcome: str
    delay_s: float
    last4: str
    message: str | None


@dataclass
class _Sale:
    reference: str
    amount_minor: int
    currency: str
    script: _Script
    due: float | None        # when the terminal answers by itself; None: only on CANCEL
    cancellable: bool


class _Stopping(Exception):
    """stop() was called: leave whatever the thread is waiting for (an ACK, a frame)."""


class _MasterSide:
    """The master end of the pty as a Link BytePort; deaf and mute while offline."""

    def __init__(self, terminal: "SimulatedTerminal"):
        self.terminal = terminal

    def read(self, timeout_s: float) -> bytes:
        if self.terminal._stop.is_set():
            raise _Stopping()
        fd = self.terminal._master
        ready, _, _ = select.select([fd], [], [], max(0.0, timeout_s))
        if not ready:
            return b""
        try:
            data = os.read(fd, 4096)
        except OSError:  # the pty is being torn down
            return b""
        return b"" if self.terminal.offline else data

    def write(self, data: bytes) -> None:
        if self.terminal.offline:
            return
        self.terminal.sent.append(data)
        view = memoryview(data)
        while view:
            view = view[os.write(self.terminal._master, view):]


class SimulatedTerminal:
    """default: the outcome of a sale nothing was scripted for; default_delay_s its delay.
    auth_codes: the authorisation codes to hand out (default 000001, 000002, ...).
    ack_timeout_s / max_resends: its side of the frame layer."""

    def __init__(self, default: str = "approved", *, default_delay_s: float = 0.0,
                 ack_timeout_s: float = 1.0, max_resends: int = 3,
                 auth_codes: Iterator[str] | None = None, terminal_id: str = "T0000001",
                 clock: Callable[[], float] = time.monotonic):
        if default not in SCRIPTED_OUTCOMES:
            raise ValueError(f"default must be one of {SCRIPTED_OUTCOMES}, got {default!r}")
        self.default = _Script(default, default_delay_s, "4242", None)
        self.clock = clock
        self.auth_codes = auth_codes or (f"{n:06d}" for n in itertools.count(1))
        self.terminal_id = terminal_id
        self._stans = (f"{n:06d}" for n in itertools.count(1))  # one trace number a sale
        # The current batch: (ENTRY fields) of each approval since the last SETTLE.
        self.batch: list[list[str]] = []
        self.settlements: list[list[list[str]]] = []
        self.charges: list[tuple[str, int, str]] = []
        self.received: list[list[str]] = []
        self.sent: list[bytes] = []        # raw bytes written to the line, ACK/NAK included
        self.results: dict[str, list[str]] = {}  # reference -> the RESULT it recorded
        self.offline = False
        self._scripts: deque[_Script] = deque()
        self._outbox: deque[list[str]] = deque()  # injected frames, sent by the thread
        self._sale: _Sale | None = None
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # bytes as sent: no echo, no CR/LF translation
        self.port = os.ttyname(self._slave)
        self.link = Link(_MasterSide(self), ack_timeout_s=ack_timeout_s,
                         max_resends=max_resends, accept=self._accept,
                         name="simulated terminal", clock=clock)

    # --- test controls ----------------------------------------------------------------------

    def script(self, outcome: str, delay_s: float = 0, last4: str = "4242",
               message: str | None = None) -> "SimulatedTerminal":
        """Queue the outcome of the next new SALE (see the module docstring)."""
        if outcome not in SCRIPTED_OUTCOMES:
            raise ValueError(f"outcome must be one of {SCRIPTED_OUTCOMES}, got {outcome!r}")
        if not (isinstance(last4, str) and len(last4) == 4 and last4.isdigit()):
            raise ValueError(f"last4 must be 4 digits, got {last4!r}")
        with self._lock:
            self._scripts.append(_Script(outcome, float(delay_s), last4, message))
        return self

    def add_unreported(self, reference: str, amount_minor: int, currency: str = "BHD",
                       authcode: str = "U00001") -> str:
        """Fault: an approval in the batch that no kiosk reported. Its terminal reference."""
        with self._lock:
            stan = next(self._stans)
            self.batch.append(["ENTRY", self.terminal_id, stan, authcode, reference,
                               str(amount_minor), currency, time.strftime("%H%M%S")])
        return f"{self.terminal_id}-{stan}-{authcode}"

    def omit(self, reference: str) -> None:
        """Fault: the batch leaves out the approval of this sale reference."""
        with self._lock:
            self.batch = [e for e in self.batch if e[4] != reference]

    def alter_amount(self, reference: str, amount_minor: int) -> None:
        """Fault: the batch shows another amount for the approval of this sale reference."""
        with self._lock:
            for entry in self.batch:
                if entry[4] == reference:
                    entry[5] = str(amount_minor)

    def set_offline(self, offline: bool = True) -> None:
        """Offline: every byte in is ignored and nothing goes out, as if unplugged."""
        with self._lock:
            self.offline = offline

    def corrupt_next_reply(self, count: int = 1) -> None:
        """Send the next `count` frames with a wrong LRC (the client must NAK them)."""
        with self._lock:
            self.link.corrupt_next += count

    def nak_next(self, count: int = 1) -> None:
        """Answer the next `count` good frames with NAK, as if they arrived garbled."""
        with self._lock:
            self.link.nak_next += count

    def drop_next(self, count: int = 1) -> None:
        """Ignore the next `count` frames entirely (no ACK): lost on the line."""
        with self._lock:
            self.link.drop_next += count

    def inject(self, fields: list[str]) -> None:
        """Send an arbitrary frame (a misbehaving terminal), from the simulator's thread."""
        with self._lock:
            self._outbox.append(list(fields))

    @property
    def naks_sent(self) -> int:
        return self.link.naks_sent

    @property
    def naks_received(self) -> int:
        return self.link.naks_received

    @property
    def busy(self) -> bool:
        return self._sale is not None

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> "SimulatedTerminal":
        if self._thread is not None:
            raise RuntimeError("the simulated terminal is already started")
        if self._stop.is_set():
            raise RuntimeError("a stopped simulated terminal cannot start again; make a new one")
        self._thread = threading.Thread(target=self._run, name="nafitha-payment-simulator",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop answering and make the device vanish (the client sees a lost line)."""
        if self._stop.is_set():
            return
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)
        for fd in (self._master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> "SimulatedTerminal":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- the terminal -----------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._step()
            except _Stopping:
                return
            except Exception:  # noqa: BLE001 - the demo terminal must keep answering
                log.exception("simulated terminal: error while answering")
                self._stop.wait(IDLE_POLL_S)

    def _step(self) -> None:
        with self._lock:
            injected = self._outbox.popleft() if self._outbox else None
        if injected is not None:
            self._send(injected)
        wait = IDLE_POLL_S
        sale = self._sale
        if sale is not None and sale.due is not None:
            wait = max(0.0, min(wait, sale.due - self.clock()))
        fields = self.link.receive(wait)
        if fields is not None:
            self._handle(fields)
        sale = self._sale
        if sale is not None and sale.due is not None and self.clock() >= sale.due:
            self._finish_due(sale)

    def _accept(self, fields: list[str]) -> bool:
        """Asked before a frame is acknowledged: a terminal scripted "no_answer" goes silent
        on the SALE itself, so that SALE is never acknowledged."""
        with self._lock:
            if self.offline:
                return False
            if fields[0] == "SALE" and len(fields) == 4 and self._sale is None \
                    and fields[1] not in self._final_results() and self._scripts \
                    and self._scripts[0].outcome in ("no_answer", "offline"):
                self._scripts.popleft()
                self.offline = True
                return False
            self.received.append(list(fields))
            return True

    def _final_results(self) -> dict[str, list[str]]:
        return {ref: r for ref, r in self.results.items() if r[2] in FINAL}

    def _send(self, fields: list[str]) -> None:
        if not self.offline and not self.link.send(fields):
            log.info("simulated terminal: %s not acknowledged (nobody reading)", fields[:3])

    def _handle(self, fields: list[str]) -> None:
        kind = fields[0]
        if kind == "PING" and len(fields) == 1:
            self._send(["PONG", "BUSY" if self._sale is not None else "READY"])
        elif kind == "SALE" and len(fields) == 4:
            self._sale_asked(*fields[1:])
        elif kind == "STATUS" and len(fields) == 2:
            self._send(self._record_of(fields[1]))
        elif kind == "CANCEL" and len(fields) == 2:
            self._cancel_asked(fields[1])
        elif kind in ("BATCH", "SETTLE") and len(fields) == 1:
            self._batch_asked(settle=kind == "SETTLE")
        else:
            log.warning("simulated terminal: message %r not understood", fields)

    def _record_of(self, reference: str) -> list[str]:
        sale = self._sale
        if sale is not None and sale.reference == reference:
            return result_fields(reference, "PENDING", sale.amount_minor, sale.currency,
                                 message="IN PROGRESS")
        return self.results.get(reference) or result_fields(reference, "UNKNOWN")

    def _sale_asked(self, reference: str, amount: str, currency: str) -> None:
        stored = self.results.get(reference)
        if stored is not None and stored[2] in FINAL:
            self._send(stored)  # the same reference again: what happened, not a new charge
            return
        if self._sale is not None:
            if self._sale.reference != reference:  # else: a resend of the sale under way
                self._send(result_fields(reference, "CANCELLED", None, currency,
                                         message="TERMINAL BUSY"))
            return
        if not (REFERENCE_PATTERN.fullmatch(reference) and amount.isdigit()
                and 0 < int(amount) <= MAX_AMOUNT_MINOR and currency in CURRENCY_EXPONENT):
            self._send(result_fields(reference, "DECLINED", None, currency,
                                     message="FORMAT ERROR"))
            return
        with self._lock:
            script = self._scripts.popleft() if self._scripts else self.default
        now = self.clock()
        if script.outcome in ("approved", "declined", "cancelled"):
            due, cancellable = now + script.delay_s, script.outcome == "cancelled"
        else:  # timeout: waits for a card until CANCEL, or gives up after delay_s
            due, cancellable = (now + script.delay_s if script.delay_s > 0 else None), True
        self._sale = _Sale(reference, int(amount), currency, script, due, cancellable)
        self._send(["WAIT", reference, "INSERT CARD"])
        if script.outcome in ("approved", "declined"):
            self._send(["WAIT", reference, "ENTER PIN"])

    def _batch_asked(self, settle: bool) -> None:
        with self._lock:
            entries = [list(e) for e in self.batch]
            if settle:
                self.settlements.append(entries)
                self.batch = []
        total = sum(int(e[5]) for e in entries)
        if not settle:
            for entry in entries:
                self._send(entry)
        self._send(["SETTLED" if settle else "BATCHEND", self.terminal_id, str(len(entries)),
                    str(total)])

    def _cancel_asked(self, reference: str) -> None:
        sale = self._sale
        if sale is None or sale.reference != reference:
            self._send(self._record_of(reference))
        elif sale.cancellable:
            self._finish(sale, "CANCELLED", "CANCELLED")
        else:
            log.info("simulated terminal: CANCEL of %s refused: the card is being "
                     "authorised", reference)

    def _finish_due(self, sale: _Sale) -> None:
        script = sale.script
        if script.outcome == "approved":
            self._finish(sale, "APPROVED", script.message or "APPROVED")
        elif script.outcome == "declined":
            self._finish(sale, "DECLINED", script.message or "DECLINED")
        elif script.outcome == "cancelled":
            self._finish(sale, "CANCELLED", script.message or "CANCELLED BY CARDHOLDER")
        else:
            self._finish(sale, "TIMEOUT", script.message or "NO CARD")

    def _finish(self, sale: _Sale, status: str, message: str) -> None:
        approved = status == "APPROVED"
        card = status in FINAL
        authcode, stan = (next(self.auth_codes), next(self._stans)) if approved else ("", "")
        record = result_fields(sale.reference, status, sale.amount_minor, sale.currency,
                               authcode, sale.script.last4 if card else "", message,
                               self.terminal_id if approved else "", stan)
        with self._lock:
            self.results[sale.reference] = record
            if approved:
                self.charges.append((sale.reference, sale.amount_minor, sale.currency))
                self.batch.append(["ENTRY", self.terminal_id, stan, authcode, sale.reference,
                                   str(sale.amount_minor), sale.currency,
                                   time.strftime("%H%M%S")])
            self._sale = None
        self._send(record)

    def __repr__(self) -> str:
        return f"SimulatedTerminal(port={self.port!r}, default={self.default.outcome!r})"
