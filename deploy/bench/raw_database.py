"""Raw limits of the database at a given concurrency, from several client processes, and the
commands the server counted (so a figure of ours can say how many database calls it made).

Each operation runs for a fixed time with `concurrency` requests in flight, split over
`processes` client processes (one Python process drives about one core's worth of requests):
insert_one of fresh 2 kB documents, find_one by `_id`, and a conditional replace_one by `_id`
and version (the compare-and-replace our projections use). The clients' CPU share is printed
beside each rate, so a reader sees whether the clients or the server were the limit.
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
import time
import urllib.request
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

MONGODB_URI = os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27017/?retryWrites=false")
FERRETDB_METRICS = os.environ.get("EMM_FERRETDB_METRICS", "http://127.0.0.1:8088/debug/metrics")
PAYLOAD = "x" * 2000


@dataclass(frozen=True)
class DatabaseRate:
    operation: str
    concurrency: int
    rate: float
    client_cpu_share: float

    def line(self) -> str:
        return (f"raw  FerretDB {self.operation}, concurrency {self.concurrency}: {self.rate:,.0f}/s "
                f"(clients used {self.client_cpu_share:.0%} of the machine's CPU)")


async def _client_run(operation: str, database: str, process: int, tasks: int, seconds: float,
                      documents: int, uri: str) -> int:
    from pymongo import AsyncMongoClient

    client = AsyncMongoClient(uri)
    collection = client[database].raw
    done = 0
    deadline = time.perf_counter() + seconds

    async def one_task(task: int) -> None:
        nonlocal done
        n = 0
        version = {}
        while time.perf_counter() < deadline:
            n += 1
            if operation == "insert_one":
                await collection.insert_one({"_id": f"new-{process}-{task}-{n}", "payload": PAYLOAD})
            elif operation == "find_one":
                await collection.find_one({"_id": f"doc-{random.randrange(documents)}"})
            else:  # each task changes its own documents, so every conditional replace succeeds
                doc_id = f"doc-{(process * tasks + task) * 10 + n % 10}"
                current = version.get(doc_id, 0)
                result = await collection.replace_one({"_id": doc_id, "version": current},
                                                      {"version": current + 1, "payload": PAYLOAD})
                if result.matched_count != 1:
                    raise RuntimeError(f"conditional replace of {doc_id} at version {current} matched nothing")
                version[doc_id] = current + 1
            done += 1

    await asyncio.gather(*(one_task(t) for t in range(tasks)))
    await client.close()
    return done


def _client_process(operation: str, database: str, process: int, tasks: int, seconds: float, documents: int,
                    uri: str) -> int:
    return asyncio.run(_client_run(operation, database, process, tasks, seconds, documents, uri))


def database_rates(concurrency: int = 20, processes: int = 2, seconds: float = 8,
                   documents: int = 2000, uri: str = MONGODB_URI) -> list[DatabaseRate]:
    """insert_one, find_one by _id and conditional replace_one at `concurrency`, in a database of
    their own, on the server at `uri`."""
    from pymongo import MongoClient

    database = f"bench_raw_{uuid.uuid4().hex[:8]}"
    sync = MongoClient(uri)
    sync[database].raw.insert_many([{"_id": f"doc-{i}", "version": 0, "payload": PAYLOAD} for i in range(documents)])
    rates = []
    try:
        for operation in ("insert_one", "find_one", "replace_one"):
            tasks = max(1, concurrency // processes)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            with ProcessPoolExecutor(processes) as pool:
                counts = list(pool.map(_client_process, [operation] * processes, [database] * processes,
                                       range(processes), [tasks] * processes, [seconds] * processes,
                                       [documents] * processes, [uri] * processes))
            wall = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            rates.append(DatabaseRate(operation, tasks * processes, sum(counts) / seconds,
                                      cpu / (wall * len(os.sched_getaffinity(0)))))
    finally:
        sync.drop_database(database)
        sync.close()
    return rates


def server_commands() -> dict[str, int]:
    """Commands FerretDB has answered since it started, by name (its Prometheus counter); empty
    when its metrics cannot be read (MongoDB, or another address)."""
    try:
        with urllib.request.urlopen(FERRETDB_METRICS, timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return {}
    counts: dict[str, int] = {}
    for line in text.splitlines():
        if line.startswith("ferretdb_client_requests_total{"):
            labels, value = line.rsplit(" ", 1)
            command = labels.split('command="', 1)[1].split('"', 1)[0]
            counts[command] = counts.get(command, 0) + int(float(value))
    return counts


def commands_between(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """The commands counted between two readings of server_commands(), by name."""
    return {name: after[name] - before.get(name, 0) for name in sorted(after) if after[name] > before.get(name, 0)}


if __name__ == "__main__":
    for measured in database_rates():
        print(measured.line())
