"""The document store: the one way a service reads and writes its documents.

Every read and write is by `_id` (FerretDB v1 scans a whole collection for anything else):

- `get(collection, id)` and `get_many(collection, ids)` (one round trip for all of them) return
  `Stored` documents: the state, without the outbox, and the version a replace must name;
- `insert(collection, document, events)` writes a new document once: a second insert of one
  `_id` is refused (False), by FerretDB v1 too, so of several writers exactly one wins, and the
  events of a refused insert are never published (a decision taken once: a trainer certified).
  `insert_many` does the same for several documents in one round trip;
- `replace(collection, current, document, events)` writes the document over `current`, only if
  it is still at `current.version` (else `VersionConflict`: load again and decide again);
- `all(collection)` reads a whole collection, for the API's listings only (never on a worker's path).

A write may carry events: they go into that document's `outbox` in the same single-document
write, and the store hands them to the outbox relay (`on_commit`), which publishes them and
removes them from the outbox (emm_common.outbox).

On FerretDB v1 a conditional update is not atomic: two writers of one document at once can
both match `current.version`. So a replace is safe where a document has one writer at a time
(a worker's projection: one consumer per partition), and its guard catches a writer that read
before another wrote (a rebalance, a restart); where several writers race, the document is
inserted once instead. The relay is the other writer of a document with an outbox: a store and
the relay of one process share `KeyedLocks`, held around each write of one document.

Adapters: `emm_common.store.mongo.MongoDocumentStore` (the only code that touches the driver
for these documents) and `emm_common.store.memory.MemoryDocumentStore` (unit tests and the
offline rebuild), with the same semantics. Both count their round trips in `round_trips`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Protocol, Sequence

from emm_common.envelope import Event

# The field holding a document's version: how many writes it has had (1 after its insert).
# Bookkeeping, like the outbox: two projections with equal state may have different versions.
VERSION = "_version"
OUTBOX = "outbox"
PARKED_OUTBOX = "parked_outbox"
BOOKKEEPING_FIELDS = frozenset({VERSION, OUTBOX, PARKED_OUTBOX})

READS = frozenset({"get", "get_many", "all"})

# Tells the relay that a document's outbox has new entries: (collection, document id, entries).
OnCommit = Callable[[str, Any, dict[str, Any]], None]


class VersionConflict(Exception):
    """Another writer changed (or created) this document first; load it again and retry."""


@dataclass(frozen=True)
class Stored:
    """A document as read: its state (with `_id`, without version and outboxes) and its version
    (0 for a document written before versions existed)."""

    document: dict[str, Any]
    version: int

    @property
    def id(self) -> Any:
        return self.document["_id"]


def stored(raw: Mapping[str, Any] | None) -> Stored | None:
    """The Stored form of a document read from the database (None stays None)."""
    if raw is None:
        return None
    return Stored({k: v for k, v in raw.items() if k not in BOOKKEEPING_FIELDS}, raw.get(VERSION) or 0)


class RoundTrips:
    """How many calls a store made, by operation and collection (`calls[("get", "sessions")]`)."""

    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()

    def count(self, operation: str, collection: str) -> None:
        self.calls[(operation, collection)] += 1

    @property
    def reads(self) -> int:
        return sum(n for (operation, _), n in self.calls.items() if operation in READS)

    @property
    def writes(self) -> int:
        return sum(n for (operation, _), n in self.calls.items() if operation not in READS)

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def reset(self) -> None:
        self.calls.clear()


class DocumentStore(Protocol):
    """The port (see the module docstring)."""

    round_trips: RoundTrips
    on_commit: OnCommit | None

    async def get(self, collection: str, doc_id: Any) -> Stored | None: ...

    async def get_many(self, collection: str, ids: Iterable[Any]) -> dict[Any, Stored]: ...

    async def insert(self, collection: str, document: Mapping[str, Any], events: Sequence[Event] = ()) -> bool: ...

    async def insert_many(self, collection: str,
                          documents: Sequence[tuple[Mapping[str, Any], Sequence[Event]]]) -> set[Any]: ...

    async def replace(self, collection: str, current: Stored, document: Mapping[str, Any],
                      events: Sequence[Event] = ()) -> None: ...

    async def all(self, collection: str, fields: Sequence[str] | None = None) -> list[Stored]: ...
