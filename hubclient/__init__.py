"""What a service centre's kiosk or counter uses to reach the centre's hub (the server is
hub/, which a kiosk never loads).

    device = join(data_dir, "https://hub:8470", "K7QF-9XM2")  # once: pairing (hub.json)
    kiosk = connect("kiosk", settings)                        # then: the kiosk's face

`connect` gives an object with the methods of the device's face (core.faces.kiosk.KioskFace
or core.faces.counter.CounterFace), derived from their declarations: same shapes, same core
errors. When the hub does not answer they raise core.errors.HubUnreachable, having changed
nothing here; the apps say so and keep what the person typed."""
from __future__ import annotations

import dataclasses
import hmac
import json
import secrets
import ssl
from pathlib import Path
from urllib.parse import urlsplit

import requests

from core import errors, tls
from core.pairing import normalise_code
from core.private_files import write_private

from .connection import (
    CONNECT_TIMEOUT_S, HubConnection, certificate_refused, error_from, pinned_session,
    refused_certificate, reply_json)
from .faces import REMOTE, RemoteCounter, RemoteKiosk, RemotePrintJobs

__all__ = ["join", "connect", "paired_url", "pairing_path", "hub_certificate",
           "HubConnection", "RemoteKiosk",
           "RemoteCounter", "RemotePrintJobs"]

PAIRING_FILE = "hub.json"
CACHE_FILE = "hub-cache.json"


def pairing_path(data_dir) -> Path:
    return Path(data_dir) / PAIRING_FILE


def paired_url(data_dir) -> str | None:
    """The hub this device joined (hub.json), if any."""
    path = pairing_path(data_dir)
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8")).get("url")


def hub_certificate(url: str, timeout_s: float = CONNECT_TIMEOUT_S) -> str:
    """The SHA-256 fingerprint of the certificate the server at an https:// URL presents
    (not trusted by itself: the pairing proof binds it to the code the hub showed)."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise errors.ValidationError(
            f"the hub's address is https://HOST:PORT (it serves devices over HTTPS only), "
            f"not {url!r}", field="url")
    try:
        pem = ssl.get_server_certificate((parts.hostname, parts.port or 443),
                                         timeout=timeout_s)
    except (OSError, ssl.SSLError) as exc:
        raise errors.HubUnreachable(f"the hub at {url} does not answer over HTTPS: "
                                    f"{type(exc).__name__}", url=url) from None
    return tls.fingerprint(ssl.PEM_cert_to_DER_cert(pem))


def join(data_dir, url: str, code: str, timeout_s: float = 10.0) -> dict:
    """Pair with the hub at an https:// URL using the code it showed: prove the code for
    the certificate seen (the code never crosses the network), check the hub's proof, and
    keep the token and the pinned certificate (hub.json, mode 600)."""
    url = url.rstrip("/")
    fingerprint = hub_certificate(url)
    key = tls.pairing_key(normalise_code(code), fingerprint)
    nonce = secrets.token_hex(16)
    try:
        reply = pinned_session(fingerprint).post(
            f"{url}/api/v1/pair", json={"nonce": nonce, "proof": tls.device_proof(key, nonce)},
            timeout=(CONNECT_TIMEOUT_S, timeout_s))
    except requests.RequestException as exc:
        if certificate_refused(exc):
            raise refused_certificate(url) from None
        raise errors.HubUnreachable(f"the hub at {url} does not answer: {exc}", url=url)
    if reply.status_code != 200:
        raise error_from(reply_json(reply), reply.status_code)
    body = reply.json()
    if not hmac.compare_digest(str(body.get("hub_proof", "")),
                               tls.hub_proof(key, nonce, str(body.get("token", "")))):
        raise errors.PermissionDenied(f"the server at {url} took the code but could not "
                                      f"prove it is the hub that showed it: not paired",
                                      reason="hub_certificate", url=url)
    save_pairing(data_dir, {"url": url, "fingerprint": fingerprint, "token": body["token"],
                            "device": body["device"]})
    return body["device"]


def save_pairing(data_dir, pairing: dict) -> None:
    path = pairing_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private(path, json.dumps(pairing, indent=2).encode("utf-8"))


def connect(role: str, settings, url: str | None = None):
    """This device's face through its hub (hub.json in the data directory). The settings
    that belong to the centre (office name, digits; a counter's name and services) are the
    hub's; the rest (printer, camera, terminal, screen) stay the device's own. A device that
    has reached its hub once also starts while the hub is away (hub-cache.json)."""
    path = pairing_path(settings.data_dir)
    if not path.exists():
        raise errors.ConfigError(
            f"this device is not paired with a hub: on the hub run `nafitha hub pair "
            f"{role} NAME`, then here `nafitha hub join URL CODE`", path=str(path))
    pairing = json.loads(path.read_text(encoding="utf-8"))
    if not pairing.get("fingerprint"):
        raise errors.ConfigError(
            "this device was paired before the hub served HTTPS: on the hub run `nafitha "
            f"hub pair {role} NAME`, then here `nafitha hub join https://HUB:8470 CODE`",
            path=str(path))
    url = (url or settings.hub.url or pairing["url"]).rstrip("/")
    if not url.startswith("https://"):
        raise errors.ConfigError(f"the hub's address is https://HOST:PORT, not {url!r}",
                                 path=str(path))

    def renewed(token, device):
        save_pairing(settings.data_dir, {**pairing, "token": token, "device": device})

    conn = HubConnection(url, pairing["token"], settings.hub.timeout_s,
                         fingerprint=pairing["fingerprint"], on_renewed=renewed)
    cache = path.with_name(CACHE_FILE)
    remote = REMOTE[role]
    try:
        device = conn.get("/api/v1/me")
        office = conn.get("/api/v1/office")
        services = conn.get(f"/api/v1/{remote.face.name}/catalogue")
        cache.write_text(json.dumps({"device": device, "office": office,
                                     "services": services}), encoding="utf-8")
    except errors.HubUnreachable:
        if not cache.exists():
            raise errors.HubUnreachable(
                f"the hub at {url} does not answer, and this device has never reached it "
                f"(start it with `nafitha hub serve`)", url=url) from None
        known = json.loads(cache.read_text(encoding="utf-8"))
        device, office, services = known["device"], known["office"], known["services"]
    if device["role"] != role:
        raise errors.ConfigError(f"this device is paired as a {device['role']}, not a "
                                 f"{role}", path=str(path))
    settings = dataclasses.replace(settings, office=dataclasses.replace(
        settings.office, **{k: office[k] for k in ("code", "name_ar", "name_en", "timezone",
                                                   "digits")}))
    if role == "counter":
        settings = dataclasses.replace(settings, counter=dataclasses.replace(
            settings.counter, name=device["name"], services=",".join(device["services"])))
    return remote(conn, settings, device, services)
