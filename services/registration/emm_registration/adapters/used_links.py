"""Staff sign-in links already used: one document per link, `_id` its jti, inserted once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from emm_common.auth import Link


class MongoUsedLinks:
    def __init__(self, collection: Any) -> None:
        self.collection = collection

    async def use(self, link: Link, now: datetime) -> bool:
        try:
            # An insert of a unique _id: of two simultaneous uses, exactly one succeeds (FerretDB v1 too).
            await self.collection.insert_one({"_id": link.jti, "subject": link.subject, "used_at": now,
                                              "expires_at": link.expires_at})
        except DuplicateKeyError:
            return False
        return True
