"""Messages to residents' phones: the gateways and the sender (docs/messages.md).

    gateway       Gateway (the interface), its errors, check_send
    http_gateway  HttpGateway: the generic JSON shape of SMS providers, through requests
    smpp_gateway  SmppGateway: an operator's SMSC over SMPP 3.4, through smpplib
    simulator     GatewaySimulator: HTTP and SMPP on 127.0.0.1, with faults on demand
    fakes         RecordingGateway: in memory, scripted, for the sender's tests
    sender        MessageSender and sender_loop: the one background loop that sends

`open_gateway(settings.messages)` builds the gateway the settings ask for.
"""
from __future__ import annotations

from .gateway import (Gateway, GatewayDuplicate, GatewayError, GatewayRejected,
                      GatewayThrottled, GatewayTimeout, GatewayUnavailable, check_send)
from .http_gateway import HttpGateway
from .smpp_gateway import SmppGateway

__all__ = ["Gateway", "GatewayDuplicate", "GatewayError", "GatewayRejected",
           "GatewayThrottled", "GatewayTimeout", "GatewayUnavailable", "HttpGateway",
           "SmppGateway", "check_send", "open_gateway"]


def open_gateway(config) -> Gateway | None:
    """The gateway of the [messages] settings: None for "none"; "simulated" starts a
    GatewaySimulator on 127.0.0.1 (demos: it delivers to no phone) and stops it on close()."""
    kind = config.gateway
    if kind == "none":
        return None
    if kind == "http":
        return HttpGateway(config.url, config.api_key, config.timeout_s,
                           channel=config.channel)
    if kind == "smpp":
        return SmppGateway(config.host, config.port, config.system_id, config.password,
                           config.source_addr, config.timeout_s, dedupes=config.smpp_dedupes)
    if kind == "simulated":
        from .simulator import GatewaySimulator
        simulator = GatewaySimulator().start()
        gateway = HttpGateway(simulator.http_url, simulator.api_key, config.timeout_s,
                              on_close=simulator.stop, channel=config.channel)
        gateway.simulator = simulator
        return gateway
    raise GatewayError(f"messages.gateway {kind!r} is not one of none, http, smpp, simulated")
