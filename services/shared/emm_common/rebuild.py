"""Rebuilding a service's projections from its topics: offline, in one pass, and fast.

A live worker applies each event with several reads and writes by `_id`, one database round
trip each (and, on an unpatched FerretDB v1, a scan of the whole collection each, which makes
replaying a long stream through a worker quadratic). A rebuild instead

1. reads a *snapshot* of the service's topics: every partition from its earliest offset up to
   its end offset taken at the start (later records are the live worker's business), merged
   by record timestamp, the order a worker that keeps up meets them in (up to the producers'
   clocks); no consumer group, so nothing is committed;
2. applies each record with the live worker's own handlers, run by the same `EventProcessor`
   (envelope parsing, schema validation and poison handling are identical), against a
   `StagingStore`: the projection documents held in memory;
3. writes the final documents into an empty target database with `insert_many` in chunks.

Nothing is published: the handlers get no publisher, and a poison record is counted in the
`RebuildStats` instead of going to the dead-letter topic. `collection_digests` hashes
collections so a live projection can be compared with a rebuilt one.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import heapq
import logging
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Awaitable, Callable, Iterable

import bson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from bson import json_util
from bson.binary import UuidRepresentation
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo.errors import DuplicateKeyError, WriteError
from pymongo.results import InsertOneResult, UpdateResult

from emm_common import mongo
from emm_common.consumer import ConsumedRecord, EventProcessor, Handler
from emm_common.store import BOOKKEEPING_FIELDS
from emm_common.settings import ServiceSettings
from emm_common.topics import dead_letter_topic, topic_name

log = logging.getLogger(__name__)

# As the services' clients decode documents (emm_common.mongo).
CODEC_OPTIONS = CodecOptions(tz_aware=True, uuid_representation=UuidRepresentation.STANDARD)


# -- the snapshot of the topics -----------------------------------------------------------------

async def end_offsets(bootstrap_servers: str, topics: Iterable[str]) -> dict[TopicPartition, int]:
    """The end offset (next offset to be written) of every partition of `topics` (full names)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        return await consumer.end_offsets(await partitions_of(bootstrap_servers, topics))
    finally:
        await consumer.stop()


async def partitions_of(bootstrap_servers: str, topics: Iterable[str]) -> list[TopicPartition]:
    """Every partition of `topics`; raises LookupError naming a topic that does not exist."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics))
    finally:
        await admin.close()
    missing = sorted(t["topic"] for t in described if t["error_code"] or not t["partitions"])
    if missing:
        raise LookupError(f"no such topic: {', '.join(missing)} (is EMM_TOPIC_PREFIX right?)")
    return sorted(TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"])


async def snapshot_records(bootstrap_servers: str, topics: list[str], *,
                           batch: int = 2000) -> AsyncIterator[ConsumedRecord]:
    """Every record of `topics` (full names) up to the end offsets taken when this starts, merged
    across partitions by record timestamp (ties: the order of `topics`, then partition), each
    partition in offset order. Reads with no consumer group and commits nothing."""
    partitions = await partitions_of(bootstrap_servers, topics)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest", max_poll_records=batch, client_id="emm-rebuild")
    await consumer.start()
    try:
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
        unread = {tp for tp in partitions if ends[tp] > starts[tp]}
        if not unread:
            return
        consumer.assign(sorted(unread))
        await consumer.seek_to_beginning(*unread)
        rank = {topic: n for n, topic in enumerate(topics)}
        buffers: dict[TopicPartition, deque] = {tp: deque() for tp in unread}

        async def refill(tp: TopicPartition) -> None:
            # Only this partition: aiokafka prefetches each partition at most one fetch ahead.
            while not buffers[tp] and tp in unread:
                fetched = (await consumer.getmany(tp, timeout_ms=500)).get(tp, [])
                buffers[tp].extend(r for r in fetched if r.offset < ends[tp])
                if (fetched and fetched[-1].offset >= ends[tp] - 1) or (
                        not fetched and await consumer.position(tp) >= ends[tp]):
                    unread.discard(tp)
                    consumer.pause(tp)  # what came after the snapshot is the live worker's

        heads: list[tuple[int, int, int, int, TopicPartition]] = []

        def push(tp: TopicPartition) -> None:
            if buffers[tp]:
                first = buffers[tp][0]
                heapq.heappush(heads, (first.timestamp, rank[tp.topic], tp.partition, first.offset, tp))

        for tp in sorted(unread):
            await refill(tp)
            push(tp)
        while heads:
            tp = heapq.heappop(heads)[-1]
            record = buffers[tp].popleft()
            yield ConsumedRecord(record.topic, record.partition, record.offset, record.key, record.value,
                                 list(record.headers or ()))
            if not buffers[tp]:
                await refill(tp)
            push(tp)
    finally:
        await consumer.stop()


# -- the staging store --------------------------------------------------------------------------

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


# -- writing, copying and comparing databases ----------------------------------------------------

class TargetNotEmpty(RuntimeError):
    """A rebuild writes into an empty database only (never over the live one)."""


async def ensure_empty(database: Any) -> None:
    names = await database.list_collection_names()
    if names:
        raise TargetNotEmpty(f"database {database.name} is not empty: {', '.join(sorted(names))}")


async def write_documents(staging: Any, target: Any, chunk_size: int = 1000) -> dict[str, int]:
    """Insert every staged document (of a StagingStore or a MemoryDocumentStore) into `target`
    with insert_many, `chunk_size` at a time; return how many were written per collection."""
    written = {}
    for name in staging.collection_names():
        documents = staging.raw_documents(name)
        for start in range(0, len(documents), chunk_size):
            await target[name].insert_many(documents[start:start + chunk_size])
        written[name] = len(documents)
    return written


def without_pending_outbox(document: dict) -> dict:
    """A copy must not publish again what the live service's relay publishes."""
    if document.get("outbox"):
        document["outbox"] = {}
    return document


