"""The registration service's commands and queries: load an aggregate, let the domain decide,
commit the new version with its events in one insert, retry if another writer came first.

A command returns only after its commit: a 2xx from the API means the fact and its events are
durable; the outbox relay publishes the events, even after a crash.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Callable, Mapping, TypeVar

from emm_common.documents import AggregateStore, KeyedLocks, VersionConflict
from emm_common.envelope import new_event
from emm_registration.adapters import documents as docs
from emm_registration.domain.attendance import AttendanceSheet
from emm_registration.domain.errors import Conflict, DomainError, NotFound
from emm_registration.domain.participant import Participant, check_details, normalise_email, participant_id_for
from emm_registration.domain.session import Enrollment, Session

SOURCE = "/emm/registration"
MAX_CONFLICT_RETRIES = 100
Aggregate = TypeVar("Aggregate")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Stores:
    sessions: AggregateStore
    participants: AggregateStore
    attendance: AggregateStore


@dataclass(frozen=True)
class EnrollmentResult:
    enrollment: Enrollment
    participant: Participant
    session: Session
    created: bool  # False when the person already held this enrollment (idempotent repeat)


class Registration:
    """Application service of the registration bounded context."""

    def __init__(self, stores: Stores, clock: Callable[[], datetime] = utc_now) -> None:
        self.stores = stores
        self._clock = clock
        self._locks = KeyedLocks()

    # -- the one way state changes ------------------------------------------------------------

    async def _change(self, store: AggregateStore, aggregate_id: str, load: Callable[[dict], Aggregate],
                      dump: Callable[[Aggregate], dict], change: Callable[[Aggregate | None], Aggregate | None]):
        """Run `change` on the newest version (None if there is none) and commit what it returns
        with its pending events; retried on a concurrent commit. Returns the aggregate."""
        async with self._locks.hold(f"{store.collection.name}:{aggregate_id}"):
            for _ in range(MAX_CONFLICT_RETRIES):
                current = await store.load(aggregate_id)
                aggregate = change(load(current.state) if current else None)
                if aggregate is None:
                    return None
                events = [new_event(e.event_type(), e.payload(), source=SOURCE) for e in aggregate.pending_events]
                if not events:
                    return aggregate
                try:
                    await store.commit(aggregate_id, dump(aggregate), current.version if current else 0, events)
                except VersionConflict:
                    continue  # another process committed first: decide again on its version
                aggregate.pending_events.clear()
                return aggregate
        raise Conflict("session_id", "too many concurrent changes; try again")

    async def _change_session(self, session_id: str, change: Callable[[Session], Any]) -> tuple[Session, Any]:
        """Apply `change` to the session; return the session and what `change` returned."""
        result: dict[str, Any] = {}

        def apply(session: Session | None) -> Session:
            if session is None:
                raise NotFound("session_id", f"no session {session_id}")
            result["value"] = change(session)
            return session

        session = await self._change(self.stores.sessions, session_id, docs.session_from_document,
                                     docs.session_to_document, apply)
        return session, result.get("value")

    # -- sessions -----------------------------------------------------------------------------

    async def schedule_session(self, details: Mapping[str, Any], scheduled_by: str,
                               session_id: str | None = None) -> tuple[Session, bool]:
        """Schedule a session; with a `session_id` that exists already, return it (created False)."""
        session_id = session_id or f"ses-{uuid.uuid4().hex[:16]}"
        created = {"value": False}

        def schedule(existing: Session | None) -> Session:
            if existing is not None:
                return existing
            created["value"] = True
            return Session.schedule(session_id, scheduled_by=scheduled_by, **details)

        session = await self._change(self.stores.sessions, session_id, docs.session_from_document,
                                     docs.session_to_document, schedule)
        return session, created["value"]

    async def update_session(self, session_id: str, changes: Mapping[str, Any]) -> Session:
        now = self._clock()
        return (await self._change_session(session_id, lambda s: s.update(changes, now)))[0]

    async def change_status(self, session_id: str, action: str, reason: str | None = None) -> Session:
        now = self._clock()
        transitions = {
            "open": lambda s: s.open_enrollment(),
            "start": lambda s: s.start(),
            "complete": lambda s: s.complete(now),
            "cancel": lambda s: s.cancel(reason, now),
        }
        return (await self._change_session(session_id, transitions[action]))[0]

    async def session(self, session_id: str) -> Session:
        current = await self.stores.sessions.load(session_id)
        if current is None:
            raise NotFound("session_id", f"no session {session_id}")
        return docs.session_from_document(current.state)

    async def sessions(self, status: str | None = None, country: str | None = None) -> list[Session]:
        query = {}
        if status:
            query["status"] = status
        if country:
            query["country"] = country
        found = [docs.session_from_document(v.state) for v in await self.stores.sessions.latest_of_all(query)]
        return sorted(found, key=lambda s: (s.start_date, s.session_id))

    # -- participants and enrollments ---------------------------------------------------------

    async def register_participant(self, person: Mapping[str, Any]) -> Participant:
        """Create the participant, or bring their details up to date (same email = same person)."""
        email = normalise_email(person.get("email"))
        now = self._clock()

        def upsert(existing: Participant | None) -> Participant:
            if existing is None:
                return Participant.register(**{**person, "email": email}, now=now)
            existing.revise({k: v for k, v in person.items() if k != "email"}, now)
            return existing

        return await self._change(self.stores.participants, participant_id_for(email),
                                  docs.participant_from_document, docs.participant_to_document, upsert)

    async def participant(self, participant_id: str) -> Participant:
        current = await self.stores.participants.load(participant_id)
        if current is None:
            raise NotFound("participant_id", f"no participant {participant_id}")
        return docs.participant_from_document(current.state)

    async def enroll(self, session_id: str, person: Mapping[str, Any], enrolled_by: str) -> EnrollmentResult:
        """Enroll a person (registered, or waitlisted when full). The same person again gets
        their existing enrollment back (created False)."""
        if not await self.stores.sessions.exists(session_id):  # 404 before anything is written
            raise NotFound("session_id", f"no session {session_id}")
        participant = await self.register_participant(person)
        now = self._clock()
        enrollment_id = f"enr-{uuid.uuid4().hex[:16]}"
        session, enrollment = await self._change_session(
            session_id, lambda s: s.enroll(participant.public_profile(), enrolled_by, now, enrollment_id))
        return EnrollmentResult(enrollment, participant, session, created=enrollment.enrollment_id == enrollment_id)

    async def enroll_all(self, session_id: str, people: list[Mapping[str, Any]], enrolled_by: str,
                         list_field: str = "participants") -> list[EnrollmentResult]:
        """Enroll people in the order given. Everyone's details are checked before the first is
        enrolled, so bad details enroll nobody; a refusal names the item, [list_field, index, field].
        A refusal by the session part-way (e.g. its enrollment window closed) leaves the earlier
        people enrolled: sending the list again is safe, they get their enrollments back."""
        for index, person in enumerate(people):
            try:
                check_details(person)
            except DomainError as error:
                raise error.at(list_field, index)
        results = []
        for index, person in enumerate(people):
            try:
                results.append(await self.enroll(session_id, person, enrolled_by))
            except DomainError as error:
                raise error.at(list_field, index)
        return results

    async def cancel_enrollment(self, session_id: str, enrollment_id: str, reason: str | None = None) -> Session:
        now = self._clock()
        return (await self._change_session(session_id,
                                           lambda s: s.cancel_enrollment(enrollment_id, now, reason)))[0]

    async def history(self, participant_id: str) -> list[tuple[Session, Enrollment]]:
        """Every session the participant enrolled in, with their enrollment, oldest first."""
        found = []
        for session in await self.sessions():
            for enrollment in session.enrollments.values():
                if enrollment.participant_id == participant_id:
                    found.append((session, enrollment))
        return found

    # -- attendance ---------------------------------------------------------------------------

    async def record_attendance(self, session_id: str, day: date | str, marks: list[Mapping[str, Any]],
                                recorded_by: str) -> AttendanceSheet:
        """Record a day's marks (all or nothing); a later mark for the same person and day wins."""
        session = await self.session(session_id)
        now = self._clock()

        def record(sheet: AttendanceSheet | None) -> AttendanceSheet:
            sheet = sheet or AttendanceSheet(session_id=session_id)
            sheet.record(session, day, marks, recorded_by, now)
            return sheet

        return await self._change(self.stores.attendance, session_id, docs.attendance_sheet_from_document,
                                  docs.attendance_sheet_to_document, record)

    async def attendance(self, session_id: str) -> tuple[Session, AttendanceSheet]:
        session = await self.session(session_id)
        current = await self.stores.attendance.load(session_id)
        sheet = docs.attendance_sheet_from_document(current.state) if current else AttendanceSheet(session_id)
        return session, sheet
