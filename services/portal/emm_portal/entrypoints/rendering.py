"""Pages in the person's language: one Jinja2 environment per language, each with its gettext
catalog (jinja2.ext.i18n) and Babel filters for dates, numbers and country names."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode

from babel.support import Translations
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from emm_portal.adapters import translations as t
from emm_portal.domain.language import LANGUAGE_NAMES, LANGUAGES, choose_language, supported
from emm_portal.entrypoints.security import masked_csrf, visitor_of

PACKAGE = Path(__file__).parents[1]
TEMPLATES = PACKAGE / "templates"
STATIC = PACKAGE / "static"


def static_version() -> str:
    """A hash of the static files: their URLs change when they do, so they can be cached for a year."""
    digest = hashlib.sha256()
    for path in sorted(STATIC.glob("*")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


class Pages:
    """Renders a template in the language of the request (see `language`)."""

    def __init__(self, catalogs: dict[str, Translations], *, htmx: bool) -> None:
        version = static_version()
        self.catalogs = catalogs
        self.environments = {language: self._environment(language, catalogs[language], version, htmx)
                             for language in LANGUAGES}

    @staticmethod
    def _environment(language: str, catalog: Translations, version: str, htmx: bool) -> Environment:
        env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                          extensions=["jinja2.ext.i18n"], trim_blocks=True,
                          lstrip_blocks=True)
        env.install_gettext_translations(catalog, newstyle=True)
        env.filters.update(
            date=lambda value, form="long": t.local_date(value, language, form),
            datetime=lambda value, tz=None: t.local_datetime(value, language, tz),
            date_range=lambda start, end: t.local_date_range(start, end, language),
            number=lambda value: t.local_number(value, language),
            country=lambda code: t.country_name(code, language))
        env.globals.update(
            percent=lambda rate: t.local_percent(rate, language),
            lang=language, languages=LANGUAGES, language_names=LANGUAGE_NAMES, htmx_available=htmx,
            static=lambda name: f"/static/{name}?v={version}",
            countries=lambda: t.countries(language), region_countries=lambda: t.region_countries(language))
        return env

    def language(self, request: Request) -> str:
        """`?lang=`, else what this browser chose or the person prefers, else Accept-Language, else
        French. A `?lang=` is remembered in the cookie."""
        visitor = visitor_of(request)
        asked = supported(request.query_params.get("lang"))
        if asked and asked != visitor.language:
            request.state.visitor = visitor.speaking(asked)
        return choose_language(asked, visitor.language, request.headers.get("accept-language"))

    def gettext(self, request: Request) -> Callable[[str], str]:
        """The request language's plain gettext, for text made in code (a download's name, a form
        problem's message)."""
        return self.catalogs[self.language(request)].gettext

    def render(self, request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        language = self.language(request)
        visitor = visitor_of(request)
        html = self.environments[language].get_template(template).render(
            request=request, visitor=visitor, csrf_token=masked_csrf(visitor.csrf), here=here(request),
            **context)
        return HTMLResponse(html, status_code=status)


def here(request: Request) -> str:
    """This page's path and query without `lang`, where the language switch comes back to."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return request.url.path + (f"?{urlencode(query)}" if query else "")


def safe_next(value: str | None, default: str = "/") -> str:
    """A path on this site to go on to: relative, starting with one "/" (never "//host" or a
    scheme, which would send the person elsewhere with their fresh cookie)."""
    if not value or not value.startswith("/") or value.startswith("//"):
        return default
    if any(ch == "\\" or ord(ch) < 33 or ord(ch) == 127 for ch in value):
        return default
    return value


def redirect(path: str) -> RedirectResponse:
    """303 See Other: after a form, the browser GETs `path` (a reload does not post again)."""
    return RedirectResponse(path, status_code=303)
