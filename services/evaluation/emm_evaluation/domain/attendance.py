"""Attendance as the evaluation service counts it: a day is attended when marked present or late."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

ATTENDED_STATUSES = frozenset({"present", "late"})


def days_attended(marks: Mapping[date, str], session_days: Sequence[date]) -> int:
    """How many of the session's days a participant attended, from their latest mark per day."""
    return sum(1 for day in session_days if marks.get(day) in ATTENDED_STATUSES)
