"""A card terminal on a serial line speaking the protocol of protocol.py (docs/payment.md).

The port is opened with pyserial's `serial_for_url`, so a device path (/dev/ttyUSB0), a
pseudo-terminal, `socket://host:port` or `rfc2217://` all work. A port that cannot be opened
makes the terminal "offline" (charge() returns an "offline" outcome, it does not raise) and
is tried again on the next call, so a terminal plugged back in works again by itself.

Nothing is charged twice: a reference is the terminal's key for a sale. When the kiosk stops
waiting (timeout_s plus a margin passed, or the line was lost after the terminal took the
sale), it asks the terminal to stop waiting for a card (CANCEL) and what it recorded (STATUS)
before it reports anything; a reply naming another reference or another amount is logged
and never taken as an answer.

    terminal = SerialPaymentTerminal("/dev/ttyUSB0", timeout_s=90)
    outcome = terminal.charge("K-000123-1", 1500, "BHD", on_progress=print)
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from typing import Callable

import serial

from core.payments import TERMINAL_REF

from .protocol import BATCHEND_FIELDS, ENTRY_FIELDS, RESULT_FIELDS, RESULT_STATUSES, Link
from .terminal import (PaymentOutcome, PaymentTerminal, PaymentTerminalError,
                       PaymentTerminalOffline, check_reference, check_sale, check_timeout)

log = logging.getLogger("nafitha.payment")

READ_POLL_S = 0.02    # pyserial read timeout: how long one read blocks at most
CANCEL_POLL_S = 0.05  # how soon a cancel() from another thread reaches the line
TERMINAL_STATUS = {"APPROVED": "approved", "DECLINED": "declined", "CANCELLED": "cancelled",
                   "TIMEOUT": "timeout", "PENDING": "timeout"}


class _LineLost(Exception):
    """The port failed under us (cable pulled, device gone); the connection is dropped."""


@dataclass(frozen=True)
class _Result:
    reference: str
    status: str
    amount_minor: int | None
    currency: str
    authcode: str
    last4: str
    message: str
    terminal_id: str = ""
    stan: str = ""

    @property
    def terminal_ref(self) -> str:
        """The approval's reference: terminal id, trace number, authorisation code."""
        return f"{self.terminal_id}-{self.stan}-{self.authcode}"


def _parse_result(fields: list[str]) -> _Result | None:
    """A RESULT frame's fields, or None (logged) when it is not a well-formed one."""
    if len(fields) != RESULT_FIELDS:
        log.warning("payment terminal: RESULT with %d fields instead of %d ignored: %r",
                    len(fields), RESULT_FIELDS, fields)
        return None
    _, reference, status, amount, currency, authcode, last4, message, tid, stan = fields
    if status not in RESULT_STATUSES or (amount and not amount.isdigit()):
        log.warning("payment terminal: malformed RESULT ignored: %r", fields)
        return None
    amount_minor = int(amount) if amount else None
    result = _Result(reference, status, amount_minor, currency, authcode, last4, message,
                     tid, stan)
    if status == "APPROVED" and (amount_minor is None or not currency
                                 or not TERMINAL_REF.fullmatch(result.terminal_ref)):
        log.warning("payment terminal: approval without a well-formed terminal id, trace "
                    "number and authorisation code, amount or currency is no approval; "
                    "ignored: %r", fields)
        return None
    return result


def _parse_entry(fields: list[str]) -> dict:
    """One ENTRY of a batch as core's report takes it (core.payments.check_batch_report);
    PaymentTerminalError for a malformed one (the whole report is then refused)."""
    if len(fields) != ENTRY_FIELDS or not fields[5].isdigit():
        raise PaymentTerminalError(f"the payment terminal sent a malformed batch entry: "
                                   f"{fields!r}")
    _, tid, stan, authcode, reference, amount, currency, at = fields
    return {"terminal_ref": f"{tid}-{stan}-{authcode}", "amount_minor": int(amount),
            "currency": currency, "sale_ref": reference, "at": at}


