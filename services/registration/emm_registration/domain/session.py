"""The Session aggregate: a training session with all its enrollments, capacity and waitlist.

Everything that must change together lives in this one aggregate (one MongoDB document): the
seat count, the waitlist and the new or cancelled enrollment. The database has no
multi-document transactions, so a single-document write is what makes "no overbooking" and
"the waitlist is promoted in order" hold.

Every mutation records domain events in `pending_events`. Repeating a command that already
took effect (same lifecycle transition, same enrollment, cancelling twice) changes nothing and
records nothing, so a retried request or a replay is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from datetime import date, datetime, timedelta
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from emm_registration.domain import fields as f
from emm_registration.domain.errors import Conflict, InvalidInput, NotFound
from emm_registration.domain.events import (
    DomainEvent, EnrollmentCancelled, EnrollmentPromoted, EnrollmentRegistered, EnrollmentWaitlisted,
    SessionCancelled, SessionCompleted, SessionEvaluationClosed, SessionScheduled, SessionUpdated)
from emm_registration.domain.participant import PUBLIC_PROFILE_FIELDS

PROGRAMME = "EMM2.0"
KINDS = ("training_of_trainers", "government_delivery")
MAX_SESSION_DAYS = 30
ENROLLED_BY = ("organizer", "participant")

SCHEDULED, OPEN, IN_PROGRESS, COMPLETED, CANCELLED = "scheduled", "open", "in_progress", "completed", "cancelled"
REGISTERED, WAITLISTED = "registered", "waitlisted"  # and CANCELLED, shared with sessions

# What an organizer sets when scheduling and may change later.
REQUIRED_DETAILS = ("title", "kind", "modules", "organizing_office", "city", "country", "start_date", "end_date",
                    "timezone", "languages", "capacity")
OPTIONAL_DETAILS: dict[str, Any] = {"venue": None, "enrollment_opens_at": None, "enrollment_closes_at": None,
                                    "facilitator_ids": [], "target_audience": None}
DETAILS = REQUIRED_DETAILS + tuple(OPTIONAL_DETAILS)


@dataclass
class Enrollment:
    """One person's place in one session: a seat (registered), a waitlist place, or cancelled.

    `waitlist_seq` is the order in which waitlist places were given; it is kept after promotion
    or cancellation as history. `registered_at` is when the person got a seat, by enrolling or
    by promotion (`promoted_at` then says it was a promotion).
    """

    enrollment_id: str
    participant_id: str
    participant: dict[str, Any]
    status: str
    enrolled_by: str
    created_at: datetime
    registered_at: datetime | None = None
    waitlisted_at: datetime | None = None
    promoted_at: datetime | None = None
    cancelled_at: datetime | None = None
    waitlist_seq: int | None = None
    cancellation_reason: str | None = None

    @property
    def is_active(self) -> bool:
        """Registered or waitlisted: the person still intends to come."""
        return self.status in (REGISTERED, WAITLISTED)


@dataclass
class Session:
    """A scheduled EMM2.0 session and its enrollments. Create one with `Session.schedule`."""

    session_id: str
    title: str
    kind: str
    modules: list[str]
    organizing_office: str
    city: str
    country: str
    start_date: date
    end_date: date
    timezone: str
    languages: list[str]
    capacity: int
    venue: str | None = None
    enrollment_opens_at: datetime | None = None
    enrollment_closes_at: datetime | None = None
    facilitator_ids: list[str] = field(default_factory=list)
    target_audience: str | None = None
    programme: str = PROGRAMME
    status: str = SCHEDULED
    sequence: int = 0
    enrollments: dict[str, Enrollment] = field(default_factory=dict)
    next_waitlist_seq: int = 1
    cancelled_at: datetime | None = None
    cancellation_reason: str | None = None
    completed_at: datetime | None = None
    scheduled_at: datetime | None = None  # None for a session stored before it was kept
    evaluation_closes_at: datetime | None = None
    evaluation_closed_at: datetime | None = None
    pending_events: list[DomainEvent] = field(default_factory=list, compare=False, repr=False)

    # -- creation and changes ---------------------------------------------------------------

    @classmethod
    def schedule(cls, session_id: str, *, scheduled_by: str | None = None, now: datetime | None = None,
                 **details: Any) -> "Session":
        """A new session in status `scheduled` from the organizer's details (the names of
        `DETAILS`; dates and datetimes as objects or ISO strings), scheduled at `now`; records
        `SessionScheduled`. Raises InvalidInput naming the field at fault."""
        session_id = f.identifier(session_id, "session_id")
        if scheduled_by is not None:
            scheduled_by = f.identifier(scheduled_by, "scheduled_by")
        for name in details:
            if name not in DETAILS:
                raise InvalidInput(name, "is not a session detail")
        for name in REQUIRED_DETAILS:
            if details.get(name) is None:
                raise InvalidInput(name, "is required")
        session = cls(session_id=session_id, **_checked_details({**OPTIONAL_DETAILS, **details}),
                      scheduled_at=f.as_datetime(now, "now") if now is not None else None)
        session._record(SessionScheduled(session=session.snapshot(), scheduled_by=scheduled_by))
        return session

    def update(self, changes: Mapping[str, Any], now: datetime) -> list[str]:
        """Change session details and return the names of those that changed.

        Refused (Conflict) once the session is cancelled or completed, when capacity would
        drop below the seats already taken, or when a new facilitator is enrolled in it.
        A capacity increase promotes waitlisted people in waitlist order. Records
        `SessionUpdated` (then any `EnrollmentPromoted`); a change to nothing records nothing.
        """
        now = f.as_datetime(now, "now")
        self._refuse_if_closed()
        for name in changes:
            if name not in DETAILS:
                raise InvalidInput(name, "cannot be changed")
        current = self.details()
        checked = _checked_details({**current, **changes})
        changed = [name for name in DETAILS if checked[name] != current[name]]
        if not changed:
            return []
        if checked["capacity"] < self.seats_taken:
            raise Conflict("capacity", f"{self.seats_taken} seats are taken; capacity cannot be lower")
        for facilitator_id in set(checked["facilitator_ids"]) - set(self.facilitator_ids):
            if self.active_enrollment_of(facilitator_id):
                raise Conflict("facilitator_ids", f"{facilitator_id} is enrolled in this session")
        for name in changed:
            setattr(self, name, checked[name])
        self.sequence += 1
        self._record(SessionUpdated(session=self.snapshot(), changed_fields=tuple(changed)))
        while self.seats_left and self.waitlist():
            self._promote_first_waitlisted(now, freed_by=None)
        return changed

    # -- lifecycle: scheduled -> open -> in_progress -> completed (then its evaluation closes);
    #    cancelled from any but completed

    def open_enrollment(self) -> None:
        """scheduled -> open; records `SessionUpdated` with changed field `status`."""
        self._move_to(OPEN, allowed_from=(SCHEDULED,))

    def start(self) -> None:
        """scheduled or open -> in_progress; records `SessionUpdated` with changed field `status`."""
        self._move_to(IN_PROGRESS, allowed_from=(SCHEDULED, OPEN))

    def complete(self, now: datetime, evaluation_period: timedelta | None = None) -> None:
        """in_progress -> completed; records `SessionCompleted` (evaluation starts from it), saying
        when the evaluation will close if an `evaluation_period` is given."""
        now = f.as_datetime(now, "now")
        if self._move_to(COMPLETED, allowed_from=(IN_PROGRESS,), announce=False):
            self.completed_at = now
            self.evaluation_closes_at = now + evaluation_period if evaluation_period is not None else None
            self._record(SessionCompleted(session_id=self.session_id, completed_at=now,
                                          evaluation_closes_at=self.evaluation_closes_at))

    def close_evaluation(self, now: datetime) -> bool:
        """Close a completed session's evaluation (no more submissions); records
        `SessionEvaluationClosed`. False, and nothing recorded, if it is closed already; Conflict
        before completion."""
        now = f.as_datetime(now, "now")
        if self.evaluation_closed_at is not None:
            return False
        if self.status != COMPLETED:
            raise Conflict("status", f"a {self.status} session has no evaluation to close yet")
        self.evaluation_closed_at = now
        self._record(SessionEvaluationClosed(session_id=self.session_id, closed_at=now,
                                             completed_at=self.completed_at))
        return True

    def cancel(self, reason: str, now: datetime) -> None:
        """Any status but completed -> cancelled; records `SessionCancelled`.

        Enrollments are left as they are: consumers learn from `SessionCancelled` that nobody
        attends, and the roster stays readable for the record."""
        now = f.as_datetime(now, "now")
        reason = f.text(reason, "reason", max_length=f.TEXT_LENGTH)
        if self._move_to(CANCELLED, allowed_from=(SCHEDULED, OPEN, IN_PROGRESS), announce=False):
            self.cancelled_at, self.cancellation_reason = now, reason
            self._record(SessionCancelled(session_id=self.session_id, reason=reason, cancelled_at=now,
                                          sequence=self.sequence))

    # -- enrollments ------------------------------------------------------------------------

    def enroll(self, participant: Mapping[str, Any], enrolled_by: str, now: datetime,
               enrollment_id: str) -> Enrollment:
        """Give the participant (their public profile, see `Participant.public_profile`) a seat,
        or a waitlist place when the session is full, and return the enrollment.

        A participant who already holds a seat or a waitlist place gets that enrollment back,
        unchanged, and so does a repeated command with the same `enrollment_id`. Refused for a
        cancelled or completed session or a facilitator of the session (Conflict), and outside
        the enrollment window when one is set (InvalidInput). Records `EnrollmentRegistered` or
        `EnrollmentWaitlisted`.
        """
        now = f.as_datetime(now, "now")
        enrollment_id = f.identifier(enrollment_id, "enrollment_id")
        enrolled_by = f.choice(enrolled_by, "enrolled_by", ENROLLED_BY)
        profile = {name: participant[name] for name in PUBLIC_PROFILE_FIELDS if participant.get(name) is not None}
        participant_id = f.identifier(profile.get("participant_id"), "participant_id")
        f.text(profile.get("full_name"), "full_name", max_length=f.NAME_LENGTH)
        f.country(profile.get("country"))
        f.language(profile.get("preferred_language"), "preferred_language")
        self._refuse_if_closed()

        if (existing := self.enrollments.get(enrollment_id)) is not None:
            if existing.participant_id != participant_id:
                raise Conflict("enrollment_id", "already used for another participant")
            return existing
        if (active := self.active_enrollment_of(participant_id)) is not None:
            return active
        if self.enrollment_opens_at is not None and now < self.enrollment_opens_at:
            raise InvalidInput("enrollment_opens_at", f"enrollment opens at {f.iso(self.enrollment_opens_at)}")
        if self.enrollment_closes_at is not None and now > self.enrollment_closes_at:
            raise InvalidInput("enrollment_closes_at", f"enrollment closed at {f.iso(self.enrollment_closes_at)}")
        if participant_id in self.facilitator_ids:
            raise Conflict("participant_id", "facilitates this session and cannot enroll in it")

        has_seat = self.seats_left > 0
        enrollment = Enrollment(enrollment_id=enrollment_id, participant_id=participant_id, participant=profile,
                                status=REGISTERED if has_seat else WAITLISTED, enrolled_by=enrolled_by,
                                created_at=now)
        self.enrollments[enrollment_id] = enrollment
        if has_seat:
            enrollment.registered_at = now
            self._record(EnrollmentRegistered(
                enrollment_id=enrollment_id, session_id=self.session_id, participant_id=participant_id,
                participant=profile, registered_at=now, enrolled_by=enrolled_by))
        else:
            enrollment.waitlisted_at = now
            enrollment.waitlist_seq, self.next_waitlist_seq = self.next_waitlist_seq, self.next_waitlist_seq + 1
            self._record(EnrollmentWaitlisted(
                enrollment_id=enrollment_id, session_id=self.session_id, participant_id=participant_id,
                participant=profile, waitlisted_at=now, position=self.waitlist_position(enrollment_id),
                enrolled_by=enrolled_by))
        return enrollment

    def cancel_enrollment(self, enrollment_id: str, now: datetime, reason: str | None = None) -> Enrollment:
        """Cancel a seat or a waitlist place and return the enrollment. A freed seat goes to the
        first person on the waitlist. Records `EnrollmentCancelled`, then `EnrollmentPromoted`
        if someone got the seat. Cancelling a cancelled enrollment changes nothing."""
        now = f.as_datetime(now, "now")
        reason = f.text(reason, "reason", max_length=f.TEXT_LENGTH, required=False)
        enrollment = self.enrollments.get(enrollment_id)
        if enrollment is None:
            raise NotFound("enrollment_id", f"no enrollment {enrollment_id} in session {self.session_id}")
        if enrollment.status == CANCELLED:
            return enrollment
        self._refuse_if_closed()
        previous_status = enrollment.status
        enrollment.status, enrollment.cancelled_at, enrollment.cancellation_reason = CANCELLED, now, reason
        self._record(EnrollmentCancelled(
            enrollment_id=enrollment_id, session_id=self.session_id, participant_id=enrollment.participant_id,
            cancelled_at=now, previous_status=previous_status, reason=reason))
        if previous_status == REGISTERED and self.seats_left and self.waitlist():
            self._promote_first_waitlisted(now, freed_by=enrollment_id)
        return enrollment

    # -- queries ----------------------------------------------------------------------------

    @property
    def days(self) -> list[date]:
        """Every attendance day, start to end inclusive."""
        return [self.start_date + timedelta(days=n) for n in range((self.end_date - self.start_date).days + 1)]

    @property
    def seats_taken(self) -> int:
        return sum(1 for e in self.enrollments.values() if e.status == REGISTERED)

    @property
    def seats_left(self) -> int:
        return max(0, self.capacity - self.seats_taken)

    def waitlist(self) -> list[Enrollment]:
        """Waitlisted enrollments, next to be promoted first."""
        return sorted((e for e in self.enrollments.values() if e.status == WAITLISTED), key=lambda e: e.waitlist_seq)

    def waitlist_position(self, enrollment_id: str) -> int | None:
        """1 for the next to be promoted; None if the enrollment is not waitlisted."""
        for position, enrollment in enumerate(self.waitlist(), start=1):
            if enrollment.enrollment_id == enrollment_id:
                return position
        return None

    def roster(self) -> list[Enrollment]:
        """Registered enrollments, in the order they got their seat."""
        return sorted((e for e in self.enrollments.values() if e.status == REGISTERED),
                      key=lambda e: (e.registered_at, e.enrollment_id))

    def active_enrollment_of(self, participant_id: str) -> Enrollment | None:
        """The participant's registered or waitlisted enrollment, if any."""
        return next((e for e in self.enrollments.values() if e.participant_id == participant_id and e.is_active),
                    None)

    def enrollment_of(self, participant_id: str) -> Enrollment | None:
        """The participant's enrollment: the active one, else the one they cancelled last (a
        person who cancelled still has their history here)."""
        if (active := self.active_enrollment_of(participant_id)) is not None:
            return active
        theirs = [e for e in self.enrollments.values() if e.participant_id == participant_id]
        return max(theirs, key=lambda e: (e.created_at, e.enrollment_id), default=None)

    def details(self) -> dict[str, Any]:
        """The organizer-set details (the names of `DETAILS`) as they are now."""
        return {name: getattr(self, name) for name in DETAILS}

    def snapshot(self) -> dict[str, Any]:
        """The `session` object of session events, as JSON."""
        snapshot = {"session_id": self.session_id, "programme": self.programme, **self.details(),
                    "days": self.days, "status": self.status, "sequence": self.sequence}
        return {name: f.to_json(value) for name, value in snapshot.items() if value is not None}

    # -- internals --------------------------------------------------------------------------

    def _record(self, event: DomainEvent) -> None:
        self.pending_events.append(event)

    def _refuse_if_closed(self) -> None:
        if self.status in (CANCELLED, COMPLETED):
            raise Conflict("session_id", f"session {self.session_id} is {self.status}")

    def _move_to(self, status: str, allowed_from: tuple[str, ...], announce: bool = True) -> bool:
        """Change status; False if it already is `status` (a replay), Conflict if not allowed from here."""
        if self.status == status:
            return False
        if self.status not in allowed_from:
            raise Conflict("status", f"a {self.status} session cannot become {status}")
        self.status = status
        self.sequence += 1
        if announce:
            self._record(SessionUpdated(session=self.snapshot(), changed_fields=("status",)))
        return True

    def _promote_first_waitlisted(self, now: datetime, freed_by: str | None) -> None:
        first = self.waitlist()[0]
        first.status, first.promoted_at, first.registered_at = REGISTERED, now, now
        self._record(EnrollmentPromoted(enrollment_id=first.enrollment_id, session_id=self.session_id,
                                        participant_id=first.participant_id, promoted_at=now,
                                        freed_by_enrollment_id=freed_by))


