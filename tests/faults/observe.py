"""What the fault-injection checks look at: every record on the topics, consumer lag, captured mail."""

from __future__ import annotations

import asyncio
import email
import email.policy
import time
from collections import Counter
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


async def partitions_of(bootstrap: str, topics: list[str]) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    missing = [t["topic"] for t in described if t["error_code"] or not t["partitions"]]
    assert not missing, f"no such topics: {missing}"
    return [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]


async def read_all(bootstrap: str, topics: list[str]) -> list:
    """Every record on `topics` up to their end offsets now (no consumer group)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        partitions = await partitions_of(bootstrap, topics)
        ends = await consumer.end_offsets(partitions)
        wanted = {tp: end for tp, end in ends.items() if end > 0}
        if not wanted:
            return []
        consumer.assign(list(wanted))
        await consumer.seek_to_beginning(*wanted)
        records = []
        remaining = dict(wanted)
        while remaining:
            for tp, messages in (await consumer.getmany(*remaining, timeout_ms=1000)).items():
                records.extend(m for m in messages if m.offset < wanted[tp])
                if messages and messages[-1].offset + 1 >= wanted[tp]:
                    remaining.pop(tp, None)
        return records
    finally:
        await consumer.stop()


async def consumer_lag(bootstrap: str, group: str, topics: list[str]) -> int:
    """Records on `topics` the group has not committed yet."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await admin.start()
    await consumer.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
        partitions = await partitions_of(bootstrap, topics)
        ends = await consumer.end_offsets(partitions)
        return sum(end - (committed[tp].offset if tp in committed and committed[tp].offset >= 0 else 0)
                   for tp, end in ends.items())
    finally:
        await consumer.stop()
        await admin.close()


async def seconds_until_no_lag(bootstrap: str, groups: dict[str, list[str]], timeout: float) -> float | None:
    """Seconds until every group's lag is 0 (None if not within `timeout`)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            lags = [await consumer_lag(bootstrap, group, topics) for group, topics in groups.items()]
            if not any(lags):
                return time.monotonic() - started
        except Exception:  # the broker may still be settling after its restart
            pass
        await asyncio.sleep(0.5)
    return None


def captured_mail(maildir: Path) -> Counter:
    """Message-ID -> how many copies the SMTP capture accepted."""
    copies: Counter = Counter()
    for path in maildir.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        copies[message["Message-ID"].strip("<>").split("@", 1)[0]] += 1
    return copies
