"""Message texts: Jinja2 templates under templates/<language>/<kind>.{subject,txt,html}.j2.

Rendering lives in the domain because it is pure (templates ship inside the package, nothing is
fetched) and because what we tell participants is part of the domain. A language without all
three files of a kind falls back to English as a whole, so a message is never half translated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from babel import Locale
from babel.dates import format_date, format_interval
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape

from emm_notification.domain.messages import FALLBACK_LANGUAGE

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
PARTS = ("subject", "txt", "html")

# Every key a template may use. Missing ones render as empty rather than failing, while a
# misspelt key still fails loudly (StrictUndefined) in the test that renders every template.
CONTEXT_KEYS = (
    "recipient_name", "session_title", "session_start", "session_end", "session_days", "city", "country",
    "venue", "organizing_office", "modules", "position", "reason", "previous_status", "certificate_reference",
    "certified_at", "submissions", "registered", "report_url", "programme_email", "portal_url", "purpose",
    "link_minutes", "link_days", "responses", "response_percent", "headlines", "closed_at",
    "day", "absent_names", "days_attended", "days_in_session", "required_percent",
)
PROGRAMME_EMAIL = "EMMinfo@iom.int"


@dataclass(frozen=True)
class RenderedMessage:
    """Subject, plain text and HTML of one message, and the language they are really in."""

    subject: str
    text: str
    html: str
    language: str


class MessageTemplates:
    """The template set in one directory (the package's own by default)."""

    def __init__(self, directory: Path = TEMPLATES_DIR) -> None:
        self.directory = Path(directory)
        self._env = Environment(
            loader=FileSystemLoader(self.directory),
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
            undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        )
        self._env.filters.update(date=_date_filter, date_range=_date_range_filter, country=_country_filter)

    def languages(self) -> tuple[str, ...]:
        """Languages that have a template folder."""
        return tuple(sorted(p.name for p in self.directory.iterdir() if p.is_dir() and not p.name.startswith("_")))

    def has(self, kind: str, language: str) -> bool:
        """Whether `language` has all three files of `kind`."""
        if language not in self.languages():
            return False
        return all((self.directory / language / f"{kind}.{part}.j2").is_file() for part in PARTS)

    def render(self, kind: str, language: str, context: Mapping[str, Any]) -> RenderedMessage:
        """Render `kind` in `language`, or in English when that translation is missing."""
        if not self.has(kind, language):
            language = FALLBACK_LANGUAGE
        values = {key: None for key in CONTEXT_KEYS} | {"programme_email": PROGRAMME_EMAIL}
        values |= {k: v for k, v in context.items() if v is not None} | {"language": language}
        subject, text, html = (self._env.get_template(f"{language}/{kind}.{part}.j2").render(values)
                               for part in PARTS)
        # A subject is one header line: newlines from a template must not reach the header.
        return RenderedMessage(subject=" ".join(subject.split()), text=text.strip() + "\n",
                               html=html.strip() + "\n", language=language)


@lru_cache(maxsize=1)
def default_templates() -> MessageTemplates:
    """The package's own templates, loaded once."""
    return MessageTemplates()


def render(kind: str, language: str, context: Mapping[str, Any]) -> RenderedMessage:
    """Render one message with the package's templates (English if `language` lacks it)."""
    return default_templates().render(kind, language, context)


def available_languages() -> tuple[str, ...]:
    """Languages the package has templates for."""
    return default_templates().languages()


def _as_date(value: date | datetime | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return datetime.fromisoformat(value).date() if "T" in value else date.fromisoformat(value)


@pass_context
def _date_filter(ctx: Any, value: date | datetime | str | None, format: str = "long") -> str:
    return format_date(_as_date(value), format=format, locale=ctx["language"]) if value else ""


@pass_context
def _date_range_filter(ctx: Any, start: date | str | None, end: date | str | None) -> str:
    if not start:
        return ""
    return format_interval(_as_date(start), _as_date(end or start), "yMMMMd", locale=ctx["language"])


@pass_context
def _country_filter(ctx: Any, code: str | None) -> str:
    return Locale.parse(ctx["language"]).territories.get(code, code) if code else ""
