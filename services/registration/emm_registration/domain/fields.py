"""Checks and conversions of input fields shared by the aggregates.

Values may arrive as Python objects or as the JSON strings of the contract (ISO dates and
datetimes); both become the same normalised value, or InvalidInput naming the field.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Any

import phonenumbers
from phonenumbers import NumberParseException, ValidationResult

from emm_common.identifiers import ID_MAX_LENGTH, identifier  # noqa: F401 - the aggregates check ids as f.identifier
from emm_registration.domain.errors import InvalidInput

LANGUAGES = ("fr", "en", "pt")

# How long and how many at most: far above any real session or person, low enough that every
# event stays a few kilobytes. The API models declare the same bounds (a 422 naming the field
# before a command runs) and schemas/events/ states them for consumers.
NAME_LENGTH = 200  # a person's name, organization or job title; an office, a city, a module
TITLE_LENGTH = 300  # a session's title, a venue
TEXT_LENGTH = 1000  # a target audience, a reason, an attendance note
EMAIL_LENGTH = 254  # RFC 5321's limit on a forward path
PHONE_LENGTH = 20  # a phone number as stored and published (E.164 has at most 16 characters)
PHONE_INPUT_LENGTH = 40  # a phone number as a person writes it: "(+245) 955-123-456", spaces, dots
MAX_MODULES = 50  # the EMM2.0 curriculum has about a dozen
MAX_FACILITATORS = 50
MAX_MARKS = 500  # attendance marks of one day, and people enrolled in one bulk request
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def text(value: Any, field: str, *, max_length: int, required: bool = True) -> str | None:
    """Stripped text; None (or blank) is allowed only when not required."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput(field, "is required")
        return None
    if not isinstance(value, str):
        raise InvalidInput(field, "must be text")
    value = value.strip()
    if len(value) > max_length:
        raise InvalidInput(field, f"must be at most {max_length} characters")
    return value


def country(value: Any, field: str = "country") -> str:
    """An ISO 3166-1 alpha-2 code, upper case."""
    code = value.strip().upper() if isinstance(value, str) else value
    if not isinstance(code, str) or not _COUNTRY.match(code):
        raise InvalidInput(field, "must be an ISO 3166-1 alpha-2 country code, e.g. SN")
    return code


_EXAMPLE_PHONE = "e.g. +221 77 000 00 00"
_UNPARSABLE = {
    NumberParseException.INVALID_COUNTRY_CODE: "starts with an unknown country code",
    NumberParseException.TOO_SHORT_AFTER_IDD: "is too short to be a phone number",
    NumberParseException.TOO_SHORT_NSN: "is too short to be a phone number",
    NumberParseException.TOO_LONG: "is too long to be a phone number",
}
_IMPOSSIBLE = {
    ValidationResult.INVALID_COUNTRY_CODE: "starts with an unknown country code",
    ValidationResult.TOO_SHORT: "is too short to be a phone number",
    ValidationResult.TOO_LONG: "is too long to be a phone number",
}


def phone(value: Any, country_code: str, field: str = "phone") -> str:
    """A phone number in E.164 (+ country code and number, no spaces), from any way a person
    writes it: with or without their country's code (`country_code`, ISO alpha-2, is the default),
    spaces, dots, hyphens, parentheses, the international prefix 00. InvalidInput says why not."""
    written = text(value, field, max_length=PHONE_INPUT_LENGTH)
    try:
        number = phonenumbers.parse(written, country_code)
    except NumberParseException as error:
        raise InvalidInput(field, _UNPARSABLE.get(error.error_type, f"is not a phone number, {_EXAMPLE_PHONE}")) \
            from None
    if number.extension:  # E.164 has no room for it, and dropping it would reach the switchboard
        raise InvalidInput(field, "must be a direct number: an extension cannot be stored")
    if not phonenumbers.is_valid_number(number):
        reason = phonenumbers.is_possible_number_with_reason(number)
        region = phonenumbers.region_code_for_country_code(number.country_code)
        where = f" in {region}" if region != phonenumbers.UNKNOWN_REGION else ""
        hint = "" if written.lstrip().startswith(("+", "00")) else \
            "; a number from another country needs + and its country code"
        raise InvalidInput(field, f"{_IMPOSSIBLE.get(reason, 'is not a valid phone number')}{where}{hint}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def language(value: Any, field: str) -> str:
    """One of the programme's working languages."""
    if value not in LANGUAGES:
        raise InvalidInput(field, f"must be one of {', '.join(LANGUAGES)}")
    return value


def languages(value: Any, field: str, *, including: str) -> list[str]:
    """Working languages in the programme's order, `including` always among them (None: just it)."""
    if value is None:
        value = []
    if not isinstance(value, (list, tuple)):
        raise InvalidInput(field, f"must be a list of {', '.join(LANGUAGES)}")
    given = {language(item, field) for item in value} | {including}
    return [code for code in LANGUAGES if code in given]


def choice(value: Any, field: str, allowed: tuple[str, ...]) -> str:
    """One of `allowed`."""
    if value not in allowed:
        raise InvalidInput(field, f"must be one of {', '.join(allowed)}")
    return value


def unique_list(values: Any, field: str, check, *, max_items: int) -> list:
    """A list of at most `max_items`, checked item by item with `check(item, field)`, duplicates
    dropped, order kept."""
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)):
        raise InvalidInput(field, "must be a list")
    if len(values) > max_items:
        raise InvalidInput(field, f"must have at most {max_items} items")
    return list(dict.fromkeys(check(item, field) for item in values))


def as_date(value: Any, field: str) -> date:
    """A calendar date, from a date or an ISO `YYYY-MM-DD` string."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise InvalidInput(field, "must be a date YYYY-MM-DD") from None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidInput(field, "must be a date YYYY-MM-DD")
    return value


def as_datetime(value: Any, field: str) -> datetime:
    """An aware datetime in UTC, from a datetime or an ISO 8601 string with Z or an offset."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(field, "must be an ISO 8601 date-time") from None
    if not isinstance(value, datetime):
        raise InvalidInput(field, "must be an ISO 8601 date-time")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(field, "must carry a time zone (Z or an offset)")
    return value.astimezone(timezone.utc)


def optional_datetime(value: Any, field: str) -> datetime | None:
    return None if value is None else as_datetime(value, field)


def iso(value: datetime | date) -> str:
    """The contract's form: `YYYY-MM-DD` for a date, ISO 8601 with `Z` for a UTC datetime."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def to_json(value: Any) -> Any:
    """A value with its dates and datetimes as ISO strings, tuples as lists (recursively)."""
    if isinstance(value, (date, datetime)):
        return iso(value)
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    return value
