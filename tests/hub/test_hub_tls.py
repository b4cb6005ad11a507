"""The hub serves its devices over HTTPS only, and pairing binds its certificate (issue 18;
core/tls.py, docs/hub.md "HTTPS, and what travels in clear"): a capture of the LAN shows no
PIN, token or national ID; a server with another certificate is refused by a paired device
and cannot pair one (a man-in-the-middle learns no code); tokens expire and renew
themselves in use; the board's plain address serves the board and nothing else."""
from __future__ import annotations

import json
import socket
import ssl
import threading
import time

import pytest
import requests

from core.errors import PermissionDenied
from core.pairing import RENEW_GRACE_S, RENEW_HEADER
from core.tls import HubCertificate
from hubclient import connect, join, pairing_path
from hubrig import RunningHub

RES = "residence-certificate"


class Relay:
    """A TCP relay on loopback that records every byte both ways: what a capture of the
    centre's LAN between a device and the hub would see. With `tls` (certfile, keyfile) it
    is a man-in-the-middle instead: it ends the device's TLS with its own certificate,
    records the plaintext, and opens its own TLS to the hub."""

    def __init__(self, upstream_port: int, tls: tuple[str, str] | None = None):
        self.upstream_port, self.tls = upstream_port, tls
        self.captured = bytearray()
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"https://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client):
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        try:
            if self.tls:
                server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                server_side.load_cert_chain(*self.tls)
                client = server_side.wrap_socket(client, server_side=True)
                client_side = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                client_side.check_hostname, client_side.verify_mode = False, ssl.CERT_NONE
                upstream = client_side.wrap_socket(upstream)
        except (OSError, ssl.SSLError):
            client.close()
            upstream.close()
            return
        # One thread carries both directions: an SSL socket must not be read in one thread
        # while written in another (OpenSSL's objects are not thread-safe; a CI run hung so).
        threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client, upstream):
        # Each side is polled in turn with a short timeout: OpenSSL may hold a whole record
        # already read from the kernel, which neither select() nor pending() would show.
        peer = {client: upstream, upstream: client}
        for end in peer:
            end.settimeout(0.05)
        idle_since = time.monotonic()
        try:
            while time.monotonic() - idle_since < 30:
                for source in peer:
                    try:
                        data = source.recv(65536)
                    except TimeoutError:
                        continue
                    if not data:
                        return
                    idle_since = time.monotonic()
                    with self.lock:
                        self.captured += data
                    peer[source].sendall(data)
        except OSError:
            pass
        finally:
            for end in peer:
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                end.close()

    def close(self):
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept (close alone does not)
        except OSError:
            pass
        self.listener.close()


def other_certificate(tmp_path):
    cert = HubCertificate.ensure(tmp_path / "impostor", "XXX")
    return str(cert.certfile), str(cert.keyfile)


def test_a_capture_between_a_counter_and_the_hub_shows_no_pin_token_or_national_id(
        hub, till, tmp_path, submit_valid):
    app = submit_valid(RES)
    national_id = app["fields"]["national_id"]
    counter_dir = tmp_path / "3"
    hub.counter(tmp_path, "3")  # paired (hub.json), then reached through the capture
    relay = Relay(hub.port)
    try:
        counter = connect("counter", hub.device_settings(tmp_path, "3"), url=relay.url)
        counter.sign_in(till.clerk, till.clerk_pin)
        found = counter.application(app["number"])
        assert found["fields"]["national_id"] == national_id  # the clerk saw it ...
    finally:
        relay.close()
    captured = bytes(relay.captured)
    token = json.loads(pairing_path(counter_dir).read_text())["token"]
    session = next(iter(counter.sessions.values()))
    assert len(captured) > 2000 and captured[0] == 0x16  # ... and the wire carried TLS only
    for secret in (till.clerk_pin, token, session, national_id, app["number"]):
        assert secret.encode() not in captured, secret
    for word in (b"sign-in", b"Bearer", b"national_id", b"HTTP/1.1"):
        assert word not in captured

    # The same capture of the board's plain listener does see what crosses it (the board's
    # public picture): the capture would have shown the secrets had they been in clear.
    plain = Relay(int(hub.board_url.rsplit(":", 1)[1]))
    try:
        requests.get(plain.url.replace("https", "http") + "/api/v1/health", timeout=5)
    finally:
        plain.close()
    assert b"HTTP/1.1 200" in bytes(plain.captured)


