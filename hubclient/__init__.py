"""What a service centre's kiosk or counter uses to reach the centre's hub (the server is
hub/, which a kiosk never loads).

    device = join(data_dir, "http://hub:8470", "K7QF-9XM2")   # once: pairing (hub.json)
    kiosk = connect("kiosk", settings)                        # then: the kiosk's face

`connect` gives an object with the methods of the device's face (core.faces.kiosk.KioskFace
or core.faces.counter.CounterFace), derived from their declarations: same shapes, same core
errors. When the hub does not answer they raise core.errors.HubUnreachable, having changed
nothing here; the apps say so and keep what the person typed."""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import requests

from core import errors

from .connection import CONNECT_TIMEOUT_S, HubConnection, error_from, reply_json
from .faces import REMOTE, RemoteCounter, RemoteKiosk, RemotePrintJobs

__all__ = ["join", "connect", "paired_url", "pairing_path", "HubConnection", "RemoteKiosk",
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


def join(data_dir, url: str, code: str, timeout_s: float = 10.0) -> dict:
    """Trade a pairing code for this device's token and keep it (hub.json, mode 600)."""
    url = url.rstrip("/")
    try:
        reply = requests.post(f"{url}/api/v1/pair", json={"code": code},
                              timeout=(CONNECT_TIMEOUT_S, timeout_s))
    except requests.RequestException as exc:
        raise errors.HubUnreachable(f"the hub at {url} does not answer: {exc}", url=url)
    if reply.status_code != 200:
        raise error_from(reply_json(reply), reply.status_code)
    body = reply.json()
    path = pairing_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"url": url, "token": body["token"], "device": body["device"]}, f, indent=2)
    return body["device"]


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
    url = (url or settings.hub.url or pairing["url"]).rstrip("/")
    conn = HubConnection(url, pairing["token"], settings.hub.timeout_s)
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
