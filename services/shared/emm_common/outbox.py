"""Transactional outbox inside each MongoDB document.

FerretDB v1 (and our single-document design) has no multi-document transactions, so a state
change and the events it causes are written in ONE write of ONE document: the events go into
that document's `outbox` map (event id -> event). The relay publishes them with the idempotent
producer, then removes exactly the ids it published. A crash between publish and removal
publishes the same event (same id) again; consumers drop it as a duplicate.

Whoever writes an outbox is given the relay's `nudge` as its `on_commit` callback (wired in each
service's bootstrap; no module globals): the process's relay then publishes that document at
once. A periodic sweep over the watched collections catches what a crashed process left behind.
It takes only entries older than a grace (`grace_seconds`, 30 s): a fresh entry belongs to the
nudge of the process that committed it, so another process's sweep running at that moment does
not publish it a second time. And only one process sweeps a collection at a time (`SweepTurns`:
an insert-once turn document with an expiry), because FerretDB scans a whole collection for any
query that is not by `_id`, and N processes scanning every interval was a tail-latency source.

The writer also calls `acknowledge(ids)` for the request being served (see `acknowledging`):
the API returns them in its `EMM-Event-Ids` response header, so a client can follow its own
facts onto the topics (and a test can prove that none was lost).

An event the broker will never take (larger than the topic allows, refused as corrupt, or an
outbox entry our contract cannot turn into a record: see `UNPUBLISHABLE`) must not hold back the
events after it. The relay *parks* it: in the same single-document write that removes the
published events, it moves the event from `outbox` to the document's `parked_outbox` map (event
id -> the event with `parked_reason` and `parked_at`), logs it at ERROR with the event's id, type,
document and reason, counts it in `emm_outbox_parked_total{collection, reason}`, and carries on.
Nothing else is parked: a broker that is away, or any error aiokafka merely flags as not
retriable (a timeout, OutOfOrderSequenceNumber), keeps every event in the outbox for the next try.

Operators find parked events with `db.<collection>.find({parked_outbox: {$exists: true, $ne: {}}})`
(alert on the counter). Once the cause is fixed (e.g. the topic's max.message.bytes raised),
`restore_parked(collection, doc_id)` moves them back into the outbox, and the relay publishes them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections import OrderedDict
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from aiokafka.errors import (CorruptRecordException, InvalidTimestampError, MessageSizeTooLargeError,
                             RecordListTooLargeError)
from pymongo.errors import DuplicateKeyError

from emm_common import metrics
from emm_common.contract import ContractViolation
from emm_common.envelope import Event
from emm_common.publisher import EventPublisher
from emm_common.store import PARKED_OUTBOX, OnCommit

if TYPE_CHECKING:
    from emm_common.locks import KeyedLocks

log = logging.getLogger(__name__)

PENDING = {"outbox": {"$exists": True, "$ne": {}}}
PARKED = PARKED_OUTBOX
# The errors that are the event's own fault: sending it again can never succeed. Not aiokafka's
# `retriable` flag, which is False for a broker that times out and for OutOfOrderSequenceNumber.
UNPUBLISHABLE = (MessageSizeTooLargeError, RecordListTooLargeError, CorruptRecordException, InvalidTimestampError,
                 ContractViolation)
# What a malformed outbox entry raises on its way to becoming an Event.
_MALFORMED_ENTRY = (KeyError, TypeError, ValueError)
# How many published event ids a relay remembers (about 100 bytes each).
REMEMBERED_EVENTS = 100_000
# How old an outbox entry must be before a sweep takes it (younger ones are their committer's nudge's).
SWEEP_GRACE_SECONDS = 30.0
# Where the sweep turns are kept, in each service's own database.
SWEEP_TURNS = "outbox_sweep_turns"
_acknowledged: ContextVar[list[str] | None] = ContextVar("emm_acknowledged_event_ids", default=None)


def outbox_entries(events: Iterable[Event], version: int) -> dict[str, Any]:
    """The outbox entries (event id -> entry) of `events` written by a document's `version`th
    write, ordered after the document's earlier events."""
    # `committed_at` (Unix seconds, the writer's clock) is what the sweep's grace is measured from:
    # an event's own time may be the programme's (fast-forwarded in tests) or a replayed fact's.
    now = time.time()
    return {event.id: {**event.to_document(), "seq": [version, index], "committed_at": now}
            for index, event in enumerate(events)}


