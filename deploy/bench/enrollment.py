"""Enrollment API throughput and latency, against the raw limits measured in the same run.

    make bench BENCH=enrollment [ARGS='--seconds 10 --concurrency 20']

Every HTTP figure comes from wrk (http_load.py), never from a Python client, which tops out near
200 requests/s here. Prints, for this machine and this run:
  raw: bare FastAPI GET /healthz of the same app; FerretDB insert_one, find_one by _id and
       conditional replace_one at the same concurrency from several client processes
       (raw_database.py); aiokafka produce (acks=all, idempotent, ~300-byte events)
  ours: enrollment requests/s with p50/p99/p99.9 at that concurrency, spread over many sessions
       (the usual case) and all into one session (the worst case: one aggregate); GET
       /sessions/{id}; the database commands FerretDB counted per enrollment request
  and each of ours against the limit it is bound by.
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

from http_load import HttpLoad, load  # noqa: E402
from measure import delete_topics, machine  # noqa: E402
from raw_database import DatabaseRate, commands_between, database_rates, server_commands  # noqa: E402


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
    """One run's HTTP loads, raw database rates, produce rate (events/s) and the database
    commands counted per enrollment request (empty where the server does not count them)."""

    concurrency: int
    sessions: int
    bare: HttpLoad
    spread: HttpLoad
    hot: HttpLoad
    get_session: HttpLoad
    database: dict[str, DatabaseRate]
    produce_rate: float
    commands_per_enrollment: dict[str, float]

    @property
    def writes_per_enrollment(self) -> float:
        return sum(self.commands_per_enrollment.get(name, 0) for name in ("insert", "update", "delete"))


async def enrollment_figures(seconds: float = 10, concurrency: int = 20, sessions: int = 30) -> EnrollmentFigures:
    """Start a registration API on its own topics and database, measure it and the raw limits,
    and remove what it created."""
    run = uuid.uuid4().hex[:8]
    prefix, database = f"b{run}.", f"bench_{run}"
    keys = Path(f"/tmp/emm-bench-{run}")
    ensure_key_pair(keys / "jwt.pem", keys / "jwt.pub.pem")
    token = TokenIssuer((keys / "jwt.pem").read_bytes()).issue("bench", "organizer", regional=True)
    organizer = {"Authorization": f"Bearer {token}"}
    api = ServiceProcess("registration", "api", prefix, database, keys).start()
    try:
        async with httpx.AsyncClient(base_url=api.url, timeout=120) as client:
            await asyncio.sleep(2)  # let the API connect to Kafka
            spread_ids = [(await client.post("/sessions", json=session(10_000), headers=organizer)).json()
                          ["session"]["session_id"] for _ in range(sessions)]
            hot_id = (await client.post("/sessions", json=session(10_000), headers=organizer)).json()[
                "session"]["session_id"]
        drive = dict(connections=concurrency, seconds=seconds, token=token)
        bare = await asyncio.to_thread(load, "bare FastAPI GET /healthz", f"{api.url}/healthz", **drive)
        before = server_commands()
        spread = await asyncio.to_thread(load, f"enrollment API, {sessions} sessions", api.url,
                                         enroll_into=spread_ids, run=f"{run}s", **drive)
        counted = commands_between(before, server_commands())
        hot = await asyncio.to_thread(load, "enrollment API, all into one session", api.url,
                                      enroll_into=[hot_id], run=f"{run}h", **drive)
        get_session = await asyncio.to_thread(load, "GET /sessions/{id}", f"{api.url}/sessions/{spread_ids[0]}",
                                              **drive)
        database_limits = {rate.operation: rate for rate in await asyncio.to_thread(database_rates, concurrency)}
        produce_rate = await raw_produce_rate(prefix)
    finally:
        api.stop()
        mongo = AsyncIOMotorClient(MONGODB_URI)
        await mongo.drop_database(database)
        mongo.close()
        await delete_topics(prefix)
        shutil.rmtree(keys, ignore_errors=True)
    per_request = {name: count / max(1, spread.requests) for name, count in counted.items()}
    return EnrollmentFigures(concurrency, sessions, bare, spread, hot, get_session, database_limits, produce_rate,
                             per_request)


def report(f: EnrollmentFigures) -> None:
    print(f"raw  {f.bare.line()}")
    for rate in f.database.values():
        print(rate.line())
    print(f"raw  aiokafka produce (300 B, acks=all) {f.produce_rate:,.0f} events/s")
    for ours in (f.spread, f.hot, f.get_session):
        print(f"ours {ours.line()}")
    if f.commands_per_enrollment:
        counted = ", ".join(f"{name} {n:.1f}" for name, n in f.commands_per_enrollment.items())
        print(f"     database commands per enrollment request, as FerretDB counted them (anything else using "
              f"the server meanwhile counts too): {counted}; writes {f.writes_per_enrollment:.1f}")
    insert = f.database["insert_one"].rate
    print(f"ratio enroll (spread) / bare FastAPI      {f.spread.rate / f.bare.rate:6.3f}")
    if f.writes_per_enrollment:
        print(f"ratio enroll (spread) / (insert_one ÷ {f.writes_per_enrollment:.1f} writes) "
              f"{f.spread.rate / (insert / f.writes_per_enrollment):6.3f}")
    print(f"ratio GET /sessions/{{id}} / find_one     {f.get_session.rate / f.database['find_one'].rate:6.3f}")
    print(f"ratio enroll (one session) / spread       {f.hot.rate / f.spread.rate:6.3f}", flush=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10, help="how long each HTTP load runs")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--sessions", type=int, default=30)
    args = parser.parse_args()
    print(f"machine: {machine()}; concurrency {args.concurrency}", flush=True)
    report(await enrollment_figures(args.seconds, args.concurrency, args.sessions))


if __name__ == "__main__":
    asyncio.run(main())
