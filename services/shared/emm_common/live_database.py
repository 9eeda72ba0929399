"""Which database a service's processes use: its *home* database (`<SERVICE>_MONGODB_DATABASE`,
default `emm_<service>`), unless the pointer document in the home database names another.

A switch-over (emm_common.switch_over) rebuilds the projections into a new database, then moves
the pointer to it; each API and worker reads the pointer once, at start, so a restart switches
it. The home database keeps the pointer (`live_database`, `_id: "live"`) for good: never drop it,
even when its other collections are no longer live.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from emm_common.settings import ServiceSettings

POINTER = "live_database"
POINTER_ID = "live"


class PointerMoved(RuntimeError):
    """Someone else moved the pointer since this switch-over read it."""


async def resolve(settings: ServiceSettings, home: Any) -> Any:
    """The live database on `home`'s server: the one the pointer names, else `home` itself (and
    `home` for a service that does not follow a pointer: `follow_live_database` false)."""
    if not settings.follow_live_database:
        return home
    pointer = await home[POINTER].find_one({"_id": POINTER_ID})
    return home.client[pointer["database"]] if pointer else home


async def point_to(home: Any, database_name: str, *, previous: str) -> None:
    """Move the pointer in `home` from `previous` (the database live until now) to `database_name`;
    raise PointerMoved if it no longer names `previous`."""
    moved = {"database": database_name, "previous": previous, "switched_at": datetime.now(timezone.utc)}
    if previous == home.name:  # no pointer yet, or one that points home
        current = await home[POINTER].find_one({"_id": POINTER_ID})
        if current is None:
            await home[POINTER].insert_one({"_id": POINTER_ID, **moved})
            return
    result = await home[POINTER].update_one({"_id": POINTER_ID, "database": previous}, {"$set": moved})
    if result.matched_count != 1:
        raise PointerMoved(f"the live database of {home.name} is no longer {previous}; nothing switched")
