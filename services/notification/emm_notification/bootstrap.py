"""Wiring: the service's parts built from its settings and database, for the worker and the API."""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from typing import Any

from emm_notification.adapters.email_channel import EmailChannel
from emm_notification.adapters.notification_log import MongoNotificationLog
from emm_notification.adapters.projections import MongoProjections
from emm_notification.config import Settings
from emm_notification.domain.composition import Programme
from emm_notification.service_layer.delivery import Delivery, DeliveryOptions
from emm_notification.service_layer.handlers import NotificationHandlers
from emm_notification.service_layer.scheduler import ReminderTimes, Scheduler


def email_channel(settings: Settings) -> EmailChannel:
    return EmailChannel(settings.smtp_host, settings.smtp_port, settings.smtp_from, from_name=settings.smtp_from_name,
                        starttls=settings.smtp_starttls, use_tls=settings.smtp_use_tls,
                        username=settings.smtp_username, password=settings.smtp_password,
                        timeout=settings.smtp_timeout_seconds)


def build(settings: Settings, database: Any, channel: Any = None) -> tuple[NotificationHandlers, Delivery, Scheduler]:
    log = MongoNotificationLog(database)
    projections = MongoProjections(database)
    delivery = Delivery(
        log, projections, channel or email_channel(settings),
        programme=Programme(evaluation_url=settings.evaluation_url, report_url=settings.report_url),
        options=DeliveryOptions(policy=settings.retry_policy, lease=timedelta(seconds=settings.claim_lease_seconds),
                                batch=settings.delivery_batch, concurrency=settings.delivery_concurrency),
        worker_id=f"{socket.gethostname()}:{os.getpid()}")
    handlers = NotificationHandlers(projections, log, on_planned=delivery.nudge)
    scheduler = Scheduler(projections, log, on_planned=delivery.nudge, times=ReminderTimes(
        session_reminder_lead=timedelta(hours=settings.session_reminder_lead_hours),
        evaluation_reminder_delay=timedelta(hours=settings.evaluation_reminder_delay_hours)))
    return handlers, delivery, scheduler
