"""Reading what is really on a Kafka topic, for assertions."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer

from emm_common.envelope import Event, KafkaRecord, from_record
from tests.conftest import KAFKA


async def read_topic(topic: str, expected: int, timeout: float = 20.0, settle: float = 0.5):
    """Every record on `topic`, waiting until at least `expected` arrived (or `timeout`), then
    `settle` seconds more to catch any extra ones."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=KAFKA, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None)
    await consumer.start()
    records = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(records) < expected and asyncio.get_running_loop().time() < deadline:
            for messages in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(messages)
        await asyncio.sleep(settle)
        for messages in (await consumer.getmany(timeout_ms=500)).values():
            records.extend(messages)
    finally:
        await consumer.stop()
    return records


async def read_events(topic: str, expected: int, timeout: float = 20.0) -> list[Event]:
    """The events on `topic`, parsed and validated against the contract, in offset order per partition."""
    records = await read_topic(topic, expected, timeout)
    return [from_record(KafkaRecord(r.key, r.value, list(r.headers))) for r in records]