async def copy_collections(source: Any, target: Any, *, exclude: Iterable[str] = (), chunk_size: int = 1000,
                           change: Callable[[dict], dict] = without_pending_outbox) -> dict[str, int]:
    """Copy every collection of `source` except `exclude` into `target` (bulk reads, insert_many
    in chunks, each document passed through `change`); return how many were copied per collection."""
    copied = {}
    excluded = set(exclude)
    for name in sorted(set(await source.list_collection_names()) - excluded):
        count, chunk = 0, []
        async for document in source[name].find({}):
            chunk.append(change(document))
            if len(chunk) >= chunk_size:
                await target[name].insert_many(chunk)
                count, chunk = count + len(chunk), []
        if chunk:
            await target[name].insert_many(chunk)
            count += len(chunk)
        copied[name] = count
    return copied


def without_bookkeeping(document: Mapping[str, Any]) -> dict[str, Any]:
    """A document as compared between databases: without the outbox and the events the relay
    parked (its work list, not state), and the document store's version (how many writes it
    took, which depends on the order the facts came in)."""
    return {key: value for key, value in document.items() if key not in BOOKKEEPING_FIELDS}


def canonical_json(value: Any) -> str:
    """One JSON text per value: keys sorted, no spaces, BSON types as relaxed extended JSON
    (a datetime is {"$date": "...Z"} whatever its time zone object)."""
    return json_util.dumps(_in_utc(value), json_options=json_util.RELAXED_JSON_OPTIONS, sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False)


def _in_utc(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, Mapping):
        return {key: _in_utc(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_in_utc(item) for item in value]
    return value


Normalise = Callable[[Mapping[str, Any]], Mapping[str, Any] | None]


def documents_digest(documents: Iterable[Mapping[str, Any]], normalise: Normalise = without_bookkeeping) -> str:
    """sha256 over the canonical JSON of the documents, sorted by `_id`, one per line. `normalise`
    maps each document to what is compared, or to None to leave it out."""
    lines = []
    for document in documents:
        kept = normalise(document)
        if kept is not None:
            lines.append((canonical_json(kept.get("_id")), canonical_json(kept)))
    digest = hashlib.sha256()
    for _, line in sorted(lines):
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()


async def collection_digests(database: Any, collections: Iterable[str],
                             normalise: Normalise = without_bookkeeping) -> dict[str, str]:
    """The documents_digest of each named collection (a missing collection digests as empty)."""
    return {name: documents_digest([doc async for doc in database[name].find({})], normalise)
            for name in collections}


# -- the rebuild --------------------------------------------------------------------------------

@dataclass(frozen=True)
class PoisonRecord:
    topic: str
    partition: int
    offset: int
    reason: str


@dataclass
class RebuildStats:
    """What a rebuild did, and how fast: `fold_seconds` reads and applies the snapshot in
    memory, `write_seconds` writes the documents, `copy_seconds` copies the live database's own
    record (what a service does not rebuild from topics)."""

    events: int = 0
    applied: int = 0
    ignored: int = 0
    poison: int = 0
    poison_records: list[PoisonRecord] = field(default_factory=list)
    documents: dict[str, int] = field(default_factory=dict)
    copied: dict[str, int] = field(default_factory=dict)
    fold_seconds: float = 0.0
    write_seconds: float = 0.0
    copy_seconds: float = 0.0

    @property
    def seconds(self) -> float:
        return self.fold_seconds + self.write_seconds + self.copy_seconds

    @property
    def events_per_second(self) -> float:
        return self.events / self.fold_seconds if self.fold_seconds else 0.0

    @property
    def documents_per_second(self) -> float:
        return sum(self.documents.values()) / self.write_seconds if self.write_seconds else 0.0

    def report(self) -> str:
        lines = [
            f"events:    {self.events} read ({self.applied} applied, {self.ignored} of types not consumed, "
            f"{self.poison} poison) in {self.fold_seconds:.1f} s: {self.events_per_second:.0f} events/s",
            f"documents: {sum(self.documents.values())} written in {self.write_seconds:.1f} s: "
            f"{self.documents_per_second:.0f} documents/s {dict(self.documents)}",
        ]
        if self.copied:
            lines.append(f"copied:    {sum(self.copied.values())} documents of the live database in "
                         f"{self.copy_seconds:.1f} s {dict(self.copied)}")
        lines.append(f"total:     {self.seconds:.1f} s, {self.events / self.seconds if self.seconds else 0:.0f} "
                     f"events/s end to end")
        lines += [f"poison:    {p.topic}/{p.partition}@{p.offset}: {p.reason}" for p in self.poison_records[:20]]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "seconds": self.seconds, "events_per_second": self.events_per_second,
                "documents_per_second": self.documents_per_second}


