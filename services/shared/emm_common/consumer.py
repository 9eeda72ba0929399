"""Processing of consumed records, independent of the Kafka client: parse, validate, dispatch,
retry, dead-letter. The faust binding (worker.py) feeds records in; tests can too.

A handler is `async def handle(event) -> None`. It returns normally for a duplicate, raises
`PoisonEvent` for an event that can never be applied, and raises anything else to be retried:
what heals by itself (connection errors of Kafka or MongoDB, FerretDB's "context canceled" and
other errors `emm_common.mongo.transient` names, version conflicts with another worker instance)
is retried until it heals (up to `transient_retry_seconds`); any other error `max_attempts` times. What cannot be applied goes to
the service's dead-letter topic with the reason and its original topic, partition and offset,
and the consumer carries on with the next record.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Awaitable, Callable

from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from pymongo.errors import ConnectionFailure

from emm_common import logs, metrics
from emm_common.mongo import transient
from emm_common.store import VersionConflict
from emm_common.envelope import Event, KafkaRecord, MalformedEvent, from_record

log = logging.getLogger(__name__)

Handler = Callable[[Event], Awaitable[None]]

TRANSIENT_ERRORS = (ConnectionFailure, KafkaConnectionError, KafkaTimeoutError, asyncio.TimeoutError, OSError,
                    VersionConflict)


class PoisonEvent(Exception):
    """Raised by a handler for a valid event that can never be applied; it is dead-lettered at once."""


class TransientError(Exception):
    """Raised by a handler for a condition that will heal by itself; retried like a lost connection."""


@dataclass(frozen=True)
class ConsumedRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


SendRaw = Callable[[str, bytes, bytes | None, list[tuple[str, bytes]]], Awaitable[None]]


class EventProcessor:
    """Applies consumed records to a service's handlers, with bounded retries and a dead-letter topic."""

    def __init__(self, service: str, handlers: dict[str, Handler], send_raw: SendRaw, dead_letter_topic: str,
                 max_attempts: int = 3, transient_retry_seconds: float = 300.0, backoff_seconds: float = 0.2) -> None:
        self.service = service
        self.handlers = handlers
        self._send_raw = send_raw
        self._dead_letter_topic = dead_letter_topic
        self._max_attempts = max_attempts
        self._transient_retry_seconds = transient_retry_seconds
        self._backoff = backoff_seconds

    async def process(self, record: ConsumedRecord) -> str:
        """Apply one record; return the outcome: applied, ignored or dead_lettered. Never raises
        (but waits, retrying, while the dead-letter topic itself cannot be written)."""
        try:
            event = from_record(KafkaRecord(record.key, record.value, list(record.headers or [])))
        except MalformedEvent as exc:
            return await self._dead_letter(record, "unknown", f"malformed: {exc}")
        handler = self.handlers.get(event.type)
        if handler is None:
            metrics.EVENTS_CONSUMED.labels(record.topic, event.type, "ignored").inc()
            return "ignored"
        with logs.handling(event):  # follow-up events and log lines carry the event's correlation
            reason = await self._apply(handler, event)
            if reason is not None:
                return await self._dead_letter(record, event.type, reason)
            log.info("applied event from %s/%d@%d", record.topic, record.partition, record.offset)
        metrics.EVENTS_CONSUMED.labels(record.topic, event.type, "applied").inc()
        return "applied"

    async def _apply(self, handler: Handler, event: Event) -> str | None:
        """Run the handler with retries; return None on success, else why it was given up."""
        failures = 0
        transient_since: float | None = None
        delay = self._backoff
        while True:
            try:
                with metrics.HANDLER_SECONDS.labels(event.type).time():
                    await handler(event)
                return None
            except PoisonEvent as exc:
                return f"rejected by handler: {exc}"
            except Exception as exc:
                if isinstance(exc, (TransientError, *TRANSIENT_ERRORS)) or transient(exc):
                    transient_since = transient_since or time.monotonic()
                    if time.monotonic() - transient_since > self._transient_retry_seconds:
                        return f"gave up after {self._transient_retry_seconds:.0f}s of transient failures: {exc!r}"
                    metrics.HANDLER_RETRIES.labels(event.type, "transient").inc()
                    log.warning("event %s (%s) waits for a dependency: %r", event.id, event.type, exc)
                else:  # a bug or bad data: retry a few times, then dead-letter
                    failures += 1
                    metrics.HANDLER_RETRIES.labels(event.type, "error").inc()
                    log.exception("handler failed on event %s (%s), attempt %d", event.id, event.type, failures)
                    if failures >= self._max_attempts:
                        return f"handler failed {failures} times: {type(exc).__name__}: {exc}"
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def _dead_letter(self, record: ConsumedRecord, event_type: str, reason: str) -> str:
        headers = [(k, v) for k, v in (record.headers or []) if not k.startswith("dlq_")] + [
            ("dlq_reason", reason[:2000].encode()),
            ("dlq_service", self.service.encode()),
            ("dlq_original_topic", record.topic.encode()),
            ("dlq_original_partition", str(record.partition).encode()),
            ("dlq_original_offset", str(record.offset).encode()),
            ("dlq_failed_at", datetime.now(timezone.utc).isoformat().encode()),
        ]
        delay = self._backoff
        while True:
            try:
                await self._send_raw(self._dead_letter_topic, record.value, record.key, headers)
                break
            except Exception as exc:  # the record must not be skipped before it is safe in the DLQ
                log.warning("cannot write to dead-letter topic yet (%r); retrying", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
        log.warning("dead-lettered %s/%d@%d: %s", record.topic, record.partition, record.offset, reason)
        metrics.EVENTS_CONSUMED.labels(record.topic, event_type, "dead_lettered").inc()
        metrics.EVENTS_DEAD_LETTERED.labels(record.topic, event_type, dead_letter_kind(reason)).inc()
        return "dead_lettered"


_DEAD_LETTER_KINDS = (("malformed", "malformed"), ("rejected", "rejected"), ("gave up", "transient_timeout"))


def dead_letter_kind(reason: str) -> str:
    """The bounded `reason` label of a dead-letter's free-text reason."""
    return next((kind for prefix, kind in _DEAD_LETTER_KINDS if reason.startswith(prefix)), "handler_failed")
