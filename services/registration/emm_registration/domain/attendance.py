"""Daily attendance: facilitators mark registered participants for each day of a session.

Marks are validated against the Session aggregate (`record_marks`) and kept per session in an
`AttendanceSheet`, a separate document from the session: attendance never changes seats, so
it does not need to be written together with them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from emm_registration.domain import fields as f
from emm_registration.domain.errors import Conflict, InvalidInput
from emm_registration.domain.events import AttendanceRecorded
from emm_registration.domain.session import CANCELLED, REGISTERED, Session

STATUSES = ("present", "late", "absent", "excused")
ATTENDED = ("present", "late")


@dataclass(frozen=True)
class AttendanceMark:
    """What a facilitator marks for one participant on one day."""

    participant_id: str
    status: str
    note: str | None = None


def attendance_id_for(session_id: str, participant_id: str, day: date, recorded_at: datetime) -> str:
    """A stable id for one mark: the same mark recorded again (a replayed sync) gets the same id."""
    key = "|".join((session_id, participant_id, day.isoformat(), f.iso(recorded_at)))
    return "att-" + hashlib.sha256(key.encode()).hexdigest()[:20]


def record_marks(session: Session, day: date | str, marks: Iterable[AttendanceMark | Mapping[str, Any]],
                 recorded_by: str, now: datetime) -> list[AttendanceRecorded]:
    """Validate a day's marks for a session and return one `AttendanceRecorded` per mark.

    All or nothing: the first mark at fault raises and no event is returned. Refused for a
    cancelled session (Conflict, `session_id`), a day that is not one of the session's days or
    is still in the future where the session takes place (InvalidInput, `day`), and a
    participant without a seat in the session (Conflict, `participant_id`).
    """
    now = f.as_datetime(now, "now")
    day = f.as_date(day, "day")
    recorded_by = f.identifier(recorded_by, "recorded_by")
    if session.status == CANCELLED:
        raise Conflict("session_id", f"session {session.session_id} is cancelled")
    if day not in session.days:
        raise InvalidInput("day", f"is not a day of session {session.session_id}")
    if day > now.astimezone(ZoneInfo(session.timezone)).date():
        raise InvalidInput("day", "has not come yet where the session takes place")

    events, seen = [], set()
    for mark in marks:
        if isinstance(mark, Mapping):
            mark = AttendanceMark(mark.get("participant_id"), mark.get("status"), mark.get("note"))
        participant_id = f.identifier(mark.participant_id, "participant_id")
        if participant_id in seen:
            raise InvalidInput("participant_id", f"{participant_id} is marked twice for the same day")
        seen.add(participant_id)
        enrollment = session.active_enrollment_of(participant_id)
        if enrollment is None or enrollment.status != REGISTERED:
            raise Conflict("participant_id", f"{participant_id} holds no seat in session {session.session_id}")
        events.append(AttendanceRecorded(
            attendance_id=attendance_id_for(session.session_id, participant_id, day, now),
            session_id=session.session_id, participant_id=participant_id, enrollment_id=enrollment.enrollment_id,
            day=day, status=f.choice(mark.status, "status", STATUSES),
            note=f.text(mark.note, "note", max_length=f.TEXT_LENGTH, required=False),
            recorded_by=recorded_by, recorded_at=now))
    if not events:
        raise InvalidInput("marks", "must mark at least one participant")
    return events


@dataclass
class AttendanceSheet:
    """The latest mark of every participant for every day of one session.

    Rates count a participant as attending on a day marked `present` or `late`. Their
    denominator is the session days on which anyone was marked at all: a day nobody took
    attendance for says nothing about anyone, while a participant left unmarked on a day others
    were marked counts as not attending.
    """

    session_id: str
    marks: dict[date, dict[str, AttendanceRecorded]] = field(default_factory=dict)
    pending_events: list[AttendanceRecorded] = field(default_factory=list, compare=False, repr=False)

    def record(self, session: Session, day: date | str, marks: Iterable[AttendanceMark | Mapping[str, Any]],
               recorded_by: str, now: datetime) -> list[AttendanceRecorded]:
        """`record_marks`, then apply the marks to this sheet and record their events."""
        if session.session_id != self.session_id:
            raise InvalidInput("session_id", f"this sheet is for session {self.session_id}")
        events = record_marks(session, day, marks, recorded_by, now)
        for event in events:
            self.apply(event)
        self.pending_events.extend(events)
        return events

    def apply(self, mark: AttendanceRecorded) -> bool:
        """Keep `mark` unless the sheet holds a later one for that participant and day (latest
        `recorded_at` wins; on a tie the one applied last). Returns whether it was kept."""
        day_marks = self.marks.setdefault(mark.day, {})
        current = day_marks.get(mark.participant_id)
        if current is not None and current.recorded_at > mark.recorded_at:
            return False
        day_marks[mark.participant_id] = mark
        return True

    def mark_of(self, participant_id: str, day: date) -> AttendanceRecorded | None:
        """The participant's latest mark for the day, if any."""
        return self.marks.get(day, {}).get(participant_id)

    def marked_days(self) -> list[date]:
        """The days on which anyone was marked, in order."""
        return sorted(day for day, day_marks in self.marks.items() if day_marks)

    def participants(self) -> list[str]:
        """Everyone marked at least once."""
        return sorted({participant_id for day_marks in self.marks.values() for participant_id in day_marks})

    def attendance_rate(self, participant_id: str) -> float | None:
        """Share of marked days the participant attended (0.0-1.0); None before any day is marked."""
        days = self.marked_days()
        if not days:
            return None
        return sum(self._attended(participant_id, day) for day in days) / len(days)

    def session_attendance_rate(self, participant_ids: Iterable[str] | None = None) -> float | None:
        """Share of participant-days attended over the marked days. `participant_ids` (the roster)
        counts people never marked as absent; by default, everyone marked at least once."""
        people = list(participant_ids) if participant_ids is not None else self.participants()
        days = self.marked_days()
        if not days or not people:
            return None
        attended = sum(self._attended(person, day) for person in people for day in days)
        return attended / (len(people) * len(days))

    def day_summary(self, day: date) -> dict[str, int]:
        """How many participants had each status on the day (every status, zero included)."""
        counts = dict.fromkeys(STATUSES, 0)
        for mark in self.marks.get(day, {}).values():
            counts[mark.status] += 1
        return counts

    def summary(self) -> dict[date, dict[str, int]]:
        """`day_summary` of every marked day, in order."""
        return {day: self.day_summary(day) for day in self.marked_days()}

    def _attended(self, participant_id: str, day: date) -> bool:
        mark = self.mark_of(participant_id, day)
        return mark is not None and mark.status in ATTENDED
