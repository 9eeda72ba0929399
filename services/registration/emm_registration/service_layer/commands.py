"""The registration service's commands and queries: load an aggregate by `_id`, let the domain
decide, commit the change with its events in one insert-once write (then the document readers
read: emm_common.documents.VersionedDocuments), decide again if another writer came first.

A command returns only after its commit: a 2xx from the API means the fact and its events are
durable; the outbox relay publishes the events, even after a crash.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Mapping, TypeVar

from emm_common.documents import Current, KeyedLocks, VersionConflict, VersionedDocuments
from emm_common.envelope import new_event
from emm_registration.adapters import documents as docs
from emm_registration.domain.attendance import AttendanceSheet
from emm_registration.domain.errors import Conflict, DomainError, NotFound
from emm_registration.domain.lifecycle_clock import ClockTimes, step_due, step_event_id
from emm_registration.domain.participant import Participant, check_details, normalise_email, participant_id_for
from emm_registration.domain.session import Enrollment, Session
from emm_registration.domain.sign_in import Recipient, SignInRequests, requests_id_for
from emm_registration.domain.staff import StaffMember, staff_id_for

SOURCE = "/emm/registration"
MAX_CONFLICT_RETRIES = 100
# A request for sign-in links sends one per session a person enrolled in: the most recent few.
MAX_PARTICIPANT_LINKS = 5
Aggregate = TypeVar("Aggregate")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Stores:
    sessions: VersionedDocuments
    participants: VersionedDocuments
    attendance: VersionedDocuments
    staff: VersionedDocuments
    sign_in_requests: VersionedDocuments


@dataclass(frozen=True)
class EnrollmentResult:
    enrollment: Enrollment
    participant: Participant
    session: Session
    created: bool  # False when the person already held this enrollment (idempotent repeat)


class Registration:
    """Application service of the registration bounded context."""

    def __init__(self, stores: Stores, clock: Callable[[], datetime] = utc_now,
                 times: ClockTimes = ClockTimes()) -> None:
        self.stores = stores
        self._clock = clock
        self.times = times  # the evaluation window a completion sets; the lifecycle clock's hours
        self._locks = KeyedLocks()

    # -- the one way state changes ------------------------------------------------------------

    async def _change(self, documents: VersionedDocuments, aggregate_id: str, load: Callable[[dict], Aggregate],
                      dump: Callable[[Aggregate], dict], change: Callable[[Aggregate | None], Aggregate | None],
                      event_id: Callable[[int], str | None] = lambda index: None, current: Current | None = None):
        """Run `change` on the aggregate as loaded (None if it does not exist; `current` if the
        caller loaded it already) and commit what it returns with its pending events; decided
        again on the newer commit if another writer came first. Returns the aggregate. Nothing is
        written when neither an event nor the state is new. `event_id(index)` names the events
        (None: a fresh uuid), read after `change` ran."""
        async with self._locks.hold(f"{documents.name}:{aggregate_id}"):
            current = current or await documents.load(aggregate_id)
            for _ in range(MAX_CONFLICT_RETRIES):
                aggregate = change(load(current.state) if current.exists else None)
                if aggregate is None:
                    return None
                events = [new_event(e.event_type(), e.payload(), source=SOURCE, event_id=event_id(index))
                          for index, e in enumerate(aggregate.pending_events)]
                state = dump(aggregate)
                if not events and current.exists and state == current.state:
                    return aggregate
                try:
                    await documents.commit(current, state, events)
                except VersionConflict:  # another writer committed first: decide again on its commit
                    current = await documents.load(aggregate_id, confirm=True)
                    continue
                aggregate.pending_events.clear()
                return aggregate
        raise Conflict("session_id", "too many concurrent changes; try again")

    async def _change_session(self, session_id: str, change: Callable[[Session], Any],
                              current: Current | None = None) -> tuple[Session, Any]:
        """Apply `change` to the session; return the session and what `change` returned."""
        result: dict[str, Any] = {}

        def apply(session: Session | None) -> Session:
            if session is None:
                raise NotFound("session_id", f"no session {session_id}")
            result["value"] = change(session)
            return session

        session = await self._change(self.stores.sessions, session_id, docs.session_from_document,
                                     docs.session_to_document, apply, current=current)
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
            return Session.schedule(session_id, scheduled_by=scheduled_by, now=self._clock(), **details)

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
            "complete": lambda s: s.complete(now, self.times.evaluation_period),
            "cancel": lambda s: s.cancel(reason, now),
            "close_evaluation": lambda s: s.close_evaluation(now),
        }
        return (await self._change_session(session_id, transitions[action]))[0]

    async def advance(self, session_id: str) -> str | None:
        """The lifecycle clock's one step for the session, if it is due now: decided on the newest
        version and committed against it (a VersionConflict decides again), so of several clocks,
        or a clock and an organizer, the first write wins and the others find nothing left to do.
        The events' ids follow from the session, step and version. Returns the step taken."""
        now = self._clock()
        taken: dict[str, Any] = {}

        def step(session: Session | None) -> Session | None:
            taken.clear()
            if session is None:
                return None
            due = step_due(session, now, self.times)
            if due is None:
                return session
            taken.update(step=due, sequence=session.sequence)
            {"open": session.open_enrollment, "start": session.start,
             "complete": lambda: session.complete(now, self.times.evaluation_period),
             "close_evaluation": lambda: session.close_evaluation(now)}[due]()
            return session

        def event_id(index: int) -> str:
            return step_event_id(session_id, taken["step"], taken["sequence"], index)

        await self._change(self.stores.sessions, session_id, docs.session_from_document, docs.session_to_document,
                           step, event_id)
        return taken.get("step")

    async def session(self, session_id: str, *, confirm: bool = True) -> Session:
        """The session; `confirm=False` reads its document only (one read), which a crash may have
        left one change behind (see VersionedDocuments)."""
        current = await self.stores.sessions.load(session_id, confirm=confirm)
        if not current.exists:
            raise NotFound("session_id", f"no session {session_id}")
        return docs.session_from_document(current.state)

    async def sessions(self, status: str | None = None, country: str | None = None,
                       facilitator: str | None = None) -> list[Session]:
        """Sessions by start date, those with the status, in the country and facilitated by the
        person given."""
        found = [docs.session_from_document(current.state) for current in await self.stores.sessions.all()]
        found = [s for s in found if (not status or s.status == status) and (not country or s.country == country)
                 and (not facilitator or facilitator in s.facilitator_ids)]
        return sorted(found, key=lambda s: (s.start_date, s.session_id))

    # -- participants and enrollments ---------------------------------------------------------

    async def register_participant(self, person: Mapping[str, Any], session_id: str | None = None) -> Participant:
        """Create the participant, or bring their details up to date (same email = same person),
        remembering the session they are enrolling in."""
        email = normalise_email(person.get("email"))
        now = self._clock()

        def upsert(existing: Participant | None) -> Participant:
            if existing is None:
                existing = Participant.register(**{**person, "email": email}, now=now)
            else:
                existing.revise({k: v for k, v in person.items() if k != "email"}, now)
            if session_id:
                existing.enrolling_in(session_id)
            return existing

        return await self._change(self.stores.participants, participant_id_for(email),
                                  docs.participant_from_document, docs.participant_to_document, upsert)

    async def participant(self, participant_id: str) -> Participant:
        current = await self.stores.participants.load(participant_id, confirm=True)
        if not current.exists:
            raise NotFound("participant_id", f"no participant {participant_id}")
        return docs.participant_from_document(current.state)

    async def enroll(self, session_id: str, person: Mapping[str, Any], enrolled_by: str) -> EnrollmentResult:
        """Enroll a person (registered, or waitlisted when full). The same person again gets
        their existing enrollment back (created False)."""
        current = await self.stores.sessions.load(session_id)  # 404 before anything is written
        if not current.exists:
            raise NotFound("session_id", f"no session {session_id}")
        participant = await self.register_participant(person, session_id)
        now = self._clock()
        enrollment_id = f"enr-{uuid.uuid4().hex[:16]}"
        session, enrollment = await self._change_session(
            session_id, lambda s: s.enroll(participant.public_profile(), enrolled_by, now, enrollment_id), current)
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
        current = await self.stores.participants.load(participant_id, confirm=True)
        session_ids = current.state.get("session_ids") if current.exists else []
        if session_ids is None:  # a participant stored before their sessions were kept with them
            sessions = await self.sessions()
        else:
            found = await self.stores.sessions.load_many(session_ids)
            sessions = [docs.session_from_document(found[sid].state) for sid in session_ids if sid in found]
        found = [(s, e) for s in sessions for e in s.enrollments.values() if e.participant_id == participant_id]
        return sorted(found, key=lambda pair: (pair[0].start_date, pair[0].session_id, pair[1].created_at))

    # -- the staff directory ------------------------------------------------------------------

    async def add_staff(self, details: Mapping[str, Any]) -> tuple[StaffMember, bool]:
        """Add a staff member; an email already in the directory returns that record as it is (created False)."""
        staff_id = staff_id_for(details.get("email"))
        now = self._clock()
        created = {"value": False}

        def add(existing: StaffMember | None) -> StaffMember:
            if existing is not None:
                return existing
            created["value"] = True
            return StaffMember.register(**details, now=now)

        member = await self._change(self.stores.staff, staff_id, docs.staff_from_document, docs.staff_to_document,
                                    add)
        return member, created["value"]

    async def update_staff(self, staff_id: str, changes: Mapping[str, Any]) -> StaffMember:
        now = self._clock()

        def revise(member: StaffMember | None) -> StaffMember:
            if member is None:
                raise NotFound("staff_id", f"no staff member {staff_id}")
            member.revise(changes, now)
            return member

        return await self._change(self.stores.staff, staff_id, docs.staff_from_document, docs.staff_to_document,
                                  revise)

    async def staff_member(self, staff_id: str) -> StaffMember:
        current = await self.stores.staff.load(staff_id, confirm=True)
        if not current.exists:
            raise NotFound("staff_id", f"no staff member {staff_id}")
        return docs.staff_from_document(current.state)

    async def staff_members(self, role: str | None = None) -> list[StaffMember]:
        """The directory by name (then id), the organizers or the facilitators only if `role` is given."""
        found = [docs.staff_from_document(current.state) for current in await self.stores.staff.all()
                 if not role or current.state.get("role") == role]
        return sorted(found, key=lambda m: (m.full_name.casefold(), m.staff_id))

    # -- sign-in links ------------------------------------------------------------------------

    async def request_sign_in_links(self, email: str) -> bool:
        """Record a request for the sign-in links of an address: one `SignInRequested` for its
        active staff member and one per session (the latest few) its participant enrolled in.
        False, and nothing recorded, when the address asked too often; an unknown address is
        counted all the same. Every read is by _id: the address gives both ids."""
        email = normalise_email(email)
        recipients = []
        staff = await self.stores.staff.load(staff_id_for(email), confirm=True)
        if staff.exists and docs.staff_from_document(staff.state).active:
            recipients.append(Recipient("staff-sign-in", staff.id))
        enrolled = await self.history(participant_id_for(email))  # nobody enrolled: none
        if enrolled:
            latest = list(dict.fromkeys(s.session_id for s, _ in reversed(enrolled)))[:MAX_PARTICIPANT_LINKS]
            recipients += [Recipient("participant-sign-in", participant_id_for(email), sid) for sid in latest]
        now = self._clock()
        granted = {"value": False}

        def request(requests: SignInRequests | None) -> SignInRequests:
            requests = requests or SignInRequests(requests_id_for(email))
            granted["value"] = requests.request(recipients, now, f"sir-{uuid.uuid4().hex[:16]}")
            return requests

        await self._change(self.stores.sign_in_requests, requests_id_for(email),
                           docs.sign_in_requests_from_document, docs.sign_in_requests_to_document, request)
        return granted["value"]

    # -- attendance ---------------------------------------------------------------------------

    async def record_attendance(self, session_id: str, day: date | str, marks: list[Mapping[str, Any]],
                                recorded_by: str) -> AttendanceSheet:
        """Record a day's marks (all or nothing); a later mark for the same person and day wins."""
        current = await self.stores.sessions.load(session_id)
        if not current.exists:
            raise NotFound("session_id", f"no session {session_id}")
        session = docs.session_from_document(current.state)
        now = self._clock()

        def record(sheet: AttendanceSheet | None) -> AttendanceSheet:
            sheet = sheet or AttendanceSheet(session_id=session_id)
            sheet.record(session, day, marks, recorded_by, now)
            return sheet

        return await self._change(self.stores.attendance, session_id, docs.attendance_sheet_from_document,
                                  docs.attendance_sheet_to_document, record)

    async def attendance(self, session_id: str) -> tuple[Session, AttendanceSheet]:
        session = await self.session(session_id)
        current = await self.stores.attendance.load(session_id, confirm=True)
        sheet = docs.attendance_sheet_from_document(current.state) if current.exists else AttendanceSheet(session_id)
        return session, sheet
