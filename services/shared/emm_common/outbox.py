"""Transactional outbox inside each MongoDB document.

FerretDB v1 (and our single-document design) has no multi-document transactions, so a state
change and the events it causes are written in ONE update of ONE document: the events go into
that document's `outbox` map (event id -> event). The relay publishes them with the idempotent
producer, then removes exactly the ids it published. A crash between publish and removal
publishes the same event (same id) again; consumers drop it as a duplicate.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Iterable

from emm_common import metrics
from emm_common.envelope import Event
from emm_common.publisher import EventPublisher

log = logging.getLogger(__name__)

PENDING = {"outbox": {"$exists": True, "$ne": {}}}


def outbox_fields(events: Iterable[Event], version: int) -> dict[str, Any]:
    """`$set` entries that add events to a document's outbox, ordered after the document's earlier events."""
    return {f"outbox.{event.id}": {**event.to_document(), "seq": [version, index]}
            for index, event in enumerate(events)}


class OutboxRelay:
    """Publishes what the given collections' outboxes hold, oldest first within each document.

    `nudge()` after a write publishes at once; a periodic poll catches what a crashed process left.
    """

    def __init__(self, publisher: EventPublisher, collections: list[Any], poll_seconds: float = 1.0) -> None:
        self._publisher = publisher
        self._collections = collections
        self._poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None

    def nudge(self) -> None:
        self._wake.set()

    async def relay_once(self) -> int:
        """Publish every pending event once; return how many were published."""
        published = 0
        for collection in self._collections:
            docs = [doc async for doc in collection.find(PENDING, {"outbox": 1})]
            metrics.OUTBOX_PENDING.labels(collection.name).set(sum(len(doc["outbox"]) for doc in docs))
            for doc in docs:
                events = sorted(doc["outbox"].values(), key=lambda e: e["seq"])
                futures = [await self._publisher.send(Event.from_document(e)) for e in events]
                await asyncio.gather(*futures)
                await collection.update_one({"_id": doc["_id"]},
                                            {"$unset": {f"outbox.{e['id']}": "" for e in events}})
                published += len(events)
                metrics.OUTBOX_RELAYED.labels(collection.name).inc(len(events))
            metrics.OUTBOX_PENDING.labels(collection.name).set(0)
        return published

    async def run(self) -> None:
        backoff = self._poll_seconds
        while True:
            self._wake.clear()  # before the pass, so a nudge during it causes another pass
            try:
                await self.relay_once()
                backoff = self._poll_seconds
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Kafka or MongoDB away: keep the events, try again later
                log.warning("outbox relay could not publish yet (%s: %s); retrying in %.0fs",
                            type(exc).__name__, exc, backoff)
                backoff = min(backoff * 2, 30.0)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)
            except asyncio.TimeoutError:
                pass

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
