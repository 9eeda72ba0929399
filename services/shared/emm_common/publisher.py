"""One idempotent aiokafka producer per process: acks=all, awaited delivery."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from emm_common import metrics
from emm_common.envelope import Event, to_record
from emm_common.topics import topic_name


class EventPublisher:
    """Publishes events to their contract topic, keyed by their aggregate id so order holds per key."""

    def __init__(self, bootstrap_servers: str, topic_prefix: str = "", client_id: str = "emm") -> None:
        self._prefix = topic_prefix
        self._new_producer = lambda: AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers, client_id=client_id, acks="all", enable_idempotence=True,
            linger_ms=5, request_timeout_ms=15000)
        self._producer = self._new_producer()

    async def start(self) -> None:
        await self._producer.start()

    async def renew(self) -> None:
        """Replace the producer by a new one (a new producer id, sequence numbers from zero).

        After the broker refused a batch (a record above the topic's max.message.bytes), aiokafka's
        idempotent producer keeps numbering that partition's batches past the refused one, and the
        broker refuses every later one with OutOfOrderSequenceNumber until a new producer sends it.
        """
        old, self._producer = self._producer, self._new_producer()
        await self._producer.start()
        await old.stop()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(self, event: Event) -> None:
        """Send one event and wait until the broker has it (all in-sync replicas)."""
        await (await self.send(event))

    async def send(self, event: Event):
        """Queue one event; returns a future that resolves when the broker has it.

        Queue several, then await them all: the producer batches them and keeps their order.
        """
        record = to_record(event)
        future = await self._producer.send(topic_name(event.spec.topic, self._prefix), value=record.value,
                                           key=record.key, headers=record.headers)
        future.add_done_callback(lambda f: f.exception() or metrics.EVENTS_PUBLISHED.labels(event.type).inc())
        return future

    async def send_raw(self, topic: str, value: bytes, key: bytes | None, headers: list[tuple[str, bytes]]):
        """Send a record as is (the dead-letter topic keeps the original bytes)."""
        await (await self._producer.send(topic, value=value, key=key, headers=headers))

    async def ping(self) -> None:
        """Raise if the broker cannot be reached (used by readiness)."""
        await self._producer.client.fetch_all_metadata()
