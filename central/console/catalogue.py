"""The catalogue and its fees: every service as central publishes it now, one service's page
with a preview of its kiosk card in Arabic and English, and the forms that change it.

Changes go through central.catalogue.Catalogue.change (the catalogue's owner): it checks them
by the catalogue loader's rules, publishes each good one as a signed reference change and
writes the console_audit row; a refused one publishes nothing and the page says why, keeping
what was typed. The catalogue is national (one fee per service everywhere), so only national
staff change it: a municipality's staff read it."""
from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from central.catalogue import ALL_OFFICES, Catalogue, kiosk_preview
from central.service import CentralError
from central.staff import Person
from core.catalog import MAX_DOCUMENTS, TEXT_MAX, fee_text, max_fee_minor
from core.text import to_ascii_digits

from . import i18n
from .web import (PageError, console, form, not_found, page, redirect, refusal, render,
                  require)

KIOSK_TEXTS = Path(__file__).resolve().parents[2] / "assets" / "translations" / "kiosk.toml"
# The kiosk's own words for a service card (assets/translations/kiosk.toml: section, key).
KIOSK_KEYS = {"fee": ("common", "fee"), "fee_assessed": ("common", "fee_assessed"),
              "instant": ("common", "instant"), "review": ("common", "review"),
              "documents": ("service", "documents"), "no_documents": ("service", "no_documents")}
# Refusals this page explains in the person's language (else web.refusal's text).
EXPLAINED = ("invalid_fee", "invalid_validity_days", "invalid_documents", "documents_unpaired",
             "unknown_office", "invalid_offices", "no_office", "changed_meanwhile",
             "unknown_service")


@lru_cache(maxsize=1)
def kiosk_words() -> dict[str, dict[str, str]]:
    with KIOSK_TEXTS.open("rb") as f:
        texts = tomllib.load(f)
    return {name: texts[section][key] for name, (section, key) in KIOSK_KEYS.items()}


def _catalogue(request: Request) -> Catalogue:
    return Catalogue(console(request).central)


def days(n: int, lang: str) -> str:
    """A validity in days, with Arabic's number agreement (يوم واحد، يومان، 3 أيام، 11 يومًا)."""
    if lang != "ar":
        return i18n.t("catalogue.days_one" if n == 1 else "catalogue.days", lang, n=n)
    tail = n % 100
    key = ("catalogue.days_one" if n == 1 else "catalogue.days_two" if n == 2 else
           "catalogue.days_few" if 3 <= tail <= 10 else
           "catalogue.days_many" if 11 <= tail <= 99 else "catalogue.days")
    return i18n.t(key, lang, n=n)


def card(raw: dict, lang: str) -> dict:
    """A service as a kiosk card shows it in `lang` (Catalogue's kiosk_preview, in the
    kiosk's own words)."""
    shown = kiosk_preview(raw, lang)
    words = {k: v[lang] for k, v in kiosk_words().items()}
    return {"lang": lang, "dir": "rtl" if lang == "ar" else "ltr", "title": shown["title"],
            "fee": f"{words['fee']}: {shown['fee'] or words['fee_assessed']}",
            "issue": words["instant" if shown["instant"] else "review"],
            "instant": shown["instant"], "documents_title": words["documents"],
            "documents": shown["documents"], "no_documents": words["no_documents"]}


def summary(raw: dict, lang: str) -> dict:
    """What the catalogue's table and a service's facts show, in the page's language."""
    shown = kiosk_preview(raw, lang)
    offices = raw.get("offices")
    return {"code": raw["code"], "name_ar": raw["name"]["ar"], "name_en": raw["name"]["en"],
            "fee": shown["fee"], "assessed": raw["fee"].get("from_field") is not None,
            "assessed_from": shown["fee_assessed_from"], "currency": raw["fee"]["currency"],
            "validity": days(raw["validity_days"], lang), "instant": shown["instant"],
            "offices": offices, "prefix": raw["prefix"], "licence_type": raw["licence_type"],
            "version": raw.get("version")}


def _can_change(person: Person, permission: str) -> bool:
    return person.can(permission) and person.municipality is None


def _explain(person: Person, exc: CentralError, raw: dict) -> str:
    """The refusal in the person's language, with the rule it broke."""
    if exc.code == "invalid_fee" and raw["fee"].get("from_field"):
        return i18n.t("catalogue.error.assessed", person.language)
    if exc.code not in EXPLAINED:
        return refusal(person, exc)
    return i18n.t(f"catalogue.error.{exc.code}", person.language,
                  **fee_rules(raw, person.language), most=MAX_DOCUMENTS, chars=TEXT_MAX)


def fee_rules(raw: dict, lang: str) -> dict:
    """How a fee for this service is typed (the catalogue's rules, core.catalog.parse_fee):
    the currency as the kiosk names it, its decimals, an example and the largest fee."""
    code = raw["fee"]["currency"]
    decimals = len(fee_text(1, code).partition(".")[2])  # "0.001" for BHD
    whole, frac = divmod(max_fee_minor(code), 10 ** decimals)
    one = kiosk_preview({**raw, "fee": {"amount": 1, "currency": code}}, lang)["fee"]
    return {"currency": one.split(" ", 1)[1], "decimals": decimals,
            "example": fee_text(1500, code),
            "largest": f"{whole:,}" + (f".{frac:0{decimals}d}" if decimals else "")}


# --- pages -------------------------------------------------------------------------------------
@page("/catalogue")
def catalogue_list(request: Request, person: Person = require("read")):
    lang = person.language
    rows = [summary(raw, lang) for raw in _catalogue(request).services()]
    return render(request, person, "catalogue.html", rows=rows)


