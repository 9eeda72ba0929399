"""Enrollment API throughput and latency, against the raw limits measured in the same run.

    make bench BENCH=enrollment [ARGS='--requests 600 --concurrency 20']

Prints, for this machine and this run:
  raw: bare FastAPI requests/s (GET /healthz of the same app under uvicorn), raw FerretDB insert
       rate (2 kB documents), raw aiokafka produce rate (acks=all, idempotent, ~300-byte events)
  ours: enrollment requests/s with p50/p99 latency at a fixed concurrency, spread over many
       sessions (the usual case) and all into one session (the worst case: one document)
  and each of ours as a ratio of the matching raw limit.
A benchmark, not a test: figures vary with the machine's load; compare ratios from one run.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path

import httpx
from aiokafka import AIOKafkaProducer
from motor.motor_asyncio import AsyncIOMotorClient

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from emm_common.auth import TokenIssuer, ensure_key_pair  # noqa: E402
from tests.conftest import KAFKA, MONGODB_URI  # noqa: E402
from tests.processes import ServiceProcess  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def drive(count: int, concurrency: int, request) -> tuple[float, list[float]]:
    """Run `request(i)` `count` times with `concurrency` in flight; return (requests/s, latencies)."""
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def worker():
        while not queue.empty():
            i = queue.get_nowait()
            started = time.perf_counter()
            await request(i)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count / (time.perf_counter() - started), latencies


async def raw_database_rate(count: int = 2000) -> float:
    client = AsyncIOMotorClient(MONGODB_URI)
    collection = client[f"bench_{uuid.uuid4().hex[:8]}"].raw
    payload = "x" * 2000
    started = time.perf_counter()
    for i in range(count):
        await collection.insert_one({"_id": f"doc-{i}", "payload": payload})
    rate = count / (time.perf_counter() - started)
    await client.drop_database(collection.database.name)
    client.close()
    return rate


async def raw_produce_rate(topic_prefix: str, count: int = 20000) -> float:
    from emm_common.topics import ensure_topics

    topic = f"{topic_prefix}raw"
    await ensure_topics(KAFKA, {topic}, partitions=6)
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all", enable_idempotence=True, linger_ms=5)
    await producer.start()
    value = b"x" * 300
    started = time.perf_counter()
    futures = [await producer.send(topic, value=value, key=str(i % 50).encode()) for i in range(count)]
    await asyncio.gather(*futures)
    rate = count / (time.perf_counter() - started)
    await producer.stop()
    return rate


def session(capacity: int) -> dict:
    return {"title": "Benchmark session", "kind": "training_of_trainers", "modules": ["m"], "organizing_office": "RO",
            "city": "Dakar", "country": "SN", "start_date": "2027-05-19", "end_date": "2027-05-20",
            "timezone": "Africa/Dakar", "languages": ["fr"], "capacity": capacity}


def person(i: int, run: str) -> dict:
    return {"email": f"bench{i}.{run}@example.org", "full_name": f"Bench {i}", "country": "SN",
            "preferred_language": "fr", "consent_to_contact": True}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--sessions", type=int, default=30)
    args = parser.parse_args()
    run = uuid.uuid4().hex[:8]
    keys = Path(f"/tmp/emm-bench-{run}")
    ensure_key_pair(keys / "jwt.pem", keys / "jwt.pub.pem")
    organizer = {"Authorization": f"Bearer {TokenIssuer((keys / 'jwt.pem').read_bytes()).issue('bench', 'organizer')}"}
    api = ServiceProcess("registration", "api", f"b{run}.", f"bench_{run}", keys).start()
    try:
        async with httpx.AsyncClient(base_url=api.url, timeout=120,
                                     limits=httpx.Limits(max_connections=args.concurrency)) as client:
            await asyncio.sleep(2)  # let the API connect to Kafka

            async def healthz(i):
                await client.get("/healthz")

            bare_rate, bare_lat = await drive(2000, args.concurrency, healthz)
            sessions = [(await client.post("/sessions", json=session(10_000), headers=organizer)).json()
                        ["session"]["session_id"] for _ in range(args.sessions)]

            async def enroll_spread(i):
                response = await client.post(f"/sessions/{sessions[i % len(sessions)]}/enrollments",
                                             json=person(i, run), headers=organizer)
                assert response.status_code == 201, response.text

            spread_rate, spread_lat = await drive(args.requests, args.concurrency, enroll_spread)
            hot = (await client.post("/sessions", json=session(20), headers=organizer)).json()["session"]["session_id"]

            async def enroll_hot(i):
                response = await client.post(f"/sessions/{hot}/enrollments", json=person(100_000 + i, run),
                                             headers=organizer)
                assert response.status_code == 201, response.text

            hot_count = min(200, args.requests)
            hot_rate, hot_lat = await drive(hot_count, args.concurrency, enroll_hot)
        database_rate = await raw_database_rate()
        produce_rate = await raw_produce_rate(f"b{run}.")
    finally:
        api.stop()

    def ms(values, q):
        return f"{percentile(values, q) * 1000:7.1f} ms"

    print(f"machine: {Path('/proc/cpuinfo').read_text().count('processor')} cores; concurrency {args.concurrency}")
    print(f"raw  bare FastAPI GET /healthz        {bare_rate:8.0f} req/s  p50 {ms(bare_lat, .5)}  p99 {ms(bare_lat, .99)}")
    print(f"raw  FerretDB insert (2 kB)           {database_rate:8.0f} docs/s")
    print(f"raw  aiokafka produce (300 B, acks=all) {produce_rate:6.0f} events/s")
    print(f"ours enroll, {args.sessions} sessions ({args.requests} req) {spread_rate:7.1f} req/s  "
          f"p50 {ms(spread_lat, .5)}  p99 {ms(spread_lat, .99)}")
    print(f"ours enroll, one session ({hot_count} req)    {hot_rate:7.1f} req/s  "
          f"p50 {ms(hot_lat, .5)}  p99 {ms(hot_lat, .99)}")
    print(f"ratio enroll (spread) / bare FastAPI      {spread_rate / bare_rate:6.3f}")
    print(f"ratio enroll (spread) / raw DB inserts    {spread_rate / database_rate:6.3f}  "
          f"(each enrollment inserts 4 documents and reads 5-7 by _id)")
    print(f"ratio enroll (one session) / spread       {hot_rate / spread_rate:6.3f}")


if __name__ == "__main__":
    asyncio.run(main())
