"""The back office's catalogue: each service's fee, validity, documents to bring and the
offices that offer it, as central publishes them in the reference stream (docs/catalog.md).

A change is checked by the catalogue loader's own rules (core.catalog.parse_service), then
published as a new "service" change: the next signed bundle carries it to every office, which
lays it over its shipped files. A refused change publishes nothing."""
from __future__ import annotations

import json

import sqlalchemy as sa

from core.catalog import LANGUAGES, parse_fee, parse_service
from core.errors import CatalogError

from .db import offices, reference
from .staff import Staff
from .service import Central, CentralError, check_service

ALL_OFFICES = "all"


class Catalogue:
    def __init__(self, central: Central):
        self.central = central

    # --- reading ---------------------------------------------------------------------------
    def services(self) -> list[dict]:
        """Each service as last published (its settings: the keys of a catalogue file)."""
        with self.central.engine.connect() as conn:
            rows = conn.execute(sa.select(reference.c.body).where(
                reference.c.kind == "service").order_by(reference.c.version)).scalars().all()
        latest = {}
        for body in rows:
            raw = json.loads(body)
            latest[raw["code"]] = raw
        return list(latest.values())

    def service(self, code: str) -> dict:
        """One service as last published, with its `version` in the reference stream."""
        with self.central.engine.connect() as conn:
            return self._latest(conn, code)

    def _latest(self, conn, code) -> dict:
        row = conn.execute(sa.select(reference.c.version, reference.c.body).where(
            reference.c.kind == "service", reference.c.key == code)
            .order_by(reference.c.version.desc()).limit(1)).first() \
            if isinstance(code, str) else None
        if row is None:
            raise CentralError(404, "unknown_service", f"no service {code!r}", field="service")
        return {**json.loads(row.body), "version": row.version}

    # --- changing --------------------------------------------------------------------------
    def change(self, code: str, *, by: str, fee: str | None = None,
               validity_days: int | None = None, documents: list[dict] | None = None,
               offices: list[str] | str | None = None, name: dict | None = None,
               based_on: int | None = None) -> dict:
        """Publish a change to one service; None leaves a setting as it is.

        fee: in the currency's units, as text ("1.500" BHD); validity_days: 1-36500;
        documents: the whole list to bring, [{ar, en}, ...]; offices: the office codes that
        offer it, or "all"; name: {ar, en}; based_on: the version the person edited (a
        change published since is refused, not overwritten). Returns {service, version,
        changed}; a change that changes nothing publishes nothing."""
        if not isinstance(by, str) or not by.strip():
            raise CentralError(422, "invalid_actor", "by: who makes the change")
        if all(v is None for v in (fee, validity_days, documents, offices, name)):
            raise CentralError(422, "nothing_to_change", "give at least one of fee, "
                                                         "validity_days, documents, offices, name")
        with self.central.engine.begin() as conn:
            current = self._latest(conn, code)
            version = current.pop("version")
            if based_on is not None and based_on != version:
                raise CentralError(409, "changed_meanwhile",
                                   f"{code} was changed since version {based_on} (now "
                                   f"{version}); reload it and make the change again")
            updates = {"fee": self._fee(current, fee), "validity_days": validity_days,
                       "documents": documents, "name": name,
                       "offices": self._offices(conn, offices)}
            raw = dict(current)
            for setting, value in updates.items():
                if value is None:
                    continue
                # Each setting alone first, so the refusal names the one that is wrong.
                candidate = {k: v for k, v in current.items() if k != setting}
                raw.pop(setting, None)
                if value != ALL_OFFICES:  # "all": no list, as in a shipped file
                    candidate[setting] = raw[setting] = value
                check_service(candidate, setting)
            check_service(raw, "service")
            changed = sorted(k for k in set(raw) | set(current) if raw.get(k) != current.get(k))
            if not changed:
                return {"service": current, "version": version, "changed": []}
            self.central._add_change(conn, "service", code, None, raw)
            version = self._latest(conn, code)["version"]
            Staff(self.central).audit(by.strip(), "service.change", "service", code, None,
                                      {"changed": changed, "version": version}, conn=conn)
        return {"service": raw, "version": version, "changed": changed}

    @staticmethod
    def _fee(current: dict, fee) -> dict | None:
        if fee is None:
            return None
        if current["fee"].get("from_field"):
            raise CentralError(422, "invalid_fee",
                               f"{current['code']}: the fee is the amount typed in "
                               f"{current['fee']['from_field']!r}; it has no fixed fee",
                               field="fee")
        try:
            amount = parse_fee(fee, current["fee"]["currency"])
        except CatalogError as exc:
            raise CentralError(422, "invalid_fee", f"{current['code']} {exc.message}",
                               field="fee") from None
        return {**current["fee"], "amount": amount}

    @staticmethod
    def _offices(conn, wanted) -> list[str] | str | None:
        if wanted is None or wanted == ALL_OFFICES:
            return wanted
        if not isinstance(wanted, (list, tuple)):
            raise CentralError(422, "invalid_offices",
                               'offices: a list of office codes, or "all"', field="offices")
        known = set(conn.execute(sa.select(offices.c.code)).scalars())
        unknown = [o for o in wanted if o not in known]
        if unknown:
            raise CentralError(422, "unknown_office",
                               f"no office {', '.join(map(repr, unknown))} (known: "
                               f"{', '.join(sorted(known)) or 'none yet'})", field="offices")
        return sorted(wanted)


def kiosk_preview(raw: dict, language: str, *, digits: str = "latin",
                  office: str | None = None) -> dict:
    """What a kiosk shows for this service (its settings, as published or about to be) in
    `language`: the title, the fee formatted by the kiosk's own code, the documents to bring,
    and whether `office` offers it (None: which offices do)."""
    if language not in LANGUAGES:
        raise CentralError(422, "invalid_language", f"language: one of {', '.join(LANGUAGES)}")
    if digits not in ("latin", "arabic"):
        raise CentralError(422, "invalid_digits", "digits: latin or arabic")
    try:
        service = parse_service({k: v for k, v in raw.items() if k != "version"}, "preview")
    except CatalogError as exc:
        raise CentralError(422, "invalid_service", exc.message) from None
    assessed = service.field(service.fee_from_field).label.get(language) \
        if service.fee_from_field else None
    return {"code": service.code, "title": service.name.get(language),
            "fee": service.fee_display(language, digits), "fee_assessed_from": assessed,
            "instant": service.instant,
            "documents": [d.get(language) for d in service.documents],
            "offices": list(service.offices) if service.offices is not None else ALL_OFFICES,
            "offered": service.offered_at(office) if office is not None else None}
