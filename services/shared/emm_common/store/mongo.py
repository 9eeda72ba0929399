"""The document store on MongoDB (FerretDB v1 locally): the only code that touches the driver
for the documents a service keeps through the port (see emm_common.store)."""

from __future__ import annotations

from typing import Any, Sequence

from pymongo.errors import BulkWriteError, DuplicateKeyError

from emm_common.locks import KeyedLocks
from emm_common.store import OUTBOX, PARKED_OUTBOX, VERSION, OnCommit, Stored
from emm_common.store.base import StoreAdapter

# A read returns the state, not the events waiting for (or set aside by) the relay.
WITHOUT_OUTBOXES = {OUTBOX: 0, PARKED_OUTBOX: 0}
DUPLICATE_KEY = 11000


class MongoDocumentStore(StoreAdapter):
    """The port on an async MongoDB database (motor or PyMongo's AsyncMongoClient).

    One call per operation: `get_many` is one `find` by `_id: {$in: ...}` (its first batch holds
    every document; our FerretDB patch narrows it to the `_id` index too), `insert_many` one
    unordered insert. A replace sends only the fields that changed (`$set`/`$unset`) and the new
    outbox entries by path, so it never touches the entries the relay is removing; `locks`
    (shared with that relay) keeps the two from writing one document at once, which FerretDB v1
    does not make atomic.
    """

    def __init__(self, database: Any, *, locks: KeyedLocks | None = None, on_commit: OnCommit | None = None) -> None:
        super().__init__(on_commit)
        self.database = database
        self.locks = locks or KeyedLocks()

    async def _get(self, collection: str, doc_id: Any) -> dict | None:
        return await self.database[collection].find_one({"_id": doc_id}, WITHOUT_OUTBOXES)

    async def _get_many(self, collection: str, ids: list[Any]) -> list[dict]:
        cursor = self.database[collection].find({"_id": {"$in": ids}}, WITHOUT_OUTBOXES, batch_size=len(ids) + 1)
        return await cursor.to_list(None)

    async def _all(self, collection: str, fields: Sequence[str] | None) -> list[dict]:
        projection = {name: 1 for name in fields} if fields else WITHOUT_OUTBOXES
        return await self.database[collection].find({}, projection).to_list(None)

    async def _insert_many(self, collection: str, documents: list[dict]) -> set[Any]:
        if len(documents) == 1:
            try:
                await self.database[collection].insert_one(documents[0])
            except DuplicateKeyError:
                return set()
            return {documents[0]["_id"]}
        refused: set[int] = set()
        try:
            await self.database[collection].insert_many(documents, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(error.get("code") != DUPLICATE_KEY for error in errors):
                raise
            refused = {error["index"] for error in errors}
        return {doc["_id"] for index, doc in enumerate(documents) if index not in refused}

    async def _replace(self, collection: str, current: Stored, to_set: dict[str, Any], to_unset: list[str],
                       outbox: dict[str, Any]) -> bool:
        update: dict[str, Any] = {"$set": {**to_set, **{f"{OUTBOX}.{event_id}": e for event_id, e in outbox.items()}}}
        if to_unset:
            update["$unset"] = {name: "" for name in to_unset}
        guard = current.version if current.version else {"$exists": False}
        async with self.locks.hold(f"{collection}:{current.id}"):
            result = await self.database[collection].update_one({"_id": current.id, VERSION: guard}, update)
        return result.matched_count == 1
