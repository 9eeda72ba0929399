"""The document store in memory, with the MongoDB adapter's semantics: for unit tests (in
microseconds) and for the offline rebuild, whose documents it holds until they are written to
the target database with insert_many."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import bson
from bson.binary import UuidRepresentation
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument

from emm_common.envelope import Event
from emm_common.outbox import outbox_entries
from emm_common.store import (OUTBOX, VERSION, OnCommit, RoundTrips, Stored, VersionConflict, changed_fields,
                              check_writable, stored)

# As the services' clients decode documents (emm_common.mongo).
CODEC_OPTIONS = CodecOptions(tz_aware=True, uuid_representation=UuidRepresentation.STANDARD)


class UnknownCollection(LookupError):
    """A collection this store does not hold: in a rebuild, one that is not rebuilt (a handler
    reading the command side would otherwise silently find it empty)."""


class MemoryDocumentStore:
    """Documents kept as BSON, as the server keeps them: every read returns a fresh copy, tuples
    come back as lists, datetimes in UTC to the millisecond. `collections` (optional) names the
    only collections it holds; any other raises UnknownCollection."""

    def __init__(self, collections: Iterable[str] | None = None, *, on_commit: OnCommit | None = None) -> None:
        self._held = frozenset(collections) if collections is not None else None
        self._documents: dict[str, dict[Any, bytes]] = {name: {} for name in self._held or ()}
        self.on_commit = on_commit
        self.round_trips = RoundTrips()

    # -- the port

    async def get(self, collection: str, doc_id: Any) -> Stored | None:
        self.round_trips.count("get", collection)
        return stored(self._raw(collection, doc_id))

    async def get_many(self, collection: str, ids: Iterable[Any]) -> dict[Any, Stored]:
        ids = list(dict.fromkeys(ids))
        if len(ids) <= 1:
            found = await self.get(collection, ids[0]) if ids else None
            return {found.id: found} if found else {}
        self.round_trips.count("get_many", collection)
        found = (stored(self._raw(collection, doc_id)) for doc_id in ids)
        return {doc.id: doc for doc in found if doc is not None}

    async def all(self, collection: str, fields: Sequence[str] | None = None) -> list[Stored]:
        self.round_trips.count("all", collection)
        documents = [stored(self._decode(data)) for data in self._collection(collection).values()]
        if fields:
            kept = {"_id", *fields}
            documents = [Stored({k: v for k, v in d.document.items() if k in kept}, d.version) for d in documents]
        return documents

    async def insert(self, collection: str, document: Mapping[str, Any], events: Sequence[Event] = ()) -> bool:
        self.round_trips.count("insert", collection)
        return self._insert(collection, document, events)

    async def insert_many(self, collection: str,
                          documents: Sequence[tuple[Mapping[str, Any], Sequence[Event]]]) -> set[Any]:
        if len(documents) == 1:
            document, events = documents[0]
            return {document["_id"]} if await self.insert(collection, document, events) else set()
        for document, _ in documents:
            check_writable(document)
        if not documents:
            return set()
        self.round_trips.count("insert_many", collection)
        return {document["_id"] for document, events in documents if self._insert(collection, document, events)}

    async def replace(self, collection: str, current: Stored, document: Mapping[str, Any],
                      events: Sequence[Event] = ()) -> None:
        check_writable(document)
        if document["_id"] != current.id:
            raise ValueError("a replace keeps the document's _id")
        self.round_trips.count("replace", collection)
        raw = self._raw(collection, current.id)
        if raw is None or (raw.get(VERSION) or 0) != current.version:
            raise VersionConflict(f"{collection}/{current.id} is no longer at version {current.version}")
        version = current.version + 1
        to_set, to_unset = changed_fields(current.document, document)
        changed = {k: v for k, v in raw.items() if k not in to_unset}
        added = outbox_entries(events, version)
        changed.update(to_set)
        changed[VERSION] = version
        if added:
            changed[OUTBOX] = {**(raw.get(OUTBOX) or {}), **added}
        self._store(collection, changed)
        if added and self.on_commit is not None:
            self.on_commit(collection, current.id, added)

    # -- beyond the port: what tests and the rebuild look at

    def collection_names(self) -> list[str]:
        return sorted(self._documents)

    def raw_documents(self, collection: str) -> list[RawBSONDocument]:
        """Every document of a collection as BSON, as written (version and outbox included),
        ready for insert_many."""
        return [RawBSONDocument(data) for data in self._collection(collection).values()]

    def outbox(self, collection: str, doc_id: Any) -> dict[str, Any]:
        """A document's outbox (event id -> entry), as the relay would find it."""
        return dict((self._raw(collection, doc_id) or {}).get(OUTBOX) or {})

    def version(self, collection: str, doc_id: Any) -> int | None:
        raw = self._raw(collection, doc_id)
        return None if raw is None else raw.get(VERSION) or 0

    # -- internals

    def _insert(self, collection: str, document: Mapping[str, Any], events: Sequence[Event]) -> bool:
        check_writable(document)
        if self._raw(collection, document["_id"]) is not None:
            return False
        new = {**document, VERSION: 1}
        if events:
            new[OUTBOX] = outbox_entries(events, 1)
        self._store(collection, new)
        if events and self.on_commit is not None:
            self.on_commit(collection, document["_id"], new[OUTBOX])
        return True

    def _collection(self, name: str) -> dict[Any, bytes]:
        if self._held is not None and name not in self._held:
            raise UnknownCollection(f"collection {name!r} is not held here (only {sorted(self._held)})")
        return self._documents.setdefault(name, {})

    def _raw(self, collection: str, doc_id: Any) -> dict | None:
        data = self._collection(collection).get(_key(doc_id))
        return self._decode(data) if data is not None else None

    def _store(self, collection: str, document: Mapping[str, Any]) -> None:
        self._collection(collection)[_key(document["_id"])] = bson.encode(document, codec_options=CODEC_OPTIONS)

    @staticmethod
    def _decode(data: bytes) -> dict:
        return bson.decode(data, CODEC_OPTIONS)


def _key(doc_id: Any) -> Any:
    if isinstance(doc_id, (dict, list)):
        raise ValueError("document _ids are scalars here")
    return doc_id
