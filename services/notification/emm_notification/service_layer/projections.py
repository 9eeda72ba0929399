"""How consumed events change what the notification service knows (pure), and the session
record the projections hold.

Each projection document has one writer: the consumer of one topic (sessions from emm.sessions,
rosters from emm.enrollments, feedback from emm.feedback, contacts from emm.contacts.internal).
They are kept in separate documents because the topics' partitions may be owned by different
worker replicas, and FerretDB v1 does not apply concurrent updates of one document atomically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from emm_notification.domain.read_model import SessionView

T = "org.iom.emm."
REGIONAL = "*regional*"  # the key of the organizers acting for every office (no office is named so)


@dataclass(frozen=True)
class SessionRecord:
    """A session as the projections hold it: its last snapshot (None until session.scheduled
    arrived), status, roster and evaluations."""

    session_id: str
    snapshot: Mapping[str, Any] | None = None
    status: str | None = None
    completed_at: datetime | None = None
    evaluation_closes_at: datetime | None = None
    evaluation_closed_at: datetime | None = None
    scheduled_by: str | None = None
    registered_ids: tuple[str, ...] = ()
    waitlisted_ids: tuple[str, ...] = ()
    evaluated_ids: frozenset[str] = frozenset()
    submission_ids: frozenset[str] = frozenset()
    absences: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # day -> absent (not excused), by id
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def cancelled(self) -> bool:
        return self.status == "cancelled"

    def view(self) -> SessionView | None:
        if self.snapshot is None:
            return None
        return SessionView(snapshot=self.snapshot, registered_ids=self.registered_ids,
                           waitlisted_ids=self.waitlisted_ids, evaluated_ids=self.evaluated_ids,
                           submission_ids=self.submission_ids, completed=self.status == "completed",
                           organizer_ids=(self.scheduled_by,) if self.scheduled_by else ())


def organizer_offices(staff: Mapping[str, Any] | None) -> set[str]:
    """The offices an active organizer acts for (REGIONAL for all): nothing for anyone else."""
    if not staff or staff.get("role") != "organizer" or not staff.get("active", True):
        return set()
    return {REGIONAL} if staff.get("regional") else set(staff.get("offices") or ())


def session_id_of(event_type: str, payload: Mapping[str, Any]) -> str | None:
    if "session" in payload and isinstance(payload["session"], Mapping):
        return payload["session"]["session_id"]
    return payload.get("session_id")


def session_fields(event_type: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of the sessions projection a session.* event sets."""
    if event_type == T + "session.scheduled.v1" and payload.get("scheduled_by"):
        return {**session_fields(T + "session.updated.v1", payload), "scheduled_by": payload["scheduled_by"]}
    if event_type in (T + "session.scheduled.v1", T + "session.updated.v1"):
        return {"snapshot": dict(payload["session"]), "status": payload["session"].get("status", "scheduled")}
    if event_type == T + "session.cancelled.v1":
        return {"status": "cancelled", "cancelled_at": payload["cancelled_at"], "cancelled_sequence": payload["sequence"]}
    if event_type == T + "session.completed.v1":
        return {"status": "completed", "completed_at": _datetime(payload["completed_at"]),
                **({"evaluation_closes_at": _datetime(payload["evaluation_closes_at"])}
                   if payload.get("evaluation_closes_at") else {})}
    if event_type == T + "session.evaluation_closed.v1":
        return {"evaluation_closed_at": _datetime(payload["closed_at"])}
    return {}


def _datetime(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def roster_after(registered: list[str], waitlisted: list[str], event_type: str,
                 payload: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Registered and waitlisted participant ids after an enrollment.* event (order kept)."""
    pid = payload["participant_id"]
    registered = [p for p in registered if p != pid]
    waitlisted = [p for p in waitlisted if p != pid]
    if event_type in (T + "enrollment.registered.v1", T + "enrollment.promoted.v1"):
        registered.append(pid)
    elif event_type == T + "enrollment.waitlisted.v1":
        waitlisted.append(pid)
    return registered, waitlisted


def absences_after(marks: Mapping[str, str], payload: Mapping[str, Any]) -> dict[str, str]:
    """Each participant's latest mark per day ("<day>|<participant>" -> "<recorded_at>|<status>")
    after an attendance.recorded event; an older mark arriving late changes nothing."""
    key = f"{payload['day']}|{payload['participant_id']}"
    mark = f"{payload['recorded_at']}|{payload['status']}"
    return {**marks, key: max(mark, marks.get(key, ""))}


def absent_by_day(marks: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """Day -> the participants whose latest mark that day is absent (an excused absence is not listed)."""
    days: dict[str, list[str]] = {}
    for key, mark in marks.items():
        day, participant_id = key.split("|", 1)
        if mark.rsplit("|", 1)[1] == "absent":
            days.setdefault(day, []).append(participant_id)
    return {day: tuple(sorted(ids)) for day, ids in sorted(days.items())}


def submissions_after(submissions: list[dict[str, Any]], payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The session's current evaluation submissions after a feedback.submitted event."""
    gone = {payload["submission_id"], payload.get("replaces_submission_id")}
    kept = [s for s in submissions if s["submission_id"] not in gone]
    return kept + [{"submission_id": payload["submission_id"], "participant_id": payload.get("participant_id")}]
