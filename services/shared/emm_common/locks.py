"""One asyncio lock per key, so that a process serialises its own writers of one document."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from contextlib import asynccontextmanager
from typing import AsyncIterator


class KeyedLocks:
    """One asyncio lock per key (e.g. per session), so a process serialises its own writers of
    one document instead of letting them fail on the version guard, or, on FerretDB v1 (whose
    updates are not atomic), overwrite each other."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._users: dict[str, int] = defaultdict(int)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        self._users[key] += 1
        try:
            async with self._locks[key]:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key]
                del self._locks[key]
