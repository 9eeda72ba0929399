"""The MongoDB-collection look-alike a rebuild stages projections in, for handlers that still
call the driver's collection API (notification's, until they move onto the document store,
whose in-memory adapter, emm_common.store.memory, is what a rebuild through the port uses)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, AsyncIterator, Iterable

import bson
from bson.raw_bson import RawBSONDocument
from pymongo.errors import DuplicateKeyError, WriteError
from pymongo.results import InsertOneResult, UpdateResult

from emm_common.store.memory import CODEC_OPTIONS


class NotStaged(NotImplementedError):
    """A handler used a collection, or an operation, that a rebuild does not provide."""


class StagingStore:
    """The projection documents of a rebuild, in memory: a write-behind buffer given to the
    handlers in place of the service's database, written to the target database at the end.

    Only the named collections are staged. Any other collection raises NotStaged when used (its
    name and database are readable, so e.g. an AggregateStore can be constructed): a handler
    reading command-side state would otherwise silently find it empty.
    """

    name = "staging"

    def __init__(self, collections: Iterable[str]) -> None:
        self.collections: dict[str, StagedCollection] = {name: StagedCollection(self, name) for name in collections}

    def __getitem__(self, name: str) -> "StagedCollection | UnstagedCollection":
        staged = self.collections.get(name)
        return staged if staged is not None else UnstagedCollection(self, name)

    def __getattr__(self, name: str) -> "StagedCollection | UnstagedCollection":
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def collection_names(self) -> list[str]:
        return sorted(self.collections)

    def raw_documents(self, collection: str) -> list[RawBSONDocument]:
        return self.collections[collection].raw_documents()


class UnstagedCollection:
    def __init__(self, database: StagingStore, name: str) -> None:
        self.database = database
        self.name = name

    def __getattr__(self, operation: str) -> Any:
        raise NotStaged(f"collection {self.name!r} is not part of this rebuild ({operation})")


class StagedCollection:
    """One collection of a StagingStore. Documents are kept as BSON, as the server keeps them
    (every read returns a fresh copy, tuples come back as lists, datetimes to the millisecond).

    It implements only what projection handlers do, with MongoDB's semantics: find_one / find
    by `_id` (or `_id: {$in: [...]}`), optionally with conditions on top-level fields ($eq, $ne,
    $in; equality on an array field means "contains"), with a top-level projection; insert_one
    (DuplicateKeyError on a repeated `_id`); replace_one and update_one ($set, $setOnInsert,
    $push with or without $each) with upsert, where an upsert whose `_id` exists but whose other
    conditions do not match raises DuplicateKeyError. Anything else raises NotStaged.
    """

    def __init__(self, database: StagingStore, name: str) -> None:
        self.database = database
        self.name = name
        self._documents: dict[Any, bytes] = {}

    def __getattr__(self, operation: str) -> Any:
        if operation.startswith("_"):
            raise AttributeError(operation)
        raise NotStaged(f"a staged collection does not implement {operation}")

    def __len__(self) -> int:
        return len(self._documents)

    def raw_documents(self) -> list[RawBSONDocument]:
        """Every document as BSON, ready for insert_many."""
        return [RawBSONDocument(data) for data in self._documents.values()]

    # -- reads

    async def find_one(self, filter: Mapping[str, Any], projection: Mapping[str, Any] | None = None) -> dict | None:
        return next(iter(self._select(filter, projection)), None)

    def find(self, filter: Mapping[str, Any], projection: Mapping[str, Any] | None = None) -> "StagedCursor":
        return StagedCursor(self._select(filter, projection))

    # -- writes

    async def insert_one(self, document: Mapping[str, Any]) -> InsertOneResult:
        if "_id" not in document:
            raise NotStaged("projection documents carry their own _id")
        if _key(document["_id"]) in self._documents:
            raise self._duplicate(document["_id"])
        self._store(document)
        return InsertOneResult(document["_id"], True)

    async def replace_one(self, filter: Mapping[str, Any], replacement: Mapping[str, Any],
                          upsert: bool = False) -> UpdateResult:
        if any(key.startswith("$") for key in replacement):
            raise ValueError("replacement can not include $ operators")
        doc_id = _single_id(filter)
        if "_id" in replacement and replacement["_id"] != doc_id:
            raise WriteError("the _id of a replacement must not change", 66)
        exists = _key(doc_id) in self._documents
        if exists and (len(filter) == 1 or _matches(self._get(doc_id), filter)):
            self._store({"_id": doc_id, **{k: v for k, v in replacement.items() if k != "_id"}})
            return UpdateResult({"n": 1, "nModified": 1}, True)
        if not upsert:
            return UpdateResult({"n": 0, "nModified": 0}, True)
        if exists:
            raise self._duplicate(doc_id)
        self._store({"_id": doc_id, **{k: v for k, v in replacement.items() if k != "_id"}})
        return UpdateResult({"n": 1, "nModified": 0, "upserted": doc_id}, True)

    async def update_one(self, filter: Mapping[str, Any], update: Mapping[str, Any],
                         upsert: bool = False) -> UpdateResult:
        if not update or not all(key.startswith("$") for key in update):
            raise ValueError("update only works with $ operators")
        doc_id = _single_id(filter)
        current = self._get(doc_id)
        if current is not None and _matches(current, filter):
            changed = _apply_update(current, update, inserting=False)
            if changed != current:
                self._store(changed)
            return UpdateResult({"n": 1, "nModified": int(changed != current)}, True)
        if not upsert:
            return UpdateResult({"n": 0, "nModified": 0}, True)
        if current is not None:
            raise self._duplicate(doc_id)  # as MongoDB: the upsert's insert collides with the _id
        seed = {"_id": doc_id, **{k: v for k, v in filter.items() if k != "_id" and not _is_operator(v)}}
        self._store(_apply_update(seed, update, inserting=True))
        return UpdateResult({"n": 1, "nModified": 0, "upserted": doc_id}, True)

    # -- internals

    def _select(self, filter: Mapping[str, Any], projection: Mapping[str, Any] | None) -> list[dict]:
        id_condition = filter.get("_id") if isinstance(filter, Mapping) else None
        if id_condition is None:
            raise NotStaged("a staged collection is read by _id only")
        if _is_operator(id_condition):
            if set(id_condition) != {"$in"}:
                raise NotStaged(f"_id condition {sorted(id_condition)} is not supported")
            ids = list(dict.fromkeys(_key(v) for v in id_condition["$in"]))
        else:
            ids = [_key(id_condition)]
        found = []
        for doc_id in ids:
            document = self._get(doc_id)
            if document is not None and _matches(document, filter):
                found.append(_project(document, projection))
        return found

    def _get(self, doc_id: Any) -> dict | None:
        data = self._documents.get(_key(doc_id))
        return bson.decode(data, CODEC_OPTIONS) if data is not None else None

    def _store(self, document: Mapping[str, Any]) -> None:
        self._documents[_key(document["_id"])] = bson.encode(document, codec_options=CODEC_OPTIONS)

    def _duplicate(self, doc_id: Any) -> DuplicateKeyError:
        return DuplicateKeyError(f"E11000 duplicate key error collection: {self.name} dup key: {{ _id: {doc_id!r} }}",
                                 11000)


class StagedCursor:
    """What `find` returns: iterate with `async for`, or `await cursor.to_list(length)`."""

    def __init__(self, documents: list[dict]) -> None:
        self._documents = documents

    def __aiter__(self) -> AsyncIterator[dict]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[dict]:
        for document in self._documents:
            yield document

    async def to_list(self, length: int | None = None) -> list[dict]:
        return self._documents[:length] if length else list(self._documents)


def _key(doc_id: Any) -> Any:
    if isinstance(doc_id, (dict, list)):
        raise NotStaged("document _ids are scalars here")
    return doc_id


def _is_operator(value: Any) -> bool:
    return isinstance(value, Mapping) and bool(value) and all(str(k).startswith("$") for k in value)


def _single_id(filter: Mapping[str, Any]) -> Any:
    doc_id = filter.get("_id")
    if doc_id is None or _is_operator(doc_id):
        raise NotStaged("a staged collection is written by one _id")
    return doc_id


def _top_level(name: str) -> str:
    if "." in name or name.startswith("$"):
        raise NotStaged(f"only top-level fields are supported, not {name!r}")
    return name


def _equals(value: Any, wanted: Any) -> bool:
    if wanted is None:
        return value is None
    return value == wanted or (isinstance(value, list) and wanted in value)


def _matches(document: Mapping[str, Any], filter: Mapping[str, Any]) -> bool:
    for name, condition in filter.items():
        if name == "_id":
            continue  # selected by _id already
        value = document.get(_top_level(name))
        if not _is_operator(condition):
            condition = {"$eq": condition}
        for operator, operand in condition.items():
            if operator == "$eq":
                ok = _equals(value, operand)
            elif operator == "$ne":
                ok = not _equals(value, operand)
            elif operator == "$in":
                ok = any(_equals(value, o) for o in operand)
            else:
                raise NotStaged(f"query operator {operator} is not supported")
            if not ok:
                return False
    return True


def _project(document: dict, projection: Mapping[str, Any] | None) -> dict:
    if not projection:
        return document
    fields = {_top_level(k): bool(v) for k, v in projection.items()}
    keep_id = fields.pop("_id", True)
    if not fields:  # {"_id": 1} keeps only the _id, {"_id": 0} everything else
        return {"_id": document["_id"]} if keep_id else {k: v for k, v in document.items() if k != "_id"}
    if any(fields.values()):
        if not all(fields.values()):
            raise ValueError("cannot mix inclusion and exclusion in a projection")
        kept = {k: v for k, v in document.items() if k in fields}
        return {"_id": document["_id"], **kept} if keep_id else kept
    return {k: v for k, v in document.items() if (k != "_id" or keep_id) and k not in fields}


def _apply_update(document: dict, update: Mapping[str, Any], *, inserting: bool) -> dict:
    changed = dict(document)
    for operator, fields in update.items():
        if operator == "$setOnInsert":
            if inserting:
                changed.update({_top_level(k): v for k, v in fields.items()})
        elif operator == "$set":
            changed.update({_top_level(k): v for k, v in fields.items()})
        elif operator == "$push":
            for name, value in fields.items():
                current = changed.get(_top_level(name), [])
                if not isinstance(current, list):
                    raise WriteError(f"The field '{name}' must be an array", 2)
                added = value["$each"] if isinstance(value, Mapping) and set(value) == {"$each"} else [value]
                changed[name] = [*current, *added]
        else:
            raise NotStaged(f"update operator {operator} is not supported")
    return changed
