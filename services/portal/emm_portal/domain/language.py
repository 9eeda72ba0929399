"""Which language a page speaks.

French is the default: most of the countries IOM's West and Central Africa office serves, and the
office itself (Dakar), work in French; English and Portuguese speakers' browsers usually say so in
Accept-Language, and everyone can switch on every page.
"""

from __future__ import annotations

LANGUAGES = ("fr", "en", "pt")
DEFAULT_LANGUAGE = "fr"
LANGUAGE_NAMES = {"fr": "Français", "en": "English", "pt": "Português"}
"""Each language in its own name: how the switch offers it, whatever the page's language."""


def supported(code: str | None) -> str | None:
    """`code` if it is one of ours ("pt-BR" counts as "pt"), else None."""
    if not code:
        return None
    primary = code.strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in LANGUAGES else None


def from_accept_language(header: str | None) -> str | None:
    """The first of our languages in an Accept-Language header, by quality then order."""
    if not header:
        return None
    ranked = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if (language := supported(tag)) and quality > 0:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else None


def choose_language(asked: str | None, chosen: str | None, accept_language: str | None) -> str:
    """The page's language: asked for in this request (`?lang=`), else chosen before (the switch,
    or the person's preference at sign-in), else the browser's, else French."""
    return supported(asked) or supported(chosen) or from_accept_language(accept_language) or DEFAULT_LANGUAGE
