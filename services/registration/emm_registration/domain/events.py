"""Domain events: facts in the past tense, one per public event type of schemas/events/.

Field names are the payload's field names, so `payload()` is the fields as JSON (absent
optional fields are left out). The aggregate records them in `pending_events`; the service
layer wraps each in a CloudEvents envelope and stores it in the same write as the state.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, ClassVar

from emm_registration.domain.fields import to_json


class DomainEvent:
    """Base of every domain event: `event_type()` is its CloudEvents type, `payload()` its data."""

    TYPE: ClassVar[str]

    def event_type(self) -> str:
        """The versioned CloudEvents type, e.g. `org.iom.emm.enrollment.registered.v1`."""
        return self.TYPE

    def payload(self) -> dict[str, Any]:
        """The event's data as JSON, valid against `schemas/events/<event_type()>.json`."""
        return {f.name: to_json(getattr(self, f.name)) for f in fields(self)  # type: ignore[arg-type]
                if getattr(self, f.name) is not None}


class WholeSessionEvent(DomainEvent):
    """A session.* event that carries the whole session names it at the top level too, as every
    other event does, so consumers key every event by `session_id`."""

    session: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        return {"session_id": self.session["session_id"], **super().payload()}


@dataclass(frozen=True)
class SessionScheduled(WholeSessionEvent):
    TYPE = "org.iom.emm.session.scheduled.v1"
    session: dict[str, Any]
    scheduled_by: str | None = None


@dataclass(frozen=True)
class SessionUpdated(WholeSessionEvent):
    TYPE = "org.iom.emm.session.updated.v1"
    session: dict[str, Any]
    changed_fields: tuple[str, ...]


@dataclass(frozen=True)
class SessionCancelled(DomainEvent):
    TYPE = "org.iom.emm.session.cancelled.v1"
    session_id: str
    reason: str
    cancelled_at: datetime
    sequence: int


@dataclass(frozen=True)
class SessionCompleted(DomainEvent):
    TYPE = "org.iom.emm.session.completed.v1"
    session_id: str
    completed_at: datetime
    evaluation_closes_at: datetime | None = None


@dataclass(frozen=True)
class SessionEvaluationClosed(DomainEvent):
    TYPE = "org.iom.emm.session.evaluation_closed.v1"
    session_id: str
    closed_at: datetime
    completed_at: datetime | None = None


@dataclass(frozen=True)
class EnrollmentRegistered(DomainEvent):
    TYPE = "org.iom.emm.enrollment.registered.v1"
    enrollment_id: str
    session_id: str
    participant_id: str
    participant: dict[str, Any]
    registered_at: datetime
    enrolled_by: str


@dataclass(frozen=True)
class EnrollmentWaitlisted(DomainEvent):
    TYPE = "org.iom.emm.enrollment.waitlisted.v1"
    enrollment_id: str
    session_id: str
    participant_id: str
    participant: dict[str, Any]
    waitlisted_at: datetime
    position: int
    enrolled_by: str


@dataclass(frozen=True)
class EnrollmentPromoted(DomainEvent):
    TYPE = "org.iom.emm.enrollment.promoted.v1"
    enrollment_id: str
    session_id: str
    participant_id: str
    promoted_at: datetime
    freed_by_enrollment_id: str | None = None  # None when a capacity increase made the room


@dataclass(frozen=True)
class EnrollmentCancelled(DomainEvent):
    TYPE = "org.iom.emm.enrollment.cancelled.v1"
    enrollment_id: str
    session_id: str
    participant_id: str
    cancelled_at: datetime
    previous_status: str
    reason: str | None = None


@dataclass(frozen=True)
class AttendanceRecorded(DomainEvent):
    TYPE = "org.iom.emm.attendance.recorded.v1"
    attendance_id: str
    session_id: str
    participant_id: str
    enrollment_id: str
    day: date
    status: str
    recorded_by: str
    recorded_at: datetime
    note: str | None = None


@dataclass(frozen=True)
class ContactUpdated(DomainEvent):
    """INTERNAL (contacts topic only): carries email and phone, never for outside consumers."""

    TYPE = "org.iom.emm.contact.updated.v1"
    participant_id: str
    full_name: str
    email: str
    preferred_language: str
    consent_to_contact: bool
    updated_at: datetime
    phone: str | None = None
    consent_recorded_at: datetime | None = None


@dataclass(frozen=True)
class StaffUpdated(DomainEvent):
    """INTERNAL (contacts topic only): a staff member's contact details and what they act for."""

    TYPE = "org.iom.emm.staff.updated.v1"
    staff_id: str
    full_name: str
    email: str
    preferred_language: str
    role: str
    offices: tuple[str, ...]
    regional: bool
    active: bool
    updated_at: datetime


@dataclass(frozen=True)
class SignInRequested(DomainEvent):
    """INTERNAL (contacts topic only): someone asked for a sign-in link to be emailed to a staff
    member or to a participant for one of their enrollments. It names the recipient, never a link:
    notification makes the link when it sends the email."""

    TYPE = "org.iom.emm.sign_in.requested.v1"
    request_id: str
    purpose: str
    recipient_id: str
    requested_at: datetime
    session_id: str | None = None
