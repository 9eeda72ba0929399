"""Rebuild rate of the evaluation projections, against the raw limits measured in the same run.

    make bench BENCH=evaluation_rebuild [ARGS='--sessions 1000']

Generates ToT sessions' events (scheduled, 20 registrations, 40 attendance marks, 20
evaluations, 20 peer ratings, completed: 102 per session, 102,000 by default) onto a fresh
topic prefix, then prints:
  raw: aiokafka consume rate of those topics (events/s, no processing), the same through the
       rebuild's snapshot reader (merged by timestamp, no processing), FerretDB upsert rate
       (replace_one by _id with upsert, one at a time like the worker, ~1 kB documents) and
       FerretDB bulk insert rate (insert_many of 1,000 such documents at a time)
  ours: the offline rebuild (emm_evaluation.entrypoints.rebuild) into a new database: events/s
       of its read+fold phase (snapshot read, parsed, validated and applied in memory by the
       worker's transitions), documents/s of its bulk write, and end to end; each as a ratio of
       the raw rate it is bound by (consume, bulk insert), and the projected document counts;
       then the notification rebuild (emm_notification.entrypoints.rebuild) over the same stream,
       the part of it on its topics (62 events per session; no contacts, so every message it
       plans waits for one)
  with --worker-seconds N, also the incremental path: a fresh evaluation worker (new database,
       new consumer group, EVALUATION_PUBLISH_DECISIONS=false) for N seconds, its rate every
       30 s: one event at a time, several round trips each (on FerretDB v1 without our patch,
       deploy/local/ferretdb-sqlite-id-index.patch, each of them also scanned its table, so
       the rate fell as the projections grew).
A benchmark, not a test: figures vary with the machine's load; compare ratios from one run.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from motor.motor_asyncio import AsyncIOMotorClient

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from emm_common.auth import ensure_key_pair  # noqa: E402
from emm_common.publisher import EventPublisher  # noqa: E402
from emm_common.rebuild import RebuildStats, snapshot_records  # noqa: E402
from emm_common.topics import all_topics, ensure_topics, topic_name  # noqa: E402
from emm_evaluation.config import Settings  # noqa: E402
from emm_evaluation.entrypoints.rebuild import rebuild  # noqa: E402
from emm_evaluation.entrypoints.worker import TOPICS  # noqa: E402
from emm_notification.config import Settings as NotificationSettings  # noqa: E402
from emm_notification.entrypoints.rebuild import rebuild as rebuild_notification  # noqa: E402
from tests.conftest import KAFKA, MONGODB_URI  # noqa: E402
from tests.integration.evaluation import registration_events as ev  # noqa: E402
from tests.processes import ServiceProcess  # noqa: E402

from measure import delete_topics  # noqa: E402

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


async def snapshot_read_rate(prefix: str) -> float:
    seen, started = 0, time.perf_counter()
    async for _ in snapshot_records(KAFKA, [topic_name(t, prefix) for t in TOPICS]):
        seen += 1
    return seen / (time.perf_counter() - started)


async def raw_upsert_rate(database, count: int = 5000) -> float:
    collection = database["raw_upserts"]
    payload = "x" * 900
    started = time.perf_counter()
    for i in range(count):
        await collection.replace_one({"_id": f"doc-{i % 1000}"}, {"_id": f"doc-{i % 1000}", "n": i, "p": payload},
                                     upsert=True)
    return count / (time.perf_counter() - started)


async def raw_bulk_insert_rate(database, count: int = 20000, chunk: int = 1000) -> float:
    collection = database["raw_inserts"]
    payload = "x" * 900
    started = time.perf_counter()
    for start in range(0, count, chunk):
        await collection.insert_many([{"_id": f"doc-{i}", "n": i, "p": payload} for i in range(start, start + chunk)])
    return count / (time.perf_counter() - started)


async def committed_total(prefix: str, group: str, partitions) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        return sum([await consumer.committed(tp) or 0 for tp in partitions])
    finally:
        await consumer.stop()


async def worker_rate(prefix: str, database_name: str, keys: Path, max_seconds: float) -> tuple[int, float, float]:
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
            print(f"  worker: {done:6d} of {total} events after {now - started:4.0f} s "
                  f"({interval_rate:.0f} events/s over the last 30 s)", flush=True)
            last_done, last_at = done, now
            if done >= total or now - started >= max_seconds:
                return done, done / (now - started), interval_rate
            if worker.process.poll() is not None:
                raise RuntimeError("the worker exited")
    finally:
        worker.stop()


@dataclass
class RebuildFigures:
    """Rates per second: events generated through our EventPublisher, consumed raw and through
    the snapshot reader; FerretDB upserts and bulk-inserted documents; the two rebuilds' stats."""

    events: int
    generate_rate: float
    consume: float
    snapshot: float
    upsert: float
    bulk: float
    evaluation: RebuildStats
    notification: RebuildStats
    worker_rate: float | None = None


