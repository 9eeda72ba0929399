"""In-memory fakes of the notification service's own ports (never of Kafka, MongoDB or SMTP clients)."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from emm_common.outbox import outbox_fields
from emm_notification.domain.channel import OutgoingMessage
from emm_notification.domain.read_model import Contact
from emm_notification.service_layer.log_entries import DELIVERABLE
from emm_notification.service_layer.projections import (REGIONAL, SessionRecord, absences_after, absent_by_day,
                                                        organizer_offices, roster_after, session_fields,
                                                        submissions_after)


class Clock:
    def __init__(self, now: datetime = datetime(2026, 5, 1, 9, 0, tzinfo=timezone.utc)) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class FakeLog:
    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}
        self.claims: dict[str, datetime] = {}
        self.occasions: set[str] = set()
        self.plans: dict[str, list[dict[str, Any]]] = {}

    async def keep_plan(self, event_id, entries):
        return copy.deepcopy(self.plans.setdefault(event_id, copy.deepcopy(entries)))

    async def add(self, entries):
        inserted = []
        for entry in entries:
            if entry["_id"] not in self.entries:
                self.entries[entry["_id"]] = copy.deepcopy(entry)
                inserted.append(entry)
        return inserted

    async def get(self, notification_id):
        return copy.deepcopy(self.entries.get(notification_id))

    async def find(self, *, participant_id=None, session_id=None, status=None, limit=100, offset=0):
        found = [copy.deepcopy(e) for e in self.entries.values()
                 if (participant_id is None or e["recipient_participant_id"] == participant_id)
                 and (session_id is None or e["session_id"] == session_id)
                 and (status is None or e["status"] == status)]
        return sorted(found, key=lambda e: (e["created_at"], e["_id"]), reverse=True)[offset:offset + limit]

    async def due(self, now, limit):
        due = [e for e in self.entries.values() if e["status"] in DELIVERABLE and e["next_attempt_at"] is not None
               and e["next_attempt_at"] <= now]
        return [copy.deepcopy(e) for e in sorted(due, key=lambda e: e["next_attempt_at"])][:limit]

    async def awaiting_contact(self, participant_id):
        return [copy.deepcopy(e) for e in self.entries.values()
                if e["recipient_participant_id"] == participant_id and e["status"] == "awaiting_contact"]

    async def update(self, notification_id, fields, *, history=(), events: Iterable = (), version=0):
        entry = self.entries[notification_id]
        entry.update(copy.deepcopy(fields))
        entry["history"].extend(copy.deepcopy(list(history)))
        for key, value in outbox_fields(events, version).items():
            entry["outbox"][key.split(".", 1)[1]] = value

    async def claim(self, key, now, by):
        if key in self.claims:
            return False
        self.claims[key] = now
        return True

    async def claimed_at(self, key):
        return self.claims.get(key)

    async def occasion_planned(self, occasion_id):
        return occasion_id in self.occasions

    async def mark_occasion(self, occasion_id, now):
        self.occasions.add(occasion_id)

    def by_status(self, status: str) -> list[dict]:
        return [e for e in self.entries.values() if e["status"] == status]


class FakeProjections:
    def __init__(self) -> None:
        self.contact_docs: dict[str, Contact] = {}
        self.session_docs: dict[str, dict[str, Any]] = {}
        self.rosters: dict[str, tuple[list[str], list[str]]] = {}
        self.feedback: dict[str, list[dict]] = {}
        self.applied: set[str] = set()
        self.staff_docs: dict[str, dict[str, Any]] = {}
        self.attendance: dict[str, dict[str, str]] = {}

    def _once(self, event) -> bool:
        if event.id in self.applied:
            return False
        self.applied.add(event.id)
        return True

    async def apply_contact(self, event):
        if self._once(event):
            self.contact_docs[event.data["participant_id"]] = Contact.from_event(event.data)

    async def apply_staff(self, event):
        if self._once(event):
            self.contact_docs[event.data["staff_id"]] = Contact.from_staff(event.data)
            self.staff_docs[event.data["staff_id"]] = dict(event.data)

    async def organizers_of(self, office):
        return sorted(sid for sid, doc in self.staff_docs.items()
                      if organizer_offices(doc) & {office, REGIONAL})

    async def apply_session(self, event, session_id):
        if self._once(event):
            self.session_docs.setdefault(session_id, {}).update(session_fields(event.type, event.data))

    async def apply_enrollment(self, event, session_id):
        if self._once(event):
            registered, waitlisted = self.rosters.get(session_id, ([], []))
            self.rosters[session_id] = roster_after(registered, waitlisted, event.type, event.data)

    async def apply_attendance(self, event, session_id):
        if self._once(event):
            self.attendance[session_id] = absences_after(self.attendance.get(session_id, {}), event.data)

    async def apply_feedback(self, event, session_id):
        if self._once(event):
            self.feedback[session_id] = submissions_after(self.feedback.get(session_id, []), event.data)

    async def contacts(self, participant_ids):
        return {pid: self.contact_docs[pid] for pid in participant_ids if pid in self.contact_docs}

    async def session(self, session_id):
        if session_id not in self.session_docs and session_id not in self.rosters:
            return None
        doc = self.session_docs.get(session_id, {})
        registered, waitlisted = self.rosters.get(session_id, ([], []))
        submissions = self.feedback.get(session_id, [])
        return SessionRecord(session_id, snapshot=doc.get("snapshot"), status=doc.get("status"),
                             completed_at=doc.get("completed_at"), evaluation_closes_at=doc.get("evaluation_closes_at"),
                             evaluation_closed_at=doc.get("evaluation_closed_at"),
                             scheduled_by=doc.get("scheduled_by"), registered_ids=tuple(registered),
                             waitlisted_ids=tuple(waitlisted),
                             evaluated_ids=frozenset(s["participant_id"] for s in submissions if s["participant_id"]),
                             submission_ids=frozenset(s["submission_id"] for s in submissions),
                             absences=absent_by_day(self.attendance.get(session_id, {})))

    async def sessions(self):
        return [await self.session(sid) for sid in self.session_docs]


class FakeChannel:
    """Accepts messages, or raises the queued errors first."""

    name = "email"

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []
        self.failures: list[Exception] = []

    async def send(self, message: OutgoingMessage) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