def outbox_fields(events: Iterable[Event], version: int) -> dict[str, Any]:
    """`$set` entries that add events to a document's outbox, ordered after the document's earlier events."""
    return {f"outbox.{event_id}": entry for event_id, entry in outbox_entries(events, version).items()}


def acknowledge(event_ids: Iterable[str]) -> None:
    """Record the ids of events just committed to an outbox for the request being served (no-op
    outside `acknowledging`)."""
    acknowledged = _acknowledged.get()
    if acknowledged is not None:
        acknowledged.extend(event_ids)


def committed(on_commit: OnCommit | None, collection_name: str, doc_id: Any, outbox: dict[str, Any]) -> None:
    """What a writer does after committing `outbox` (event id -> entry) into a document: the request
    acknowledges the ids, and `on_commit` (the relay's nudge, injected) publishes them now."""
    acknowledge(outbox)
    if on_commit is not None and outbox:
        on_commit(collection_name, doc_id, outbox)


@contextmanager
def acknowledging() -> Iterator[list[str]]:
    """Collect the ids of the events committed inside this block (in this task and the tasks it
    starts), in commit order."""
    ids: list[str] = []
    token = _acknowledged.set(ids)
    try:
        yield ids
    finally:
        _acknowledged.reset(token)


class SweepTurns:
    """Whose turn it is to sweep a collection: time is cut into slots of one sweep interval, and
    the turn of a slot is an insert-once document `{_id: "<collection>/<interval>s/<slot>", holder}`
    in `database[SWEEP_TURNS]`. Of the processes asking in one slot exactly one inserts it (the
    server refuses a second insert of an `_id`, FerretDB v1 too, whose conditional updates and
    deletes are not atomic), so a service's processes sweep each collection once per interval
    between them. The winner deletes the slot before its own by `_id`, so few turns remain."""

    def __init__(self, database: Any, holder: str | None = None) -> None:
        self._turns = database[SWEEP_TURNS]
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"

    async def take(self, collection_name: str, seconds: float) -> bool:
        """Whether this process sweeps `collection_name` in the current slot of `seconds`."""
        slot = int(time.time() // seconds)
        turn = f"{collection_name}/{seconds:g}s/"
        try:
            await self._turns.insert_one({"_id": f"{turn}{slot}", "holder": self.holder})
        except DuplicateKeyError:
            return False
        await self._turns.delete_one({"_id": f"{turn}{slot - 1}"})
        return True


class OutboxRelay:
    """Publishes the outboxes of the given collections, oldest event first within each document."""

    def __init__(self, publisher: EventPublisher, collections: list[Any], poll_seconds: float = 1.0,
                 sweep_seconds: float = 10.0, locks: "KeyedLocks | None" = None, *,
                 grace_seconds: float = SWEEP_GRACE_SECONDS, turns: SweepTurns | None = None) -> None:
        self._publisher = publisher
        self._grace_seconds = grace_seconds
        # Without turns (tests, one process) this relay sweeps every collection every interval.
        self._turns = turns
        # Shared with the document store of this process: FerretDB v1 does not apply two updates
        # of one document atomically, so the relay's removal and a store's write take turns.
        self._locks = locks
        self._collections = {c.name: c for c in collections}
        self._poll_seconds = poll_seconds
        self._sweep_seconds = sweep_seconds
        self._queue: asyncio.Queue[tuple[str, str, dict | None] | None] = asyncio.Queue()
        # Ids this relay has had acknowledged. A commit's nudge carries the outbox as written, so
        # a nudge that waited behind a sweep which already published that document would publish
        # it again, and an event whose removal failed would be sent again by the next sweep:
        # both are only removed now. (Another process's relay can still publish one twice.)
        self._published: OrderedDict[str, None] = OrderedDict()
        self._task: asyncio.Task | None = None

    def nudge(self, collection_name: str | None = None, doc_id: str | None = None,
              outbox: dict[str, Any] | None = None) -> None:
        """Publish one document's outbox now; without arguments, sweep every collection soon."""
        if collection_name is None or collection_name in self._collections:
            if outbox:
                metrics.OUTBOX_BACKLOG.waiting(collection_name, outbox)
            self._queue.put_nowait((collection_name, doc_id, outbox) if collection_name else None)

    async def publish_document(self, collection: Any, doc_id: Any, doc: dict | None = None,
                               older_than: float = 0.0) -> int:
        """Publish one document's pending events and remove them from its outbox; park those the
        broker will never take (see the module docstring). Return how many were published.
        `older_than` (seconds): only the entries whose event is at least that old.

        Raises the first other failure (the broker away, say) after removing what was published
        and parking what was refused: the rest stays in the outbox for the next try.
        """
        if doc is None:
            doc = await collection.find_one({"_id": doc_id}, {"outbox": 1})
        if not doc or not doc.get("outbox"):
            return 0
        entries = sorted(doc["outbox"].values(), key=lambda e: e["seq"])
        metrics.OUTBOX_BACKLOG.waiting(collection.name, (entry["id"] for entry in entries))
        if older_than:
            entries = _older_than(entries, older_than)
        sent: list[tuple[dict, asyncio.Future]] = []
        parked: dict[str, tuple[dict, BaseException]] = {}
        failure: BaseException | None = None
        already = [entry for entry in entries if entry["id"] in self._published]
        for entry in (entry for entry in entries if entry["id"] not in self._published):
            try:
                sent.append((entry, await self._publisher.send(_event_of(entry))))
            except UNPUBLISHABLE as exc:  # refused before sending, e.g. above the producer's max_request_size
                parked[entry["id"]] = (entry, exc)
            except Exception as exc:
                failure = exc
                break
        published, refused_by_broker = [], False
        for (entry, _), outcome in zip(sent, await asyncio.gather(*(f for _, f in sent), return_exceptions=True)):
            if not isinstance(outcome, BaseException):
                published.append(entry)
                self._remember(entry["id"])
            elif isinstance(outcome, UNPUBLISHABLE):
                parked[entry["id"]] = (entry, outcome)
                refused_by_broker = True
            else:
                failure = failure or outcome
        if published or parked or already:
            async with self._locks.hold(f"{collection.name}:{doc_id}") if self._locks else nullcontext():
                await collection.update_one({"_id": doc_id}, _relayed_update([*already, *published], parked))
        metrics.OUTBOX_RELAYED.labels(collection.name).inc(len(published))
        metrics.OUTBOX_BACKLOG.left(collection.name, [*(e["id"] for e in [*already, *published]), *parked])
        for entry, exc in parked.values():
            metrics.OUTBOX_PARKED.labels(collection.name, type(exc).__name__).inc()
            log.error("outbox relay parked event %s (%s) of %s %s in %s: %s", entry.get("id"), entry.get("type"),
                      collection.name, doc_id, PARKED, _reason(exc))
        if refused_by_broker:
            # aiokafka's idempotent producer has numbered its later batches for that partition
            # past the refused one; the broker refuses them all until a new producer sends them.
            await self._publisher.renew()
        if failure is not None:
            raise failure
        return len(published)

    async def relay_once(self, older_than: float = 0.0) -> int:
        """Sweep: publish every pending event of every watched collection (only those at least
        `older_than` seconds old); return how many."""
        published = 0
        for collection in self._collections.values():
            published += await self._sweep(collection, older_than)
        return published

    async def sweep_turn(self) -> int:
        """The periodic sweep: each collection whose turn this process gets, entries older than the grace."""
        published = 0
        for collection in self._collections.values():
            if self._turns is None or await self._turns.take(collection.name, self._sweep_seconds):
                published += await self._sweep(collection, self._grace_seconds)
        return published

    async def _sweep(self, collection: Any, older_than: float) -> int:
        published = 0
        docs = [doc async for doc in collection.find(PENDING, {"outbox": 1})]
        metrics.OUTBOX_BACKLOG.swept(collection.name, (event_id for doc in docs for event_id in doc["outbox"]))
        for doc in docs:
            published += await self.publish_document(collection, doc["_id"], doc, older_than)
        return published

    async def run(self) -> None:
        backoff = self._poll_seconds
        sweep_due = 0.0  # sweep at once on start: a crashed predecessor may have left events
        loop = asyncio.get_running_loop()
        while True:
            item = None
            try:
                if loop.time() >= sweep_due:
                    await self.sweep_turn()
                    sweep_due = loop.time() + self._sweep_seconds
                timeout = max(0.0, sweep_due - loop.time())
                try:
                    item = await asyncio.wait_for(self._queue.get(), timeout=timeout)
                except asyncio.TimeoutError:
                    continue
                if item is None:
                    sweep_due = 0.0
                    continue
                await self._publish_nudged(*item)
                backoff = self._poll_seconds
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Kafka or MongoDB away: keep the events, try again later
                log.warning("outbox relay could not publish yet (%s: %s); retrying in %.0fs",
                            type(exc).__name__, exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                if item is not None:  # a nudge that failed: ours to publish again, not a sweep's
                    self._queue.put_nowait(item)
                sweep_due = 0.0

    async def _publish_nudged(self, collection_name: str, doc_id: Any, outbox: dict | None) -> None:
        known = {"_id": doc_id, "outbox": outbox} if outbox is not None else None
        await self.publish_document(self._collections[collection_name], doc_id, known)

    def _remember(self, event_id: str) -> None:
        self._published[event_id] = None
        if len(self._published) > REMEMBERED_EVENTS:
            self._published.popitem(last=False)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass


def _event_of(entry: dict[str, Any]) -> Event:
    try:
        return Event.from_document(entry)
    except _MALFORMED_ENTRY as exc:
        raise ContractViolation(str(entry.get("type")), "outbox entry", f"is malformed: {exc!r}") from exc


def _older_than(entries: list[dict[str, Any]], seconds: float) -> list[dict[str, Any]]:
    """The entries committed at least `seconds` ago (one written before `committed_at` existed counts as old)."""
    cutoff = time.time() - seconds
    return [entry for entry in entries if not isinstance(entry.get("committed_at"), (int, float))
            or entry["committed_at"] <= cutoff]


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


def _relayed_update(published: list[dict], parked: dict[str, tuple[dict, BaseException]]) -> dict[str, Any]:
    """One update of the document: the published events leave the outbox, the parked ones move
    from it to `parked_outbox`."""
    now = datetime.now(timezone.utc).isoformat()
    leaving = [*published, *(entry for entry, _ in parked.values())]
    update: dict[str, Any] = {"$unset": {f"outbox.{entry['id']}": "" for entry in leaving}}
    if parked:
        update["$set"] = {f"{PARKED}.{event_id}": {**entry, "parked_reason": _reason(exc), "parked_at": now}
                          for event_id, (entry, exc) in parked.items()}
    return update


async def restore_parked(collection: Any, doc_id: Any, on_commit: OnCommit | None = None) -> list[str]:
    """Move a document's parked events back into its outbox (in one write) for the relay to
    publish, after their cause was fixed; return their ids, oldest first. `on_commit` (a relay's
    nudge) publishes them at once; else the next sweep after the grace does."""
    doc = await collection.find_one({"_id": doc_id}, {PARKED: 1})
    parked = sorted((doc or {}).get(PARKED, {}).values(), key=lambda e: e["seq"])
    if not parked:
        return []
    restored = {entry["id"]: {k: v for k, v in entry.items() if k not in ("parked_reason", "parked_at")}
                for entry in parked}
    await collection.update_one({"_id": doc_id}, {
        "$set": {f"outbox.{event_id}": entry for event_id, entry in restored.items()},
        "$unset": {f"{PARKED}.{event_id}": "" for event_id in restored}})
    if on_commit is not None:
        on_commit(collection.name, doc_id, restored)
    return list(restored)
