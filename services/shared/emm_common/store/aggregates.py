"""Reading a command-side aggregate kept as immutable versions (emm_common.documents.AggregateStore
writes them) through the document store: `<name>_heads/{id}` says where to start, commits
`<name>/{id}@{version}` are stepped through while a newer one exists, and the newest one names
its state in `<name>_states`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from emm_common.store import DocumentStore


@dataclass(frozen=True)
class Versioned:
    aggregate_id: str
    version: int
    state: dict[str, Any]


def commit_id(aggregate_id: str, version: int) -> str:
    return f"{aggregate_id}@{version:010d}"


async def latest(store: DocumentStore, name: str, aggregate_id: str) -> Versioned | None:
    """The newest version of an aggregate, or None if it does not exist: one read of its head,
    one of each commit from there (a head left behind by a crash or a race costs one more), one
    of the state."""
    head = await store.get(f"{name}_heads", aggregate_id)
    version = head.document["version"] if head else 1
    commit = await store.get(name, commit_id(aggregate_id, version))
    if commit is None:
        return None
    while (newer := await store.get(name, commit_id(aggregate_id, version + 1))) is not None:
        commit, version = newer, version + 1
    state = await store.get(f"{name}_states", commit.document["state_id"])
    return Versioned(aggregate_id, version, json.loads(state.document["state"]))
