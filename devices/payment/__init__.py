"""Payment: the card terminal the kiosk charges fees on (docs/payment.md).

    terminal         PaymentTerminal (the interface a vendor terminal plugs into),
                     PaymentOutcome, PaymentTerminalError, request checks
    protocol         the ECR-style frame layer: STX fields ETX LRC, ACK/NAK, resends
    serial_terminal  SerialPaymentTerminal: that protocol over pyserial
    simulator        SimulatedTerminal: a terminal on a pseudo-terminal, the demo terminal and
                     the recording fake of the tests

`open_terminal(settings.payment)` builds the one the settings ask for.
"""
from __future__ import annotations

from .serial_terminal import SerialPaymentTerminal
from .simulator import SimulatedTerminal
from .terminal import (MAX_AMOUNT_MINOR, OUTCOMES, TERMINAL_STATES, PaymentOutcome,
                       PaymentTerminal, PaymentTerminalError, PaymentTerminalOffline,
                       check_reference, check_sale)

__all__ = ["MAX_AMOUNT_MINOR", "OUTCOMES", "TERMINAL_STATES", "PaymentOutcome",
           "PaymentTerminal", "PaymentTerminalError", "PaymentTerminalOffline",
           "SerialPaymentTerminal", "SimulatedTerminal", "check_reference", "check_sale",
           "open_terminal"]


def open_terminal(settings_payment) -> PaymentTerminal | None:
    """The terminal of the [payment] settings: None for transport "none" (pay at the
    counter). "simulated" starts a SimulatedTerminal that approves every sale (its
    `.simulator` can be scripted) and stops it on close(). A device that is missing is not
    an error here: the terminal reports "offline" until it is plugged in.
    Raises PaymentTerminalError for an unknown transport or a serial one with no port."""
    transport = settings_payment.transport
    if transport == "none":
        return None
    if transport == "serial":
        if not settings_payment.port:
            raise PaymentTerminalError(
                "payment.transport is \"serial\" but payment.port is empty: set it to the "
                "terminal's device (e.g. /dev/ttyUSB0) or a pyserial URL")
        return SerialPaymentTerminal(settings_payment.port, settings_payment.baudrate,
                                     settings_payment.timeout_s)
    if transport == "simulated":
        simulator = SimulatedTerminal(default="approved").start()
        try:
            terminal = SerialPaymentTerminal(simulator.port, settings_payment.baudrate,
                                             settings_payment.timeout_s,
                                             on_close=simulator.stop)
        except PaymentTerminalError:
            simulator.stop()
            raise
        terminal.simulator = simulator
        return terminal
    raise PaymentTerminalError(f"payment.transport {transport!r} is not one of "
                               f"\"simulated\", \"serial\", \"none\"")
