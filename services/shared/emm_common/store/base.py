"""What both adapters of the document store do the same way: check what is written, count round
trips, number versions and outbox entries, and tell the relay of new outbox entries. An adapter
supplies the five calls to its storage."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from emm_common.envelope import Event
from emm_common.outbox import committed, outbox_entries
from emm_common.store import BOOKKEEPING_FIELDS, OUTBOX, VERSION, OnCommit, RoundTrips, Stored, VersionConflict, stored


class StoreAdapter:
    def __init__(self, on_commit: OnCommit | None = None) -> None:
        self.on_commit = on_commit
        self.round_trips = RoundTrips()

    # -- the port

    async def get(self, collection: str, doc_id: Any) -> Stored | None:
        self.round_trips.count("get", collection)
        return stored(await self._get(collection, doc_id))

    async def get_many(self, collection: str, ids: Iterable[Any]) -> dict[Any, Stored]:
        ids = list(dict.fromkeys(ids))
        if len(ids) <= 1:
            found = await self.get(collection, ids[0]) if ids else None
            return {found.id: found} if found else {}
        self.round_trips.count("get_many", collection)
        return {doc["_id"]: stored(doc) for doc in await self._get_many(collection, ids)}

    async def all(self, collection: str, fields: Sequence[str] | None = None) -> list[Stored]:
        self.round_trips.count("all", collection)
        return [stored(doc) for doc in await self._all(collection, fields)]

    async def insert(self, collection: str, document: Mapping[str, Any], events: Sequence[Event] = ()) -> bool:
        new = _first_version(document, events)
        self.round_trips.count("insert", collection)
        if not await self._insert_many(collection, [new]):
            return False
        self._committed(collection, new["_id"], new.get(OUTBOX))
        return True

    async def insert_many(self, collection: str,
                          documents: Sequence[tuple[Mapping[str, Any], Sequence[Event]]]) -> set[Any]:
        if len(documents) == 1:
            document, events = documents[0]
            return {document["_id"]} if await self.insert(collection, document, events) else set()
        new = [_first_version(document, events) for document, events in documents]
        if not new:
            return set()
        self.round_trips.count("insert_many", collection)
        inserted = await self._insert_many(collection, new)
        for doc in new:
            if doc["_id"] in inserted:
                self._committed(collection, doc["_id"], doc.get(OUTBOX))
        return inserted

    async def replace(self, collection: str, current: Stored, document: Mapping[str, Any],
                      events: Sequence[Event] = ()) -> None:
        check_writable(document)
        if document["_id"] != current.id:
            raise ValueError("a replace keeps the document's _id")
        version = current.version + 1
        to_set, to_unset = changed_fields(current.document, document)
        added = outbox_entries(events, version)
        self.round_trips.count("replace", collection)
        if not await self._replace(collection, current, {**to_set, VERSION: version}, to_unset, added):
            raise VersionConflict(f"{collection}/{current.id} is no longer at version {current.version}")
        self._committed(collection, current.id, added)

    # -- what an adapter supplies (documents as stored: version and outbox included)

    async def _get(self, collection: str, doc_id: Any) -> dict | None:
        raise NotImplementedError

    async def _get_many(self, collection: str, ids: list[Any]) -> list[dict]:
        raise NotImplementedError

    async def _all(self, collection: str, fields: Sequence[str] | None) -> list[dict]:
        raise NotImplementedError

    async def _insert_many(self, collection: str, documents: list[dict]) -> set[Any]:
        """Insert each document unless its _id exists; return the _ids inserted."""
        raise NotImplementedError

    async def _replace(self, collection: str, current: Stored, to_set: dict[str, Any], to_unset: list[str],
                       outbox: dict[str, Any]) -> bool:
        """Set and unset these fields and add these outbox entries, if the document is still at
        `current.version`; return whether it was."""
        raise NotImplementedError

    def _committed(self, collection: str, doc_id: Any, entries: dict[str, Any] | None) -> None:
        if entries:
            committed(self.on_commit, collection, doc_id, entries)


def _first_version(document: Mapping[str, Any], events: Sequence[Event]) -> dict[str, Any]:
    check_writable(document)
    new = {**document, VERSION: 1}
    if events:
        new[OUTBOX] = outbox_entries(events, 1)
    return new


def changed_fields(current: Mapping[str, Any], document: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """What turns `current` into `document`: the top-level fields to set and those to remove."""
    to_set = {k: v for k, v in document.items() if k != "_id" and (k not in current or current[k] != v)}
    return to_set, [k for k in current if k != "_id" and k not in document]


def check_writable(document: Mapping[str, Any]) -> None:
    """A document the store writes: its own `_id`, no bookkeeping field of the store's."""
    if "_id" not in document:
        raise ValueError("a stored document carries its own _id")
    if reserved := BOOKKEEPING_FIELDS & set(document):
        raise ValueError(f"{sorted(reserved)} are the store's own fields")
