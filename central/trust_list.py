"""The trust list central publishes for the browser verifier (docs/verify.md): its roots and
its current revocation list in one NTL1 envelope signed by the root key
(sync.protocol.sign_trust_list), served at /verify/trust-list.json and sent to every office
as the reference change ("trust_list", "list"), which each hub serves in turn.

Versions: a counter in the meta table ("trust_list_version"), raised by one in the same
transaction as every new revocation list (central/service.py, _publish_revocations), so a
list with a newer revocation list always has a higher version, and a version is never
reused (the row is updated only from the value read: a concurrent writer fails instead of
writing the same version twice). Version 1 is the first list, made when central's database
first opens with this release. The latest envelope is the latest reference change of its
kind, which compaction always keeps."""
from __future__ import annotations

import base64
import json

import sqlalchemy as sa

from core.clock import parse_iso
from core.credentials import revocation
from core.credentials.trust import TrustStore
from sync import protocol

from .db import meta, reference, revocation_lists

VERSION_KEY = "trust_list_version"


class VersionRace(RuntimeError):
    """Another transaction published a trust list at the same time (this one rolls back)."""


def _version(conn) -> int:
    value = conn.execute(sa.select(meta.c.value).where(meta.c.key == VERSION_KEY)).scalar()
    return int(value) if value else 0


def _latest_revocations(conn) -> tuple[int, bytes | None, int | None]:
    """(number, COSE bytes, issued at) of central's newest revocation list; (0, None, None)
    before the first."""
    row = conn.execute(sa.select(revocation_lists).order_by(
        revocation_lists.c.number.desc()).limit(1)).mappings().first()
    if row is None:
        return 0, None, None
    return row["number"], base64.b64decode(row["list"]), \
        int(parse_iso(row["issued_at"]).timestamp())


def publish(central, conn) -> dict:
    """A new trust list of central's roots and newest revocation list, one version above the
    last, into the reference stream; returns its envelope."""
    version = _version(conn)
    new = version + 1
    if version == 0:
        conn.execute(sa.insert(meta).values(key=VERSION_KEY, value=str(new)))
    elif conn.execute(sa.update(meta).where(meta.c.key == VERSION_KEY,
                                            meta.c.value == str(version))
                      .values(value=str(new))).rowcount != 1:
        raise VersionRace(f"trust list version {new} was published by another writer")
    _, listed, _ = _latest_revocations(conn)
    envelope = protocol.sign_trust_list(new, int(central.clock.now().timestamp()),
                                        sorted(central.trust.roots.values()), listed,
                                        central.root_key)
    central._add_change(conn, protocol.TRUST_LIST_KIND, protocol.TRUST_LIST_KEY, None,
                        envelope)
    return envelope


def ensure(central) -> None:
    """The first trust list, once (a database from before this release has none). Several
    workers opening at once: the first wins, the others find it."""
    with central.engine.connect() as conn:
        if _version(conn):
            return
    try:
        with central.engine.begin() as conn:
            if not _version(conn):
                publish(central, conn)
    except (sa.exc.IntegrityError, VersionRace):
        pass  # another worker published version 1 meanwhile


def latest(central) -> dict:
    """The newest envelope, as published."""
    with central.engine.connect() as conn:
        body = conn.execute(sa.select(reference.c.body).where(
            reference.c.kind == protocol.TRUST_LIST_KIND,
            reference.c.key == protocol.TRUST_LIST_KEY)
            .order_by(reference.c.version.desc()).limit(1)).scalar()
    if body is None:  # opened without ensure() (a test's bare Central)
        ensure(central)
        return latest(central)
    return json.loads(body)


class Verifier:
    """The trust central verifies QR texts with (POST /v1/verify): its roots and its newest
    revocation list, parsed once per list number."""

    def __init__(self, central):
        self.central = central
        self._held: tuple[int, TrustStore] | None = None

    def trust(self) -> TrustStore:
        with self.central.engine.connect() as conn:
            number = conn.execute(sa.select(sa.func.max(revocation_lists.c.number))).scalar() \
                or 0
            held = self._held
            if held is not None and held[0] == number:
                return held[1]
            number, listed, _ = _latest_revocations(conn)
        rl = revocation.parse_bytes(listed) if listed is not None else None
        store = TrustStore(self.central.trust.roots, rl)
        self._held = (number, store)
        return store
