"""The organizer's session form: scheduling a session and changing its details.

Fields are checked with registration's bounds (its domain's constants, imported) and the rules a
person can fix on the page (an end before the start, no language); registration decides the
rest (a capacity below the seats taken, a facilitator who is enrolled) and its refusals are
shown next to the same fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from emm_portal.domain.form_input import COUNTRY_CODES, N_, TOO_MANY, FormReader, Problem
from emm_registration.domain import fields as f
from emm_registration.domain.session import KINDS, MAX_SESSION_DAYS

FIELDS = ("title", "kind", "modules", "organizing_office", "city", "country", "venue", "start_date", "end_date",
          "timezone", "languages", "capacity", "enrollment_opens_at", "enrollment_closes_at", "facilitator_ids",
          "target_audience")
MAX_CAPACITY = 10_000  # registration sets no upper bound; a typo of three zeros too many is caught here
# Where EMM2.0 sessions take place first; any IANA zone the API accepts can still be typed.
TIMEZONES = ("Africa/Dakar", "Africa/Abidjan", "Africa/Accra", "Africa/Bamako", "Africa/Banjul", "Africa/Bissau",
             "Africa/Conakry", "Africa/Freetown", "Africa/Lagos", "Africa/Lome", "Africa/Monrovia",
             "Africa/Niamey", "Africa/Nouakchott", "Africa/Ouagadougou", "Africa/Porto-Novo", "Africa/Douala",
             "Africa/Libreville", "Africa/Malabo", "Africa/Ndjamena", "Africa/Bangui", "Africa/Brazzaville",
             "Africa/Kinshasa", "Africa/Sao_Tome", "Atlantic/Cape_Verde", "Europe/Brussels", "Europe/Geneva",
             "Europe/Lisbon", "UTC")

ENTER_TITLE = N_("Enter the session's title")
ENTER_MODULES = N_("Name at least one module, one per line")
ENTER_OFFICE = N_("Enter the organizing office")
ENTER_CITY = N_("Enter the city")
CHOOSE_COUNTRY = N_("Choose the country")
CHOOSE_KIND = N_("Choose the kind of session")
CHOOSE_LANGUAGES = N_("Choose at least one language")
BAD_TIMEZONE = N_("Choose a time zone such as Africa/Dakar")
END_BEFORE_START = N_("The last day cannot be before the first day")
TOO_LONG_SESSION = N_("A session lasts at most %(max)s days")
CLOSES_BEFORE_OPENS = N_("Enrollment must close after it opens")


@dataclass(frozen=True)
class SessionForm:
    """What the form gave: `values` as typed (to show back), `problems` by field, and `details`
    (registration's body, dates as ISO text) when there is no problem."""

    values: Mapping[str, Any]
    problems: Mapping[str, Problem]
    details: Mapping[str, Any] | None


def read_session_form(form: Mapping[str, Any]) -> SessionForm:
    """Check a posted session form (a starlette FormData, or a mapping of name to value or list)."""
    read = FormReader(form)
    details: dict[str, Any] = {
        "title": read.text("title", f.TITLE_LENGTH, missing=ENTER_TITLE),
        "kind": read.choice("kind", KINDS, missing=CHOOSE_KIND),
        "modules": read.lines("modules", f.NAME_LENGTH, f.MAX_MODULES, missing=ENTER_MODULES),
        "organizing_office": read.text("organizing_office", f.NAME_LENGTH, missing=ENTER_OFFICE),
        "city": read.text("city", f.NAME_LENGTH, missing=ENTER_CITY),
        "country": read.choice("country", COUNTRY_CODES, missing=CHOOSE_COUNTRY),
        "venue": read.text("venue", f.TITLE_LENGTH, required=False),
        "start_date": read.date("start_date"),
        "end_date": read.date("end_date"),
        "timezone": _timezone(read),
        "languages": read.choices("languages", f.LANGUAGES, missing=CHOOSE_LANGUAGES),
        "capacity": read.whole_number("capacity", 1, MAX_CAPACITY),
        "facilitator_ids": _staff_ids(read),
        "target_audience": read.text("target_audience", f.TEXT_LENGTH, required=False),
    }
    timezone = details["timezone"]
    details["enrollment_opens_at"] = read.local_datetime("enrollment_opens_at", timezone)
    details["enrollment_closes_at"] = read.local_datetime("enrollment_closes_at", timezone)
    start, end = details["start_date"], details["end_date"]
    if start and end and end < start:
        read.problem("end_date", END_BEFORE_START)
    elif start and end and (end - start).days + 1 > MAX_SESSION_DAYS:
        read.problem("end_date", TOO_LONG_SESSION, max=MAX_SESSION_DAYS)
    opens, closes = details["enrollment_opens_at"], details["enrollment_closes_at"]
    if opens and closes and closes <= opens:
        read.problem("enrollment_closes_at", CLOSES_BEFORE_OPENS)
    if not read.ok:
        return SessionForm(read.values, read.problems, None)
    return SessionForm(read.values, {}, {name: _json(value) for name, value in details.items()})


def changes_of(details: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of `details` that differ from the session as it is (`current`, the API's
    `session` object): the body of the PATCH, so an untouched form changes nothing. The kind of
    a session is chosen once, when it is scheduled."""
    return {name: value for name, value in details.items()
            if name != "kind" and _comparable(value) != _comparable(current.get(name))}


def form_values(session: Mapping[str, Any]) -> dict[str, Any]:
    """The form's fields filled from a session (the API's `session` object), for the edit page:
    enrollment times shown in the session's own time zone, as a `datetime-local` input wants."""
    values: dict[str, Any] = {name: session.get(name) or "" for name in FIELDS}
    values["modules"] = "\n".join(session.get("modules") or [])
    values["languages"] = list(session.get("languages") or [])
    values["facilitator_ids"] = list(session.get("facilitator_ids") or [])
    values["capacity"] = str(session.get("capacity") or "")
    for name in ("enrollment_opens_at", "enrollment_closes_at"):
        if session.get(name):
            moment = datetime.fromisoformat(session[name].replace("Z", "+00:00"))
            values[name] = moment.astimezone(ZoneInfo(session["timezone"])).strftime("%Y-%m-%dT%H:%M")
    return values


def _timezone(read: FormReader) -> str | None:
    name = read.raw("timezone") or None
    try:
        ZoneInfo(name or "")
    except (ZoneInfoNotFoundError, ValueError):
        read.problem("timezone", BAD_TIMEZONE)
        return None
    return name


def _staff_ids(read: FormReader) -> list[str]:
    """Ticked in the staff directory's list, or typed one per line where there is no directory."""
    ids = list(dict.fromkeys(part for value in read.many("facilitator_ids") for part in value.split()))
    if len(ids) > f.MAX_FACILITATORS:
        read.problem("facilitator_ids", TOO_MANY, max=f.MAX_FACILITATORS)
        return []
    return ids


def _json(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return f.iso(value)
    return value


def _comparable(value: Any) -> Any:
    """The same value as the form and as the API write it ("" and None alike, times in UTC)."""
    if value in ("", None, []):
        return None
    if isinstance(value, str) and "T" in value and value[:4].isdigit():
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    return value
