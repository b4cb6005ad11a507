"""What the kiosk and the counter see of a card payment terminal, whatever its make.

A vendor terminal plugs in as a `PaymentTerminal` subclass (docs/payment.md). Every
implementation checks a request with `check_sale` before anything reaches the terminal, so
bad input raises PaymentTerminalError and sends nothing.

    outcome = terminal.charge("K-000123-1", 1500, "BHD", on_progress=show)
    outcome.approved, outcome.terminal_ref, outcome.message
"""
from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable

from core.errors import DeviceError
from core.money import CURRENCY_EXPONENT

OUTCOMES = ("approved", "declined", "timeout", "cancelled", "offline")
TERMINAL_STATES = ("ready", "busy", "offline")
MAX_AMOUNT_MINOR = 100_000_000
REFERENCE_PATTERN = re.compile(r"[A-Za-z0-9-]{1,32}")


class PaymentTerminalError(DeviceError):
    """A request the terminal cannot take (bad input, a closed connection) or a protocol
    fault; the message says what, in plain words."""

    code = "terminal_error"


class PaymentTerminalOffline(PaymentTerminalError):
    """lookup() could not reach the terminal: what it recorded is unknown, not "nothing"."""

    code = "terminal_offline"


@dataclass(frozen=True)
class PaymentOutcome:
    """How one charge ended, as the terminal (or the lack of one) said.

    pending: the terminal may still complete this sale (the kiosk stopped waiting while it
    was authorising, or the line was lost after it took the sale). Look the reference up
    again before the resident pays another way."""

    status: str                  # one of OUTCOMES
    reference: str               # the kiosk's transaction reference
    amount_minor: int
    currency: str
    terminal_ref: str | None = None  # on approval only: terminal id-trace number-auth code
    message: str = ""            # the terminal's short text, e.g. "INSUFFICIENT FUNDS"
    card_last4: str | None = None
    pending: bool = False

    def __post_init__(self):
        if self.status not in OUTCOMES:
            raise ValueError(f"status must be one of {OUTCOMES}, got {self.status!r}")
        if self.status == "approved" and not self.terminal_ref:
            raise ValueError("an approved outcome needs the terminal's reference")

    @property
    def approved(self) -> bool:
        return self.status == "approved"


def check_reference(reference: object) -> str:
    if not isinstance(reference, str) or not REFERENCE_PATTERN.fullmatch(reference):
        raise PaymentTerminalError(
            f"payment reference {reference!r} is not valid: use 1 to 32 letters, digits or "
            f"'-' (no spaces)")
    return reference


def check_sale(reference: object, amount_minor: object, currency: object) -> None:
    """Raises PaymentTerminalError for anything a terminal must never be sent."""
    check_reference(reference)
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise PaymentTerminalError(
            f"amount {amount_minor!r} is not valid: amounts are whole minor units (int), "
            f"e.g. 1500 for 1.500 BHD")
    if amount_minor <= 0:
        raise PaymentTerminalError(f"amount {amount_minor} is not valid: it must be more "
                                   f"than zero")
    if amount_minor > MAX_AMOUNT_MINOR:
        raise PaymentTerminalError(f"amount {amount_minor} is above the terminal limit of "
                                   f"{MAX_AMOUNT_MINOR} minor units")
    if not isinstance(currency, str) or currency not in CURRENCY_EXPONENT:
        raise PaymentTerminalError(f"currency {currency!r} is not one the office takes "
                                   f"({', '.join(sorted(CURRENCY_EXPONENT))})")


def check_timeout(timeout_s: object) -> float:
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) \
            or not timeout_s > 0:
        raise PaymentTerminalError(f"timeout {timeout_s!r} is not valid: give a number of "
                                   f"seconds above zero")
    return float(timeout_s)


class PaymentTerminal(ABC):
    """One card terminal. Calls block (run them on a worker, never on the UI thread) and are
    taken one at a time, except cancel() and status(), which answer while charge() waits."""

    @abstractmethod
    def charge(self, reference: str, amount_minor: int, currency: str,
               timeout_s: float | None = None,
               on_progress: Callable[[str], object] | None = None) -> PaymentOutcome:
        """Ask the terminal for `amount_minor` and wait for the resident (at most timeout_s,
        default the terminal's own). Never raises for the terminal's state: offline,
        declined, timeout... are outcomes. on_progress(text) gets the terminal's prompts
        ("INSERT CARD", "ENTER PIN") on the calling thread."""

    @abstractmethod
    def cancel(self, reference: str) -> bool:
        """The resident pressed cancel on the kiosk: stop waiting for a card. Callable from
        any thread while charge() blocks. True if that reference is being charged now (the
        terminal may still refuse: a card already being authorised finishes, and charge()
        returns what really happened)."""

    @abstractmethod
    def lookup(self, reference: str) -> PaymentOutcome | None:
        """What the terminal recorded for `reference`: None if it never saw it. Raises
        PaymentTerminalOffline if the terminal cannot be asked."""

    def batch_report(self) -> dict:
        """The terminal's own report of every approval since its last settlement, as core's
        reconciliation takes it: {"terminal_id", "entries": [{"terminal_ref",
        "amount_minor", "currency", "sale_ref", "at"}]}. Raises PaymentTerminalOffline when
        it cannot be asked, PaymentTerminalError when its answer is malformed or incomplete."""
        raise PaymentTerminalError(f"{type(self).__name__} cannot give its batch report")

    def settle(self) -> dict:
        """Close the terminal's batch (after its report was reconciled): {"terminal_id",
        "count", "total_minor"} of the batch closed."""
        raise PaymentTerminalError(f"{type(self).__name__} cannot settle its batch")

    @abstractmethod
    def status(self) -> str:
        """"ready", "busy" or "offline"; never raises."""

    @abstractmethod
    def close(self) -> None:
        """Release the terminal; later calls raise PaymentTerminalError."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
