"""Reading a posted form: each field checked, what was typed kept for the page to show back, and
every problem named by field as a message id the page translates.

A form's own module says which fields it has and what they become in the API's body; the API
still decides, and an error it gives is shown the same way (see `api_problems`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale



def N_(message: str) -> str:
    """Marks a message id for the catalogs (pybabel extracts N_) where it is defined; the page
    translates it where it is shown."""
    return message


# ISO 3166-1 alpha-2 codes of countries (Babel's list; regions such as "419" left out).
COUNTRY_CODES = frozenset(code for code in Locale.parse("en").territories if re.fullmatch("[A-Z]{2}", code))

# Message ids (English; `%(name)s` placeholders are gettext's python-format).
FILL_IN = N_("Fill in this field")
TOO_LONG = N_("Write at most %(max)s characters")
CHOOSE = N_("Choose one of the options")
CHOOSE_SOME = N_("Choose at least one")
TOO_MANY = N_("Choose at most %(max)s")
WHOLE_NUMBER = N_("Enter a whole number from %(low)s to %(high)s")
DATE = N_("Enter a date like 2026-05-17")
DATE_TIME = N_("Enter a date and time like 2026-05-17 09:00")
NOT_ACCEPTED = N_("Not accepted: %(reason)s")


def several(form: Mapping[str, Any], name: str) -> list[str]:
    """The non-empty values of a field sent several times (checkboxes, a multiple select), stripped."""
    getlist = getattr(form, "getlist", None)
    values = getlist(name) if getlist else form.get(name) or []
    values = [values] if isinstance(values, str) else list(values)
    return [v.strip() for v in values if isinstance(v, str) and v.strip()]


@dataclass(frozen=True)
class Problem:
    """What is wrong with one field (`field` None: with the whole form or list); `message` is a
    message id, `values` fill its placeholders once translated."""

    field: str | None
    message: str
    values: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def text(self, gettext: Callable[[str], str]) -> str:
        """The message in the language of `gettext`."""
        translated = gettext(self.message)
        if not self.values:
            return translated
        # A value may be a message id itself (a column's name); one that is not comes back as is.
        return translated % {name: gettext(value) if isinstance(value, str) else value
                             for name, value in self.values.items()}


class FormReader:
    """Reads fields of a posted form (a starlette FormData, or a plain mapping in tests) one by
    one; `values` keeps what was typed, `problems` what is wrong, by field name."""

    def __init__(self, form: Mapping[str, Any]) -> None:
        self.form = form
        self.values: dict[str, Any] = {}
        self.problems: dict[str, Problem] = {}

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, name: str, message: str, **values: Any) -> None:
        """Record a problem of `name`; the first one found for a field is the one shown."""
        self.problems.setdefault(name, Problem(name, message, values))

    def raw(self, name: str) -> str:
        value = self.form.get(name)
        written = value.strip() if isinstance(value, str) else ""
        self.values[name] = written
        return written

    def many(self, name: str) -> list[str]:
        written = several(self.form, name)
        self.values[name] = written
        return written

    def text(self, name: str, max_length: int, *, required: bool = True, missing: str = FILL_IN) -> str | None:
        written = self.raw(name)
        if not written:
            if required:
                self.problem(name, missing)
            return None
        if len(written) > max_length:
            self.problem(name, TOO_LONG, max=max_length)
            return None
        return written

    def choice(self, name: str, allowed: Iterable[str], *, required: bool = True, missing: str = CHOOSE) -> str | None:
        written = self.raw(name)
        if not written and not required:
            return None
        if written not in tuple(allowed):
            self.problem(name, missing)
            return None
        return written

    def choices(self, name: str, allowed: Iterable[str] | None, *, at_least_one: bool = True,
                max_items: int | None = None, missing: str = CHOOSE_SOME) -> list[str]:
        """Several values of a field (checkboxes, a multiple select); `allowed` None takes any."""
        chosen = list(dict.fromkeys(self.many(name)))
        if allowed is not None:
            allowed = tuple(allowed)
            if any(value not in allowed for value in chosen):
                self.problem(name, CHOOSE)
                return []
        if at_least_one and not chosen:
            self.problem(name, missing)
        if max_items is not None and len(chosen) > max_items:
            self.problem(name, TOO_MANY, max=max_items)
            return []
        return chosen

    def lines(self, name: str, max_length: int, max_items: int, *, at_least_one: bool = True,
              missing: str = FILL_IN) -> list[str]:
        """One value per line (or per comma) of a text area, blanks and repeats dropped."""
        written = self.form.get(name)
        written = written if isinstance(written, str) else ""
        self.values[name] = written
        items = list(dict.fromkeys(item.strip() for line in written.splitlines() for item in line.split(",")
                                   if item.strip()))
        if at_least_one and not items:
            self.problem(name, missing)
        elif len(items) > max_items:
            self.problem(name, TOO_MANY, max=max_items)
        elif any(len(item) > max_length for item in items):
            self.problem(name, TOO_LONG, max=max_length)
        else:
            return items
        return []

    def whole_number(self, name: str, low: int, high: int, *, required: bool = True) -> int | None:
        written = self.raw(name)
        if not written and not required:
            return None
        try:
            number = int(written.replace(" ", "").replace("\u00a0", ""))
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            self.problem(name, WHOLE_NUMBER, low=low, high=high)
            return None
        return number

    def date(self, name: str, *, required: bool = True) -> date | None:
        written = self.raw(name)
        if not written and not required:
            return None
        try:
            return date.fromisoformat(written)
        except ValueError:
            self.problem(name, DATE)
            return None

    def local_datetime(self, name: str, timezone: str | None, *, required: bool = False) -> datetime | None:
        """A `datetime-local` input (2026-05-17T09:00, no zone) read in `timezone`, e.g. the
        session's; UTC when that is not known (its own field reports why)."""
        written = self.raw(name)
        if not written and not required:
            return None
        try:
            moment = datetime.fromisoformat(written.replace(" ", "T"))
        except ValueError:
            self.problem(name, DATE_TIME)
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(timezone or "UTC"))
        return moment

    def checkbox(self, name: str) -> bool:
        checked = bool(self.raw(name))
        self.values[name] = checked
        return checked


def api_problems(field_errors: Mapping[str, str], fields: Iterable[str]) -> dict[str, Problem]:
    """The API's own refusals (field -> its message, in English) as problems of the form's
    fields; one the form has no field for is a problem of the whole form (key "_")."""
    fields = tuple(fields)
    problems: dict[str, Problem] = {}
    for name, reason in field_errors.items():
        key = name.split(".")[0] if name.split(".")[0] in fields else "_"
        problems.setdefault(key, Problem(None if key == "_" else key, NOT_ACCEPTED, {"reason": reason}))
    return problems
