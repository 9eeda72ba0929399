"""Government trainings a certified trainer delivered. One counts once it was held: completed
with attendance recorded. It reached the participants who attended at least one day."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from emm_evaluation.domain.attendance import ATTENDED_STATUSES


@dataclass(frozen=True)
class Delivery:
    """A completed government training: `marked` participants have an attendance mark,
    `participants_reached` attended at least one day."""

    session_id: str
    end_date: date
    marked: int
    participants_reached: int

    @property
    def held(self) -> bool:
        return self.marked > 0


def delivery(session_id: str, end_date: date, marks_by_participant: Iterable[Mapping[date, str]]) -> Delivery:
    """The delivery of a completed session from each participant's latest marks, day -> status."""
    marks = [m for m in marks_by_participant if m]
    return Delivery(session_id, end_date, marked=len(marks),
                    participants_reached=sum(1 for m in marks if any(s in ATTENDED_STATUSES for s in m.values())))


def held(deliveries: Iterable[Delivery]) -> list[Delivery]:
    """The deliveries that were held, by end date then id."""
    return sorted((d for d in deliveries if d.held), key=lambda d: (d.end_date, d.session_id))


def delivered_since(deliveries: Iterable[Delivery], since: date) -> bool:
    """Whether one of them was held and ended on or after `since`."""
    return any(d.end_date >= since for d in held(deliveries))
