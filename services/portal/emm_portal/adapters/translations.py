"""The gettext catalogs (locale/<lang>/LC_MESSAGES/messages.po), compiled in memory at start so
that there is no build step, and what Babel knows of each locale: dates, numbers, country names."""

from __future__ import annotations

import io
import unicodedata
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_interval
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations

from emm_portal.domain.language import LANGUAGES

LOCALE_DIR = Path(__file__).parents[1] / "locale"

FORMATS = {"fr": "fr_FR", "en": "en_GB", "pt": "pt_PT"}
"""Whose conventions dates and numbers follow: IOM writes British English, and the Lusophone
countries of the region European Portuguese."""

WEST_AND_CENTRAL_AFRICA = ("BJ", "BF", "CV", "CM", "CF", "TD", "CG", "CD", "CI", "GQ", "GA", "GM", "GH", "GN",
                           "GW", "LR", "ML", "MR", "NE", "NG", "ST", "SN", "SL", "TG")
"""The countries of IOM's regional office in Dakar: offered first in a country list."""


# Two-letter codes Babel names that are no country a person works in (unions, reserved codes).
NOT_COUNTRIES = {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"}


def load_translations(locale_dir: Path = LOCALE_DIR) -> dict[str, Translations]:
    """Each language's catalog, compiled from its .po file (untranslated entries fall back to English)."""
    translations = {}
    for language in LANGUAGES:
        with open(locale_dir / language / "LC_MESSAGES" / "messages.po", "rb") as po:
            catalog = read_po(po, locale=language)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        translations[language] = Translations(compiled, domain="messages")
    return translations


def country_name(code: str | None, language: str) -> str:
    if not code:
        return ""
    return Locale.parse(FORMATS[language]).territories.get(code.upper(), code)


@lru_cache(maxsize=8)
def countries(language: str) -> tuple[tuple[str, str], ...]:
    """Every country (ISO 3166-1 alpha-2, name in `language`), sorted by name in that language."""
    territories = Locale.parse(FORMATS[language]).territories
    named = [(code, name) for code, name in territories.items()
             if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES]
    return tuple(sorted(named, key=lambda pair: _sort_key(pair[1])))


def region_countries(language: str) -> tuple[tuple[str, str], ...]:
    territories = Locale.parse(FORMATS[language]).territories
    return tuple(sorted(((code, territories[code]) for code in WEST_AND_CENTRAL_AFRICA),
                        key=lambda pair: _sort_key(pair[1])))


def _sort_key(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()


def local_date(value: date | str | None, language: str, form: str = "long") -> str:
    if not value:
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return format_date(value, form, locale=FORMATS[language])


def local_date_range(start: str, end: str, language: str) -> str:
    """"1–2 déc. 2026", "19–20 May 2026": the days of a session as the locale writes a range."""
    first, last = date.fromisoformat(start[:10]), date.fromisoformat(end[:10])
    if first == last:
        return format_date(first, "long", locale=FORMATS[language])
    return format_interval(first, last, "yMMMd", locale=FORMATS[language])


def local_datetime(value: datetime | str | None, language: str, tz: str | None = None) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return format_datetime(value, "medium", tzinfo=ZoneInfo(tz) if tz else None, locale=FORMATS[language])


def local_number(value: float | int | None, language: str) -> str:
    return "" if value is None else format_decimal(value, locale=FORMATS[language])


def local_percent(rate: float | None, language: str) -> str:
    """A rate from 0 to 1 as a percentage in `language`; "–" for none."""
    return "–" if rate is None else format_percent(rate, locale=FORMATS[language])
