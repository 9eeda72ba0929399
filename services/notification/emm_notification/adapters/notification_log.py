"""The notification log in MongoDB: `notifications` (one document per message), `delivery_claims`
(insert-unique keys, one per attempt or resend) and `scheduled_occasions` (reminders already planned).

Claims are inserts on purpose: FerretDB v1 lets two concurrent conditional updates of one
document both match, but refuses a second insert of the same _id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from emm_common.envelope import Event
from emm_common.outbox import outbox_fields
from emm_notification.service_layer.log_entries import DELIVERABLE, Status


class MongoNotificationLog:
    def __init__(self, database: Any) -> None:
        self.entries = database.notifications
        self.claims = database.delivery_claims
        self.occasions = database.scheduled_occasions

    async def ensure_indexes(self) -> None:
        await self.entries.create_index([("status", ASCENDING), ("next_attempt_at", ASCENDING)])
        await self.entries.create_index([("recipient_participant_id", ASCENDING), ("status", ASCENDING)])
        await self.entries.create_index([("session_id", ASCENDING)])

    async def add(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        inserted = []
        for entry in entries:
            try:
                await self.entries.insert_one(entry)
            except DuplicateKeyError:
                continue  # planned before: the event was redelivered or replayed
            inserted.append(entry)
        return inserted

    async def get(self, notification_id: str) -> dict[str, Any] | None:
        return await self.entries.find_one({"_id": notification_id})

    async def find(self, *, participant_id: str | None = None, session_id: str | None = None,
                   status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        query = {key: value for key, value in (("recipient_participant_id", participant_id),
                                               ("session_id", session_id), ("status", status)) if value}
        return await self.entries.find(query).sort("created_at", DESCENDING).limit(limit).to_list(limit)

    async def due(self, now: datetime, limit: int) -> list[dict[str, Any]]:
        query = {"status": {"$in": [str(s) for s in DELIVERABLE]}, "next_attempt_at": {"$lte": now}}
        return await self.entries.find(query).sort("next_attempt_at", ASCENDING).limit(limit).to_list(limit)

    async def awaiting_contact(self, participant_id: str) -> list[dict[str, Any]]:
        return await self.entries.find({"recipient_participant_id": participant_id,
                                        "status": str(Status.AWAITING_CONTACT)}).to_list(None)

    async def update(self, notification_id: str, fields: dict[str, Any], *, history: list[dict[str, Any]] = (),
                     events: Iterable[Event] = (), version: int = 0) -> None:
        update: dict[str, Any] = {}
        if to_set := {**fields, **outbox_fields(events, version)}:
            update["$set"] = to_set
        if history:
            update["$push"] = {"history": {"$each": list(history)}}
        await self.entries.update_one({"_id": notification_id}, update)

    async def claim(self, key: str, now: datetime, by: str) -> bool:
        try:
            await self.claims.insert_one({"_id": key, "claimed_at": now, "by": by})
        except DuplicateKeyError:
            return False
        return True

    async def claimed_at(self, key: str) -> datetime | None:
        claim = await self.claims.find_one({"_id": key})
        return claim["claimed_at"] if claim else None

    async def occasion_planned(self, occasion_id: str) -> bool:
        return await self.occasions.find_one({"_id": occasion_id}) is not None

    async def mark_occasion(self, occasion_id: str, now: datetime) -> None:
        try:
            await self.occasions.insert_one({"_id": occasion_id, "planned_at": now})
        except DuplicateKeyError:
            pass  # another worker planned it too; the log entries are the same ids
