"""Prometheus metrics shared by all services (one process per container, no multiprocess mode).

The one place that names the platform's metrics; services import them from here. What each
answers, and the alerts and dashboard built on them: docs/observability.md.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from importlib import metadata
from typing import Any, Awaitable, Callable, Iterable

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)

# Events
EVENTS_PUBLISHED = Counter("emm_events_published_total", "Events the broker acknowledged (produced), by type", ["type"])
EVENTS_CONSUMED = Counter(
    "emm_events_consumed_total", "Consumed events by outcome (applied, ignored, dead_lettered)",
    ["topic", "type", "outcome"])
EVENTS_DEAD_LETTERED = Counter(
    "emm_events_dead_lettered_total", "Consumed records sent to the dead-letter topic, by why (malformed, rejected, "
    "handler_failed, transient_timeout)", ["topic", "type", "reason"])
HANDLER_RETRIES = Counter("emm_handler_retries_total", "Handler attempts that failed and were retried", ["type", "kind"])
HANDLER_SECONDS = Histogram("emm_handler_seconds", "Time to handle one consumed event", ["type"])
CONSUMER_LAG = Gauge(
    "emm_consumer_lag_records", "Records on a partition not yet committed by this consumer group (high watermark "
    "minus committed offset), as the worker holding the partition last saw it", ["group", "topic", "partition"])

# Outbox
OUTBOX_RELAYED = Counter("emm_outbox_relayed_total", "Events relayed from an outbox to Kafka", ["collection"])
OUTBOX_PARKED = Counter(
    "emm_outbox_parked_total", "Events the broker will never take, moved from an outbox to its document's "
    "parked_outbox (reason: the error's type)", ["collection", "reason"])

# HTTP (route is the route's template, e.g. /sessions/{session_id}: never the path a caller sent)
HTTP_REQUESTS = Counter("emm_http_requests_total", "HTTP requests answered, by route template and status",
                        ["route", "method", "status"])
HTTP_SECONDS = Histogram("emm_http_request_duration_seconds", "Time to answer one HTTP request", ["route", "method"])

# Email
EMAILS = Counter("emm_emails_total", "Email delivery attempts by kind and outcome (sent, retry, failed)",
                 ["kind", "outcome"])
SMTP_SECONDS = Histogram("emm_smtp_send_seconds", "Time of one SMTP transaction (connect to QUIT)", ["outcome"])

# Process
DEPENDENCY_UP = Gauge("emm_dependency_up", "1 when the dependency answered its last check", ["dependency"])
BUILD_INFO = Gauge("emm_build_info", "Always 1; the labels say what runs", ["service", "version", "revision"])


def record_build_info(service: str) -> None:
    """Set emm_build_info for this process (EMM_REVISION: the commit the image was built from)."""
    try:
        version = metadata.version("emm-common")
    except metadata.PackageNotFoundError:  # run from a checkout on PYTHONPATH, not installed
        version = "0.1.0"
    BUILD_INFO.labels(service, version, os.environ.get("EMM_REVISION", "unknown")).set(1)


class OutboxBacklog:
    """The events of this process's outboxes that wait for the broker, kept current between
    sweeps: the relay says when it sees events waiting and when they left, and every scrape
    computes the backlog and the age of the oldest (from when this process first saw it)."""

    def __init__(self) -> None:
        self._waiting: dict[str, dict[str, float]] = {}  # collection -> event id -> first seen (Unix s)
        self._lock = threading.Lock()  # scrapes run in the metrics server's thread

    def waiting(self, collection: str, event_ids: Iterable[str]) -> None:
        """These events are in the collection's outboxes (already known ones keep their first sight)."""
        now = time.time()
        with self._lock:
            known = self._waiting.setdefault(collection, {})
            for event_id in event_ids:
                known.setdefault(event_id, now)

    def left(self, collection: str, event_ids: Iterable[str]) -> None:
        """These events left the outbox (published or parked)."""
        with self._lock:
            known = self._waiting.setdefault(collection, {})
            for event_id in event_ids:
                known.pop(event_id, None)

    def swept(self, collection: str, event_ids: Iterable[str]) -> None:
        """A sweep found exactly these events waiting in the collection."""
        now = time.time()
        with self._lock:
            known = self._waiting.get(collection, {})
            self._waiting[collection] = {event_id: known.get(event_id, now) for event_id in event_ids}

    def collect(self):
        pending = GaugeMetricFamily("emm_outbox_pending", "Events written to an outbox but not yet acknowledged by "
                                    "Kafka", labels=["collection"])
        oldest = GaugeMetricFamily("emm_outbox_oldest_event_age_seconds", "Seconds the oldest event waiting in an "
                                   "outbox has waited (0 when none waits)", labels=["collection"])
        now = time.time()
        with self._lock:
            for collection, known in self._waiting.items():
                pending.add_metric([collection], len(known))
                oldest.add_metric([collection], max(0.0, now - min(known.values())) if known else 0.0)
        return [pending, oldest]

    def describe(self):
        return []  # collected only at scrape time: the families depend on the relays running


OUTBOX_BACKLOG = OutboxBacklog()
REGISTRY.register(OUTBOX_BACKLOG)


async def keep_checking(check: Callable[[], Awaitable[dict[str, str]]], every_seconds: float = 15.0) -> None:
    """Run `check` (dependency -> 'ok' or why not) every so often (every second while one is
    down) and export emm_dependency_up, so a process nobody probes (a worker) reports its
    dependencies too."""
    while True:
        healthy = False
        try:
            checks = await check()
            for name, state in checks.items():
                DEPENDENCY_UP.labels(name).set(1 if state == "ok" else 0)
            healthy = all(state == "ok" for state in checks.values())
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a check that itself failed says nothing about the dependency
            log.warning("dependency check failed: %r", exc)
        await asyncio.sleep(every_seconds if healthy else min(every_seconds, 1.0))  # say soon when it is back


_reported_lag: set[tuple[str, str, str]] = set()


async def report_consumer_lag(group: str, consumer: Any) -> None:
    """Export emm_consumer_lag_records for the partitions a faust consumer holds: the high
    watermark minus the group's committed offset (the earliest offset when none is committed)."""
    assigned = sorted(consumer.assignment(), key=lambda tp: (tp.topic, tp.partition))
    highwaters = await consumer.highwaters(*assigned) if assigned else {}
    uncommitted = [tp for tp in assigned if consumer._committed_offset.get(tp) is None]
    earliest = await consumer.earliest_offsets(*uncommitted) if uncommitted else {}
    now: set[tuple[str, str, str]] = set()
    for tp in assigned:
        committed = consumer._committed_offset.get(tp)
        committed = earliest.get(tp, 0) if committed is None else committed
        labels = (group, tp.topic, str(tp.partition))
        CONSUMER_LAG.labels(*labels).set(max(0, (highwaters.get(tp) or 0) - committed))
        now.add(labels)
    for labels in _reported_lag - now:  # moved to another worker: that one reports it now
        CONSUMER_LAG.remove(*labels)
    _reported_lag.clear()
    _reported_lag.update(now)