def _service_page(request: Request, person: Person, code: str, status_code: int = 200,
                  error: str = "", detail: str = "", failed: str = "",
                  entered: dict | None = None):
    try:
        raw = _catalogue(request).service(code)
    except CentralError as exc:
        if exc.code == "unknown_service":
            raise not_found(person) from None
        raise
    offices = [o["code"] for o in console(request).staff.offices()]
    current = {"fee": fee_text(raw["fee"]["amount"], raw["fee"]["currency"]),
               "validity": str(raw["validity_days"]),
               "documents_ar": "\n".join(d["ar"] for d in raw.get("documents", [])),
               "documents_en": "\n".join(d["en"] for d in raw.get("documents", [])),
               "all_offices": raw.get("offices") is None,
               "offices": raw.get("offices") or []}
    done = request.query_params.get("done")
    rules = fee_rules(raw, person.language)
    return render(request, person, "catalogue_service.html", status_code=status_code,
                  service=summary(raw, person.language), version=raw["version"],
                  cards=[card(raw, "ar"), card(raw, "en")], all_offices=offices,
                  values={**current, **(entered or {})}, failed=failed, error=error,
                  detail=detail, done=done if done in ("0", "1") else None,
                  can_fee=_can_change(person, "fees"),
                  can_catalogue=_can_change(person, "catalogue"),
                  currency_name=rules["currency"], fee_example=rules["example"],
                  fee_decimals=rules["decimals"], fee_largest=rules["largest"],
                  max_documents=MAX_DOCUMENTS, text_max=TEXT_MAX)


@page("/catalogue/{code}")
def service_page(request: Request, code: str, person: Person = require("read")):
    return _service_page(request, person, code)


async def _change(request: Request, person: Person, code: str, permission: str, which: str,
                  read):
    """Check the form, then Catalogue.change with what `read(fields, form)` gives; a refusal
    re-renders the page with the reason and what was typed (nothing published)."""
    fields = await form(request, person)
    if not _can_change(person, permission):
        raise PageError(403, "error.national_only", person)
    catalogue = _catalogue(request)
    try:
        raw = await run_in_threadpool(catalogue.service, code)
    except CentralError as exc:
        if exc.code == "unknown_service":
            raise not_found(person) from None
        raise
    based_on = fields.get("based_on", "")
    if not based_on.isascii() or not based_on.isdigit():
        raise PageError(422, "error.bad_request", person)
    entered: dict = {}
    try:
        changes = read(fields, await request.form(), entered)
    except CentralError as exc:  # the form itself is wrong: said in the person's language
        return await run_in_threadpool(_service_page, request, person, code, exc.status,
                                       _explain(person, exc, raw), "", which, entered)
    try:
        done = await run_in_threadpool(lambda: catalogue.change(
            code, by=person.username, based_on=int(based_on), **changes))
    except CentralError as exc:
        # Catalogue's own words name the exact problem (the line, the character, the office).
        detail = exc.message
        if exc.code == "changed_meanwhile":
            entered, detail = {}, ""  # show what is published now, to be changed again
        return await run_in_threadpool(_service_page, request, person, code, exc.status,
                                       _explain(person, exc, raw), detail, which, entered)
    return redirect(f"/console/catalogue/{code}?done={1 if done['changed'] else 0}")


def _digits(text: str) -> str:
    """Arabic-Indic digits and the Arabic decimal point as typed on an Arabic keyboard."""
    return to_ascii_digits(text.strip()).replace("\u066b", ".")


def _read_fee(fields: dict, _posted, entered: dict) -> dict:
    entered["fee"] = fields.get("fee", "")
    return {"fee": _digits(entered["fee"])}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _read_settings(fields: dict, posted, entered: dict) -> dict:
    chosen = [o for o in posted.getlist("office") if isinstance(o, str)]
    mode = fields.get("offices", "")
    entered |= {"validity": fields.get("validity", ""),
               "documents_ar": fields.get("documents_ar", ""),
               "documents_en": fields.get("documents_en", ""),
               "all_offices": mode == "all", "offices": chosen}
    validity = _digits(entered["validity"])
    if not validity.isascii() or not validity.isdigit() or len(validity) > 6:
        raise CentralError(422, "invalid_validity_days", "validity: a whole number of days",
                           field="validity_days")
    arabic, english = _lines(entered["documents_ar"]), _lines(entered["documents_en"])
    if len(arabic) != len(english):
        raise CentralError(422, "documents_unpaired",
                           f"documents: {len(arabic)} Arabic lines but {len(english)} English "
                           f"lines; each document needs both", field="documents")
    if mode == "all":
        offices = ALL_OFFICES
    elif mode == "some":
        if not chosen:
            raise CentralError(422, "no_office", "offices: choose at least one office, or all",
                               field="offices")
        offices = chosen
    else:
        raise CentralError(422, "invalid_offices", 'offices: "all" or "some"', field="offices")
    return {"validity_days": int(validity), "offices": offices,
            "documents": [{"ar": a, "en": e} for a, e in zip(arabic, english)]}


@page("/catalogue/{code}/fee", methods=("POST",))
async def change_fee(request: Request, code: str, person: Person = require("fees")):
    return await _change(request, person, code, "fees", "fee", _read_fee)


@page("/catalogue/{code}/settings", methods=("POST",))
async def change_settings(request: Request, code: str, person: Person = require("catalogue")):
    return await _change(request, person, code, "catalogue", "settings", _read_settings)
