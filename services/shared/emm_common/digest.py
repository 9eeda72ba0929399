"""Comparing databases: a sha256 over the canonical JSON of a collection's documents, so that a
live projection can be compared with a rebuilt one."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from bson import json_util

from emm_common.store import BOOKKEEPING_FIELDS


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
