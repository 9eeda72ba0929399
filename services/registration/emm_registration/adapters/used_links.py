"""Staff sign-in links already used: one document per link, `_id` its jti, inserted once."""

from __future__ import annotations

from datetime import datetime

from emm_common.auth import Link
from emm_common.store import DocumentStore

USED_LINKS = "used_links"


class StoredUsedLinks:
    def __init__(self, store: DocumentStore) -> None:
        self.store = store

    async def use(self, link: Link, now: datetime) -> bool:
        # An insert of a unique _id: of two simultaneous uses, exactly one succeeds (FerretDB v1 too).
        return await self.store.insert(USED_LINKS, {"_id": link.jti, "subject": link.subject, "used_at": now,
                                                    "expires_at": link.expires_at})
