"""The browser verifier's words (assets/verify/, GET /verify/words.json on central and each hub):
the kiosk's own [verify] and [reason] texts, the language switch, and the page's [verify_page]
texts, from assets/translations/kiosk.toml, so the page says exactly what the kiosk says.

    words() -> {"ar": {"verify.genuine": "رخصة أصلية", ...}, "en": {...}}

Pure: reads one file, no store, no network (central may use it)."""
from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from .text import LANGUAGES

KIOSK_TOML = Path(__file__).resolve().parents[1] / "assets" / "translations" / "kiosk.toml"
SECTIONS = ("verify", "reason", "verify_page")
SINGLE = (("common", "language"),)  # the switch names the other language


def words(path: Path = KIOSK_TOML) -> dict[str, dict[str, str]]:
    """ValueError naming the key when a text lacks a language (the kiosk's own test keeps the
    shipped file whole; this guards a hand-edited one)."""
    return {lang: dict(texts) for lang, texts in _load(path).items()}


@lru_cache(maxsize=4)
def _load(path: Path) -> dict[str, dict[str, str]]:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    wanted = [(s, k) for s in SECTIONS for k in raw.get(s, {})] + list(SINGLE)
    out: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
    for section, key in wanted:
        texts = raw.get(section, {}).get(key)
        if not isinstance(texts, dict) or not all(
                isinstance(texts.get(lang), str) and texts[lang] for lang in LANGUAGES):
            raise ValueError(f"{section}.{key} needs non-empty ar and en texts")
        for lang in LANGUAGES:
            out[lang][f"{section}.{key}"] = texts[lang]
    return out
