"""Notification's answers to authorization's questions (emm_common.authorization.ScopeSource),
from its own projection of the session events and its notification log."""

from __future__ import annotations

from typing import Any, Iterable

from emm_common.authorization import SessionScope, Target

NO_SESSION = "a message of no session (a sign-in link) is the regional EMM team's to see"


class NotificationScopes:
    def __init__(self, database: Any) -> None:
        self.sessions = database.sessions
        self.entries = database.notifications

    async def session(self, session_id: str) -> SessionScope | None:
        found = await self.sessions.find_one({"_id": session_id}, {"snapshot": 1})
        snapshot = (found or {}).get("snapshot")
        if snapshot is None:
            return None
        return SessionScope(session_id, snapshot.get("organizing_office"),
                            frozenset(snapshot.get("facilitator_ids") or ()))

    async def enrollment_status(self, session_id: str, enrollment_id: str, participant_id: str) -> str | None:
        return None  # no participant calls this API

    async def target(self, kind: str, value: str) -> Target | None:
        if kind != "notification_id":
            return None
        entry = await self.entries.find_one({"_id": value}, {"session_id": 1})
        if entry is None:
            return None
        session = await self.session(entry["session_id"]) if entry.get("session_id") else None
        if session is None:
            return Target(regional_only=NO_SESSION)
        return Target(session=session, offices=frozenset({session.office} if session.office else ()))

    async def sessions_of(self, offices: Iterable[str]) -> list[str]:
        """The ids of the sessions organized by these offices."""
        found = self.sessions.find({"snapshot.organizing_office": {"$in": sorted(offices)}}, {"_id": 1})
        return sorted([doc["_id"] async for doc in found])
