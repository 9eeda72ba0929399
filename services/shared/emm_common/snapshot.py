"""A snapshot of topics for an offline rebuild: every partition from its earliest offset up to its
end offset taken at the start (later records are the live worker's business), merged by record
timestamp, the order a worker that keeps up meets them in (up to the producers' clocks); no
consumer group, so nothing is committed."""

from __future__ import annotations

import heapq
from collections import deque
from typing import AsyncIterator, Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from emm_common.consumer import ConsumedRecord


async def end_offsets(bootstrap_servers: str, topics: Iterable[str]) -> dict[TopicPartition, int]:
    """The end offset (next offset to be written) of every partition of `topics` (full names)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        return await consumer.end_offsets(await partitions_of(bootstrap_servers, topics))
    finally:
        await consumer.stop()


async def partitions_of(bootstrap_servers: str, topics: Iterable[str]) -> list[TopicPartition]:
    """Every partition of `topics`; raises LookupError naming a topic that does not exist."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics))
    finally:
        await admin.close()
    missing = sorted(t["topic"] for t in described if t["error_code"] or not t["partitions"])
    if missing:
        raise LookupError(f"no such topic: {', '.join(missing)} (is EMM_TOPIC_PREFIX right?)")
    return sorted(TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"])


async def snapshot_records(bootstrap_servers: str, topics: list[str], *,
                           batch: int = 2000) -> AsyncIterator[ConsumedRecord]:
    """Every record of `topics` (full names) up to the end offsets taken when this starts, merged
    across partitions by record timestamp (ties: the order of `topics`, then partition), each
    partition in offset order. Reads with no consumer group and commits nothing."""
    partitions = await partitions_of(bootstrap_servers, topics)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest", max_poll_records=batch, client_id="emm-rebuild")
    await consumer.start()
    try:
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
        unread = {tp for tp in partitions if ends[tp] > starts[tp]}
        if not unread:
            return
        consumer.assign(sorted(unread))
        await consumer.seek_to_beginning(*unread)
        rank = {topic: n for n, topic in enumerate(topics)}
        buffers: dict[TopicPartition, deque] = {tp: deque() for tp in unread}

        async def refill(tp: TopicPartition) -> None:
            # Only this partition: aiokafka prefetches each partition at most one fetch ahead.
            while not buffers[tp] and tp in unread:
                fetched = (await consumer.getmany(tp, timeout_ms=500)).get(tp, [])
                buffers[tp].extend(r for r in fetched if r.offset < ends[tp])
                if (fetched and fetched[-1].offset >= ends[tp] - 1) or (
                        not fetched and await consumer.position(tp) >= ends[tp]):
                    unread.discard(tp)
                    consumer.pause(tp)  # what came after the snapshot is the live worker's

        heads: list[tuple[int, int, int, int, TopicPartition]] = []

        def push(tp: TopicPartition) -> None:
            if buffers[tp]:
                first = buffers[tp][0]
                heapq.heappush(heads, (first.timestamp, rank[tp.topic], tp.partition, first.offset, tp))

        for tp in sorted(unread):
            await refill(tp)
            push(tp)
        while heads:
            tp = heapq.heappop(heads)[-1]
            record = buffers[tp].popleft()
            yield ConsumedRecord(record.topic, record.partition, record.offset, record.key, record.value,
                                 list(record.headers or ()))
            if not buffers[tp]:
                await refill(tp)
            push(tp)
    finally:
        await consumer.stop()
