"""What the fault-injection checks look at: every record on the topics, consumer lag, captured mail."""

from __future__ import annotations

import asyncio
import email
import email.policy
import time
from collections import Counter
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from emm_common.consumer import ConsumedRecord
from emm_common.rebuild import end_offsets, snapshot_records


async def read_all(bootstrap: str, topics: list[str]) -> list[ConsumedRecord]:
    """Every record on `topics` up to their end offsets now (no consumer group)."""
    return [record async for record in snapshot_records(bootstrap, topics)]


async def consumer_lag(bootstrap: str, group: str, topics: list[str]) -> int:
    """Records on `topics` the group has not committed yet."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    ends = await end_offsets(bootstrap, topics)
    return sum(end - (committed[tp].offset if tp in committed and committed[tp].offset >= 0 else 0)
               for tp, end in ends.items())


async def seconds_until_no_lag(bootstrap: str, groups: dict[str, list[str]], timeout: float) -> dict[str, tuple]:
    """For each group: (lag at the start, seconds until its lag was 0 or None if not within `timeout`)."""
    started = time.monotonic()
    first: dict[str, int] = {}
    done: dict[str, float] = {}
    while len(done) < len(groups) and time.monotonic() - started < timeout:
        for group, topics in groups.items():
            if group in done:
                continue
            try:
                lag = await consumer_lag(bootstrap, group, topics)
            except Exception:  # the broker may still be settling after its restart
                continue
            first.setdefault(group, lag)
            if lag == 0:
                done[group] = time.monotonic() - started
        await asyncio.sleep(0.5)
    return {group: (first.get(group), done.get(group)) for group in groups}


def captured_mail(maildir: Path) -> Counter:
    """Message-ID -> how many copies the SMTP capture accepted."""
    copies: Counter = Counter()
    for path in maildir.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        copies[message["Message-ID"].strip("<>").split("@", 1)[0]] += 1
    return copies
