"""The document store in memory, with the MongoDB adapter's semantics: for unit tests (in
microseconds) and for the offline rebuild, whose documents it holds until they are written to
the target database with insert_many."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import bson
from bson.binary import UuidRepresentation
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument

from emm_common.store import OUTBOX, VERSION, OnCommit, Stored
from emm_common.store.base import StoreAdapter

# As the services' clients decode documents (emm_common.mongo).
CODEC_OPTIONS = CodecOptions(tz_aware=True, uuid_representation=UuidRepresentation.STANDARD)


class UnknownCollection(LookupError):
    """A collection this store does not hold: in a rebuild, one that is not rebuilt (a handler
    reading the command side would otherwise silently find it empty)."""


class MemoryDocumentStore(StoreAdapter):
    """Documents kept as BSON, as the server keeps them: every read returns a fresh copy, tuples
    come back as lists, datetimes in UTC to the millisecond. `collections` (optional) names the
    only collections it holds; any other raises UnknownCollection."""

    def __init__(self, collections: Iterable[str] | None = None, *, on_commit: OnCommit | None = None) -> None:
        super().__init__(on_commit)
        self._held = frozenset(collections) if collections is not None else None
        self._documents: dict[str, dict[Any, bytes]] = {name: {} for name in self._held or ()}

    async def _get(self, collection: str, doc_id: Any) -> dict | None:
        return self._raw(collection, doc_id)

    async def _get_many(self, collection: str, ids: list[Any]) -> list[dict]:
        return [doc for doc in (self._raw(collection, doc_id) for doc_id in ids) if doc is not None]

    async def _all(self, collection: str, fields: Sequence[str] | None) -> list[dict]:
        documents = [self._decode(data) for data in self._collection(collection).values()]
        if fields:
            kept = {"_id", *fields}
            documents = [{k: v for k, v in doc.items() if k in kept} for doc in documents]
        return documents

    async def _insert_many(self, collection: str, documents: list[dict]) -> set[Any]:
        inserted = set()
        for document in documents:
            if self._raw(collection, document["_id"]) is None:
                self._store(collection, document)
                inserted.add(document["_id"])
        return inserted

    async def _replace(self, collection: str, current: Stored, to_set: dict[str, Any], to_unset: list[str],
                       outbox: dict[str, Any]) -> bool:
        raw = self._raw(collection, current.id)
        if raw is None or (raw.get(VERSION) or 0) != current.version:
            return False
        changed = {k: v for k, v in raw.items() if k not in to_unset}
        changed.update(to_set)
        if outbox:
            changed[OUTBOX] = {**(raw.get(OUTBOX) or {}), **outbox}
        self._store(collection, changed)
        return True

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

    # -- internals

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
