"""The delivery loop: send every due message once, retry temporary failures, record each outcome.

Each attempt has one writer: the worker that inserted its claim `<notification_id>#<attempt>`
(an insert of a unique _id, which FerretDB v1, unlike a conditional update, makes exclusive).
Only that worker changes the entry for that attempt, and it records the outcome together with
the notification.sent / notification.failed event in ONE write (the event goes into the entry's
outbox, published by the relay).

The window we cannot close: the SMTP server accepts the message, then the worker dies before the
log write. The entry stays `sending`; when its lease runs out another attempt is claimed, the
interrupted one is recorded in the history (`outcome: interrupted`), the entry is marked
`possible_duplicate`, and the message is sent again with the same Message-ID (derived from the
notification id) so a mail client or support staff can recognise the copy. At most one duplicate
per crash in that window; never a lost message.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping

from emm_common import logs, metrics
from emm_common.envelope import Event, new_event
from emm_notification.domain.channel import Channel
from emm_notification.domain.composition import Programme, compose_message
from emm_notification.domain.messages import MessageKind, PlanStatus, may_write
from emm_notification.domain.retry import DEFAULT_POLICY, DeliveryError, FinalFailure, RetryPolicy, after_failure
from emm_notification.service_layer.handlers import Clock, utcnow
from emm_notification.service_layer.log_entries import Status, claim_id, planned_from
from emm_notification.service_layer.ports import NotificationLog, Projections
from emm_notification.service_layer.projections import SessionRecord

log = logging.getLogger(__name__)

SOURCE = "/emm/notification"
_EVENT_IDS = uuid.UUID("6f1c7a55-3f0e-4c1b-9a43-8d1f4a0e2b77")
WAITING_FOR_SESSION = "session details not received yet"


@dataclass(frozen=True)
class DeliveryOptions:
    policy: RetryPolicy = DEFAULT_POLICY
    lease: timedelta = timedelta(seconds=120)
    batch: int = 100
    concurrency: int = 4
    session_wait: timedelta = timedelta(seconds=5)


def outcome_event(entry: Mapping[str, Any], outcome: str, attempt: int, claim: int, at: datetime, *, language: str,
                  reason: str | None = None) -> Event:
    """notification.sent or notification.failed for one attempt; its id is derived from the
    notification and claim, so the same outcome always carries the same event id."""
    data: dict[str, Any] = {
        "notification_id": entry["_id"], "kind": entry["kind"], "channel": entry.get("channel", "email"),
        "recipient_participant_id": entry["recipient_participant_id"], "language": language,
        "caused_by_event_id": entry["caused_by_event_id"], "attempts": attempt,
        f"{outcome}_at": at.isoformat().replace("+00:00", "Z")}
    if entry.get("session_id"):
        data["session_id"] = entry["session_id"]
    if reason:
        data["reason"] = reason[:1000]
    return new_event(f"org.iom.emm.notification.{outcome}.v1", data, source=SOURCE,
                     event_id=str(uuid.uuid5(_EVENT_IDS, f"{entry['_id']}#{claim}#{outcome}")), time=at)


def no_longer_wanted(kind: str, recipient_id: str, session: SessionRecord | None) -> str | None:
    """Why a scheduled reminder should not go out any more (session cancelled, enrollment cancelled)."""
    if kind not in (MessageKind.SESSION_REMINDER, MessageKind.EVALUATION_REMINDER):
        return None
    if session is None or session.cancelled:
        return "session cancelled"
    if recipient_id not in session.registered_ids:
        return "enrollment cancelled"
    if kind == MessageKind.EVALUATION_REMINDER and recipient_id in session.evaluated_ids:
        return "evaluation already submitted"
    return None


class Delivery:
    def __init__(self, log: NotificationLog, projections: Projections, channel: Channel, *,
                 programme: Programme = Programme(), options: DeliveryOptions = DeliveryOptions(),
                 clock: Clock = utcnow, worker_id: str = "worker") -> None:
        self.log = log
        self.projections = projections
        self.channel = channel
        self.programme = programme
        self.options = options
        self.clock = clock
        self.worker_id = worker_id
        self._wake = asyncio.Event()

    def nudge(self) -> None:
        """Something became due: look now instead of at the next poll."""
        self._wake.set()

    async def deliver_due(self) -> int:
        """Make one attempt at every message due now; return how many attempts this worker made."""
        entries = await self.log.due(self.clock(), self.options.batch)
        if not entries:
            return 0
        limit = asyncio.Semaphore(self.options.concurrency)

        async def one(entry: dict) -> bool:
            async with limit:
                try:
                    with logs.correlated(entry.get("traceparent")):  # the correlation of the event that planned it
                        return await self.deliver(entry)
                except Exception:  # one broken entry must not stop the others
                    log.exception("delivery of %s failed unexpectedly", entry["_id"])
                    return False

        return sum(await asyncio.gather(*(one(e) for e in entries)))

    async def _claim(self, entry: Mapping[str, Any]) -> tuple[int, list[int]] | None:
        """Claim the entry's next claim number; return (claim, interrupted claims before it) or None
        if another worker holds it. A claim older than the lease with no outcome recorded was
        interrupted (its worker died, perhaps after sending): the next number is claimed instead."""
        number, interrupted = entry.get("last_claim", 0) + 1, []
        while True:
            now = self.clock()
            if await self.log.claim(claim_id(entry["_id"], number), now, self.worker_id):
                return number, interrupted
            claimed_at = await self.log.claimed_at(claim_id(entry["_id"], number))
            if claimed_at is not None and now - claimed_at < self.options.lease:
                return None
            interrupted.append(number)
            number += 1

    async def deliver(self, entry: dict[str, Any]) -> bool:
        """One attempt at one due entry. Returns False if it was not this worker's to make."""
        nid, recipient = entry["_id"], entry["recipient_participant_id"]
        contact = (await self.projections.contacts([recipient])).get(recipient)
        session = await self.projections.session(entry["session_id"]) if entry.get("session_id") else None
        if entry.get("session_id") and (session is None or session.snapshot is None) and contact is not None:
            # enrollments and sessions are separate topics: the session may simply arrive later
            await self.log.update(nid, {"next_attempt_at": self.clock() + self.options.session_wait,
                                        "reason": WAITING_FOR_SESSION})
            return False
        claimed = await self._claim(entry)
        if claimed is None:
            return False
        claim, interrupted = claimed
        now = self.clock()
        tries = entry["attempts"] + len(interrupted)  # an interrupted claim may have reached the server
        history = [{"attempt": entry["attempts"] + i + 1, "claim": n, "at": now, "outcome": "interrupted",
                    "reason": "the worker stopped during this attempt; the mail server may have accepted it"}
                   for i, n in enumerate(interrupted)]
        base: dict[str, Any] = {"last_claim": claim, "attempts": tries}
        if interrupted:
            base["possible_duplicate"] = True
        may, reason = may_write(contact, entry["kind"])
        if may is not PlanStatus.TO_SEND:
            status = Status.AWAITING_CONTACT if may is PlanStatus.AWAITING_CONTACT else Status.SKIPPED
            history.append({"claim": claim, "at": now, "outcome": str(status), "reason": reason})
            await self._record(nid, {**base, "status": str(status), "reason": reason, "next_attempt_at": None}, history)
            return True
        if reason := no_longer_wanted(entry["kind"], recipient, session):
            history.append({"claim": claim, "at": now, "outcome": "skipped", "reason": reason})
            await self._record(nid, {**base, "status": str(Status.SKIPPED), "reason": reason,
                                     "next_attempt_at": None}, history)
            return True
        attempt = tries + 1
        try:
            message = compose_message(planned_from(entry), contact, session.snapshot if session else None,
                                      programme=self.programme)
        except Exception as error:  # a template or data bug: sending the same again would fail again
            return await self._failed(entry, attempt, claim, base, history,
                                      f"cannot compose: {type(error).__name__}: {error}", language=entry["language"])
        await self.log.update(nid, {"status": str(Status.SENDING), "sending_claim": claim,
                                    "next_attempt_at": now + self.options.lease})
        try:
            # Bounded well below the lease, so a live sender always records before anyone takes over.
            await asyncio.wait_for(self.channel.send(message), self.options.lease.total_seconds() / 2)
        except (DeliveryError, asyncio.TimeoutError) as error:
            if isinstance(error, asyncio.TimeoutError):
                error = DeliveryError("timed out")
            decision = after_failure(attempt - entry.get("attempt_base", 0), error, now=self.clock(),
                                     policy=self.options.policy)
            log.warning("notification %s (%s) attempt %d not delivered: %s", nid, entry["kind"], attempt, error)
            if isinstance(decision, FinalFailure):
                return await self._failed(entry, attempt, claim, base, history, decision.reason,
                                          language=message.language)
            history.append({"attempt": attempt, "claim": claim, "at": self.clock(), "outcome": "retry",
                            "reason": decision.reason})
            metrics.EMAILS.labels(entry["kind"], "retry").inc()
            await self._record(nid, {**base, "status": str(Status.RETRYING), "reason": decision.reason,
                                     "attempts": attempt, "next_attempt_at": decision.at}, history)
            return True
        sent_at = self.clock()
        metrics.EMAILS.labels(entry["kind"], "sent").inc()
        log.info("sent notification %s (%s) attempt %d", nid, entry["kind"], attempt)
        history.append({"attempt": attempt, "claim": claim, "at": sent_at, "outcome": "sent"})
        event = outcome_event(entry, "sent", attempt, claim, sent_at, language=message.language or entry["language"])
        await self._record(nid, {**base, "status": str(Status.SENT), "reason": None, "attempts": attempt,
                                 "sent_at": sent_at, "next_attempt_at": None, "language": message.language},
                           history, events=[event], version=claim)
        return True

    async def _failed(self, entry: Mapping[str, Any], attempt: int, claim: int, base: dict, history: list[dict],
                      reason: str, *, language: str | None) -> bool:
        at = self.clock()
        metrics.EMAILS.labels(entry["kind"], "failed").inc()
        log.warning("notification %s (%s) failed for good after attempt %d", entry["_id"], entry["kind"], attempt)
        history.append({"attempt": attempt, "claim": claim, "at": at, "outcome": "failed", "reason": reason})
        event = outcome_event(entry, "failed", attempt, claim, at, language=language or entry["language"],
                              reason=reason)
        await self._record(entry["_id"], {**base, "status": str(Status.FAILED), "reason": reason, "attempts": attempt,
                                          "failed_at": at, "next_attempt_at": None}, history, events=[event],
                           version=claim)
        return True

    async def _record(self, nid: str, fields: dict[str, Any], history: list[dict], *, events=(), version: int = 0) -> None:
        await self.log.update(nid, fields, history=history, events=events, version=version)

    async def run(self, poll_seconds: float) -> None:
        """Deliver forever; every error is logged and the loop goes on."""
        while True:
            self._wake.clear()
            try:
                if await self.deliver_due():
                    continue  # there may be more than one batch
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("delivery pass failed; trying again in %.1fs", poll_seconds)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=poll_seconds)
            except asyncio.TimeoutError:
                pass
