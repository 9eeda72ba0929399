"""Attendance as the evaluation service counts it: a day is attended when marked present or late."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from fractions import Fraction

ATTENDED_STATUSES = frozenset({"present", "late"})


def days_attended(marks: Mapping[date, str], session_days: Sequence[date]) -> int:
    """How many of the session's days a participant attended, from their latest mark per day."""
    return sum(1 for day in session_days if marks.get(day) in ATTENDED_STATUSES)


def attendance_out_of_reach(marks: Mapping[date, str], session_days: Sequence[date], min_ratio: float) -> bool:
    """Whether the participant can no longer attend the share of days certification needs, even
    by attending every day not marked yet (an excused day counts as not attended, as the rule does)."""
    if not session_days:
        return False
    attended = days_attended(marks, session_days)
    open_days = sum(1 for day in session_days if day not in marks)
    return Fraction(attended + open_days, len(session_days)) < Fraction(str(min_ratio))
