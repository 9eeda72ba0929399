"""In-memory fakes of the shared package's own ports for the outbox relay: the publisher
(`EventPublisher`) and a collection of documents with outboxes (never of aiokafka or the driver)."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from emm_common.envelope import Event, to_record


class FakePublisher:
    """Takes every event, except those told to fail: at `send` (as aiokafka refuses a record
    too large for its max_request_size) or on delivery (as the broker refuses a batch)."""

    def __init__(self) -> None:
        self.published: list[Event] = []
        self.refuse_at_send: dict[str, Exception] = {}
        self.fail_on_delivery: dict[str, Exception] = {}
        self.renewals = 0

    async def send(self, event: Event) -> asyncio.Future:
        to_record(event)  # what the real publisher serialises; raises for an event our contract lacks
        if event.id in self.refuse_at_send:
            raise self.refuse_at_send[event.id]
        future = asyncio.get_running_loop().create_future()
        if event.id in self.fail_on_delivery:
            future.set_exception(self.fail_on_delivery[event.id])
        else:
            self.published.append(event)
            future.set_result(None)
        return future

    async def renew(self) -> None:
        self.renewals += 1


class FakeCollection:
    """Documents by `_id`; `find` understands the relay's "outbox not empty" query, `update_one`
    `$set` and `$unset` of top-level fields and of `field.key` inside a map."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.documents: dict[str, dict[str, Any]] = {}
        self.updates = 0

    async def find_one(self, filter: dict, projection: dict | None = None) -> dict | None:
        document = self.documents.get(filter["_id"])
        return copy.deepcopy(document) if document is not None else None

    async def find(self, filter: dict, projection: dict | None = None):
        for document in list(self.documents.values()):
            if document.get("outbox"):
                yield copy.deepcopy(document)

    async def update_one(self, filter: dict, update: dict) -> None:
        document = self.documents[filter["_id"]]
        self.updates += 1
        for path, value in update.get("$set", {}).items():
            container, key = self._parent(document, path)
            container[key] = copy.deepcopy(value)
        for path in update.get("$unset", {}):
            container, key = self._parent(document, path)
            container.pop(key, None)

    @staticmethod
    def _parent(document: dict, path: str) -> tuple[dict, str]:
        *parents, key = path.split(".")
        for name in parents:
            document = document.setdefault(name, {})
        return document, key
