"""The notification log in MongoDB: `notifications` (one document per message), `delivery_claims`
(insert-unique keys, one per attempt or resend), `scheduled_occasions` (reminders already planned)
and `event_plans` (one document per consumed event: the entries it planned, kept so that a
redelivery plans nothing anew).

Claims are inserts on purpose: FerretDB v1 lets two concurrent conditional updates of one
document both match, but refuses a second insert of the same _id.

FerretDB v1 scans a whole collection for any query not on `_id`, and the log only grows. So the
hot paths query two small index collections that hold only unfinished work, and then read the
entries by `_id`: `delivery_queue` ({_id: notification id, due_at}) for entries still to send,
`awaiting_contacts` ({_id: notification id, participant_id}) for entries waiting for a contact.
They are kept up to date by `update` after each entry write; a crash in between leaves a stale
index document that the next reader repairs from the entry itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from emm_common.envelope import Event
from emm_common.outbox import committed, outbox_entries
from emm_common.store import OnCommit
from emm_notification.service_layer.log_entries import DELIVERABLE, Status


class MongoNotificationLog:
    def __init__(self, database: Any, on_commit: OnCommit | None = None) -> None:
        # Told of the events an update puts into an entry's outbox (the relay's nudge, wired in bootstrap).
        self.on_commit = on_commit
        self.entries = database.notifications
        self.claims = database.delivery_claims
        self.occasions = database.scheduled_occasions
        self.queue = database.delivery_queue
        self.awaiting = database.awaiting_contacts
        self.plans = database.event_plans

    async def ensure_indexes(self) -> None:
        # Used by MongoDB 7 for the support queries; FerretDB v1 scans regardless.
        await self.entries.create_index([("recipient_participant_id", ASCENDING), ("created_at", DESCENDING)])
        await self.entries.create_index([("session_id", ASCENDING), ("created_at", DESCENDING)])
        await self.entries.create_index([("status", ASCENDING), ("created_at", DESCENDING)])
        await self.queue.create_index([("due_at", ASCENDING)])
        await self.awaiting.create_index([("participant_id", ASCENDING)])

    async def keep_plan(self, event_id: str, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        try:
            await self.plans.insert_one({"_id": event_id, "entries": entries})
        except DuplicateKeyError:  # kept when the event first came (or by another worker): that one counts
            return (await self.plans.find_one({"_id": event_id}))["entries"]
        return entries

    async def add(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        inserted = []
        for entry in entries:
            try:
                await self.entries.insert_one(entry)
            except DuplicateKeyError:
                # Planned before (a redelivery or replay); a crash may have come before its indexing.
                if (existing := await self.get(entry["_id"])) is not None:
                    await self._index(existing["_id"], existing["status"], existing.get("next_attempt_at"),
                                      existing["recipient_participant_id"])
                continue
            await self._index(entry["_id"], entry["status"], entry.get("next_attempt_at"),
                              entry["recipient_participant_id"])
            inserted.append(entry)
        return inserted

    async def _index(self, notification_id: str, status: str, due_at: datetime | None,
                     participant_id: str | None) -> None:
        """Make the index collections agree with an entry's status."""
        if status in DELIVERABLE:
            await _upsert(self.queue, notification_id, {"due_at": due_at})
        else:
            await self.queue.delete_one({"_id": notification_id})
        if status == Status.AWAITING_CONTACT:
            await _upsert(self.awaiting, notification_id, {"participant_id": participant_id})
        else:
            await self.awaiting.delete_one({"_id": notification_id})

    async def get(self, notification_id: str) -> dict[str, Any] | None:
        return await self.entries.find_one({"_id": notification_id})

    async def find(self, *, participant_id: str | None = None, session_id: str | None = None,
                   status: str | None = None, limit: int = 100, offset: int = 0,
                   within_sessions: list[str] | None = None) -> list[dict[str, Any]]:
        """Entries newest first; `within_sessions`, if given, keeps only those of these sessions."""
        query: dict[str, Any] = {key: value for key, value in (("recipient_participant_id", participant_id),
                                                               ("session_id", session_id), ("status", status)) if value}
        if within_sessions is not None and session_id is None:
            query["session_id"] = {"$in": within_sessions}
        elif within_sessions is not None and session_id not in within_sessions:
            return []  # a session the caller may not see
        # _id breaks ties of created_at, so that pages neither repeat nor skip an entry.
        cursor = self.entries.find(query).sort([("created_at", DESCENDING), ("_id", DESCENDING)])
        return await cursor.skip(offset).limit(limit).to_list(limit)

    async def due(self, now: datetime, limit: int) -> list[dict[str, Any]]:
        queued = await self.queue.find({"due_at": {"$lte": now}}).sort("due_at", ASCENDING).limit(limit).to_list(limit)
        due = []
        for item in queued:
            entry = await self.get(item["_id"])
            if entry is None:
                continue
            if entry["status"] not in DELIVERABLE or entry.get("next_attempt_at") != item["due_at"]:
                await self._index(entry["_id"], entry["status"], entry.get("next_attempt_at"),
                                  entry["recipient_participant_id"])  # stale after a crash: repair
                if entry["status"] not in DELIVERABLE or entry.get("next_attempt_at") is None \
                        or entry["next_attempt_at"] > now:
                    continue
            due.append(entry)
        return due

    async def awaiting_contact(self, participant_id: str) -> list[dict[str, Any]]:
        waiting = []
        async for item in self.awaiting.find({"participant_id": participant_id}):
            entry = await self.get(item["_id"])
            if entry is not None and entry["status"] == Status.AWAITING_CONTACT:
                waiting.append(entry)
        return waiting

    async def update(self, notification_id: str, fields: dict[str, Any], *, history: list[dict[str, Any]] = (),
                     events: Iterable[Event] = (), version: int = 0) -> None:
        entries = outbox_entries(events, version)
        update: dict[str, Any] = {}
        if to_set := {**fields, **{f"outbox.{event_id}": entry for event_id, entry in entries.items()}}:
            update["$set"] = to_set
        if history:
            update["$push"] = {"history": {"$each": list(history)}}
        await self.entries.update_one({"_id": notification_id}, update)
        committed(self.on_commit, self.entries.name, notification_id, entries)  # the relay publishes them now
        if "status" in fields:  # every status write also sets next_attempt_at
            participant_id = None
            if fields["status"] == Status.AWAITING_CONTACT:
                participant_id = (await self.get(notification_id))["recipient_participant_id"]
            await self._index(notification_id, fields["status"], fields.get("next_attempt_at"), participant_id)
        elif "next_attempt_at" in fields:
            await _upsert(self.queue, notification_id, {"due_at": fields["next_attempt_at"]})

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


async def _upsert(collection: Any, doc_id: str, fields: dict[str, Any]) -> None:
    try:
        await collection.update_one({"_id": doc_id}, {"$set": fields}, upsert=True)
    except DuplicateKeyError:  # two upserts raced to create it: the other one did
        await collection.update_one({"_id": doc_id}, {"$set": fields})