def _batch_end(fields: list[str], entries: list[dict]) -> dict:
    if len(fields) != BATCHEND_FIELDS or not fields[2].isdigit() or not fields[3].isdigit():
        raise PaymentTerminalError(f"the payment terminal sent a malformed batch end: "
                                   f"{fields!r}")
    _, tid, count, total = fields
    if fields[0] == "SETTLED":
        return {"terminal_id": tid, "count": int(count), "total_minor": int(total)}
    if int(count) != len(entries) or int(total) != sum(e["amount_minor"] for e in entries):
        raise PaymentTerminalError(f"the batch report is incomplete: the terminal counted "
                                   f"{count} approvals ({total}), {len(entries)} arrived")
    return {"terminal_id": tid, "entries": entries}


class _SerialBytes:
    """A pyserial port as the Link's BytePort."""

    def __init__(self, port):
        self.port = port

    def read(self, timeout_s: float) -> bytes:
        deadline = time.monotonic() + timeout_s
        while True:
            data = self.port.read(self.port.in_waiting or 1)  # blocks READ_POLL_S at most
            if data or time.monotonic() >= deadline:
                return data

    def write(self, data: bytes) -> None:
        self.port.write(data)


class SerialPaymentTerminal(PaymentTerminal):
    """timeout_s: how long the resident has at the terminal (charge() may override it).
    ack_timeout_s / max_resends: the frame layer (an unreachable terminal is reported
    "offline" after (1 + max_resends) * ack_timeout_s). result_margin_s: how much longer
    than timeout_s to wait for the terminal's own RESULT. reply_timeout_s: how long STATUS
    and PING answers may take. on_close: called once by close() (the simulator's stop)."""

    def __init__(self, port: str, baudrate: int = 9600, timeout_s: float = 90.0,
                 serial_factory: Callable = serial.serial_for_url, *,
                 ack_timeout_s: float = 1.0, max_resends: int = 3,
                 result_margin_s: float = 5.0, reply_timeout_s: float = 2.0,
                 on_close: Callable[[], object] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        if not isinstance(port, str) or not port:
            raise PaymentTerminalError("the payment terminal needs a port: a device such as "
                                       "/dev/ttyUSB0 or a pyserial URL")
        if isinstance(baudrate, bool) or not isinstance(baudrate, int) or baudrate <= 0:
            raise PaymentTerminalError(f"baudrate {baudrate!r} is not valid: give a whole "
                                       f"number such as 9600")
        self.port = port
        self.baudrate = baudrate
        self.timeout_s = check_timeout(timeout_s)
        self.serial_factory = serial_factory
        self.ack_timeout_s = check_timeout(ack_timeout_s)
        self.max_resends = max_resends
        self.result_margin_s = result_margin_s
        self.reply_timeout_s = check_timeout(reply_timeout_s)
        self.on_close = on_close
        self.clock = clock
        self.simulator = None  # set by open_terminal when it started one for this terminal
        self._line = threading.Lock()    # one conversation on the line at a time
        self._state = threading.Lock()   # guards _charging between charge() and cancel()
        self._charging: str | None = None
        self._cancel_asked = threading.Event()
        self._closed = threading.Event()
        self._serial = None
        self._link: Link | None = None
        self._last_error = ""
        self._reachable: bool | None = None

    # --- the line ---------------------------------------------------------------------------

    def _connect(self) -> Link | None:
        if self._link is not None:
            return self._link
        if self._closed.is_set():
            self._last_error = "the connection is closed"
            return None
        try:
            self._serial = self.serial_factory(self.port, baudrate=self.baudrate,
                                               timeout=READ_POLL_S,
                                               write_timeout=self.ack_timeout_s)
            self._serial.reset_input_buffer()  # whatever a previous session left behind
        except (serial.SerialException, OSError, ValueError) as exc:
            self._serial = None
            self._mark_reachable(False, f"cannot open {self.port} ({exc})")
            return None
        self._link = Link(_SerialBytes(self._serial), ack_timeout_s=self.ack_timeout_s,
                          max_resends=self.max_resends, name=f"payment terminal {self.port}",
                          clock=self.clock)
        return self._link

    def _disconnect(self) -> None:
        port, self._serial, self._link = self._serial, None, None
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError):
                pass

    def _mark_reachable(self, reachable: bool, detail: str = "") -> None:
        """Logged once when the terminal is lost and once when it is back."""
        if not reachable:
            self._last_error = detail
            if self._reachable is not False:
                log.warning("payment terminal %s offline: %s", self.port, detail)
        elif self._reachable is False:
            log.info("payment terminal %s is back", self.port)
        self._reachable = reachable

    def _send(self, link: Link, fields: list[str]) -> bool:
        try:
            acknowledged = link.send(fields)
        except (serial.SerialException, OSError) as exc:
            self._disconnect()
            self._mark_reachable(False, f"lost the line ({exc})")
            raise _LineLost(str(exc)) from exc
        if acknowledged:
            self._mark_reachable(True)
        else:
            self._mark_reachable(False, f"no answer to {fields[0]}")
        return acknowledged

    def _receive(self, link: Link, timeout_s: float) -> list[str] | None:
        try:
            return link.receive(timeout_s)
        except (serial.SerialException, OSError) as exc:
            self._disconnect()
            self._mark_reachable(False, f"lost the line ({exc})")
            raise _LineLost(str(exc)) from exc

    def _check_open(self) -> None:
        if self._closed.is_set():
            raise PaymentTerminalError("the payment terminal connection is closed")

    # --- charge -----------------------------------------------------------------------------

    def charge(self, reference: str, amount_minor: int, currency: str,
               timeout_s: float | None = None,
               on_progress: Callable[[str], object] | None = None) -> PaymentOutcome:
        check_sale(reference, amount_minor, currency)
        wait_s = self.timeout_s if timeout_s is None else check_timeout(timeout_s)
        self._check_open()
        with self._line:
            self._check_open()
            with self._state:
                self._charging = reference
                self._cancel_asked.clear()
            try:
                return self._charge(reference, amount_minor, currency, wait_s, on_progress)
            finally:
                with self._state:
                    self._charging = None

    def _outcome(self, status: str, reference: str, amount_minor: int, currency: str,
                 message: str, pending: bool = False) -> PaymentOutcome:
        return PaymentOutcome(status, reference, amount_minor, currency, message=message,
                              pending=pending)

    def _charge(self, reference, amount_minor, currency, wait_s, on_progress):
        link = self._connect()
        if link is None:
            return self._outcome("offline", reference, amount_minor, currency,
                                 f"payment terminal offline: {self._last_error}")
        try:
            taken = self._send(link, ["SALE", reference, str(amount_minor), currency])
        except _LineLost as exc:
            return self._outcome("offline", reference, amount_minor, currency,
                                 f"payment terminal offline: lost the line ({exc})")
        if not taken:
            return self._outcome("offline", reference, amount_minor, currency,
                                 "payment terminal offline: it did not answer")
        deadline = self.clock() + wait_s + self.result_margin_s
        cancel_sent = False
        try:
            while True:
                if not cancel_sent and (self._cancel_asked.is_set() or self._closed.is_set()):
                    cancel_sent = True
                    self._send(link, ["CANCEL", reference])  # its RESULT says if it worked
                    if self._closed.is_set():
                        deadline = min(deadline, self.clock() + self.reply_timeout_s)
                remaining = deadline - self.clock()
                if remaining <= 0:
                    break
                fields = self._receive(link, min(remaining, CANCEL_POLL_S))
                if fields is None:
                    continue
                outcome = self._answer_to_sale(fields, reference, amount_minor, currency,
                                               on_progress)
                if outcome is not None:
                    return outcome
        except _LineLost:
            pass
        return self._settle(reference, amount_minor, currency, cancel_sent)

    def _matching_result(self, fields, reference, amount_minor, currency) -> _Result | None:
        """The RESULT in `fields` if it is about this very sale; anything else is logged."""
        if fields[0] != "RESULT":
            return None
        result = _parse_result(fields)
        if result is None:
            return None
        if result.reference != reference:
            log.info("payment terminal: RESULT for %r while charging %r ignored",
                     result.reference, reference)
            return None
        if (result.amount_minor is not None and result.amount_minor != amount_minor) or \
                (result.currency and result.currency != currency):
            log.warning("payment terminal: RESULT for %s names %s %s, not the %s %s asked "
                        "for; ignored", reference, result.amount_minor, result.currency,
                        amount_minor, currency)
            return None
        return result

    def _answer_to_sale(self, fields, reference, amount_minor, currency, on_progress):
        if fields[0] == "WAIT":
            if len(fields) == 3 and fields[1] == reference:
                if on_progress is not None:
                    try:
                        on_progress(fields[2])
                    except Exception:  # noqa: BLE001 - a display fault must not lose a sale
                        log.exception("payment terminal: on_progress failed")
            else:
                log.info("payment terminal: progress %r not about %r ignored", fields, reference)
            return None
        result = self._matching_result(fields, reference, amount_minor, currency)
        if result is None or result.status in ("UNKNOWN", "PENDING"):
            return None  # not a final answer: keep waiting
        return self._final(result, reference, amount_minor, currency)

    @staticmethod
    def _final(result: _Result, reference, amount_minor, currency) -> PaymentOutcome:
        approved = result.status == "APPROVED"
        return PaymentOutcome(TERMINAL_STATUS[result.status], reference, amount_minor, currency,
                              terminal_ref=result.terminal_ref if approved else None,
                              message=result.message, card_last4=result.last4 or None,
                              pending=result.status == "PENDING")

    def _settle(self, reference, amount_minor, currency, cancel_sent) -> PaymentOutcome:
        """The kiosk stopped waiting (timeout, lost line): ask the terminal to stop waiting for
        a card and what it recorded, so a sale it approved is never reported as failed."""
        def gave_up(message: str, pending: bool) -> PaymentOutcome:
            return self._outcome("timeout", reference, amount_minor, currency, message,
                                 pending)

        link = self._connect()
        if link is None:
            return gave_up(f"lost the line to the payment terminal ({self._last_error}); "
                           f"look the payment up before taking it another way", True)
        try:
            if not cancel_sent:
                self._send(link, ["CANCEL", reference])
            if not self._send(link, ["STATUS", reference]):
                return gave_up("the payment terminal stopped answering; look the payment up "
                               "before taking it another way", True)
            deadline = self.clock() + self.reply_timeout_s
            while (remaining := deadline - self.clock()) > 0:
                fields = self._receive(link, remaining)
                if fields is None:
                    break
                result = self._matching_result(fields, reference, amount_minor, currency)
                if result is None:
                    continue
                if result.status == "UNKNOWN":
                    return gave_up("the payment terminal has no record of this sale", False)
                outcome = self._final(result, reference, amount_minor, currency)
                if outcome.status == "cancelled" and not self._cancel_asked.is_set():
                    outcome = replace(outcome, status="timeout")  # we cancelled: time was up
                return outcome
        except _LineLost as exc:
            return gave_up(f"lost the line to the payment terminal ({exc}); look the payment "
                           f"up before taking it another way", True)
        return gave_up("the payment terminal did not say what became of the sale; look the "
                       "payment up before taking it another way", True)

    # --- cancel, lookup, status, close ------------------------------------------------------

    def cancel(self, reference: str) -> bool:
        check_reference(reference)
        with self._state:
            if self._charging != reference:
                return False
            self._cancel_asked.set()
            return True

    def lookup(self, reference: str) -> PaymentOutcome | None:
        check_reference(reference)
        self._check_open()
        with self._line:
            link = self._connect()
            if link is None:
                raise PaymentTerminalOffline(f"cannot look up {reference}: payment terminal "
                                             f"offline ({self._last_error})")
            try:
                if not self._send(link, ["STATUS", reference]):
                    raise PaymentTerminalOffline(f"cannot look up {reference}: the payment "
                                                 f"terminal did not answer")
                deadline = self.clock() + self.reply_timeout_s
                while (remaining := deadline - self.clock()) > 0:
                    fields = self._receive(link, remaining)
                    if fields is None:
                        break
                    result = _parse_result(fields) if fields[0] == "RESULT" else None
                    if result is None or result.reference != reference:
                        continue
                    if result.status == "UNKNOWN":
                        return None
                    return self._final(result, reference, result.amount_minor or 0,
                                       result.currency)
            except _LineLost as exc:
                raise PaymentTerminalOffline(f"cannot look up {reference}: lost the line to "
                                             f"the payment terminal ({exc})") from exc
        raise PaymentTerminalOffline(f"cannot look up {reference}: the payment terminal did "
                                     f"not reply to STATUS")

    def batch_report(self) -> dict:
        return self._batch("BATCH")

    def settle(self) -> dict:
        return self._batch("SETTLE")

    def _batch(self, request: str) -> dict:
        """BATCH: the ENTRY frames, then BATCHEND with their count and total (checked: a
        report with a frame lost is refused, never taken as complete). SETTLE: SETTLED."""
        self._check_open()
        with self._line:
            link = self._connect()
            if link is None:
                raise PaymentTerminalOffline(f"cannot ask for the batch report: payment "
                                             f"terminal offline ({self._last_error})")
            try:
                if not self._send(link, [request]):
                    raise PaymentTerminalOffline(f"the payment terminal did not answer "
                                                 f"{request}")
                entries = []
                deadline = self.clock() + self.reply_timeout_s
                while (remaining := deadline - self.clock()) > 0:
                    fields = self._receive(link, remaining)
                    if fields is None:
                        break
                    if fields[0] == "ENTRY" and request == "BATCH":
                        entries.append(_parse_entry(fields))
                        deadline = self.clock() + self.reply_timeout_s  # more are coming
                    elif fields[0] == ("BATCHEND" if request == "BATCH" else "SETTLED"):
                        return _batch_end(fields, entries)
            except _LineLost as exc:
                raise PaymentTerminalOffline(f"lost the line to the payment terminal during "
                                             f"{request} ({exc})") from exc
        raise PaymentTerminalOffline(f"the payment terminal did not finish its answer to "
                                     f"{request}")

    def status(self) -> str:
        if self._closed.is_set():
            return "offline"
        if not self._line.acquire(blocking=False):
            return "busy"  # a charge holds the line: the terminal is with a resident
        try:
            link = self._connect()
            if link is None or not self._send(link, ["PING"]):
                return "offline"
            deadline = self.clock() + self.reply_timeout_s
            while (remaining := deadline - self.clock()) > 0:
                fields = self._receive(link, remaining)
                if fields is None:
                    break
                if fields[0] == "PONG" and len(fields) == 2 and fields[1] in ("READY", "BUSY"):
                    return fields[1].lower()
            self._mark_reachable(False, "no answer to PING")
            return "offline"
        except _LineLost:
            return "offline"
        finally:
            self._line.release()

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()  # a charge in progress cancels and stops waiting soon
        wait_s = 2 * self.reply_timeout_s + 3 * self.ack_timeout_s * (1 + self.max_resends)
        got_line = self._line.acquire(timeout=wait_s)
        try:
            self._disconnect()
        finally:
            if got_line:
                self._line.release()
        if self.on_close is not None:
            self.on_close()

    def __repr__(self) -> str:
        return f"SerialPaymentTerminal({self.port!r}, baudrate={self.baudrate})"