async def rebuild_figures(sessions: int = 1000, worker_seconds: float = 0) -> RebuildFigures:
    """Generate `sessions` × 102 events on a fresh prefix, measure, print each figure as it
    comes, and remove the topics and databases it created."""
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    keys = Path("/tmp") / f"{prefix}keys"
    ensure_key_pair(keys / "jwt.pem", keys / "jwt.pub.pem")
    client = AsyncIOMotorClient(MONGODB_URI, tz_aware=True)
    raw_db, rebuild_db, worker_db, notification_db = (f"bench_{name}_{prefix[5:-1]}" for name in (
        "raw", "rebuild", "worker", "notification"))
    try:
        started = time.perf_counter()
        total = await generate(prefix, sessions)
        generate_rate = total / (time.perf_counter() - started)
        print(f"generated {total} events on prefix {prefix} in {total / generate_rate:.0f} s")
        consume = await raw_consume_rate(prefix, total)
        snapshot = await snapshot_read_rate(prefix)
        upsert = await raw_upsert_rate(client[raw_db])
        bulk = await raw_bulk_insert_rate(client[raw_db])
        print(f"raw aiokafka consume:      {consume:10.0f} events/s")
        print(f"snapshot read, no fold:    {snapshot:10.0f} events/s ({snapshot / consume:.2f} of consume)")
        print(f"raw FerretDB upsert:       {upsert:10.0f} upserts/s (one at a time)")
        print(f"raw FerretDB insert_many:  {bulk:10.0f} documents/s (1,000 per call)", flush=True)

        settings = Settings(kafka_bootstrap_servers=KAFKA, mongodb_uri=MONGODB_URI, topic_prefix=prefix,
                            mongodb_database=f"bench_live_{prefix[5:-1]}")
        stats = await rebuild(settings, rebuild_db, copy_command_side=False)
        written = sum(stats.documents.values())
        print(f"rebuild read+fold:         {stats.events_per_second:10.0f} events/s   "
              f"{stats.events} events in {stats.fold_seconds:.1f} s ({stats.poison} poison)")
        print(f"rebuild bulk write:        {stats.documents_per_second:10.0f} documents/s "
              f"{written} documents in {stats.write_seconds:.1f} s {stats.documents}")
        print(f"rebuild total:             {stats.events / stats.seconds:10.0f} events/s   {stats.seconds:.1f} s")
        print(f"read+fold / raw consume:   {stats.events_per_second / consume:10.3f}")
        print(f"bulk write / raw insert_many: {stats.documents_per_second / bulk:7.3f}")
        print(f"rebuild total / raw upsert: {stats.events / stats.seconds / upsert:9.1f} "
              f"(events/s against upserts/s)", flush=True)

        notification = await rebuild_notification(NotificationSettings(
            kafka_bootstrap_servers=KAFKA, mongodb_uri=MONGODB_URI, topic_prefix=prefix,
            mongodb_database=f"bench_live_{prefix[5:-1]}"), notification_db)
        print(f"notification read+fold:    {notification.events_per_second:10.0f} events/s   "
              f"{notification.events} events in {notification.fold_seconds:.1f} s ({notification.poison} poison)")
        print(f"notification bulk write:   {notification.documents_per_second:10.0f} documents/s "
              f"{sum(notification.documents.values())} documents in {notification.write_seconds:.1f} s "
              f"{notification.documents}")
        print(f"notification total:        {notification.events / notification.seconds:10.0f} events/s   "
              f"{notification.seconds:.1f} s", flush=True)

        rate = None
        if worker_seconds:
            done, rate, last = await worker_rate(prefix, worker_db, keys, worker_seconds)
            print(f"worker (incremental path): {rate:10.0f} events/s   {done} of {total} events, "
                  f"last 30 s {last:.0f} events/s")
            print(f"rebuild total / worker:    {stats.events / stats.seconds / rate:10.1f}")
        return RebuildFigures(total, generate_rate, consume, snapshot, upsert, bulk, stats, notification, rate)
    finally:
        for name in (raw_db, rebuild_db, worker_db, notification_db):
            await client.drop_database(name)
        client.close()
        await delete_topics(prefix)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000, help="sessions of 102 events each")
    parser.add_argument("--worker-seconds", type=float, default=0,
                        help="also run the worker-based (incremental) rebuild for this long; 0: not")
    args = parser.parse_args()
    await rebuild_figures(args.sessions, args.worker_seconds)


if __name__ == "__main__":
    asyncio.run(main())
