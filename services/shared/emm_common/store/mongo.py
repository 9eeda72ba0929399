"""The document store on MongoDB (FerretDB v1 locally): the only code that touches the driver
for the documents a service keeps through the port (see emm_common.store)."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from pymongo.errors import BulkWriteError, DuplicateKeyError

from emm_common.envelope import Event
from emm_common.locks import KeyedLocks
from emm_common.outbox import outbox_entries, outbox_fields
from emm_common.store import (OUTBOX, PARKED_OUTBOX, VERSION, OnCommit, RoundTrips, Stored, VersionConflict,
                              changed_fields, check_writable, stored)

# A read returns the state, not the events waiting for (or set aside by) the relay.
WITHOUT_OUTBOXES = {OUTBOX: 0, PARKED_OUTBOX: 0}
DUPLICATE_KEY = 11000


class MongoDocumentStore:
    """The port on an async MongoDB database (motor or PyMongo's AsyncMongoClient).

    One call per operation: `get_many` is one `find` by `_id: {$in: ...}` (its first batch holds
    every document), `insert_many` one unordered insert. A replace sends only the fields that
    changed (`$set`/`$unset`) and the new outbox entries by path, so it never touches the entries
    the relay is removing; `locks` (shared with that relay) keeps the two from writing one
    document at once, which FerretDB v1 does not make atomic.
    """

    def __init__(self, database: Any, *, locks: KeyedLocks | None = None, on_commit: OnCommit | None = None) -> None:
        self.database = database
        self.locks = locks or KeyedLocks()
        self.on_commit = on_commit
        self.round_trips = RoundTrips()

    async def get(self, collection: str, doc_id: Any) -> Stored | None:
        self.round_trips.count("get", collection)
        return stored(await self.database[collection].find_one({"_id": doc_id}, WITHOUT_OUTBOXES))

    async def get_many(self, collection: str, ids: Iterable[Any]) -> dict[Any, Stored]:
        ids = list(dict.fromkeys(ids))
        if len(ids) <= 1:
            found = await self.get(collection, ids[0]) if ids else None
            return {found.id: found} if found else {}
        self.round_trips.count("get_many", collection)
        cursor = self.database[collection].find({"_id": {"$in": ids}}, WITHOUT_OUTBOXES, batch_size=len(ids) + 1)
        return {doc["_id"]: stored(doc) for doc in await cursor.to_list(None)}

    async def all(self, collection: str, fields: Sequence[str] | None = None) -> list[Stored]:
        self.round_trips.count("all", collection)
        projection = {name: 1 for name in fields} if fields else WITHOUT_OUTBOXES
        return [stored(doc) for doc in await self.database[collection].find({}, projection).to_list(None)]

    async def insert(self, collection: str, document: Mapping[str, Any], events: Sequence[Event] = ()) -> bool:
        check_writable(document)
        new = _first_version(document, events)
        self.round_trips.count("insert", collection)
        try:
            await self.database[collection].insert_one(new)
        except DuplicateKeyError:
            return False
        self._committed(collection, new)
        return True

    async def insert_many(self, collection: str,
                          documents: Sequence[tuple[Mapping[str, Any], Sequence[Event]]]) -> set[Any]:
        if len(documents) == 1:
            document, events = documents[0]
            return {document["_id"]} if await self.insert(collection, document, events) else set()
        for document, _ in documents:
            check_writable(document)
        new = [_first_version(document, events) for document, events in documents]
        if not new:
            return set()
        self.round_trips.count("insert_many", collection)
        refused: set[int] = set()
        try:
            await self.database[collection].insert_many(new, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(error.get("code") != DUPLICATE_KEY for error in errors):
                raise
            refused = {error["index"] for error in errors}
        inserted = [doc for index, doc in enumerate(new) if index not in refused]
        for doc in inserted:
            self._committed(collection, doc)
        return {doc["_id"] for doc in inserted}

    async def replace(self, collection: str, current: Stored, document: Mapping[str, Any],
                      events: Sequence[Event] = ()) -> None:
        check_writable(document)
        if document["_id"] != current.id:
            raise ValueError("a replace keeps the document's _id")
        version = current.version + 1
        to_set, to_unset = changed_fields(current.document, document)
        update: dict[str, Any] = {"$set": {**to_set, VERSION: version, **outbox_fields(events, version)}}
        if to_unset:
            update["$unset"] = {name: "" for name in to_unset}
        guard = current.version if current.version else {"$exists": False}
        self.round_trips.count("replace", collection)
        async with self.locks.hold(f"{collection}:{current.id}"):
            result = await self.database[collection].update_one({"_id": current.id, VERSION: guard}, update)
        if result.matched_count == 0:
            raise VersionConflict(f"{collection}/{current.id} is no longer at version {current.version}")
        if events:
            self._committed(collection, {"_id": current.id, OUTBOX: outbox_entries(events, version)})

    def _committed(self, collection: str, document: Mapping[str, Any]) -> None:
        if document.get(OUTBOX) and self.on_commit is not None:
            self.on_commit(collection, document["_id"], document[OUTBOX])


def _first_version(document: Mapping[str, Any], events: Sequence[Event]) -> dict[str, Any]:
    new = {**document, VERSION: 1}
    if events:
        new[OUTBOX] = outbox_entries(events, 1)
    return new
