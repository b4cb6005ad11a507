"""An operator's SMSC over SMPP 3.4, through smpplib: bind as a transmitter, one submit_sm
per message, wait for its submit_sm_resp.

- Text the GSM 7-bit alphabet can carry goes as data_coding 0; anything else (Arabic) as
  UCS2 (data_coding 8). Up to 140 octets ride in short_message, longer text in the
  message_payload TLV (one PDU, the SMSC splits it).
- The message's reference rides in a vendor TLV, 0x1400 (REFERENCE_TLV). SMPP itself has no
  idempotency: only an SMSC that drops a second submit with the same reference de-duplicates
  (settings messages.smpp_dedupes). Otherwise a submit that timed out is not resent.
- Status codes: ESME_RTHROTTLED / ESME_RMSGQFUL: throttled; ESME_RSYSERR and bind failures:
  unavailable; every other error: rejected.
"""
from __future__ import annotations

import socket
import threading

from smpplib import client as smpp_client
from smpplib import command, consts, exceptions, gsm

from .gateway import (Gateway, GatewayRejected, GatewayThrottled, GatewayTimeout,
                      GatewayUnavailable, check_send)

REFERENCE_TLV = 0x1400
REFERENCE_PARAM = "nafitha_reference"
THROTTLED = (consts.SMPP_ESME_RTHROTTLED, consts.SMPP_ESME_RMSGQFUL)
UNAVAILABLE = (consts.SMPP_ESME_RSYSERR,)
THROTTLE_RETRY_S = 10.0
SHORT_MESSAGE_OCTETS = 140

# smpplib knows optional parameters by name from one table: the reference TLV is added to
# it once (a name no SMPP version uses), so it is written and parsed like any other.
consts.OPTIONAL_PARAMS.setdefault(REFERENCE_PARAM, REFERENCE_TLV)


class SubmitWithReference(command.SubmitSM):
    """submit_sm with the reference TLV (the simulator parses submits with it too)."""
    params = {**command.SubmitSM.params, REFERENCE_PARAM: command.Param(type=str, max=65)}
    params_order = command.SubmitSM.params_order + (REFERENCE_PARAM,)


def encode_text(text: str) -> tuple[bytes, int]:
    """(octets, data_coding): GSM 7-bit (unpacked) when every character is in its default
    alphabet, else UCS2."""
    try:
        return gsm.gsm_encode(text), consts.SMPP_ENCODING_DEFAULT
    except UnicodeError:
        return text.encode("utf-16-be"), consts.SMPP_ENCODING_ISO10646


def decode_text(octets: bytes, data_coding: int) -> str:
    if data_coding == consts.SMPP_ENCODING_ISO10646:
        return octets.decode("utf-16-be")
    return "".join(gsm.GSM_CHARACTER_TABLE[b] for b in octets)


class SmppGateway(Gateway):
    name = "smpp"

    def __init__(self, host: str, port: int, system_id: str, password: str,
                 source_addr: str = "", timeout_s: float = 5.0, dedupes: bool = False):
        self.host, self.port = host, int(port)
        self.system_id, self.password = system_id, password
        self.source_addr = source_addr
        self.timeout_s = timeout_s
        self.dedupes = dedupes
        self._client: smpp_client.Client | None = None
        self._lock = threading.Lock()

    # --- the connection --------------------------------------------------------------------
    def _connected(self) -> smpp_client.Client:
        if self._client is not None:
            return self._client
        client = smpp_client.Client(self.host, self.port, timeout=self.timeout_s,
                                    allow_unknown_opt_params=True)
        try:
            client.connect()
            client.bind_transmitter(system_id=self.system_id, password=self.password)
        except (exceptions.ConnectionError, exceptions.PDUError, OSError) as exc:
            _drop(client)
            raise GatewayUnavailable(f"the SMSC at {self.host}:{self.port} could not be "
                                     f"bound ({type(exc).__name__}: {exc})")
        self._client = client
        return client

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            try:
                client.unbind()
            except Exception:  # noqa: BLE001 - leaving anyway
                pass
            _drop(client)

    def _lost(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            _drop(client)

    # --- sending ---------------------------------------------------------------------------
    def send(self, ref: str, to: str, text: str) -> str:
        check_send(ref, to, text)
        octets, coding = encode_text(text)
        source = self.source_addr
        fields = dict(
            source_addr_ton=(consts.SMPP_TON_INTL if source.isdigit()
                             else consts.SMPP_TON_ALNUM) if source else consts.SMPP_TON_UNK,
            source_addr_npi=consts.SMPP_NPI_ISDN if source.isdigit() else consts.SMPP_NPI_UNK,
            source_addr=source, dest_addr_ton=consts.SMPP_TON_INTL,
            dest_addr_npi=consts.SMPP_NPI_ISDN, destination_addr=to.lstrip("+"),
            data_coding=coding, esm_class=consts.SMPP_MSGMODE_DEFAULT,
            registered_delivery=0)
        fields[REFERENCE_PARAM] = ref
        if len(octets) <= SHORT_MESSAGE_OCTETS:
            fields["short_message"] = octets
        else:
            fields["message_payload"] = octets
        with self._lock:
            client = self._connected()
            pdu = SubmitWithReference("submit_sm", client=client, **fields)
            try:
                client.send_pdu(pdu)
            except exceptions.ConnectionError:
                self._lost()
                raise GatewayUnavailable("the connection to the SMSC was lost before sending")
            try:
                resp = self._answer_to(client, pdu.sequence)
            except (socket.timeout, TimeoutError):
                self._lost()
                raise GatewayTimeout(f"the SMSC took {ref} but did not answer within "
                                     f"{self.timeout_s:g} s")
            except (exceptions.ConnectionError, exceptions.PDUError):
                self._lost()
                raise GatewayTimeout(f"the connection to the SMSC broke while sending {ref}")
        status = resp.status
        if status == consts.SMPP_ESME_ROK:
            message_id = resp.message_id
            return message_id.decode("ascii", "replace") if isinstance(message_id, bytes) \
                else str(message_id or "")
        described = consts.DESCRIPTIONS.get(status, f"status 0x{status:x}")
        if status in THROTTLED:
            raise GatewayThrottled(f"the SMSC asks to slow down ({described})",
                                   retry_after=THROTTLE_RETRY_S)
        if status in UNAVAILABLE:
            raise GatewayUnavailable(f"the SMSC failed ({described})")
        raise GatewayRejected(f"the SMSC refused it ({described})", status=status)

    def _answer_to(self, client, sequence: int):
        """The submit_sm_resp of our PDU; an enquire_link meanwhile is answered."""
        while True:
            pdu = client.read_pdu()
            if pdu.command == "enquire_link":
                reply = command.EnquireLinkResp("enquire_link_resp", client=client)
                reply.sequence = pdu.sequence
                client.send_pdu(reply)
                continue
            if pdu.command == "generic_nack" or (pdu.command == "submit_sm_resp" and
                                                 pdu.sequence == sequence):
                return pdu


def _drop(client) -> None:
    # smpplib logs a warning when a bound client disconnects: ours is deliberate.
    client.state = consts.SMPP_CLIENT_STATE_OPEN
    try:
        client.disconnect()
    except Exception:  # noqa: BLE001 - the socket may be gone already
        pass
