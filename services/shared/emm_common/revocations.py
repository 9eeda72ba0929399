"""Tokens signed out before they expire: their jti, kept in each service's own database.

Signing out (`POST /sign-out` on every API; the portal calls each one) records the token's jti
with an insert-once write; the authorization dependency refuses a recorded jti with a 401. The
record is needed only until the token's own expiry (a staff token lives 12 hours)."""

from __future__ import annotations

from datetime import datetime

from emm_common.store import DocumentStore

COLLECTION = "revoked_tokens"


class Revocations:
    def __init__(self, store: DocumentStore) -> None:
        self.store = store

    async def revoke(self, token_id: str, subject: str, expires_at: datetime | None, now: datetime) -> None:
        """Record the token as signed out (again: nothing changes)."""
        await self.store.insert(COLLECTION, {"_id": token_id, "subject": subject, "expires_at": expires_at,
                                             "revoked_at": now})

    async def revoked(self, token_id: str | None) -> bool:
        return token_id is not None and await self.store.get(COLLECTION, token_id) is not None
