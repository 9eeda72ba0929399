"""What the service layer needs from storage: MongoDB in production (adapters/), in-memory fakes in unit tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Protocol

from emm_common.envelope import Event
from emm_notification.domain.read_model import Contact
from emm_notification.service_layer.projections import SessionRecord


class Projections(Protocol):
    """Contacts and sessions as this service learned them from events (each applied once per event id)."""

    async def apply_contact(self, event: Event) -> bool: ...
    async def apply_staff(self, event: Event) -> bool: ...
    async def apply_session(self, event: Event, session_id: str) -> bool: ...
    async def apply_enrollment(self, event: Event, session_id: str) -> bool: ...
    async def apply_feedback(self, event: Event, session_id: str) -> bool: ...
    async def apply_attendance(self, event: Event, session_id: str) -> bool: ...
    async def contacts(self, participant_ids: Iterable[str]) -> dict[str, Contact]: ...
    async def organizers_of(self, office: str | None) -> list[str]:
        """The staff ids of the active organizers acting for `office` (or for every office), by id."""
    async def session(self, session_id: str) -> SessionRecord | None: ...
    async def sessions(self) -> list[SessionRecord]: ...


class NotificationLog(Protocol):
    """Every message with its status and attempts, plus the insert-unique claims that give each
    attempt a single writer."""

    async def keep_plan(self, event_id: str, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Keep the entries an event planned, once per event id; return the plan kept (an earlier
        one, if another writer kept one first)."""
    async def add(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Insert the entries whose _id is new; return those inserted."""
    async def get(self, notification_id: str) -> dict[str, Any] | None: ...
    async def find(self, *, participant_id: str | None = None, session_id: str | None = None,
                   status: str | None = None, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """Entries newest first (ties by id), `limit` of them after skipping `offset`."""
    async def due(self, now: datetime, limit: int) -> list[dict[str, Any]]: ...
    async def awaiting_contact(self, participant_id: str) -> list[dict[str, Any]]: ...
    async def update(self, notification_id: str, fields: dict[str, Any], *, history: list[dict[str, Any]] = (),
                     events: Iterable[Event] = (), version: int = 0) -> None:
        """Set `fields`, append the `history` items, and put `events` in the entry's outbox, in one write."""
    async def claim(self, key: str, now: datetime, by: str) -> bool:
        """Insert the claim `key`; False if it exists already (someone else holds it)."""
    async def claimed_at(self, key: str) -> datetime | None: ...
    async def occasion_planned(self, occasion_id: str) -> bool: ...
    async def mark_occasion(self, occasion_id: str, now: datetime) -> None: ...