async def rebuild_projections(settings: ServiceSettings, topics: Iterable[str], target: Any, staged: Iterable[str],
                              make_handlers: Callable[[Any], Mapping[str, Handler]], *,
                              copy_from: Any = None, chunk_size: int = 1000,
                              staging: Callable[[tuple[str, ...]], Any] = StagingStore) -> RebuildStats:
    """Replay a snapshot of `topics` (contract names) through `make_handlers(store)` and write
    the `staged` collections into `target`, which must be empty; then, if `copy_from` is a
    database, copy its other collections (the service's own record) into `target`. The store
    holding the staged collections in memory is `staging(staged)`: a StagingStore (MongoDB's
    collection API) or an emm_common.store.memory.MemoryDocumentStore (the document store port)."""
    staged = tuple(staged)
    await ensure_empty(target)
    stats = RebuildStats()
    store = staging(staged)

    async def count_poison(_topic: str, _value: bytes, _key: bytes | None, headers: list[tuple[str, bytes]]) -> None:
        found = dict(headers)
        stats.poison_records.append(PoisonRecord(
            found["dlq_original_topic"].decode(), int(found["dlq_original_partition"]),
            int(found["dlq_original_offset"]), found["dlq_reason"].decode()))

    processor = EventProcessor(
        settings.service_name, dict(make_handlers(store)), count_poison,
        topic_name(dead_letter_topic(settings.service_name), settings.topic_prefix),
        max_attempts=settings.consumer_max_attempts, transient_retry_seconds=settings.transient_retry_seconds)
    names = [topic_name(t, settings.topic_prefix) for t in topics]
    started = time.perf_counter()
    async for record in snapshot_records(settings.kafka_bootstrap_servers, names):
        outcome = await processor.process(record)
        stats.events += 1
        if outcome == "applied":
            stats.applied += 1
        elif outcome == "ignored":
            stats.ignored += 1
        else:
            stats.poison += 1
    stats.fold_seconds = time.perf_counter() - started
    started = time.perf_counter()
    stats.documents = await write_documents(store, target, chunk_size)
    stats.write_seconds = time.perf_counter() - started
    if copy_from is not None:
        started = time.perf_counter()
        stats.copied = await copy_collections(copy_from, target, exclude=staged, chunk_size=chunk_size)
        stats.copy_seconds = time.perf_counter() - started
    return stats


async def rebuild_database(settings: ServiceSettings, database_name: str, *, topics: Iterable[str],
                           staged: Iterable[str], make_handlers: Callable[[Any], Mapping[str, Handler]],
                           copy_live: bool = True, staging: Callable[[tuple[str, ...]], Any] = StagingStore
                           ) -> RebuildStats:
    """`rebuild_projections` into the empty database `database_name` on the service's server,
    copying from the live database (`settings.database_name`) if `copy_live`."""
    if database_name == settings.database_name:
        raise TargetNotEmpty(f"{database_name} is the live database; rebuild into an empty one")
    client = mongo.client_for(settings)
    try:
        return await rebuild_projections(settings, topics, client[database_name], staged, make_handlers,
                                         copy_from=client[settings.database_name] if copy_live else None,
                                         staging=staging)
    finally:
        closing = mongo.close(client[database_name])
        if closing is not None:
            await closing


def command_line(run: Callable[[str, bool], Awaitable[RebuildStats]], description: str, *, copy_help: str,
                 copy_by_default: bool, argv: list[str] | None = None) -> RebuildStats:
    """A service's rebuild command: `--database NAME` (must be empty) and `--copy/--no-copy`
    (`run(database, copy)` copies the live database's own record when told to)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--database", required=True, help="the database to rebuild into; it must be empty")
    parser.add_argument("--copy", action=argparse.BooleanOptionalAction, default=copy_by_default, help=copy_help)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        stats = asyncio.run(run(args.database, args.copy))
    except (TargetNotEmpty, LookupError) as exc:
        parser.exit(2, f"{parser.prog}: {exc}\n")
    print(stats.report())
    return stats
