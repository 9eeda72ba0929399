"""Memory of every process under the demo load: the figures behind deploy/k8s's resource requests
and limits (docs/deployment.md).

    make bench BENCH=memory

Starts the registration, evaluation and notification APIs, the two workers and the portal on their
own topics and databases, samples each process's resident set (VmRSS in /proc) every 0.2 s, and
reads its peak (VmHWM) at the end, through three phases:
  ready   once every process answers
  dakar   the demo's Dakar scenario (deploy/local/dakar_scenario.py) through the APIs, and the
          workers' projections and emails that follow
  load    wrk: enrollments POSTed at concurrency 20 over 30 sessions, GET /sessions/{id} and the
          portal's home page at concurrency 20, 15 s each
A benchmark, not a test: the figures are one run's on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
from motor.motor_asyncio import AsyncIOMotorClient

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from deploy.local.dakar_scenario import DakarScenario  # noqa: E402
from emm_common.auth import TokenIssuer, ensure_key_pair  # noqa: E402
from emm_common.topics import all_topics, ensure_topics, topic_name  # noqa: E402
from tests.conftest import KAFKA, MONGODB_URI, SMTP_PORT  # noqa: E402
from tests.processes import ServiceProcess, portal  # noqa: E402

from enrollment import session  # noqa: E402
from http_load import load  # noqa: E402
from measure import delete_topics, machine, markdown_table  # noqa: E402

PHASES = ["ready", "dakar", "load"]


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class Sampler(threading.Thread):
    """The largest VmRSS seen per process and phase."""

    def __init__(self, processes: dict[str, ServiceProcess]) -> None:
        super().__init__(daemon=True)
        self.processes = processes
        self.phase = "ready"
        self.peak: dict[tuple[str, str], int] = {}
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            for name, process in self.processes.items():
                try:
                    rss = status_kib(process.process.pid, "VmRSS")
                except (FileNotFoundError, ProcessLookupError):
                    continue
                key = (name, self.phase)
                self.peak[key] = max(self.peak.get(key, 0), rss)
            time.sleep(0.2)


async def main(seconds: float) -> None:
    run = uuid.uuid4().hex[:8]
    prefix = f"m{run}."
    keys = Path(f"/tmp/emm-memory-{run}")
    ensure_key_pair(keys / "jwt.pem", keys / "jwt.pub.pem")
    issuer = TokenIssuer((keys / "jwt.pem").read_bytes())
    token = issuer.issue("bench", "organizer")
    await ensure_topics(KAFKA, {topic_name(t, prefix) for t in all_topics()}, partitions=3)
    databases = {name: f"bench_{run}_{name}" for name in ("registration", "evaluation", "notification")}
    processes = {
        "registration-api": ServiceProcess("registration", "api", prefix, databases["registration"], keys),
        "evaluation-api": ServiceProcess("evaluation", "api", prefix, databases["evaluation"], keys),
        "evaluation-worker": ServiceProcess("evaluation", "worker", prefix, databases["evaluation"], keys),
        "notification-api": ServiceProcess("notification", "api", prefix, databases["notification"], keys),
        "notification-worker": ServiceProcess("notification", "worker", prefix, databases["notification"], keys,
                                              env={"NOTIFICATION_SMTP_PORT": str(SMTP_PORT)}),
    }
    processes["portal"] = portal(keys, registration=processes["registration-api"],
                                 evaluation=processes["evaluation-api"], notification=processes["notification-api"])
    sampler = Sampler(processes)
    try:
        for process in processes.values():
            process.start(wait=False)
        for process in processes.values():
            await asyncio.to_thread(process.wait_until_answering, None, 120)
        sampler.start()
        await asyncio.sleep(5)
        sampler.phase = "dakar"
        scenario = DakarScenario(processes["registration-api"].url, processes["evaluation-api"].url, issuer,
                                 suffix=f"-{run}", say=lambda line: print(f"[memory] {line}", flush=True))
        await asyncio.to_thread(scenario.run)
        await asyncio.sleep(10)  # the workers' projections and emails
        sampler.phase = "load"
        api = processes["registration-api"].url
        async with httpx.AsyncClient(base_url=api, timeout=120, headers={"Authorization": f"Bearer {token}"}) as c:
            ids = [(await c.post("/sessions", json=session(10_000))).json()["session"]["session_id"]
                   for _ in range(30)]
        drive = dict(connections=20, seconds=seconds, token=token)
        for what, url, extra in [("enrollments", api, {"enroll_into": ids, "run": run}),
                                 ("GET /sessions/{id}", f"{api}/sessions/{ids[0]}", {}),
                                 ("portal home", processes["portal"].url + "/", {})]:
            print(f"[memory] {(await asyncio.to_thread(load, what, url, **drive, **extra)).line()}", flush=True)
        await asyncio.sleep(10)  # the workers catch up with the enrollments
        hwm = {name: status_kib(p.process.pid, "VmHWM") for name, p in processes.items()}
    finally:
        sampler.stopped.set()
        for process in processes.values():
            process.stop()
        mongo = AsyncIOMotorClient(MONGODB_URI)
        for name in databases.values():
            await mongo.drop_database(name)
        mongo.close()
        await delete_topics(prefix)
        shutil.rmtree(keys, ignore_errors=True)
    print(f"\nMemory (MiB resident) on {machine()}\n")
    rows = [(name, *(f"{sampler.peak.get((name, phase), 0) / 1024:.0f}" for phase in PHASES),
             f"{hwm[name] / 1024:.0f}") for name in processes]
    print(markdown_table(("process", *(f"{phase} (max RSS)" for phase in PHASES), "peak (VmHWM)"), rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15)
    asyncio.run(main(parser.parse_args().seconds))
