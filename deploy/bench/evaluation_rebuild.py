"""Rebuild rate of the evaluation projections, against the raw limits measured in the same run.

    make bench BENCH=evaluation_rebuild [ARGS='--sessions 500']

Generates ToT sessions' events (scheduled, 20 registrations, 40 attendance marks, 20
evaluations, 20 peer ratings, completed: 102 per session, >= 50,000 by default) onto a fresh
topic prefix, then prints:
  raw: aiokafka consume rate of those topics (events/s, no processing) and FerretDB upsert rate
       (replace_one by _id with upsert, one at a time like the worker, ~1 kB documents)
  ours: the rebuild rate, events/s from start of a fresh evaluation worker (new database, new
       consumer group, EVALUATION_PUBLISH_DECISIONS=false) until it has committed every offset
       (or --max-seconds passed), with its progress every 30 s: on FerretDB v1 (SQLite) even a
       find by _id scans the table (explain: SCAN), so the rate falls as the projections grow
  and ours as a ratio of each raw rate. Each event costs the worker several reads and writes
  by _id, so a ratio well under 1 against the upsert rate is expected.
A benchmark, not a test: figures vary with the machine's load; compare ratios from one run.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from motor.motor_asyncio import AsyncIOMotorClient

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from emm_common.auth import ensure_key_pair  # noqa: E402
from emm_common.publisher import EventPublisher  # noqa: E402
from emm_common.topics import all_topics, ensure_topics, topic_name  # noqa: E402
from emm_evaluation.entrypoints.worker import TOPICS  # noqa: E402
from tests.conftest import KAFKA, MONGODB_URI  # noqa: E402
from tests.integration.evaluation import registration_events as ev  # noqa: E402
from tests.processes import ServiceProcess  # noqa: E402

PER_SESSION = 20


def session_events(session_id: str) -> list:
    events = [ev.scheduled(ev.session(session_id))]
    for n in range(1, PER_SESSION + 1):
        events.append(ev.registered(session_id, n))
        events += [ev.attended(session_id, n, day) for day in ("2026-05-19", "2026-05-20")]
        events.append(ev.feedback(session_id, n, 4 + n % 2))
        events.append(ev.peer_rating(session_id, n))
    events.append(ev.completed(session_id))
    return events


async def generate(prefix: str, sessions: int) -> int:
    await ensure_topics(KAFKA, {topic_name(t, prefix) for t in all_topics()}, partitions=6)
    publisher = EventPublisher(KAFKA, prefix, client_id="bench")
    await publisher.start()
    count = 0
    try:
        for s in range(sessions):
            futures = [await publisher.send(event) for event in session_events(f"ses-{s:05d}")]
            await asyncio.gather(*futures)
            count += len(futures)
    finally:
        await publisher.stop()
    return count


async def end_offsets(prefix: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic_name(t, prefix), p) for t in TOPICS
                      for p in consumer.partitions_for_topic(topic_name(t, prefix)) or ()]
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = [TopicPartition(topic_name(t, prefix), p) for t in TOPICS
                          for p in consumer.partitions_for_topic(topic_name(t, prefix)) or ()]
        return await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()


async def raw_consume_rate(prefix: str, total: int) -> float:
    consumer = AIOKafkaConsumer(*(topic_name(t, prefix) for t in TOPICS), bootstrap_servers=KAFKA,
                                auto_offset_reset="earliest", enable_auto_commit=False,
                                group_id=f"bench-raw-{uuid.uuid4().hex[:8]}", max_poll_records=2000)
    await consumer.start()
    seen = 0
    try:
        started = time.perf_counter()
        while seen < total:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                seen += len(records)
        return seen / (time.perf_counter() - started)
    finally:
        await consumer.stop()


async def raw_upsert_rate(database, count: int = 5000) -> float:
    collection = database["raw_upserts"]
    payload = "x" * 900
    started = time.perf_counter()
    for i in range(count):
        await collection.replace_one({"_id": f"doc-{i % 1000}"}, {"_id": f"doc-{i % 1000}", "n": i, "p": payload},
                                     upsert=True)
    return count / (time.perf_counter() - started)


async def committed_total(prefix: str, group: str, partitions) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        return sum([await consumer.committed(tp) or 0 for tp in partitions])
    finally:
        await consumer.stop()


async def rebuild_rate(prefix: str, database_name: str, keys: Path, max_seconds: float) -> tuple[int, float, float]:
    """Run a fresh rebuild worker until it has committed every offset or `max_seconds` pass;
    print its progress every 30 s. Returns (events done, overall events/s, last interval's events/s)."""
    group = f"rebuild-{uuid.uuid4().hex[:6]}"
    offsets = await end_offsets(prefix)
    total = sum(offsets.values())
    worker = ServiceProcess("evaluation", "worker", prefix, database_name, keys, env={
        "EVALUATION_CONSUMER_GROUP": group, "EVALUATION_PUBLISH_DECISIONS": "false",
        "EMM_TOPIC_PARTITIONS": "6"})
    started = time.perf_counter()
    worker.start(wait=False)
    last_done, last_at, interval_rate = 0, started, 0.0
    try:
        while True:
            await asyncio.sleep(30)
            done = await committed_total(prefix, f"{prefix}{group}", list(offsets))
            now = time.perf_counter()
            interval_rate = (done - last_done) / (now - last_at)
            print(f"  rebuild: {done:6d} of {total} events after {now - started:4.0f} s "
                  f"({interval_rate:.0f} events/s over the last 30 s)", flush=True)
            last_done, last_at = done, now
            if done >= total or now - started >= max_seconds:
                return done, done / (now - started), interval_rate
            if worker.process.poll() is not None:
                raise RuntimeError("the worker exited")
    finally:
        worker.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=500, help="sessions of 102 events each")
    parser.add_argument("--max-seconds", type=float, default=3600, help="stop the rebuild after this long")
    args = parser.parse_args()
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    keys = Path("/tmp") / f"{prefix}keys"
    ensure_key_pair(keys / "jwt.pem", keys / "jwt.pub.pem")
    client = AsyncIOMotorClient(MONGODB_URI, tz_aware=True)
    raw_db, rebuild_db = f"bench_raw_{prefix[5:-1]}", f"bench_rebuild_{prefix[5:-1]}"
    try:
        started = time.perf_counter()
        total = await generate(prefix, args.sessions)
        print(f"generated {total} events on prefix {prefix} in {time.perf_counter() - started:.0f} s")
        consume = await raw_consume_rate(prefix, total)
        upsert = await raw_upsert_rate(client[raw_db])
        print(f"raw aiokafka consume:   {consume:10.0f} events/s")
        print(f"raw FerretDB upsert:    {upsert:10.0f} upserts/s", flush=True)
        done, rebuild, last = await rebuild_rate(prefix, rebuild_db, keys, args.max_seconds)
        counts = {name: await client[rebuild_db][name].estimated_document_count()
                  for name in ("sessions", "trainees", "responses")}
        print(f"rebuild (our worker):   {rebuild:10.0f} events/s   {done} of {total} events, "
              f"last 30 s {last:.0f} events/s; projected {counts}")
        print(f"rebuild / raw consume:  {rebuild / consume:10.3f}")
        print(f"rebuild / raw upsert:   {rebuild / upsert:10.3f}")
    finally:
        await client.drop_database(raw_db)
        await client.drop_database(rebuild_db)
        client.close()


if __name__ == "__main__":
    asyncio.run(main())
