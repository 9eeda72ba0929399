"""The consumer side of a service as a faust-streaming worker process.

`run_worker(...)` creates the topics, then runs one faust agent over the service's topics that
feeds every record to an EventProcessor (which never raises: faust would ack and drop the
record), serves /metrics, and relays the outboxes of the service's own collections.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import faust
import mode
from prometheus_client import start_http_server

from emm_common import live_database, logs, metrics, mongo
from emm_common.consumer import ConsumedRecord, EventProcessor, Handler
from emm_common.locks import KeyedLocks
from emm_common.outbox import OutboxRelay, SweepTurns
from emm_common.publisher import EventPublisher
from emm_common.settings import CACHE_DIR, ServiceSettings
from emm_common.startup import retry_until_reachable
from emm_common.topics import all_topics, dead_letter_topic, ensure_topics, topic_name

log = logging.getLogger(__name__)



@dataclass
class WorkerParts:
    """What a worker runs: its handlers by event type, the collections whose outboxes its relay
    publishes, the locks its document store and that relay share (one writer of a document at a
    time in this process), and `on_relay`, told of the relay once it exists (to hand it to the store)."""

    handlers: dict[str, Handler]
    outbox_collections: list[Any]
    locks: KeyedLocks | None = None
    on_relay: Callable[[OutboxRelay], None] | None = None


# Builds the handlers once the database is known: (database, publisher) -> WorkerParts, or the
# pair (handlers, outbox collections)
HandlerFactory = Callable[[Any, EventPublisher], Awaitable["WorkerParts | tuple[dict[str, Handler], list[Any]]"]]


def headers_of(message: Any) -> list[tuple[str, bytes]]:
    headers = message.headers or []
    return list(headers.items()) if isinstance(headers, dict) else list(headers)


def build_app(settings: ServiceSettings, base_topics: list[str], make_handlers: HandlerFactory) -> faust.App:
    """A faust app with one agent consuming `base_topics` (contract names, prefix added here)."""
    (CACHE_DIR / "faust").mkdir(parents=True, exist_ok=True)  # faust creates only the last folder
    app = faust.App(
        f"{settings.topic_prefix}{settings.consumer_group or settings.service_name}",
        broker=f"kafka://{settings.kafka_bootstrap_servers}",
        value_serializer="raw", key_serializer="raw",
        store="memory://", web_enabled=False, autodiscover=False,
        # faust keeps a folder per app; by default in the working directory, i.e. the checkout.
        datadir=str(CACHE_DIR / "faust" / "{conf.name}-data"),
        topic_disable_leader=True, topic_allow_declare=False,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        broker_commit_every=100, broker_commit_interval=1.0,
        # A killed worker's partitions move to its replacement after this, not after faust's 60 s.
        broker_session_timeout=settings.consumer_session_timeout_seconds, broker_heartbeat_interval=2.0,
    )
    channel = app.topic(*[topic_name(t, settings.topic_prefix) for t in base_topics],
                        key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
    state: dict[str, Any] = {"ready": asyncio.Event()}

    @app.service
    class Dependencies(mode.Service):
        """Our producer, database and outbox relay, started and stopped with the faust app."""

        async def on_start(self) -> None:
            publisher = EventPublisher(settings.kafka_bootstrap_servers, settings.topic_prefix,
                                       client_id=f"{settings.service_name}-worker")
            await retry_until_reachable("Kafka", settings.kafka_bootstrap_servers, publisher.start)
            database = mongo.database_for(settings)
            await retry_until_reachable("MongoDB", settings.mongodb_uri, lambda: mongo.ping(database))
            database = await live_database.resolve(settings, database)
            parts = await make_handlers(database, publisher)
            if not isinstance(parts, WorkerParts):
                parts = WorkerParts(*parts)
            state["publisher"] = publisher
            state["relay"] = OutboxRelay(publisher, parts.outbox_collections, settings.outbox_poll_seconds,
                                         settings.outbox_sweep_seconds, locks=parts.locks,
                                         grace_seconds=settings.outbox_grace_seconds, turns=SweepTurns(database))
            if parts.on_relay is not None:
                parts.on_relay(state["relay"])
            state["processor"] = EventProcessor(
                settings.service_name, parts.handlers, publisher.send_raw,
                topic_name(dead_letter_topic(settings.service_name), settings.topic_prefix),
                max_attempts=settings.consumer_max_attempts,
                transient_retry_seconds=settings.transient_retry_seconds)
            state["relay"].start()
            state["health"] = asyncio.create_task(metrics.keep_checking(lambda: dependency_checks(publisher, database)))
            state["ready"].set()

        async def on_stop(self) -> None:
            if "health" in state:
                state["health"].cancel()
            if "relay" in state:
                await state["relay"].stop()
                await state["publisher"].stop()

    @app.agent(channel)
    async def consume(stream):
        await state["ready"].wait()
        async for event in stream.events():
            message = event.message
            await state["processor"].process(ConsumedRecord(
                message.topic, message.partition, message.offset, message.key, message.value, headers_of(message)))

    @app.timer(interval=settings.consumer_lag_seconds)
    async def report_lag() -> None:
        if not state["ready"].is_set():
            return
        try:
            await asyncio.wait_for(metrics.report_consumer_lag(app.conf.id, app.consumer), 10)
        except Exception as exc:  # the broker away, say: an exception here would stop the worker
            log.warning("cannot read the consumer lag yet: %r", exc)

    return app


async def dependency_checks(publisher: EventPublisher, database: Any) -> dict[str, str]:
    """Kafka and MongoDB: 'ok' or why not (what a worker reports as emm_dependency_up)."""
    checks = {}
    for name, ping in (("kafka", publisher.ping), ("mongodb", lambda: mongo.ping(database))):
        try:
            await asyncio.wait_for(ping(), 3)
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"unreachable: {type(exc).__name__}"
    return checks


def run_worker(settings: ServiceSettings, base_topics: list[str], make_handlers: HandlerFactory) -> None:
    """Entry point of a service's worker process (blocks until stopped)."""
    logs.setup(settings.service_name, "worker")
    metrics.record_build_info(settings.service_name)
    asyncio.run(retry_until_reachable(
        "Kafka", settings.kafka_bootstrap_servers,
        lambda: ensure_topics(settings.kafka_bootstrap_servers,
                              {topic_name(t, settings.topic_prefix)
                               for t in all_topics() | {dead_letter_topic(settings.service_name)}},
                              settings.topic_partitions)))
    if settings.metrics_port:
        start_http_server(settings.metrics_port, addr="0.0.0.0")
    app = build_app(settings, base_topics, make_handlers)
    worker = faust.Worker(app, loglevel="INFO", quiet=True,
                          logging_config=logs.dict_config(settings.service_name, "worker"))  # faust's lines too
    worker.execute_from_commandline()
