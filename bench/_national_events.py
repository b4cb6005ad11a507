"""The national bench's event streams: a real core Office per simulated device, driven
through a centre's day, its outbox cut into the batches the sync agent would send.

Made once per fleet shape and cached under /tmp (a pickle of gzip batches per device), then
replayed by bench/national.py against fresh central databases. Devices' SQLite stores live
on /dev/shm while they are generated (synchronous=FULL costs an fsync per operation on
disk; the events are the same) and are deleted afterwards.

Per device and round (one round = one batch, what the agent pushes after ~a sync interval):
residents visit the counter; each takes a ticket, is called and served (ticket.taken,
called, serving, finished: the bulk), a few do not show up (no_show); about half of them
submit an application (sealed fields, a resident key per application sent in the batch's
`keys`); an instant service is paid at once (payment.taken: cash, card or online) and its
licence issued (licence.issued, signed by the device's enrolled key); a review service waits
for the back office: central's decision is applied at the device in the next round
(application.approved / rejected with actor "central", exactly as sync.reference applies a
pulled decision), then the approved ones are paid and issued. A clerk opens a shift on the
first round; a few wrong PINs (user.pin_failed) happen over the day.

Each batch records the back-office decisions central must hold before the device can send
it (bench/national.py makes them over HTTP, POST /v1/admin/applications/N/decision, after
the batch with the application was acknowledged and before the batch with its approval).
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import random
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

CACHE_VERSION = 3
CACHE_ROOT = Path("/tmp/nafitha-national-cache")
SHM = Path("/dev/shm") if Path("/dev/shm").is_dir() else None

# Service mix of the applications a centre takes (share of applications), by catalogue code.
SERVICE_MIX = {
    "residence-certificate": 0.35,   # instant: paid and issued on the spot
    "building-land-tax": 0.20,       # instant (the fee is the assessed tax)
    "address-form": 0.15,            # review
    "building-permit-small": 0.10,   # review
    "excavation-permit": 0.05,       # review
    "road-works-permit": 0.05,       # review
    "drawings-amendment-permit": 0.05,
    "building-completion-certificate": 0.05,
}
P_APPLICATION = 0.5    # visitors who submit an application (the rest: enquiries, collection)
P_NO_SHOW = 0.05       # tickets called but nobody came
P_REJECTED = 0.10      # review decisions that reject
P_PIN_FAILED = 0.15    # rounds with one wrong PIN at the device
PAY_METHODS = (("cash", 0.5), ("card", 0.4), ("online", 0.1))

NAMES = ["Fatima Ali Hasan", "Ahmed Yusuf Salman", "Maryam Isa Khalil", "Hasan Jaffar Ali",
         "فاطمة علي حسن", "أحمد يوسف سلمان", "مريم عيسى خليل", "Noora Abdulla Saeed"]
SAMPLE_BY_TYPE = {"text": "Sample text", "phone": "33334444", "block": "204", "road": "15",
                  "building": "1203A", "area_m2": "45", "money": "12.500"}
CLERK = "sara"


def log(*parts) -> None:
    import sys
    print(*parts, file=sys.stderr, flush=True)


def fleet(municipalities: int, per_municipality: int) -> list[tuple[str, str]]:
    return [(f"M{m + 1:03d}", f"D{d + 1:02d}") for m in range(municipalities)
            for d in range(per_municipality)]


def cache_dir(municipalities: int, per_municipality: int, rounds: int, per_round: int,
              seed: int) -> Path:
    key = f"v{CACHE_VERSION}-m{municipalities}-d{per_municipality}-r{rounds}-e{per_round}" \
          f"-s{seed}"
    return CACHE_ROOT / key


def _settings(data_dir: Path, office: str, device: str):
    from core.settings import load_settings
    return load_settings(data_dir, environ={"NAFITHA_OFFICE__CODE": office,
                                            "NAFITHA_DEVICE__ID": device})


def _fields(svc, rng: random.Random, n: int, rule: str) -> dict:
    from core.text import with_check_digit
    values = {}
    for field in svc.fields:
        if field.key == "full_name":
            values[field.key] = rng.choice(NAMES)
        elif field.key == "parcel":
            values[field.key] = f"{rng.randint(1, 12):02d}-{rng.randint(1000, 9999)}"
        elif field.type == "national_id":
            values[field.key] = with_check_digit(f"{85010000 + n % 9_000_000:08d}", rule)
        elif field.type == "choice":
            values[field.key] = rng.choice(field.options).value
        elif field.type == "money":
            values[field.key] = f"{rng.randint(5, 400)}.{rng.randint(0, 999):03d}"
        else:
            values[field.key] = SAMPLE_BY_TYPE[field.type]
    return values


def _pick(rng: random.Random, weighted) -> str:
    items = list(weighted.items()) if isinstance(weighted, dict) else list(weighted)
    x, acc = rng.random(), 0.0
    for value, share in items:
        acc += share
        if x < acc:
            return value
    return items[-1][0]


# --- step 1: device keys (parallel) -----------------------------------------------------------
def _make_key(args) -> str:
    data_dir, office, device = args
    from core.office import Office
    o = Office.open(_settings(Path(data_dir), office, device))
    try:
        return o.request_key()["public_key"]
    finally:
        o.close()


# --- step 3: a device's day (parallel) ----------------------------------------------------------
def _device_day(args) -> dict:
    """Run one device through `rounds` rounds of about `per_round` events each; returns its
    batches (gzip bytes, as the agent encodes them), the decisions each needs first, and
    what it holds by event type."""
    data_dir, office_code, device, rounds, per_round, seed = args
    from core import outbox
    from core.office import Office
    from sync import protocol
    from sync.reference import apply_bundle

    rng = random.Random(seed)
    office = Office.open(_settings(Path(data_dir), office_code, device))
    rule = office.settings.validation.national_id_check
    store = office.store
    batches, needs, types, licences = [], [], {}, []
    awaiting: list[dict] = []  # review applications sent, waiting for the back office
    version, n = 0, seed * 1000
    try:
        office.payments.open_shift(CLERK, 20_000)
        for _ in range(rounds):
            decided_now = []
            # The back office's decisions on last round's review applications, applied as a
            # pulled bundle applies them (actor "central"); the approved are paid and issued.
            if awaiting:
                changes = []
                for app in awaiting:
                    version += 1
                    state = "rejected" if rng.random() < P_REJECTED else "approved"
                    body = {"application_id": app["id"], "number": app["number"],
                            "state": state, "reason": "incomplete drawings"
                            if state == "rejected" else None, "conditions": "",
                            "decided_by": "back-office", "decided_at": store.now()}
                    changes.append({"version": version, "kind": "decision", "key": app["id"],
                                    "body": body})
                    decided_now.append((app["number"], state, body["reason"]))
                apply_bundle(office, {"office": office_code, "device": device, "full": False,
                                      "from": version - len(changes), "cursor": version,
                                      "changes": changes})
                for app, (_, state, _) in zip(awaiting, decided_now):
                    if state == "approved":
                        _pay_and_issue(office, app["id"], rng, licences)
                awaiting = []
            if rng.random() < P_PIN_FAILED:
                with store.atomic(actor=CLERK):
                    store.record("user.pin_failed", "user", CLERK,
                                 {"username": CLERK, "failures": 1, "at": "local"})
            while outbox.pending_count(store) < per_round:
                n += 1
                service = _pick(rng, SERVICE_MIX)
                office.queue.take_ticket(service)
                ticket = office.queue.call_next("C1")
                if rng.random() < P_NO_SHOW:
                    office.queue.no_show(ticket["id"])
                    continue
                office.queue.start_serving(ticket["id"])
                if rng.random() < P_APPLICATION:
                    svc = office.catalog.get(service)
                    app = office.applications.submit(service, _fields(svc, rng, n, rule),
                                                     ticket=ticket["id"])
                    if svc.issue == "instant":
                        _pay_and_issue(office, app["id"], rng, licences)
                    else:
                        awaiting.append(app)
                office.queue.finish(ticket["id"])
            rows = outbox.unsent_rows(store, protocol.MAX_BATCH_EVENTS)
            bodies = [r["body"] for r in rows]
            events = [json.loads(b) for b in bodies]
            keys = office.sealer.keys_for(protocol.applications_named(events))
            batches.append(protocol.encode_batch(device, office_code, store.now(), bodies,
                                                 outbox.pending_count(store), keys))
            needs.append(decided_now)
            for e in events:
                types[e["type"]] = types.get(e["type"], 0) + 1
            outbox.mark_sent(store, [r["seq"] for r in rows], store.now())
    finally:
        office.close()
    shutil.rmtree(data_dir, ignore_errors=True)
    return {"office": office_code, "device": device, "batches": batches, "needs": needs,
            "types": types, "licences": licences[:5]}


def _pay_and_issue(office, application_id: str, rng: random.Random, licences: list) -> None:
    app = office.applications.row(application_id)
    method = _pick(rng, PAY_METHODS)
    if method == "cash":
        office.payments.take(application_id, "cash", CLERK,
                             tendered_minor=app["fee_minor"] + rng.choice((0, 0, 500, 1000)))
    else:
        office.payments.take(application_id, method, CLERK,
                             reference=f"{method[:2].upper()}{rng.getrandbits(48):012x}")
    licences.append(office.licences.issue(application_id)["number"])


# --- the whole fleet ---------------------------------------------------------------------------
def build(municipalities: int, per_municipality: int, rounds: int, per_round: int,
          seed: int = 1, processes: int = 2, refresh: bool = False) -> dict:
    """The fleet's streams (from the cache when there): {"root_key": path, "devices": [...],
    "build_s", "cached"}. Devices are enrolled for real (Central.enrol_code/enrol with their
    own Ed25519 keys) with a central whose root key is kept beside the cache, so their
    certificates and signed licences verify against it at replay."""
    from central.service import Central
    from core.credentials import ceremony

    directory = cache_dir(municipalities, per_municipality, rounds, per_round, seed)
    done = directory / "fleet.pickle"
    if done.exists() and not refresh:
        with open(done, "rb") as fh:
            fleet_data = pickle.load(fh)
        return {**fleet_data, "root_key": str(directory / "central" / "root.key"),
                "cached": True, "cache": str(directory)}
    started = time.perf_counter()
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    scratch = Path((SHM or directory) / f"nafitha-national-{os.getpid()}")
    shutil.rmtree(scratch, ignore_errors=True)
    members = fleet(municipalities, per_municipality)
    dirs = [scratch / f"{o}-{d}" for o, d in members]
    log(f"national: generating {len(members)} device keys")
    with ProcessPoolExecutor(processes) as pool:
        publics = list(pool.map(_make_key, [(str(p), o, d) for p, (o, d) in
                                            zip(dirs, members)], chunksize=20))
        # Enrolment, for real: a one-time code per device, then the enrolment with its key;
        # the certificate is installed in the device's data directory.
        log("national: enrolling them with central")
        central, _ = Central.init_root(directory / "central")
        try:
            for path, (office, device), public in zip(dirs, members, publics):
                code = central.enrol_code(office, role="counter")["code"]
                got = central.enrol(code, office, device, public)
                import base64
                ceremony.install(path, base64.b64decode(got["certificate"]),
                                 bytes.fromhex(got["root_public_key"]))
        finally:
            central.close()
        log(f"national: running {len(members)} devices x {rounds} rounds of ~{per_round} "
            f"events through core")
        jobs = [(str(p), o, d, rounds, per_round, seed * 100_000 + i)
                for i, (p, (o, d)) in enumerate(zip(dirs, members))]
        devices = []
        for i, one in enumerate(pool.map(_device_day, jobs, chunksize=10)):
            devices.append(one)
            if (i + 1) % 200 == 0:
                log(f"national: {i + 1} devices done ({time.perf_counter() - started:.0f} s)")
    for one, public in zip(devices, publics):
        one["public_key"] = public
    shutil.rmtree(scratch, ignore_errors=True)
    fleet_data = {"devices": devices, "build_s": round(time.perf_counter() - started, 1),
                  "shape": {"municipalities": municipalities,
                            "per_municipality": per_municipality, "rounds": rounds,
                            "per_round": per_round, "seed": seed}}
    tmp = done.with_suffix(".part")
    with open(tmp, "wb") as fh:
        pickle.dump(fleet_data, fh, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.rename(done)
    # The central database used for enrolment is not needed again: only its root key.
    for name in os.listdir(directory / "central"):
        if name != "root.key":
            path = directory / "central" / name
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    return {**fleet_data, "root_key": str(directory / "central" / "root.key"),
            "cached": False, "cache": str(directory)}


def digest(batch: bytes) -> str:
    return hashlib.sha256(batch).hexdigest()[:16]
