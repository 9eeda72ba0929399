"""Timestamps as the event contract writes them: RFC 3339 in UTC with a trailing Z."""

from __future__ import annotations

from datetime import datetime, timezone

from emm_evaluation.domain.errors import InvalidInput


def aware(value: datetime, field: str) -> datetime:
    """`value` in UTC; a naive datetime is refused because its instant is unknown."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(field, "must be a date-time with a time zone")
    return value.astimezone(timezone.utc)


def utc_iso(value: datetime) -> str:
    """`value` as e.g. 2026-05-18T17:30:00Z (microseconds kept when present)."""
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
