"""The lifecycle clock's decisions: which step a session is due for at a given time (pure).

A session moves by the calendar, in its own time zone: enrollment opens when its window opens,
the session starts at `start_hour` on its first day, completes at `complete_hour` on its last
day, and its evaluation closes when the window set at completion ends. Each step is the same
transition an organizer's call makes, and the decision reads only the session's status, so
whatever an organizer did first wins: a session they started early is not started again, one
they completed early is not completed again, and nothing is ever moved back.

A session scheduled after it would have completed (a past training entered for the record) is
its organizer's to start and complete, as they record what happened; the clock only closes its
evaluation once they completed it.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from emm_registration.domain.session import CANCELLED, COMPLETED, IN_PROGRESS, OPEN, SCHEDULED, Session

OPEN_ENROLLMENT, START, COMPLETE, CLOSE_EVALUATION = "open", "start", "complete", "close_evaluation"
STEPS = (OPEN_ENROLLMENT, START, COMPLETE, CLOSE_EVALUATION)


@dataclass(frozen=True)
class ClockTimes:
    """When, in a session's local time, the clock moves it, and how long its evaluation stays open."""

    start_hour: int = 8
    complete_hour: int = 18
    evaluation_period: timedelta = timedelta(days=14)

    def __post_init__(self) -> None:
        for name in ("start_hour", "complete_hour"):
            if not 0 <= getattr(self, name) <= 23:
                raise ValueError(f"{name} must be an hour of the day, 0 to 23")


def local_moment(session: Session, day: date, hour: int) -> datetime:
    """`hour`:00 on `day` where the session takes place."""
    return datetime.combine(day, time(hour), tzinfo=ZoneInfo(session.timezone))


def starts_at(session: Session, times: ClockTimes) -> datetime:
    return local_moment(session, session.start_date, times.start_hour)


def completes_at(session: Session, times: ClockTimes) -> datetime:
    return local_moment(session, session.end_date, times.complete_hour)


def evaluation_closes_at(session: Session, times: ClockTimes) -> datetime | None:
    """When a completed session's evaluation closes: as set at its completion, else (completed
    before evaluations had a window) its completion plus the period."""
    if session.evaluation_closes_at is not None:
        return session.evaluation_closes_at
    return session.completed_at + times.evaluation_period if session.completed_at else None


def step_due(session: Session, now: datetime, times: ClockTimes) -> str | None:
    """The one step the session is due for at `now`, or None. A session far behind (the clock
    was stopped for days) takes its steps one call at a time, in order."""
    if session.status == CANCELLED:
        return None
    for_the_record = session.scheduled_at is not None and session.scheduled_at >= completes_at(session, times)
    if for_the_record and session.status != COMPLETED:
        return None
    if session.status in (SCHEDULED, OPEN) and now >= starts_at(session, times):
        return START
    if session.status == SCHEDULED and session.enrollment_opens_at is not None \
            and session.enrollment_opens_at <= now \
            and (session.enrollment_closes_at is None or now < session.enrollment_closes_at):
        return OPEN_ENROLLMENT
    if session.status == IN_PROGRESS and now >= completes_at(session, times):
        return COMPLETE
    if session.status == COMPLETED and session.evaluation_closed_at is None:
        closes = evaluation_closes_at(session, times)
        if closes is not None and now >= closes:
            return CLOSE_EVALUATION
    return None


def step_event_id(session_id: str, step: str, sequence: int, index: int) -> str:
    """The id of the `index`-th event of a clock step: the same session, step and version give the
    same id in every clock instance, so a step two instances both took shows as one event."""
    digest = hashlib.sha256(f"lifecycle-clock\x1f{session_id}\x1f{step}\x1f{sequence}\x1f{index}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=5))
