"""Single-document atomic writes: the only kind FerretDB v1 (no transactions) and our design use.

Two patterns, one per side of a service:

- Command side: an aggregate is stored as immutable versions (`AggregateStore`); a command
  loads the newest, changes it in the domain, and commits the next version with its events in
  one insert. `KeyedLocks` keeps writers of one process from colliding in the first place.
- Consumer side: a projection document has exactly one writer, the service's consumer, which
  applies events one at a time. `apply_once` applies an update only if the document has not
  recorded the event id yet, and records it in the same update: a redelivery changes nothing.
  (One writer matters: FerretDB v1 applies concurrent updates of one document non-atomically.)
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from pymongo.errors import DuplicateKeyError

from emm_common.envelope import Event
from emm_common import outbox
from emm_common.locks import KeyedLocks
from emm_common.outbox import outbox_entries
from emm_common.store import OnCommit, VersionConflict
from emm_common.store import aggregates
from emm_common.store.aggregates import Versioned
from emm_common.store.mongo import MongoDocumentStore

__all__ = ["AggregateStore", "Current", "KeyedLocks", "VersionConflict", "Versioned", "VersionedDocuments", "apply_once",
           "change_aggregate", "commits_of", "outbox_map"]

log = logging.getLogger(__name__)


class AggregateStore:
    """Command-side state as immutable versions.

    Three collections, every read by `_id` (FerretDB scans the whole collection for anything
    else, and rewrites a whole document on any update):

    - `<name>`: one small *commit* document per version, `{_id: "<aggregate id>@<version>",
      aggregate_id, version, state_id, outbox}`. Inserting it is the commit: the server's unique
      `_id` lets exactly one of several concurrent writers have version N+1 (FerretDB v1 does
      not apply a conditional update atomically, but it does refuse a second insert of one
      `_id`). Its events wait in its outbox for the relay, which rewrites only this small document.
    - `<name>_states`: the state of each version as JSON text, written once under a fresh id
      before the commit that names it; a writer that loses the race leaves an unused state
      behind, never a wrong one. Old states are deleted; their commit documents stay, so a
      version number is never free again.
    - `<name>_heads`: `{_id: aggregate id, version}`, where `load` starts; it steps forward while
      a newer commit exists, so a head left behind by a crash or a race costs one more read.
    """

    def __init__(self, collection: Any, keep: int = 3, *, on_commit: OnCommit | None = None) -> None:
        self.collection = collection
        # Told of each commit's events (the process's relay's nudge, wired in bootstrap).
        self.on_commit = on_commit
        self.states = collection.database[f"{collection.name}_states"]
        self.heads = collection.database[f"{collection.name}_heads"]
        self._keep = keep
        self._pruning: set[asyncio.Task] = set()
        self._reads = MongoDocumentStore(collection.database)

    document_id = staticmethod(aggregates.commit_id)

    async def load(self, aggregate_id: str) -> Versioned | None:
        """The newest version of an aggregate, or None if it does not exist."""
        return await aggregates.latest(self._reads, self.collection.name, aggregate_id)

    async def commit(self, aggregate_id: str, state: dict[str, Any], expected_version: int,
                     events: Iterable[Event]) -> int:
        """Store `state` as the version after `expected_version` (0 to create), with its events in
        the outbox. Raises VersionConflict if another writer got there first."""
        version = expected_version + 1
        doc_id = self.document_id(aggregate_id, version)
        state_id = f"{doc_id}#{uuid.uuid4().hex[:12]}"
        await self.states.insert_one({"_id": state_id, "state": json.dumps(state, separators=(",", ":"))})
        pending = outbox_map(events, version)
        try:
            await self.collection.insert_one({"_id": doc_id, "aggregate_id": aggregate_id, "version": version,
                                              "state_id": state_id, "outbox": pending})
        except DuplicateKeyError as exc:
            await self.states.delete_one({"_id": state_id})
            raise VersionConflict(f"{aggregate_id} v{version}") from exc
        outbox.committed(self.on_commit, self.collection.name, doc_id, pending)
        await self._move_head(aggregate_id, version)
        if version > self._keep:
            task = asyncio.create_task(self._prune(self.document_id(aggregate_id, version - self._keep)))
            self._pruning.add(task)  # off the request path; keep a reference until it is done
            task.add_done_callback(self._pruning.discard)
        return version

    async def settled(self) -> None:
        """Wait for the pruning started by earlier commits (tests and shutdown)."""
        await asyncio.gather(*self._pruning, return_exceptions=True)

    async def _prune(self, doc_id: str) -> None:
        try:
            commit = await self.collection.find_one({"_id": doc_id}, {"state_id": 1})
            if commit:
                await self.states.delete_one({"_id": commit["state_id"]})
        except Exception as exc:  # pruning is housekeeping; the next commit prunes the next one
            log.warning("could not prune the state of %s: %r", doc_id, exc)

    async def _move_head(self, aggregate_id: str, version: int) -> None:
        try:
            await self.heads.update_one({"_id": aggregate_id}, {"$max": {"version": version}}, upsert=True)
        except DuplicateKeyError:
            pass  # a concurrent writer created the head; it is only a hint, load steps forward

    async def exists(self, aggregate_id: str) -> bool:
        """Whether the aggregate has been created (two small reads by _id at most)."""
        if await self.heads.find_one({"_id": aggregate_id}, {"_id": 1}):
            return True
        return await self.collection.find_one({"_id": self.document_id(aggregate_id, 1)}, {"_id": 1}) is not None

    async def latest_of_all(self, where: dict[str, Any] | None = None) -> list[Versioned]:
        """The newest version of every aggregate whose state has the given field values."""
        found = []
        async for head in self.heads.find({}):
            current = await self.load(head["_id"])
            if current and all(current.state.get(k) == v for k, v in (where or {}).items()):
                found.append(current)
        return found


def outbox_map(events: Iterable[Event], version: int) -> dict[str, Any]:
    """The `outbox` field of a new document holding `events`."""
    return outbox_entries(events, version)


async def apply_once(collection: Any, doc_id: str, event_id: str, update: dict[str, Any]) -> bool:
    """Apply `update` to the projection document unless it has applied `event_id` already
    (creating the document if needed). Returns False for a duplicate."""
    update = {**update, "$push": {**update.get("$push", {}), "applied": event_id}}
    try:
        await collection.update_one({"_id": doc_id, "applied": {"$ne": event_id}}, update, upsert=True)
    except DuplicateKeyError:
        return False  # the document exists and has the event already: the upsert collided with it
    return True


async def change_aggregate(store: AggregateStore, aggregate_id: str,
                           change: Callable[[Versioned | None], tuple[dict[str, Any], list[Event]] | None],
                           locks: "KeyedLocks | None" = None, retries: int = 100) -> int | None:
    """Load → decide → commit with retry: `change(current)` returns the new state and its events
    (or None to store nothing); on a VersionConflict it runs again on the newer version.

    Returns the committed version, or None when `change` stored nothing. Raises VersionConflict
    after `retries` lost races. `locks` (optional) serialises this process's own writers first.
    """
    async def attempt() -> int | None:
        for _ in range(retries):
            current = await store.load(aggregate_id)
            decided = change(current)
            if decided is None:
                return None
            state, events = decided
            try:
                return await store.commit(aggregate_id, state, current.version if current else 0, events)
            except VersionConflict:
                continue
        raise VersionConflict(f"{aggregate_id}: {retries} concurrent changes in a row")

    if locks is None:
        return await attempt()
    async with locks.hold(f"{store.collection.name}:{aggregate_id}"):
        return await attempt()


class VersionedDocuments:
    """Command-side documents that several processes change at once, through the document store
    (emm_common.store) only: every read and write by `_id`.

    On FerretDB v1 a conditional update is not atomic across processes: four processes doing
    150 read-then-`update_one({_id, version: v})` each on one document were told 370 times that
    their update matched, and the document took 197 of them. The one write it does refuse
    exactly once is an insert of an `_id` that exists. So a change is decided by inserting its
    *commit*, and the document that readers read is written after it:

    - `<name>_commits/{id}@{n}`: `{aggregate_id, commit: n, state}` with the change's events in
      its outbox, inserted once. Of several writers deciding commit n, exactly one inserts it;
      the others get `VersionConflict`, load again and decide again. Only the relay writes a
      commit afterwards (removing what it published).
    - `<name>/{id}`: `{_id, commit: n, state}`, the newest state, replaced after each commit
      (guarded by the store's version). A crash between the two writes, or a slower writer of an
      older commit, leaves it behind: `load(confirm=True)` steps forward through the commits
      after it, and the next change repairs it.

    A change costs one read (the document) and two writes; a confirmed read two reads. States
    are JSON text: FerretDB decodes nested documents slowly and rewrites a whole document on any
    update, and the state is only ever read and written whole.
    """

    def __init__(self, store: Any, name: str) -> None:
        self.store = store
        self.name = name
        self.commits = commits_of(name)

    async def load(self, aggregate_id: str, *, confirm: bool = False) -> "Current":
        """The document as last written (commit 0 and state None if there is none); with
        `confirm`, stepped forward through any commit written after it."""
        head = await self.store.get(self.name, aggregate_id)
        current = _current(aggregate_id, head)
        if confirm:
            current = await self._forward(current)
        return current

    async def load_many(self, ids: Iterable[str]) -> dict[str, "Current"]:
        """The documents as last written, those that exist, in one read."""
        found = await self.store.get_many(self.name, ids)
        return {doc_id: _current(doc_id, head) for doc_id, head in found.items()}

    async def all(self) -> list["Current"]:
        """Every document as last written, in one read (listings)."""
        return [_current(head.id, head) for head in await self.store.all(self.name)]

    async def commit(self, current: "Current", state: dict[str, Any], events: Iterable[Event] = ()) -> "Current":
        """Commit `state` and its events as the change after `current`; VersionConflict if another
        writer committed it first. Then bring the document up to it."""
        number = current.commit + 1
        text = json.dumps(state, separators=(",", ":"))
        record = {"_id": aggregates.commit_id(current.id, number), "aggregate_id": current.id, "commit": number,
                  "state": text}
        if not await self.store.insert(self.commits, record, list(events)):
            raise VersionConflict(f"{self.name}/{current.id}: commit {number} was written first by another writer")
        document = {"_id": current.id, "commit": number, "state": text}
        try:
            if current.head is None:
                await self.store.insert(self.name, document)  # refused: another writer's is newer; loads step on
            else:
                await self.store.replace(self.name, current.head, document)
        except VersionConflict:
            pass  # a writer of a later commit moved the document on
        return Current(current.id, number, state, None)

    async def _forward(self, current: "Current") -> "Current":
        number, state = current.commit, current.state
        while (newer := await self.store.get(self.commits, aggregates.commit_id(current.id, number + 1))) is not None:
            number, state = number + 1, json.loads(newer.document["state"])
        return current if number == current.commit else Current(current.id, number, state, current.head)


def commits_of(name: str) -> str:
    """The collection holding the commits (and so the outboxes) of VersionedDocuments `name`."""
    return f"{name}_commits"


@dataclass(frozen=True)
class Current:
    """An aggregate as loaded: its newest commit number (0: none yet), its state (None: it does
    not exist) and the document read, which the next commit replaces."""

    id: str
    commit: int
    state: dict[str, Any] | None
    head: Any  # emm_common.store.Stored | None

    @property
    def exists(self) -> bool:
        return self.state is not None


def _current(aggregate_id: str, head: Any) -> Current:
    if head is None:
        return Current(aggregate_id, 0, None, None)
    return Current(aggregate_id, head.document["commit"], json.loads(head.document["state"]), head)
