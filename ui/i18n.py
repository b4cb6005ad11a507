"""The words on screen, in Arabic and English, from assets/translations/<app>.toml.

`Translations.get("payment.declined", "ar")`; placeholders are filled with str.format; whole
numbers among them are shown in the digits the office configures (office.digits) in Arabic."""
from __future__ import annotations

import tomllib
from pathlib import Path

from core.text import LANGUAGES

from .messages import format_digits

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "assets" / "translations"


class TranslationError(Exception):
    pass


class Translations:
    def __init__(self, entries: dict[str, dict[str, str]], digits: str = "latin"):
        self.entries = entries
        self.digits = digits

    @classmethod
    def load(cls, app: str, digits: str = "latin",
             directory: Path = TRANSLATIONS_DIR) -> "Translations":
        path = directory / f"{app}.toml"
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise TranslationError(f"{path}: {exc}") from None
        entries: dict[str, dict[str, str]] = {}
        for section, keys in raw.items():
            if not isinstance(keys, dict):
                raise TranslationError(f"{path}: [{section}] must be a table")
            for key, texts in keys.items():
                name = f"{section}.{key}"
                if not isinstance(texts, dict) or set(texts) != set(LANGUAGES) or \
                        not all(isinstance(t, str) and t for t in texts.values()):
                    raise TranslationError(f"{path}: {name} needs non-empty ar and en texts")
                entries[name] = texts
        return cls(entries, digits)

    def get(self, key: str, lang: str, **params) -> str:
        try:
            text = self.entries[key][lang]
        except KeyError:
            raise TranslationError(f"no translation {key!r} for {lang!r}") from None
        # Counts and amounts follow office.digits; identifiers (numbers people copy, such
        # as R007 or MUH-2026-D01-000001) stay as printed.
        text = format_digits(text, lang, self.digits)
        if params:
            text = text.format(**{k: format_digits(str(v), lang, self.digits)
                                  if isinstance(v, int) else v for k, v in params.items()})
        return text

    def digits_of(self, text: str, lang: str) -> str:
        return format_digits(str(text), lang, self.digits)