def test_a_paired_counter_refuses_a_server_with_another_certificate(hub, office, tmp_path,
                                                                     settings):
    hub.counter(tmp_path, "3")
    impostor = Relay(hub.port, tls=other_certificate(tmp_path))
    try:
        with pytest.raises(PermissionDenied) as refused:  # it does not even start on it
            connect("counter", hub.device_settings(tmp_path, "3"), url=impostor.url)
        counter = connect("counter", hub.device_settings(tmp_path, "3"))
        counter.conn.url = impostor.url  # the hub's address now answered by the impostor
        with pytest.raises(PermissionDenied) as refused_later:
            counter.sign_in("sara", "1234")
        assert refused_later.value.details["reason"] == "hub_certificate"
    finally:
        impostor.close()
    assert refused.value.details["reason"] == "hub_certificate"
    assert "pair this device again" in refused.value.message
    # refused before a byte of a request was sent: the impostor read no request at all
    for word in (b"1234", b"sign-in", b"Bearer", b"GET ", b"POST "):
        assert word not in bytes(impostor.captured)


def test_a_man_in_the_middle_cannot_pair_a_device_nor_learn_the_code(hub, tmp_path, db_state):
    code = hub.pair_code("kiosk", "kiosk-1")
    impostor = Relay(hub.port, tls=other_certificate(tmp_path))
    before = db_state()
    try:
        with pytest.raises(PermissionDenied) as refused:
            join(tmp_path / "kiosk", impostor.url, code)
    finally:
        impostor.close()
    # The hub saw a proof for another certificate: no pairing, no token, nothing stored.
    assert refused.value.details["reason"] == "pairing_code"
    assert not pairing_path(tmp_path / "kiosk").exists()
    assert db_state() == before
    plaintext = bytes(impostor.captured)
    assert b"/api/v1/pair" in plaintext  # the impostor read the request in clear ...
    assert code.encode() not in plaintext and code.replace("-", "").encode() not in plaintext
    # ... and the code still pairs the real device, straight to the hub
    assert join(tmp_path / "kiosk", hub.url, code)["name"] == "kiosk-1"


def test_a_server_that_does_not_know_the_code_is_not_trusted(hub, office, tmp_path):
    """Another hub (its own certificate, its own codes) answering a join: the device's
    proof matches none of its codes; and a server that answers without the hub's proof is
    refused by the device, which keeps nothing."""
    code = hub.pair_code("kiosk", "kiosk-1")
    other_office_dir = tmp_path / "other-hub"
    from core.office import Office
    from core.settings import load_settings
    other = RunningHub(Office.open(load_settings(other_office_dir, environ={})))
    try:
        with pytest.raises(PermissionDenied) as refused:
            join(tmp_path / "k", other.url, code)
        assert refused.value.details["reason"] == "pairing_code"
        # a server that takes any proof and answers without the hub's own
        original = other.devices.redeem_proof
        other_code = other.pair_code("kiosk", "kiosk-9")
        other.devices.redeem_proof = lambda nonce, proof, source: (
            original(nonce, proof, source)[:2] + ("0" * 64,))
        with pytest.raises(PermissionDenied) as untrusted:
            join(tmp_path / "k", other.url, other_code)
        assert untrusted.value.details["reason"] == "hub_certificate"
        assert not pairing_path(tmp_path / "k").exists()
    finally:
        other.stop()
        other.office.close()


