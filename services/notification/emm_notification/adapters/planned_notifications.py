"""The notification log of a rebuild: which messages the handlers plan, never their delivery.

A rebuild replays the topics through the worker's own NotificationHandlers. Their log port is
this: each planned entry is recorded under its deterministic notification id with its kind,
recipient and session, in `planned_notifications`. Not the causing event: a message keyed by
its session (the evaluation invitation, the organizer digest) names whichever of its facts came
last, which depends on how the worker met the topics, while its id does not. No delivery state
is kept (status, attempts, history, the time it was planned), so nothing is due, nothing is
released, and nothing can be sent: a worker started on the rebuilt database finds no delivery
queue. Everything about sending raises.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Mapping

from pymongo.errors import DuplicateKeyError

from emm_common.envelope import Event
from emm_notification.domain.messages import MessageKind

COLLECTION = "planned_notifications"
PLAN_FIELDS = ("_id", "kind", "recipient_participant_id", "session_id")
# Planned by the worker's scheduler from the clock, not caused by an event: a rebuild has none.
SCHEDULED_KINDS = frozenset({MessageKind.SESSION_REMINDER, MessageKind.EVALUATION_REMINDER})


def plan_fields(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {name: entry.get(name) for name in PLAN_FIELDS}


def plan_of(entry: Mapping[str, Any]) -> dict[str, Any] | None:
    """What a live log entry and a rebuilt one have in common: the plan fields of an entry an
    event caused (None for a scheduler-made reminder). A `normalise` for collection_digests."""
    return None if entry["kind"] in SCHEDULED_KINDS else plan_fields(entry)


class PlannedNotifications:
    """The NotificationLog port for a rebuild (see the module's docstring)."""

    def __init__(self, collection: Any) -> None:
        self.entries = collection
        self._plans: dict[str, list[dict[str, Any]]] = {}  # only for this run: a duplicate on a topic

    async def keep_plan(self, event_id: str, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return self._plans.setdefault(event_id, entries)

    async def add(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        inserted = []
        for entry in entries:
            try:
                await self.entries.insert_one(plan_fields(entry))
            except DuplicateKeyError:
                continue  # planned before: a redelivered event
            inserted.append(entry)
        return inserted

    async def awaiting_contact(self, participant_id: str) -> list[dict[str, Any]]:
        return []  # no delivery state: nothing waits to be released

    async def update(self, notification_id: str, fields: dict[str, Any], *, history: list[dict[str, Any]] = (),
                     events: Iterable[Event] = (), version: int = 0) -> None:
        """Only a delivery-state change (an entry released once its contact arrived) comes here: not kept."""
        if list(events):
            raise NotImplementedError("a rebuild publishes nothing")
        if set(fields) & set(PLAN_FIELDS):
            raise NotImplementedError(f"a planned entry's {sorted(set(fields) & set(PLAN_FIELDS))} never change")

    async def get(self, notification_id: str) -> dict[str, Any] | None:
        raise NotImplementedError("a rebuild does not deliver")

    async def find(self, **query: Any) -> list[dict[str, Any]]:
        raise NotImplementedError("a rebuild serves no queries")

    async def due(self, now: datetime, limit: int) -> list[dict[str, Any]]:
        raise NotImplementedError("a rebuild does not deliver")

    async def claim(self, key: str, now: datetime, by: str) -> bool:
        raise NotImplementedError("a rebuild does not deliver")

    async def claimed_at(self, key: str) -> datetime | None:
        raise NotImplementedError("a rebuild does not deliver")

    async def occasion_planned(self, occasion_id: str) -> bool:
        raise NotImplementedError("a rebuild does not schedule reminders")

    async def mark_occasion(self, occasion_id: str, now: datetime) -> None:
        raise NotImplementedError("a rebuild does not schedule reminders")
