"""MongoDB projections: contacts (participants' and staff's), sessions, rosters and feedback, one
collection each, one document per key; and `organizers`, the staff ids of the active organizers
acting for each office (`_id` the office, or REGIONAL for those acting for all), so that a
session's organizers are found by _id."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any, Iterable

from emm_common.documents import apply_once
from emm_common.envelope import Event
from emm_notification.domain.read_model import Contact
from emm_notification.service_layer.projections import (REGIONAL, SessionRecord, absences_after, absent_by_day,
                                                        organizer_offices, roster_after, session_fields,
                                                        submissions_after)

_CONTACT_FIELDS = ("participant_id", "full_name", "email", "preferred_language", "consent_to_contact", "phone",
                   "consent_recorded_at", "updated_at")
_STAFF_FIELDS = ("staff_id", "full_name", "email", "preferred_language", "role", "offices", "regional", "active",
                 "updated_at")


class MongoProjections:
    def __init__(self, database: Any) -> None:
        self.contacts_collection = database.contacts
        self.sessions_collection = database.sessions
        self.rosters = database.rosters
        self.feedback = database.feedback
        self.organizers = database.organizers
        self.absences = database.absences

    async def apply_contact(self, event: Event) -> bool:
        contact = {k: event.data[k] for k in _CONTACT_FIELDS if k in event.data}
        return await apply_once(self.contacts_collection, event.data["participant_id"], event.id, {"$set": contact})

    async def apply_staff(self, event: Event) -> bool:
        # Staff share the contacts collection (staff ids and participant ids never collide), so
        # that a recipient is found by one read by _id whoever they are.
        staff = {k: event.data[k] for k in _STAFF_FIELDS}
        staff_id = event.data["staff_id"]
        # The office index first: a crash before the contact is written is repaired by the
        # redelivery, which still finds the offices the person had before.
        previous = await self.contacts_collection.find_one({"_id": staff_id}, {"applied": 0})
        before, after = organizer_offices(previous), organizer_offices(event.data)
        for office in sorted(before ^ after):
            # Read-modify-write is safe: the consumer of the contacts topic is this document's only writer.
            ids = set((await self.organizers.find_one({"_id": office}) or {}).get("staff_ids", ()))
            ids = ids | {staff_id} if office in after else ids - {staff_id}
            await apply_once(self.organizers, office, event.id, {"$set": {"staff_ids": sorted(ids)}})
        return await apply_once(self.contacts_collection, staff_id, event.id, {"$set": staff})

    async def apply_session(self, event: Event, session_id: str) -> bool:
        return await apply_once(self.sessions_collection, session_id, event.id,
                                {"$set": session_fields(event.type, event.data)})

    async def apply_enrollment(self, event: Event, session_id: str) -> bool:
        # Read-modify-write is safe: this document's only writer is the owner of its enrollments partition.
        doc = await self.rosters.find_one({"_id": session_id}) or {}
        if event.id in doc.get("applied", []):
            return False
        registered, waitlisted = roster_after(doc.get("registered_ids", []), doc.get("waitlisted_ids", []),
                                              event.type, event.data)
        return await apply_once(self.rosters, session_id, event.id,
                                {"$set": {"registered_ids": registered, "waitlisted_ids": waitlisted}})

    async def apply_feedback(self, event: Event, session_id: str) -> bool:
        doc = await self.feedback.find_one({"_id": session_id}) or {}
        if event.id in doc.get("applied", []):
            return False
        return await apply_once(self.feedback, session_id, event.id,
                                {"$set": {"submissions": submissions_after(doc.get("submissions", []), event.data)}})

    async def apply_attendance(self, event: Event, session_id: str) -> bool:
        # Read-modify-write is safe: this document's only writer is the owner of its attendance partition.
        doc = await self.absences.find_one({"_id": session_id}) or {}
        if event.id in doc.get("applied", []):
            return False
        return await apply_once(self.absences, session_id, event.id,
                                {"$set": {"marks": absences_after(doc.get("marks", {}), event.data)}})

    async def contacts(self, participant_ids: Iterable[str]) -> dict[str, Contact]:
        # One find by _id each, side by side: FerretDB v1 narrows a query to the _id index only
        # for an _id equality, and would scan every contact for an `_id: {$in: ...}`.
        found = await asyncio.gather(*(self.contacts_collection.find_one({"_id": pid}, {"applied": 0})
                                       for pid in sorted(set(participant_ids))))
        return {doc["_id"]: Contact.from_document(doc) for doc in found if doc is not None}

    async def organizers_of(self, office: str | None) -> list[str]:
        keys = sorted({office or REGIONAL, REGIONAL})
        found = await asyncio.gather(*(self.organizers.find_one({"_id": key}) for key in keys))
        return sorted({staff_id for doc in found if doc for staff_id in doc.get("staff_ids", ())})

    async def session(self, session_id: str) -> SessionRecord | None:
        session, roster, feedback, absences = await asyncio.gather(
            *(collection.find_one({"_id": session_id}, {"applied": 0})
              for collection in (self.sessions_collection, self.rosters, self.feedback, self.absences)))
        if not (session or roster or feedback):
            return None
        return _record(session_id, session or {}, roster or {}, feedback or {}, absences or {})

    async def sessions(self) -> list[SessionRecord]:
        records = []
        async for session in self.sessions_collection.find({}, {"applied": 0}):
            roster = await self.rosters.find_one({"_id": session["_id"]}, {"applied": 0}) or {}
            feedback = await self.feedback.find_one({"_id": session["_id"]}, {"applied": 0}) or {}
            absences = await self.absences.find_one({"_id": session["_id"]}, {"applied": 0}) or {}
            records.append(_record(session["_id"], session, roster, feedback, absences))
        return records


def _aware(value: datetime | None) -> datetime | None:
    # A driver without tz_aware returns naive datetimes that are UTC.
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


def _record(session_id: str, session: dict, roster: dict, feedback: dict, absences: dict) -> SessionRecord:
    submissions = feedback.get("submissions", [])
    return SessionRecord(
        session_id=session_id, snapshot=session.get("snapshot"), status=session.get("status"),
        completed_at=_aware(session.get("completed_at")),
        evaluation_closes_at=_aware(session.get("evaluation_closes_at")),
        evaluation_closed_at=_aware(session.get("evaluation_closed_at")), scheduled_by=session.get("scheduled_by"),
        registered_ids=tuple(roster.get("registered_ids", ())),
        waitlisted_ids=tuple(roster.get("waitlisted_ids", ())),
        evaluated_ids=frozenset(s["participant_id"] for s in submissions if s.get("participant_id")),
        submission_ids=frozenset(s["submission_id"] for s in submissions),
        absences=absent_by_day(absences.get("marks", {})))