def _checked_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """Every detail validated and normalised, or InvalidInput naming the first field at fault."""
    start_date, end_date = f.as_date(details["start_date"], "start_date"), f.as_date(details["end_date"], "end_date")
    if end_date < start_date:
        raise InvalidInput("end_date", "must not be before start_date")
    if (end_date - start_date).days + 1 > MAX_SESSION_DAYS:
        raise InvalidInput("end_date", f"a session lasts at most {MAX_SESSION_DAYS} days")
    opens_at = f.optional_datetime(details["enrollment_opens_at"], "enrollment_opens_at")
    closes_at = f.optional_datetime(details["enrollment_closes_at"], "enrollment_closes_at")
    if opens_at is not None and closes_at is not None and closes_at <= opens_at:
        raise InvalidInput("enrollment_closes_at", "must be after enrollment_opens_at")
    capacity = details["capacity"]
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
        raise InvalidInput("capacity", "must be a whole number of at least 1")
    modules = f.unique_list(details["modules"], "modules", partial(f.text, max_length=f.NAME_LENGTH),
                            max_items=f.MAX_MODULES)
    if not modules:
        raise InvalidInput("modules", "must name at least one module")
    languages = f.unique_list(details["languages"], "languages", f.language, max_items=len(f.LANGUAGES))
    if not languages:
        raise InvalidInput("languages", "must name at least one of fr, en, pt")
    return {
        "title": f.text(details["title"], "title", max_length=f.TITLE_LENGTH),
        "kind": f.choice(details["kind"], "kind", KINDS),
        "modules": modules,
        "organizing_office": f.text(details["organizing_office"], "organizing_office", max_length=f.NAME_LENGTH),
        "city": f.text(details["city"], "city", max_length=f.NAME_LENGTH),
        "country": f.country(details["country"]),
        "start_date": start_date,
        "end_date": end_date,
        "timezone": _timezone(details["timezone"]),
        "languages": languages,
        "capacity": capacity,
        "venue": f.text(details["venue"], "venue", max_length=f.TITLE_LENGTH, required=False),
        "enrollment_opens_at": opens_at,
        "enrollment_closes_at": closes_at,
        "facilitator_ids": f.unique_list(details["facilitator_ids"] or [], "facilitator_ids", f.identifier,
                                         max_items=f.MAX_FACILITATORS),
        "target_audience": f.text(details["target_audience"], "target_audience", max_length=f.TEXT_LENGTH,
                                  required=False),
    }


def _timezone(name: Any) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise InvalidInput("timezone", "must be an IANA time zone, e.g. Africa/Dakar") from None
    return name
