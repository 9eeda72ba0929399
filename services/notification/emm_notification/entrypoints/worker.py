"""The notification worker: consumes the platform's events, plans messages, and runs the
delivery loop and the reminder scheduler in the same process.

    python -m emm_notification.entrypoints.worker
"""

from __future__ import annotations

import asyncio
import logging
import os

from typing import Any

from emm_common.outbox import OutboxRelay
from emm_common.worker import WorkerParts, run_worker
from emm_notification.adapters.notification_log import MongoNotificationLog
from emm_notification.bootstrap import build, email_channel
from emm_notification.config import Settings
from emm_notification.domain.channel import Channel, OutgoingMessage

log = logging.getLogger("emm_notification.worker")

TOPICS = ["emm.sessions", "emm.enrollments", "emm.attendance", "emm.feedback", "emm.trainers",
          "emm.contacts.internal"]
_tasks: set[asyncio.Task] = set()


class ExitAfterSend:
    """TEST HOOK (NOTIFICATION_TEST_EXIT_AFTER_SEND=N): the process dies right after the SMTP
    server accepted its Nth message and before the log records it: the window a crash cannot
    be kept out of."""

    def __init__(self, channel: Channel, n: int) -> None:
        self.name = channel.name
        self._channel = channel
        self._n = n
        self._sent = 0

    async def send(self, message: OutgoingMessage) -> None:
        await self._channel.send(message)
        self._sent += 1
        if self._sent == self._n:
            log.warning("test hook: exiting after sending %s", message.notification_id)
            os._exit(9)


def keep_running(name: str, loop) -> None:
    """Start a background loop; if it ever ends with an error, log it (never crash the consumer)."""
    task = asyncio.create_task(loop, name=name)
    _tasks.add(task)

    def done(t: asyncio.Task) -> None:
        _tasks.discard(t)
        if not t.cancelled() and t.exception():
            log.error("%s stopped", name, exc_info=t.exception())

    task.add_done_callback(done)


def make_handlers_for(settings: Settings):
    async def make_handlers(database, publisher):
        await MongoNotificationLog(database).ensure_indexes()
        channel = email_channel(settings)
        if settings.test_exit_after_send:
            channel = ExitAfterSend(channel, settings.test_exit_after_send)
        relay: list[OutboxRelay] = []  # the worker makes it after the parts; the log is told of it then

        def nudge(collection: str, doc_id: Any, entries: dict[str, Any]) -> None:
            for started in relay:
                started.nudge(collection, doc_id, entries)

        handlers, delivery, scheduler = build(settings, database, channel, on_commit=nudge)
        keep_running("delivery", delivery.run(settings.delivery_poll_seconds))
        keep_running("scheduler", scheduler.run(settings.scheduler_poll_seconds))
        return WorkerParts(handlers.handlers(), [database.notifications], on_relay=relay.append)

    return make_handlers


def main() -> None:
    settings = Settings()
    run_worker(settings, TOPICS, make_handlers_for(settings))


if __name__ == "__main__":
    main()
