"""Messages due at a point in time rather than caused by an event: the day-before session reminder
and the evaluation reminder.

Everything is derived from stored data (the session projections) and planned under
deterministic occasion ids, so a restarted worker, or two workers at once, plan the same
notification ids and the log's unique _id keeps one of each.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from emm_notification.domain.messages import MessageKind, absence_occasion, plan_absences, plan_scheduled
from emm_notification.service_layer.handlers import Clock, read_model_for, utcnow
from emm_notification.service_layer.log_entries import Status, new_entry
from emm_notification.service_layer.ports import NotificationLog, Projections
from emm_notification.service_layer.projections import SessionRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReminderTimes:
    session_reminder_lead: timedelta = timedelta(hours=16)
    evaluation_reminder_delay: timedelta = timedelta(hours=72)  # when the closing time is not known
    evaluation_reminder_lead: timedelta = timedelta(hours=48)  # before the evaluation closes


def session_starts_at(snapshot) -> datetime:
    """Midnight of the first day, in the session's time zone."""
    tz = ZoneInfo(snapshot.get("timezone") or "UTC")
    return datetime.combine(date.fromisoformat(snapshot["start_date"]), time(0), tzinfo=tz)


def due_occasions(record: SessionRecord, now: datetime, times: ReminderTimes) -> list[tuple[MessageKind, str]]:
    """The reminders of one session due at `now`, with their occasion ids."""
    if record.snapshot is None or record.cancelled:
        return []
    due = []
    starts = session_starts_at(record.snapshot)
    if record.status != "completed" and starts - times.session_reminder_lead <= now < starts:
        # The start date is part of the occasion: a session moved to other dates gets a new reminder.
        due.append((MessageKind.SESSION_REMINDER, f"session-reminder:{record.session_id}:{record.snapshot['start_date']}"))
    if record.completed_at is not None and record.evaluation_closed_at is None \
            and now >= evaluation_reminder_due(record, times):
        due.append((MessageKind.EVALUATION_REMINDER, f"evaluation-reminder:{record.session_id}"))
    return due


def evaluation_reminder_due(record: SessionRecord, times: ReminderTimes) -> datetime:
    """A lead time before the evaluation closes (never before completion), or, when the
    completion did not say when it closes, a delay after completion."""
    if record.evaluation_closes_at is not None:
        return max(record.completed_at, record.evaluation_closes_at - times.evaluation_reminder_lead)
    return record.completed_at + times.evaluation_reminder_delay


def over_days(record: SessionRecord, now: datetime) -> list[tuple[str, tuple[str, ...]]]:
    """The session's days with absences whose end (midnight after, in its time zone) has passed."""
    if record.snapshot is None or record.cancelled:
        return []
    tz = ZoneInfo(record.snapshot.get("timezone") or "UTC")
    return [(day, absent) for day, absent in record.absences.items()
            if absent and now >= datetime.combine(date.fromisoformat(day) + timedelta(days=1), time(0), tzinfo=tz)]


class Scheduler:
    def __init__(self, projections: Projections, log: NotificationLog, *, times: ReminderTimes = ReminderTimes(),
                 clock: Clock = utcnow, on_planned=lambda: None) -> None:
        self.projections = projections
        self.log = log
        self.times = times
        self.clock = clock
        self.on_planned = on_planned

    async def plan_due(self) -> int:
        """Plan every reminder due now that is not planned yet; return how many entries were inserted."""
        inserted = 0
        now = self.clock()
        for record in await self.projections.sessions():
            for kind, occasion in due_occasions(record, now, self.times):
                if await self.log.occasion_planned(occasion):
                    continue
                state = await read_model_for(self.projections, record.session_id)
                entries = await self.log.add([new_entry(p, now) for p in
                                              plan_scheduled(kind, record.session_id, state, occasion_id=occasion)])
                inserted += len(entries)
                # Marked after the entries: a crash in between re-plans the same ids, nothing more.
                await self.log.mark_occasion(occasion, now)
                if any(e["status"] == Status.PLANNED for e in entries):
                    self.on_planned()
            inserted += await self.plan_absence_digests(record, now)
        return inserted

    async def plan_absence_digests(self, record: SessionRecord, now: datetime) -> int:
        """One digest per session day with absences, once the day is over where the session is."""
        inserted = 0
        for day, absent in over_days(record, now):
            occasion = absence_occasion(record.session_id, day)
            if await self.log.occasion_planned(occasion):
                continue
            state = await read_model_for(self.projections, record.session_id, *absent, office_organizers=True)
            entries = await self.log.add([new_entry(p, now) for p in plan_absences(record.session_id, day, absent,
                                                                                       state)])
            inserted += len(entries)
            await self.log.mark_occasion(occasion, now)
            if any(e["status"] == Status.PLANNED for e in entries):
                self.on_planned()
        return inserted

    async def run(self, poll_seconds: float) -> None:
        while True:
            try:
                await self.plan_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduling pass failed; trying again in %.1fs", poll_seconds)
            await asyncio.sleep(poll_seconds)
