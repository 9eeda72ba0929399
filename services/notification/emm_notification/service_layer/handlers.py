"""Consumed events: plan the messages an event causes, record them in the log, update the projections.

Every handler reads like: plan from what we know → keep that plan under the event's id → insert
each planned message under its notification_id → apply the event to its projection once.

Who is planned for depends on what the projections hold when the event comes (everyone enrolled
when a session changes), so a plan is made once per event id and kept (`keep_plan`, one
insert-once write): a redelivered or replayed event, however late, uses the plan it got the
first time and never reaches people who enrolled since. The plan is kept before any message is
inserted, so a crash in between is repaired by the redelivery, which inserts the kept plan's
messages (insert-unique: nothing twice); recording before projecting means the same for the
projections.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timezone
from typing import Callable

from emm_common.consumer import Handler
from emm_common.envelope import Event
from emm_notification.domain.messages import PlanStatus, may_write, plan_messages
from emm_notification.domain.read_model import Contact, ReadModel
from emm_notification.service_layer.log_entries import Status, new_entry
from emm_notification.service_layer.ports import NotificationLog, Projections
from emm_notification.service_layer.projections import T, session_id_of

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


SESSION_EVENTS = ("session.scheduled.v1", "session.updated.v1", "session.cancelled.v1", "session.completed.v1",
                  "session.evaluation_closed.v1")
ENROLLMENT_EVENTS = ("enrollment.registered.v1", "enrollment.waitlisted.v1", "enrollment.promoted.v1",
                     "enrollment.cancelled.v1")


async def read_model_for(projections: Projections, session_id: str | None, *participant_ids: str | None,
                         whole_session: bool = True, office_organizers: bool = False) -> ReadModel:
    """What planning needs: the session (if known) and the contacts of everyone it may write to:
    the given participants, plus everyone enrolled and the digest recipients if `whole_session`.
    With `office_organizers`, the directory's organizers acting for the session's office count
    among its organizers (for the staff digests)."""
    record = await projections.session(session_id) if session_id else None
    view = record.view() if record else None
    if view is not None and office_organizers:
        office = view.snapshot.get("organizing_office")
        view = replace(view, organizer_ids=(*(view.organizer_ids or ()), *await projections.organizers_of(office)))
    ids = {pid for pid in participant_ids if pid}
    if view is not None and whole_session:
        ids |= set(view.registered_ids) | set(view.waitlisted_ids) | set(view.digest_recipient_ids)
    return ReadModel(contacts=await projections.contacts(ids), sessions={session_id: view} if view else {})


def released_fields(contact: Contact, kind: str) -> dict[str, str | None]:
    """An awaiting_contact entry once the contact is known: to send, or skipped with the reason."""
    status, reason = may_write(contact, kind)
    return {"status": str(Status.PLANNED if status is PlanStatus.TO_SEND else Status.SKIPPED), "reason": reason}


class NotificationHandlers:
    """The worker's handlers, one per consumed event type. `on_planned` wakes the delivery loop."""

    def __init__(self, projections: Projections, log: NotificationLog, *,
                 on_planned: Callable[[], None] = lambda: None, clock: Clock = utcnow) -> None:
        self.projections = projections
        self.log = log
        self.on_planned = on_planned
        self.clock = clock

    def handlers(self) -> dict[str, Handler]:
        table: dict[str, Handler] = {T + "contact.updated.v1": self.contact_updated,
                                     T + "staff.updated.v1": self.staff_updated,
                                     T + "sign_in.requested.v1": self.sign_in_requested,
                                     T + "feedback.submitted.v1": self.feedback_submitted,
                                     T + "evaluation.closed.v1": self.evaluation_closed,
                                     T + "attendance.recorded.v1": self.attendance_recorded,
                                     T + "certification.out_of_reach.v1": self.certification_out_of_reach,
                                     T + "trainer.certified.v1": self.trainer_certified}
        table |= {T + name: self.session_event for name in SESSION_EVENTS}
        table |= {T + name: self.enrollment_event for name in ENROLLMENT_EVENTS}
        return table

    async def record_plan(self, event: Event, session_id: str | None, participant_id: str | None = None,
                          office_organizers: bool = False) -> list[dict]:
        """Plan the event's messages and insert those not in the log yet; return the inserted entries.
        An event about one participant needs only that contact, not the whole session's."""
        state = await read_model_for(self.projections, session_id, participant_id,
                                     whole_session=participant_id is None, office_organizers=office_organizers)
        planned = plan_messages(event.type, event.data, state, event_id=event.id)
        now = self.clock()
        # A redelivered event plans again from today's projections, but the plan kept first wins.
        # Each entry keeps the event's correlation, which its email's log lines carry.
        entries = await self.log.keep_plan(event.id, [{**new_entry(p, now), "traceparent": event.traceparent}
                                                      for p in planned])
        inserted = await self.log.add(entries)
        if any(e["status"] == Status.PLANNED for e in inserted):
            self.on_planned()
        return inserted

    async def session_event(self, event: Event) -> None:
        session_id = session_id_of(event.type, event.data)
        await self.record_plan(event, session_id)
        await self.projections.apply_session(event, session_id)

    async def enrollment_event(self, event: Event) -> None:
        session_id, participant_id = event.data["session_id"], event.data["participant_id"]
        inserted = await self.record_plan(event, session_id, participant_id)
        await self.projections.apply_enrollment(event, session_id)
        await self._release_if_contact_arrived(participant_id, inserted)

    async def feedback_submitted(self, event: Event) -> None:
        await self.record_plan(event, event.data["session_id"])
        await self.projections.apply_feedback(event, event.data["session_id"])

    async def evaluation_closed(self, event: Event) -> None:
        await self.record_plan(event, event.data["session_id"], office_organizers=True)

    async def attendance_recorded(self, event: Event) -> None:
        # Kept for the day's absence digest, which the scheduler plans once the day is over.
        await self.projections.apply_attendance(event, event.data["session_id"])

    async def certification_out_of_reach(self, event: Event) -> None:
        inserted = await self.record_plan(event, event.data["session_id"], event.data["participant_id"])
        await self._release_if_contact_arrived(event.data["participant_id"], inserted)

    async def trainer_certified(self, event: Event) -> None:
        inserted = await self.record_plan(event, event.data["session_id"], event.data["participant_id"])
        await self._release_if_contact_arrived(event.data["participant_id"], inserted)

    async def sign_in_requested(self, event: Event) -> None:
        recipient = event.data["recipient_id"]
        inserted = await self.record_plan(event, event.data.get("session_id"), recipient)
        await self._release_if_contact_arrived(recipient, inserted)

    async def contact_updated(self, event: Event) -> None:
        await self.projections.apply_contact(event)
        contact = Contact.from_event(event.data)
        await self.release(contact, await self.log.awaiting_contact(contact.participant_id))

    async def staff_updated(self, event: Event) -> None:
        # A staff member is a contact too (their digests may be waiting for them).
        await self.projections.apply_staff(event)
        contact = Contact.from_staff(event.data)
        await self.release(contact, await self.log.awaiting_contact(contact.participant_id))

    async def release(self, contact: Contact, entries: list[dict]) -> None:
        """Move the person's awaiting_contact entries on, now that the contact is known."""
        released = False
        for entry in entries:
            fields = released_fields(contact, entry["kind"])
            await self.log.update(entry["_id"], {**fields, "next_attempt_at": self.clock()},
                                  history=[{"at": self.clock(), "outcome": "contact_received"}])
            released |= fields["status"] == Status.PLANNED
        if released:
            self.on_planned()

    async def _release_if_contact_arrived(self, participant_id: str, inserted: list[dict]) -> None:
        # The contacts topic is consumed independently: the contact may have been stored between
        # our read and our insert, after its own handler looked for waiting entries.
        waiting = [e for e in inserted if e["status"] == Status.AWAITING_CONTACT]
        if waiting:
            contact = (await self.projections.contacts([participant_id])).get(participant_id)
            if contact is not None:
                await self.release(contact, waiting)
