"""Wiring: the service's parts built from its settings and database, for the worker and the API."""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta
from typing import Any

from emm_common.auth import TokenIssuer
from emm_common.store import OnCommit
from emm_notification.adapters.email_channel import EmailChannel
from emm_notification.adapters.notification_log import MongoNotificationLog
from emm_notification.adapters.projections import MongoProjections
from emm_notification.config import Settings
from emm_notification.domain.composition import PortalLinks, Programme
from emm_notification.service_layer.delivery import Delivery, DeliveryOptions
from emm_notification.service_layer.handlers import NotificationHandlers
from emm_notification.service_layer.scheduler import ReminderTimes, Scheduler

logger = logging.getLogger(__name__)


def email_channel(settings: Settings) -> EmailChannel:
    return EmailChannel(settings.smtp_host, settings.smtp_port, settings.smtp_from, from_name=settings.smtp_from_name,
                        starttls=settings.smtp_starttls, use_tls=settings.smtp_use_tls,
                        username=settings.smtp_username, password=settings.smtp_password,
                        timeout=settings.smtp_timeout_seconds)


def portal_links(settings: Settings) -> PortalLinks | None:
    """The signer of the personal links in emails; None (and emails without links) without the private key."""
    if settings.jwt_private_key_file is None:
        logger.warning("no EMM_JWT_PRIVATE_KEY_FILE: emails go without their portal links, and sign-in links "
                    "cannot be sent")
        return None
    return PortalLinks(settings.public_base_url, TokenIssuer(settings.jwt_private_key_file.read_bytes()),
                       settings.participant_link_days)


def build(settings: Settings, database: Any, channel: Any = None,
          on_commit: OnCommit | None = None) -> tuple[NotificationHandlers, Delivery, Scheduler]:
    """The worker's parts; `on_commit` (the relay's nudge) is told of the events the log commits."""
    log = MongoNotificationLog(database, on_commit=on_commit)
    projections = MongoProjections(database)
    delivery = Delivery(
        log, projections, channel or email_channel(settings),
        programme=Programme(links=portal_links(settings), report_url=settings.report_url),
        options=DeliveryOptions(policy=settings.retry_policy, lease=timedelta(seconds=settings.claim_lease_seconds),
                                batch=settings.delivery_batch, concurrency=settings.delivery_concurrency),
        worker_id=f"{socket.gethostname()}:{os.getpid()}")
    handlers = NotificationHandlers(projections, log, on_planned=delivery.nudge)
    # Reminders fall due in the programme's time, the lifecycle clock's (fast-forwarded in tests).
    scheduler = Scheduler(projections, log, on_planned=delivery.nudge, clock=settings.programme_clock().now,
                          times=ReminderTimes(
                              session_reminder_lead=timedelta(hours=settings.session_reminder_lead_hours),
                              evaluation_reminder_delay=timedelta(hours=settings.evaluation_reminder_delay_hours),
                              evaluation_reminder_lead=timedelta(hours=settings.evaluation_reminder_lead_hours)))
    return handlers, delivery, scheduler
