"""Transactional outbox inside each MongoDB document.

FerretDB v1 (and our single-document design) has no multi-document transactions, so a state
change and the events it causes are written in ONE write of ONE document: the events go into
that document's `outbox` map (event id -> event). The relay publishes them with the idempotent
producer, then removes exactly the ids it published. A crash between publish and removal
publishes the same event (same id) again; consumers drop it as a duplicate.

Whoever writes an outbox calls `committed(collection, doc_id)`: the process's relay then
publishes that document at once, reading it by `_id`. A periodic sweep over the watched
collections catches what a crashed process left behind (FerretDB scans a whole collection for
any query that is not by `_id`, so the sweep is kept off the request path).

`committed` also records the ids of the committed events for the request being served (see
`acknowledging`): the API returns them in its `EMM-Event-Ids` response header, so a client can
follow its own facts onto the topics (and a test can prove that none was lost).
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterable, Iterator

from emm_common import metrics
from emm_common.envelope import Event
from emm_common.publisher import EventPublisher

log = logging.getLogger(__name__)

PENDING = {"outbox": {"$exists": True, "$ne": {}}}
_active_relays: list["OutboxRelay"] = []
_acknowledged: ContextVar[list[str] | None] = ContextVar("emm_acknowledged_event_ids", default=None)


def outbox_fields(events: Iterable[Event], version: int) -> dict[str, Any]:
    """`$set` entries that add events to a document's outbox, ordered after the document's earlier events."""
    return {f"outbox.{event.id}": {**event.to_document(), "seq": [version, index]}
            for index, event in enumerate(events)}


def committed(collection_name: str, doc_id: str, outbox: dict[str, Any] | None = None,
              event_ids: Iterable[str] = ()) -> None:
    """Tell this process's relay that a document's outbox has new events to publish now; pass
    the outbox as written to spare the relay reading the document back (or else the ids of the
    events just added, so the request can acknowledge them)."""
    acknowledged = _acknowledged.get()
    if acknowledged is not None:
        acknowledged.extend(outbox.keys() if outbox else event_ids)
    for relay in _active_relays:
        relay.nudge(collection_name, doc_id, outbox)


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


class OutboxRelay:
    """Publishes the outboxes of the given collections, oldest event first within each document."""

    def __init__(self, publisher: EventPublisher, collections: list[Any], poll_seconds: float = 1.0,
                 sweep_seconds: float = 10.0) -> None:
        self._publisher = publisher
        self._collections = {c.name: c for c in collections}
        self._poll_seconds = poll_seconds
        self._sweep_seconds = sweep_seconds
        self._queue: asyncio.Queue[tuple[str, str, dict | None] | None] = asyncio.Queue()
        self._task: asyncio.Task | None = None

    def nudge(self, collection_name: str | None = None, doc_id: str | None = None,
              outbox: dict[str, Any] | None = None) -> None:
        """Publish one document's outbox now; without arguments, sweep every collection soon."""
        if collection_name is None or collection_name in self._collections:
            self._queue.put_nowait((collection_name, doc_id, outbox) if collection_name else None)

    async def publish_document(self, collection: Any, doc_id: Any, doc: dict | None = None) -> int:
        """Publish one document's pending events and remove them from its outbox."""
        if doc is None:
            doc = await collection.find_one({"_id": doc_id}, {"outbox": 1})
        if not doc or not doc.get("outbox"):
            return 0
        events = sorted(doc["outbox"].values(), key=lambda e: e["seq"])
        futures = [await self._publisher.send(Event.from_document(e)) for e in events]
        await asyncio.gather(*futures)
        await collection.update_one({"_id": doc_id}, {"$unset": {f"outbox.{e['id']}": "" for e in events}})
        metrics.OUTBOX_RELAYED.labels(collection.name).inc(len(events))
        return len(events)

    async def relay_once(self) -> int:
        """Sweep: publish every pending event of every watched collection; return how many."""
        published = 0
        for collection in self._collections.values():
            docs = [doc async for doc in collection.find(PENDING, {"outbox": 1})]
            metrics.OUTBOX_PENDING.labels(collection.name).set(sum(len(doc["outbox"]) for doc in docs))
            for doc in docs:
                published += await self.publish_document(collection, doc["_id"], doc)
            metrics.OUTBOX_PENDING.labels(collection.name).set(0)
        return published

    async def run(self) -> None:
        backoff = self._poll_seconds
        sweep_due = 0.0  # sweep at once on start: a crashed predecessor may have left events
        loop = asyncio.get_running_loop()
        while True:
            try:
                if loop.time() >= sweep_due:
                    self._drain()  # the sweep covers whatever was queued
                    await self.relay_once()
                    sweep_due = loop.time() + self._sweep_seconds
                timeout = max(0.0, sweep_due - loop.time())
                try:
                    item = await asyncio.wait_for(self._queue.get(), timeout=timeout)
                except asyncio.TimeoutError:
                    continue
                if item is None:
                    sweep_due = 0.0
                    continue
                collection_name, doc_id, outbox = item
                known = {"_id": doc_id, "outbox": outbox} if outbox is not None else None
                await self.publish_document(self._collections[collection_name], doc_id, known)
                backoff = self._poll_seconds
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Kafka or MongoDB away: keep the events, sweep again later
                log.warning("outbox relay could not publish yet (%s: %s); retrying in %.0fs",
                            type(exc).__name__, exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                sweep_due = 0.0

    def _drain(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()

    def start(self) -> None:
        _active_relays.append(self)
        self._task = asyncio.create_task(self.run(), name="outbox-relay")

    async def stop(self) -> None:
        if self in _active_relays:
            _active_relays.remove(self)
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