def test_the_plain_listener_serves_the_board_only(hub, db_state):
    token = hub.token("kiosk", "kiosk-1")
    before = db_state()
    for method, path in (("POST", "/api/v1/kiosk/take-ticket"), ("GET", "/api/v1/me"),
                         ("POST", "/api/v1/pair"), ("GET", "/openapi.json"),
                         ("POST", "/api/v1/counter/sign-in")):
        reply = requests.request(method, hub.board_url + path, json={"service": RES},
                                 headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert reply.status_code == 403 and reply.json()["reason"] == "https_required", path
        assert "https://" in reply.json()["message"]
        assert reply.headers["x-frame-options"] == "DENY"  # the security headers, here too
    assert db_state() == before
    assert requests.get(hub.board_url + "/api/v1/health", timeout=5).ok
    assert requests.get(hub.board_url + "/board", timeout=5).status_code == 401  # pair form
    redirect = requests.get(hub.board_url + "/", timeout=5, allow_redirects=False)
    assert redirect.status_code == 307 and redirect.headers["location"] == "/board"
    assert redirect.headers["content-security-policy"].startswith("default-src 'self'")
    assert redirect.headers["x-content-type-options"] == "nosniff"


def test_bad_pairing_proofs_are_refused_and_counted(hub, db_state):
    before = db_state()
    for body in ({"code": hub.pair_code("kiosk", "k1")},  # the code itself: never accepted
                 {"nonce": "xyz", "proof": "0" * 64}, {"nonce": "0" * 32, "proof": "short"},
                 {"nonce": "0" * 32, "proof": "0" * 64, "extra": 1}, {}):
        reply = hub.http.post(hub.url + "/api/v1/pair", json=body, timeout=5)
        assert reply.status_code == 422, body
    before = db_state()
    reply = hub.http.post(hub.url + "/api/v1/pair", json={"nonce": "0" * 32, "proof": "0" * 64},
                          timeout=5)
    assert reply.status_code == 403 and reply.json()["reason"] == "pairing_code"
    assert db_state() == before


def test_device_tokens_renew_themselves_in_use_and_expire_unused(hub, office, tmp_path, clock):
    kiosk = hub.kiosk(tmp_path, "kiosk-1")
    first = json.loads(pairing_path(tmp_path / "kiosk-1").read_text())
    assert first["fingerprint"] == hub.fingerprint
    days = office.settings.hub.token_days
    me = hub.http.get(hub.url + "/api/v1/me", timeout=5,
                      headers={"Authorization": f"Bearer {first['token']}"})
    assert RENEW_HEADER not in me.headers  # young: nothing to do
    clock.advance(days=days / 2 + 1)
    kiosk.take_ticket(RES)  # its answer says "due": the client renews by itself
    second = json.loads(pairing_path(tmp_path / "kiosk-1").read_text())
    assert second["token"] != first["token"] and second["fingerprint"] == first["fingerprint"]
    assert kiosk.conn.token == second["token"]
    assert office.store.one("SELECT COUNT(*) AS n FROM audit WHERE action = "
                            "'device.token_renewed'")["n"] == 1
    # the old token works through the grace (calls already under way), then not
    old = {"Authorization": f"Bearer {first['token']}"}
    assert hub.http.get(hub.url + "/api/v1/me", headers=old, timeout=5).ok
    clock.advance(seconds=RENEW_GRACE_S + 1)
    gone = hub.http.get(hub.url + "/api/v1/me", headers=old, timeout=5)
    assert gone.status_code == 401 and gone.json()["reason"] == "token_wrong"
    kiosk.take_ticket(RES)  # the new one works
    # A device left off past its token's life must pair again.
    clock.advance(days=days + 1)
    expired = hub.http.get(hub.url + "/api/v1/me", timeout=5,
                           headers={"Authorization": f"Bearer {second['token']}"})
    assert expired.status_code == 401 and expired.json()["reason"] == "token_expired"
    renew = hub.http.post(hub.url + "/api/v1/renew", timeout=5,
                          headers={"Authorization": f"Bearer {second['token']}"})
    assert renew.status_code == 401  # an expired token cannot renew itself either


def test_a_device_paired_before_https_is_told_to_pair_again(hub, tmp_path):
    hub.kiosk(tmp_path, "kiosk-1")
    path = pairing_path(tmp_path / "kiosk-1")
    old = json.loads(path.read_text())
    path.write_text(json.dumps({"url": hub.board_url, "token": old["token"],
                                "device": old["device"]}))
    from core.errors import ConfigError
    with pytest.raises(ConfigError) as told:
        connect("kiosk", hub.device_settings(tmp_path, "kiosk-1"))
    assert "pair" in told.value.message and "https://" in told.value.message


def test_no_device_takes_the_name_of_the_hubs_own_printer(hub, db_state):
    from core.errors import ValidationError
    before = db_state()
    for name in ("main", "MAIN"):
        with pytest.raises(ValidationError) as refused:
            hub.devices.create_pairing("kiosk", name)
        assert refused.value.field == "name" and "own printer" in refused.value.message
    assert db_state() == before
