"""Rebuild the notification projections, and the plan of the notification log, from the topics
into an empty database, offline. Nothing is sent and nothing is published.

    python -m emm_notification.entrypoints.rebuild --database emm_notification_v2 [--copy]

Reads emm.sessions, emm.enrollments, emm.attendance, emm.feedback, emm.trainers and emm.contacts.internal from
the earliest offset up to their end offsets at the start, merged by record timestamp, and
applies every record in memory with the worker's own NotificationHandlers (emm_common.rebuild).
No delivery loop, scheduler, SMTP channel or publisher is built. Written with insert_many:

- the read projections `contacts`, `sessions`, `rosters`, `feedback`, `organizers`, `absences`, exactly as the worker's
  (each document has one writer, the consumer of one partition, so they do not depend on the
  order of the topics; `applied` lists the event ids in that partition's order);
- `planned_notifications`: every entry the handlers plan, under its deterministic notification
  id, with kind, recipient and session, and no delivery state (adapters/planned_notifications.py).
  Who is planned for can depend on what the projections held when an event came (the registered
  participants when a session changes or is cancelled, the submissions when the report is
  ready), so the plan equals the live log's when the live worker met the topics in timestamp
  order, as a worker that keeps up does. Reminders are made by the scheduler from the clock,
  not by events: a rebuild plans none.

The notification log (notifications, delivery_claims, scheduled_occasions, delivery_queue,
awaiting_contacts, event_plans) is the record of what was sent and cannot be rebuilt from topics. `--copy`
copies it from the live database (NOTIFICATION_MONGODB_DATABASE), pending outboxes left out; do
that only with the live worker stopped, since a worker on the copy sends what is due in it.
"""

from __future__ import annotations

from emm_common.rebuild import RebuildStats, StagingStore, command_line, rebuild_database
from emm_notification.adapters.planned_notifications import COLLECTION, PlannedNotifications
from emm_notification.adapters.projections import MongoProjections
from emm_notification.config import Settings
from emm_notification.entrypoints.worker import TOPICS
from emm_notification.service_layer.handlers import NotificationHandlers

PROJECTIONS = ("contacts", "sessions", "rosters", "feedback", "organizers", "absences")


def handlers_for(staging: StagingStore):
    """The worker's handlers, over the staged projections and a log that only records the plan."""
    return NotificationHandlers(MongoProjections(staging), PlannedNotifications(staging[COLLECTION])).handlers()


async def rebuild(settings: Settings, database_name: str, *, copy_log: bool = False) -> RebuildStats:
    """Rebuild the projections and the planned entries into `database_name` (which must be
    empty); with `copy_log`, then copy the live notification log into it."""
    return await rebuild_database(settings, database_name, topics=TOPICS, staged=(*PROJECTIONS, COLLECTION),
                                  make_handlers=handlers_for, copy_live=copy_log)


def main(argv: list[str] | None = None) -> None:
    settings = Settings()
    command_line(lambda database, copy: rebuild(settings, database, copy_log=copy),
                 "Rebuild the notification projections and planned entries from the topics into an empty database.",
                 copy_help="copy the notification log of the live database (NOTIFICATION_MONGODB_DATABASE) too; "
                           "only with the live worker stopped (default: no)", copy_by_default=False, argv=argv)


if __name__ == "__main__":
    main()
