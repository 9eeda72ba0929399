"""An organizer's resend of a failed message: reopens it for the delivery loop, once per failure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from emm_common.errors import Conflict, NotFound
from emm_notification.service_layer.log_entries import Status, resend_claim_id
from emm_notification.service_layer.ports import NotificationLog


class NotificationNotFound(NotFound):
    def __init__(self, notification_id: str) -> None:
        super().__init__("notification_id", f"no notification {notification_id}")


class NotResendable(Conflict):
    def __init__(self, message: str) -> None:
        super().__init__("status", message)


async def request_resend(log: NotificationLog, notification_id: str, *, by: str, now: datetime) -> dict[str, Any]:
    """Put a failed message back in the delivery queue with a fresh set of tries; return the entry.

    Raises NotificationNotFound, or NotResendable when it is not failed, when its failure is still
    being published (the relay writes the entry then), or when another resend of it won.
    """
    entry = await log.get(notification_id)
    if entry is None:
        raise NotificationNotFound(notification_id)
    if entry["status"] != Status.FAILED:
        raise NotResendable(f"only failed messages can be resent; this one is {entry['status']}")
    if entry.get("outbox"):
        raise NotResendable("its failure is still being published; try again in a few seconds")
    if not await log.claim(resend_claim_id(notification_id, entry.get("last_claim", 0)), now, by):
        raise NotResendable("a resend of this message was already requested")
    fields = {"status": str(Status.PLANNED), "reason": f"resend requested by {by}", "next_attempt_at": now,
              "attempt_base": entry["attempts"]}
    await log.update(notification_id, fields, history=[{"at": now, "outcome": "resend_requested", "by": by}])
    return await log.get(notification_id)
