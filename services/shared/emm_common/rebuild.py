"""Rebuilding a service's projections from its topics: offline, in one pass, and fast.

A live worker applies each event with a few reads and writes by `_id`, one database round trip
each. A rebuild instead

1. reads a *snapshot* of the service's topics (emm_common.snapshot): every partition from its
   earliest offset up to its end offset taken at the start, merged by record timestamp;
2. applies each record with the live worker's own handlers, run by the same `EventProcessor`
   (envelope parsing, schema validation and poison handling are identical), against the
   projection documents held in memory: the document store's in-memory adapter
   (emm_common.store.memory), or for handlers still on the driver's API a `StagingStore`
   (emm_common.staging);
3. writes the final documents into an empty target database with `insert_many` in chunks.

Nothing is published: the handlers get no publisher, and a poison record is counted in the
`RebuildStats` instead of going to the dead-letter topic. `collection_digests`
(emm_common.digest) hashes collections so a live projection can be compared with a rebuilt one.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Awaitable, Callable, Iterable

from emm_common import mongo
from emm_common.consumer import EventProcessor, Handler
from emm_common.digest import (BOOKKEEPING_FIELDS, canonical_json, collection_digests,  # noqa: F401
                               documents_digest, without_bookkeeping)
from emm_common.outbox import SWEEP_TURNS
from emm_common.settings import ServiceSettings
from emm_common.snapshot import end_offsets, partitions_of, snapshot_records  # noqa: F401
from emm_common.staging import NotStaged, StagedCollection, StagingStore  # noqa: F401
from emm_common.store.mongo import VERSION_CLAIMS
from emm_common.topics import dead_letter_topic, topic_name

# The store's version claims and the relays' sweep turns belong to the database they were written in
# (the target's own writers make its own): never copied.
NEVER_COPIED = frozenset({VERSION_CLAIMS, SWEEP_TURNS})

# What this module gave before the snapshot reader, the staging store and the digest had their own.
__all__ = ["BOOKKEEPING_FIELDS", "NotStaged", "PoisonRecord", "RebuildStats", "StagedCollection", "StagingStore",
           "TargetNotEmpty", "canonical_json", "collection_digests", "command_line", "copy_collections",
           "documents_digest", "end_offsets", "ensure_empty", "partitions_of", "rebuild_database",
           "rebuild_projections", "snapshot_records", "without_bookkeeping", "without_pending_outbox",
           "write_documents"]

log = logging.getLogger(__name__)


# -- writing and copying databases -----------------------------------------------------------------

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
    excluded = set(exclude) | NEVER_COPIED
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
