"""The notification log's entries: one document per message, keyed by its notification_id.

An entry is planned once (inserted under `notification_key(event, recipient, kind)`, so a
redelivered event inserts nothing), then moved along by whoever holds the claim of its current
attempt. Its `history` lists every attempt; its `outbox` holds notification.sent / .failed until
the relay has published them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Mapping

from emm_notification.domain.messages import CalendarAction, MessageKind, PlannedMessage, PlanStatus


class Status(StrEnum):
    PLANNED = "planned"
    AWAITING_CONTACT = "awaiting_contact"
    SKIPPED = "skipped"
    SENDING = "sending"
    SENT = "sent"
    RETRYING = "retrying"
    FAILED = "failed"


# The delivery loop picks these when their next_attempt_at has come (`sending` once its lease ran out).
DELIVERABLE = (Status.PLANNED, Status.RETRYING, Status.SENDING)

_STATUS_OF_PLAN = {PlanStatus.TO_SEND: Status.PLANNED, PlanStatus.SKIPPED: Status.SKIPPED,
                   PlanStatus.AWAITING_CONTACT: Status.AWAITING_CONTACT}


def new_entry(planned: PlannedMessage, now: datetime) -> dict[str, Any]:
    """The log document of a freshly planned message."""
    status = _STATUS_OF_PLAN[planned.status]
    return {
        "_id": planned.notification_id, "kind": str(planned.kind), "channel": "email",
        "recipient_participant_id": planned.recipient_id, "session_id": planned.session_id,
        "caused_by_event_id": planned.caused_by_event_id, "language": planned.language,
        "calendar": planned.calendar.value if planned.calendar else None, "facts": dict(planned.facts),
        "status": str(status), "reason": planned.reason, "attempts": 0, "attempt_base": 0, "last_claim": 0,
        "next_attempt_at": now if status is Status.PLANNED else None, "history": [],
        "created_at": now, "sent_at": None, "possible_duplicate": False, "outbox": {},
    }


def planned_from(entry: Mapping[str, Any]) -> PlannedMessage:
    """The planned message an entry stands for, as the composer needs it at send time."""
    return PlannedMessage(
        notification_id=entry["_id"], kind=MessageKind(entry["kind"]),
        recipient_id=entry["recipient_participant_id"], caused_by_event_id=entry["caused_by_event_id"],
        session_id=entry.get("session_id"), language=entry["language"], status=PlanStatus.TO_SEND,
        calendar=CalendarAction(entry["calendar"]) if entry.get("calendar") else None,
        facts=dict(entry.get("facts") or {}))


def claim_id(notification_id: str, number: int) -> str:
    """The unique key that lets exactly one worker move the entry on, the `number`th time."""
    return f"{notification_id}#{number}"


def resend_claim_id(notification_id: str, last_claim: int) -> str:
    """The unique key of a resend of a message that failed at claim `last_claim` (one resend per failure)."""
    return f"{notification_id}#resend-after-{last_claim}"
