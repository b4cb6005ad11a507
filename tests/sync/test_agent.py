"""The agent's behaviour: backoff with jitter, Retry-After, noticing central come back,
prompt pushes, partial acknowledgements, TLS against a configured CA, one agent per device."""
from __future__ import annotations

import datetime as dt
import json
import random
import threading
import time

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from central.app import create_app
from central_servers import ServerThread
from sync.agent import AgentBusy, AgentLock, SyncAgent, SyncError


class Scripted(requests.Session):
    """Answers /v1/events from a script of (status, headers, body) and records each call;
    anything else goes to the real server."""

    def __init__(self, script):
        super().__init__()
        self.script = list(script)
        self.calls = []

    def request(self, method, url, **kw):
        self.calls.append((method, url))
        if "/v1/events" in url and self.script:
            status, headers, body = self.script.pop(0)
            if callable(body):
                real = super().request(method, url, **kw)
                status, body = real.status_code, body(real.json())
            response = requests.Response()
            response.status_code, response.headers = status, requests.structures. \
                CaseInsensitiveDict(headers)
            response._content = json.dumps(body).encode() if body is not None else b"{\"acknowl"
            return response
        return super().request(method, url, **kw)


def test_the_agent_backs_off_with_jitter_between_its_base_and_its_ceiling(office):
    agent = SyncAgent(office, url="http://127.0.0.1:9", token="t", rng=random.Random(3))
    delays = [agent.backoff.next_delay() for _ in range(12)]
    for n, delay in enumerate(delays):
        step = min(office.settings.sync.backoff_max_s, 2 ** n)
        assert step / 2 <= delay <= step
    assert len(set(delays)) == len(delays)  # jittered


@pytest.fixture
def online(make_central, serve, make_office):
    central = make_central()
    server = serve(central)
    return central, server, make_office(central, server.url)


def test_retry_after_is_honoured_and_errors_are_recorded(online):
    central, server, office = online
    office.queue.take_ticket("residence-certificate")
    sleeps = []
    session = Scripted([(503, {"Retry-After": "42"}, {"error": "busy", "message": "later"}),
                        (500, {}, {"error": "boom", "message": "internal"})])
    agent = SyncAgent(office, session=session, sleep=sleeps.append)
    seen = []
    agent.run(cycles=3, on_cycle=lambda r, e: seen.append(e.kind if e else "ok"))
    assert seen == ["busy", "server", "ok"]
    assert sleeps[0] >= 42 and sleeps[1] < 42
    assert office.sync_status()["pending"] == 0 and central.counts()["events"] == 1


def test_a_truncated_or_partial_reply_marks_only_what_central_named(online):
    central, server, office = online
    for _ in range(4):
        office.queue.take_ticket("residence-certificate")

    def drop_two(reply):
        return {**reply, "acknowledged": reply["acknowledged"][:2]}

    agent = SyncAgent(office, session=Scripted([(200, {}, None), (200, {}, drop_two)]))
    with pytest.raises(SyncError, match="cut off"):
        agent.push()
    assert office.sync_status()["pending"] == 4
    with pytest.raises(SyncError, match="confirmed 2 of 4"):
        agent.push()
    assert office.sync_status()["pending"] == 2
    assert agent.push() == 2  # the other two again; central already held them
    assert central.counts()["events"] == 4 and office.sync_status()["pending"] == 0


def test_the_agent_notices_central_coming_back_without_waiting_out_its_backoff(
        make_central, make_office):
    central = make_central()
    server = ServerThread(create_app(central)).start()
    office = make_office(central, server.url)
    server.stop()
    office.queue.take_ticket("residence-certificate")
    agent = SyncAgent(office)
    agent.backoff.failures = 12  # the next wait is minutes long
    thread = threading.Thread(target=agent.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while office.sync_status()["last_error"] is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "offline" in office.sync_status()["last_error"]
        back = ServerThread(create_app(central), port=server.port).start()
        started = time.monotonic()
        while office.sync_status()["pending"] and time.monotonic() - started < 10:
            time.sleep(0.05)
        took = time.monotonic() - started
        assert office.sync_status()["pending"] == 0 and took < 5  # probe: 0.2 s here
        # Online and idle: new work goes out promptly, not after interval_s (30 s).
        office.queue.take_ticket("residence-certificate")
        started = time.monotonic()
        while office.sync_status()["pending"] and time.monotonic() - started < 10:
            time.sleep(0.05)
        assert office.sync_status()["pending"] == 0 and time.monotonic() - started < 5
        back.stop()
    finally:
        agent.stop()
        thread.join(10)
    assert not thread.is_alive()


def test_one_agent_per_device(online):
    _, _, office = online
    with AgentLock(office.settings.data_dir):
        with pytest.raises(AgentBusy, match="another sync agent"):
            AgentLock(office.settings.data_dir).acquire()
    with AgentLock(office.settings.data_dir):  # released: free again
        pass


def test_not_enrolled_is_a_clear_error(office):
    with pytest.raises(SyncError, match="not enrolled"):
        SyncAgent(office)


# --- TLS -----------------------------------------------------------------------------------------
def _certificate(subject, issuer, public, signer, ca: bool, san=None):
    now = dt.datetime.now(dt.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
               .public_key(public).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(days=1))
               .not_valid_after(now + dt.timedelta(days=30))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if san:
        builder = builder.add_extension(san, critical=False)
    return builder.sign(signer, hashes.SHA256())


@pytest.fixture
def tls_files(tmp_path):
    import ipaddress
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Nafitha test CA")])
    ca = _certificate(ca_name, ca_name, ca_key.public_key(), ca_key, True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    cert = _certificate(name, ca_name, key.public_key(), ca_key, False, san)
    pem = serialization.Encoding.PEM
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(pem))
    (tmp_path / "server.pem").write_bytes(cert.public_bytes(pem))
    (tmp_path / "server.key").write_bytes(key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return tmp_path


def test_tls_is_verified_against_the_configured_ca(make_central, serve, make_office, tls_files):
    central = make_central()
    server = serve(central, ssl_certfile=str(tls_files / "server.pem"),
                   ssl_keyfile=str(tls_files / "server.key"))
    assert server.url.startswith("https://")
    with pytest.raises(SyncError, match="TLS certificate is not trusted"):
        make_office(central, server.url, device="D09")  # the system CAs do not know ours
    office = make_office(central, server.url, NAFITHA_SYNC__CA_BUNDLE=str(tls_files / "ca.pem"))
    office.queue.take_ticket("residence-certificate")
    assert SyncAgent(office).once()["sent"] == 1
