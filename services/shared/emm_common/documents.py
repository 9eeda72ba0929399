"""Single-document atomic writes: the only kind FerretDB v1 (no transactions) and our design use.

Two patterns, one per side of a service:

- Command side: an aggregate is stored as immutable versions (`AggregateStore`); a command
  loads the newest, changes it in the domain, and commits the next version with its events in
  one insert. `KeyedLocks` keeps writers of one process from colliding in the first place.
- Consumer side: a projection document has exactly one writer, the service's consumer, which
  applies events one at a time. `apply_once` applies an update only if the document has not
  recorded the event id yet, and records it in the same update: a redelivery changes nothing.
  (One writer matters: FerretDB v1 applies concurrent updates of one document non-atomically.)
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from contextlib import asynccontextmanager
from typing import Any, Iterable

from pymongo.errors import DuplicateKeyError

from emm_common.envelope import Event
from emm_common.outbox import outbox_fields


class VersionConflict(Exception):
    """Another writer committed this version first; load the aggregate again and retry."""


@dataclass(frozen=True)
class Versioned:
    aggregate_id: str
    version: int
    state: dict[str, Any]


class AggregateStore:
    """Command-side state as immutable versions, one document each:
    `{_id: "<aggregate id>@<version>", aggregate_id, version, state, outbox}`.

    Committing version N+1 is an insert, and the server's unique `_id` lets exactly one of
    several concurrent writers win: FerretDB v1 does not apply a conditional update atomically
    (two concurrent `update_one({_id, version: N})` both match), but it does refuse a second
    insert of the same `_id`. The events of a version sit in its outbox for the relay.
    Old versions whose outbox is empty are pruned to a stub; the newest `keep` keep their state.
    """

    def __init__(self, collection: Any, keep: int = 3) -> None:
        self.collection = collection
        self._keep = keep

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("aggregate_id", 1), ("version", -1)])

    async def load(self, aggregate_id: str) -> Versioned | None:
        """The newest version of an aggregate, or None if it does not exist."""
        cursor = self.collection.find({"aggregate_id": aggregate_id}, {"outbox": 0}).sort("version", -1).limit(1)
        docs = await cursor.to_list(1)
        return Versioned(aggregate_id, docs[0]["version"], docs[0]["state"]) if docs else None

    async def commit(self, aggregate_id: str, state: dict[str, Any], expected_version: int,
                     events: Iterable[Event]) -> int:
        """Store `state` as the version after `expected_version` (0 to create), with its events in
        the outbox, in one insert. Raises VersionConflict if another writer got there first."""
        version = expected_version + 1
        try:
            await self.collection.insert_one({
                "_id": f"{aggregate_id}@{version:010d}", "aggregate_id": aggregate_id, "version": version,
                "state": state, "outbox": outbox_map(events, version)})
        except DuplicateKeyError as exc:
            raise VersionConflict(f"{aggregate_id} v{version}") from exc
        if version > self._keep:
            # Old versions lose their state but keep their _id: deleting them would let a slow
            # writer commit a version number that is free again, and its change would be lost.
            await self.collection.update_many(
                {"aggregate_id": aggregate_id, "version": {"$lte": version - self._keep}, "outbox": {},
                 "state": {"$exists": True}},
                {"$unset": {"state": ""}})
        return version

    async def latest_of_all(self, query: dict[str, Any] | None = None) -> list[Versioned]:
        """The newest version of every aggregate matching `query` (on `state.` fields)."""
        newest: dict[str, Versioned] = {}
        async for doc in self.collection.find({"state": {"$exists": True}, **(query or {})}, {"outbox": 0}):
            current = newest.get(doc["aggregate_id"])
            if current is None or doc["version"] > current.version:
                newest[doc["aggregate_id"]] = Versioned(doc["aggregate_id"], doc["version"], doc["state"])
        return list(newest.values())


def outbox_map(events: Iterable[Event], version: int) -> dict[str, Any]:
    """The `outbox` field of a new document holding `events`."""
    return {key.split(".", 1)[1]: value for key, value in outbox_fields(events, version).items()}


async def apply_once(collection: Any, doc_id: str, event_id: str, update: dict[str, Any]) -> bool:
    """Apply `update` to the projection document unless it has applied `event_id` already
    (creating the document if needed). Returns False for a duplicate."""
    update = {**update, "$push": {**update.get("$push", {}), "applied": event_id}}
    try:
        await collection.update_one({"_id": doc_id, "applied": {"$ne": event_id}}, update, upsert=True)
    except DuplicateKeyError:
        return False  # the document exists and has the event already: the upsert collided with it
    return True


class KeyedLocks:
    """One asyncio lock per key (e.g. per session), so a process serialises its own writers of
    one document instead of letting them fail on the version guard."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._users: dict[str, int] = defaultdict(int)

    @asynccontextmanager
    async def hold(self, key: str):
        self._users[key] += 1
        try:
            async with self._locks[key]:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key]
                del self._locks[key]
