"""Consumer handlers as pure transitions, and the one generic applier that runs them.

A service registers one `Transition` per event type. `reads(event, loaded)` names the documents
the transition needs as (collection, _id) keys; the applier calls it again with what it has
loaded until it names nothing new (a later read may depend on an earlier one: the session says
who its participants are), loading each round's keys with one call per collection (`get_many`).
`apply(loaded, event)` is pure: it returns the `Write`s, each a whole document with the events
that go into its outbox.

The applier makes each write guarded, in the order given: a document that was missing is
inserted once, one that was loaded is replaced only at the version loaded, one that did not
change is not written at all. A `Write(once=True)` is a decision taken once (a trainer
certified): it is inserted unless it exists, and a refused insert drops its events; such
writes go last, those of one collection in one `insert_many`. On a VersionConflict (another
writer came first) the applier loads again and runs the transition again.

Idempotency comes from the transitions themselves: each keeps the newest fact by the time the
fact carries, or a set union, so a redelivered event gives the documents it finds, and nothing
is written. A crash between two writes of one event is repaired by its redelivery: each
document is compared again, the one written already is left alone, the other is written.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from emm_common.envelope import Event
from emm_common.store import DocumentStore, Stored, VersionConflict

Key = tuple[str, Any]  # (collection, _id)


class Loaded:
    """The documents loaded for one event: `get(collection, id)` is the state, or None when the
    document does not exist. Transitions must not change what it returns."""

    def __init__(self) -> None:
        self._found: dict[Key, Stored | None] = {}

    def __contains__(self, key: Key) -> bool:
        return key in self._found

    def get(self, collection: str, doc_id: Any) -> dict[str, Any] | None:
        key = (collection, doc_id)
        if key not in self._found:
            raise KeyError(f"{collection}/{doc_id} was not read; name it in the transition's reads")
        found = self._found[key]
        return found.document if found is not None else None

    def stored(self, key: Key) -> Stored | None:
        return self._found[key]

    def put(self, key: Key, found: Stored | None) -> None:
        self._found[key] = found


@dataclass(frozen=True)
class Write:
    collection: str
    document: dict[str, Any]
    events: tuple[Event, ...] = ()
    once: bool = False

    @property
    def key(self) -> Key:
        return self.collection, self.document["_id"]


Reads = Callable[[Event, Loaded], Iterable[Key]]
Apply = Callable[[Loaded, Event], Iterable[Write]]


@dataclass(frozen=True)
class Transition:
    reads: Reads
    apply: Apply


class Applier:
    """Runs the transition of each consumed event against a DocumentStore (see the module
    docstring)."""

    def __init__(self, store: DocumentStore, transitions: Mapping[str, Transition], *,
                 attempts: int = 10, rounds: int = 5) -> None:
        self.store = store
        self.transitions = dict(transitions)
        self._attempts = attempts
        self._rounds = rounds

    def handlers(self) -> dict[str, Callable[[Event], Any]]:
        """The EventProcessor's handlers: every registered event type, to `apply`."""
        return {event_type: self.apply for event_type in self.transitions}

    async def apply(self, event: Event) -> None:
        transition = self.transitions[event.type]
        for _ in range(self._attempts):
            loaded = await self.load(transition.reads, event)
            try:
                await self._write(loaded, list(transition.apply(loaded, event)))
                return
            except VersionConflict:
                continue  # another writer came first: decide again on what it wrote
        raise VersionConflict(f"event {event.id} ({event.type}): {self._attempts} conflicting writes in a row")

    async def load(self, reads: Reads, event: Event) -> Loaded:
        loaded = Loaded()
        for _ in range(self._rounds):
            wanted: dict[str, list[Any]] = defaultdict(list)
            for collection, doc_id in reads(event, loaded):
                if (collection, doc_id) not in loaded and doc_id not in wanted[collection]:
                    wanted[collection].append(doc_id)
            wanted = {collection: ids for collection, ids in wanted.items() if ids}
            if not wanted:
                return loaded
            for collection, found in zip(wanted, await asyncio.gather(
                    *(self._read(collection, ids) for collection, ids in wanted.items()))):
                for doc_id in wanted[collection]:
                    loaded.put((collection, doc_id), found.get(doc_id))
        raise RuntimeError(f"the reads of {event.type} did not settle in {self._rounds} rounds")

    async def _read(self, collection: str, ids: list[Any]) -> dict[Any, Stored]:
        return await self.store.get_many(collection, ids)

    async def _write(self, loaded: Loaded, writes: list[Write]) -> None:
        decisions: dict[str, list[Write]] = defaultdict(list)
        for write in writes:
            if write.key not in loaded:
                raise KeyError(f"{write.collection}/{write.key[1]} is written without being read first")
            current = loaded.stored(write.key)
            if write.once:
                if current is None:
                    decisions[write.collection].append(write)
            elif current is None:
                if not await self.store.insert(write.collection, write.document, write.events):
                    raise VersionConflict(f"{write.collection}/{write.key[1]} was created meanwhile")
            elif write.events or write.document != current.document:
                await self.store.replace(write.collection, current, write.document, write.events)
        for collection, once in decisions.items():
            await self.store.insert_many(collection, [(write.document, write.events) for write in once])
