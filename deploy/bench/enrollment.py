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
import shutil
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
from aiokafka import AIOKafkaProducer
from motor.motor_asyncio import AsyncIOMotorClient

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from emm_common.auth import TokenIssuer, ensure_key_pair  # noqa: E402
from tests.conftest import KAFKA, MONGODB_URI  # noqa: E402
from tests.processes import ServiceProcess  # noqa: E402

from measure import delete_topics, machine, percentile  # noqa: E402


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


@dataclass
class EnrollmentFigures:
    """Rates in requests (documents, events) per second; latencies in seconds, one per request."""

    concurrency: int
    sessions: int
    bare_rate: float
    bare_latencies: list[float]
    spread_rate: float
    spread_latencies: list[float]
    hot_rate: float
    hot_latencies: list[float]
    insert_rate: float
    produce_rate: float


async def enrollment_figures(requests: int = 600, concurrency: int = 20, sessions: int = 30) -> EnrollmentFigures:
    """Start a registration API on its own topics and database, measure it and the raw limits,
    and remove what it created."""
    run = uuid.uuid4().hex[:8]
    prefix, database = f"b{run}.", f"bench_{run}"
    keys = Path(f"/tmp/emm-bench-{run}")
    ensure_key_pair(keys / "jwt.pem", keys / "jwt.pub.pem")
    organizer = {"Authorization": f"Bearer {TokenIssuer((keys / 'jwt.pem').read_bytes()).issue('bench', 'organizer')}"}
    api = ServiceProcess("registration", "api", prefix, database, keys).start()
    try:
        async with httpx.AsyncClient(base_url=api.url, timeout=120,
                                     limits=httpx.Limits(max_connections=concurrency)) as client:
            await asyncio.sleep(2)  # let the API connect to Kafka

            async def healthz(i):
                await client.get("/healthz")

            bare_rate, bare_lat = await drive(2000, concurrency, healthz)
            spread = [(await client.post("/sessions", json=session(10_000), headers=organizer)).json()
                      ["session"]["session_id"] for _ in range(sessions)]

            async def enroll_spread(i):
                response = await client.post(f"/sessions/{spread[i % len(spread)]}/enrollments",
                                             json=person(i, run), headers=organizer)
                assert response.status_code == 201, response.text

            spread_rate, spread_lat = await drive(requests, concurrency, enroll_spread)
            hot = (await client.post("/sessions", json=session(20), headers=organizer)).json()["session"]["session_id"]

            async def enroll_hot(i):
                response = await client.post(f"/sessions/{hot}/enrollments", json=person(100_000 + i, run),
                                             headers=organizer)
                assert response.status_code == 201, response.text

            hot_rate, hot_lat = await drive(min(200, requests), concurrency, enroll_hot)
        database_rate = await raw_database_rate()
        produce_rate = await raw_produce_rate(prefix)
    finally:
        api.stop()
        mongo = AsyncIOMotorClient(MONGODB_URI)
        await mongo.drop_database(database)
        mongo.close()
        await delete_topics(prefix)
        shutil.rmtree(keys, ignore_errors=True)
    return EnrollmentFigures(concurrency, sessions, bare_rate, bare_lat, spread_rate, spread_lat, hot_rate, hot_lat,
                             database_rate, produce_rate)


def ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:7.1f} ms"


def report(f: EnrollmentFigures) -> None:
    print(f"raw  bare FastAPI GET /healthz        {f.bare_rate:8.0f} req/s  "
          f"p50 {ms(f.bare_latencies, .5)}  p99 {ms(f.bare_latencies, .99)}")
    print(f"raw  FerretDB insert (2 kB)           {f.insert_rate:8.0f} docs/s")
    print(f"raw  aiokafka produce (300 B, acks=all) {f.produce_rate:6.0f} events/s")
    print(f"ours enroll, {f.sessions} sessions ({len(f.spread_latencies)} req) {f.spread_rate:7.1f} req/s  "
          f"p50 {ms(f.spread_latencies, .5)}  p99 {ms(f.spread_latencies, .99)}")
    print(f"ours enroll, one session ({len(f.hot_latencies)} req)    {f.hot_rate:7.1f} req/s  "
          f"p50 {ms(f.hot_latencies, .5)}  p99 {ms(f.hot_latencies, .99)}")
    print(f"ratio enroll (spread) / bare FastAPI      {f.spread_rate / f.bare_rate:6.3f}")
    print(f"ratio enroll (spread) / raw DB inserts    {f.spread_rate / f.insert_rate:6.3f}  "
          f"(each enrollment inserts 4 documents and reads 5-7 by _id)")
    print(f"ratio enroll (one session) / spread       {f.hot_rate / f.spread_rate:6.3f}", flush=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--sessions", type=int, default=30)
    args = parser.parse_args()
    print(f"machine: {machine()}; concurrency {args.concurrency}", flush=True)
    report(await enrollment_figures(args.requests, args.concurrency, args.sessions))


if __name__ == "__main__":
    asyncio.run(main())
