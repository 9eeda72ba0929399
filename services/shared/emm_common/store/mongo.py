"""The document store on MongoDB (FerretDB v1 locally): the only code that touches the driver
for the documents a service keeps through the port (see emm_common.store)."""

from __future__ import annotations

import time
from typing import Any, Sequence

from pymongo.errors import BulkWriteError, DuplicateKeyError

from emm_common.locks import KeyedLocks
from emm_common.store import OUTBOX, PARKED_OUTBOX, VERSION, OnCommit, Stored
from emm_common.store.base import StoreAdapter

# A read returns the state, not the events waiting for (or set aside by) the relay.
WITHOUT_OUTBOXES = {OUTBOX: 0, PARKED_OUTBOX: 0}
DUPLICATE_KEY = 11000
# Where a replace claims the version it writes (see MongoDocumentStore), in the service's database.
VERSION_CLAIMS = "store_version_claims"
# A claim this old whose document never reached its version was left by a writer that died between
# claiming and writing: the next writer takes it over.
ABANDONED_CLAIM_SECONDS = 30.0
# Claims of versions already overwritten are deleted in batches of this many, in one call.
PRUNE_CLAIMS_EVERY = 50


class MongoDocumentStore(StoreAdapter):
    """The port on an async MongoDB database (motor or PyMongo's AsyncMongoClient).

    One call per operation: `get_many` is one `find` by `_id: {$in: ...}` (its first batch holds
    every document; our FerretDB patch narrows it to the `_id` index too), `insert_many` one
    unordered insert. A replace sends only the fields that changed (`$set`/`$unset`) and the new
    outbox entries by path, so it never touches the entries the relay is removing; `locks`
    (shared with that relay) keeps the two from writing one document at once, which FerretDB v1
    does not make atomic.

    Writers in other processes (two worker instances; a partition moving in a rebalance; a
    document fed by events of several partitions) share no locks, and FerretDB v1 lets two
    conditional updates of one version both match, so one update would be lost. So a replace first
    claims the version it writes, `{_id: "<collection>/<id>@<version>"}` in `VERSION_CLAIMS`, an
    insert-once the server refuses twice (FerretDB too): of two writers of version N exactly one
    writes it, the other gets VersionConflict and decides again. On MongoDB 7, where a conditional
    update is atomic by itself, `claim_versions=False` saves that insert.
    """

    def __init__(self, database: Any, *, locks: KeyedLocks | None = None, on_commit: OnCommit | None = None,
                 claim_versions: bool = True) -> None:
        super().__init__(on_commit)
        self.database = database
        self.locks = locks or KeyedLocks()
        self.claim_versions = claim_versions
        self._overwritten_claims: list[str] = []

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
            if self.claim_versions and not await self._claim(collection, current):
                return False
            result = await self.database[collection].update_one({"_id": current.id, VERSION: guard}, update)
        if result.matched_count == 1 and self.claim_versions:
            await self._overwritten(_claim_id(collection, current.id, current.version))
        return result.matched_count == 1

    async def _claim(self, collection: str, current: Stored) -> bool:
        """Whether this writer may write the version after `current` (no other writer will)."""
        claims = self.database[VERSION_CLAIMS]
        claim = _claim_id(collection, current.id, current.version + 1)
        self.round_trips.count("claim", collection)
        try:
            await claims.insert_one({"_id": claim, "at": time.time()})
            return True
        except DuplicateKeyError:
            pass
        held = await claims.find_one({"_id": claim})
        if held is None or held.get("at", 0) > time.time() - ABANDONED_CLAIM_SECONDS:
            return False
        document = await self.database[collection].find_one({"_id": current.id}, {VERSION: 1})
        if document is None or (document.get(VERSION) or 0) != current.version:
            return False
        await claims.delete_one({"_id": claim})  # abandoned: its writer died before writing
        try:
            await claims.insert_one({"_id": claim, "at": time.time()})
            return True
        except DuplicateKeyError:
            return False

    async def _overwritten(self, claim: str) -> None:
        self._overwritten_claims.append(claim)
        if len(self._overwritten_claims) >= PRUNE_CLAIMS_EVERY:
            stale, self._overwritten_claims = self._overwritten_claims, []
            await self.database[VERSION_CLAIMS].delete_many({"_id": {"$in": stale}})


def _claim_id(collection: str, doc_id: Any, version: int) -> str:
    return f"{collection}/{doc_id}@{version}"
