"""Rebuild and switch over (emm_evaluation.entrypoints.switch_over) against the real broker and
database, while events keep arriving: the service's API and worker end up on the new database,
which holds every event published before, during and after the switch (it equals a fresh
offline rebuild of the topics), the command side copied; the home database keeps the pointer."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import httpx
import pytest

from emm_common import live_database
from emm_common.documents import AggregateStore
from emm_common.rebuild import collection_digests
from emm_evaluation.entrypoints.rebuild import rebuild
from emm_evaluation.entrypoints.switch_over import service_rebuild
from emm_common.switch_over import switch_over
from emm_evaluation.service_layer.handlers import PROJECTIONS
from tests.conftest import KAFKA, MONGODB_URI, eventually
from tests.integration.evaluation import registration_events as ev
from tests.integration.evaluation.test_rebuild import settings_for
from tests.integration.evaluation.test_worker import publish, trainer_of
from tests.processes import ServiceProcess

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


class Service:
    """The evaluation API and worker as processes, on the test's home database."""

    def __init__(self, topic_prefix: str, home: str, keys) -> None:
        self.topic_prefix, self.home, self.keys = topic_prefix, home, keys
        self.api = self.worker = None

    async def start(self) -> None:
        self.worker = ServiceProcess("evaluation", "worker", self.topic_prefix, self.home, self.keys)
        self.api = ServiceProcess("evaluation", "api", self.topic_prefix, self.home, self.keys)
        await asyncio.gather(asyncio.to_thread(self.worker.start), asyncio.to_thread(self.api.start))

    async def stop(self) -> None:
        await asyncio.gather(asyncio.to_thread(self.worker.stop), asyncio.to_thread(self.api.stop))


async def keep_enrolling(publisher, stop: asyncio.Event, enrolled: list[int]) -> None:
    """Registrations for session ses-bg, one every 50 ms, until told to stop."""
    n = 100
    while not stop.is_set():
        await publish(publisher, ev.registered("ses-bg", n))
        enrolled.append(n)
        n += 1
        await asyncio.sleep(0.05)


@pytest.fixture
async def databases(database):
    """The databases a test switches over and rebuilds into (dropped afterwards)."""
    names = {"target": f"{database.name}_v2", "fresh": f"{database.name}_fresh"}
    yield {key: database.client[name] for key, name in names.items()}
    for name in names.values():
        await database.client.drop_database(name)


async def test_switch_over_while_events_arrive_loses_none_and_moves_api_and_worker(
        publisher, database, databases, topic_prefix, keys, issue):
    service = Service(topic_prefix, database.name, keys)
    await service.start()
    await publish(publisher, ev.scheduled(ev.session("ses-s")), ev.scheduled(ev.session("ses-bg")))
    for n in range(1, 4):
        await publish(publisher, *ev.certifiable("ses-s", n))
    await publish(publisher, ev.completed("ses-s"))
    await eventually(lambda: trainer_of(database, 3))
    scores = AggregateStore(database["knowledge_scores"])  # the command side: on no topic, copied
    await scores.commit("ses-s", {"par-1": {"post": 90}}, 0, [])
    stop_enrolling, enrolled = asyncio.Event(), []
    enrolling = asyncio.create_task(keep_enrolling(publisher, stop_enrolling, enrolled))
    settings = settings_for(topic_prefix, database.name)
    target = databases["target"]
    try:
        report = await switch_over(settings, service_rebuild(settings), target.name,
                                   stop=service.stop, start=service.start)
        await asyncio.sleep(1.0)  # still enrolling, now into the new database
    finally:
        stop_enrolling.set()
        await enrolling
    try:
        assert report.switched and report.live == database.name and report.target == target.name
        assert report.rebuild.documents["trainers"] == 3 and report.copied["knowledge_scores"] >= 1
        pointer = await database[live_database.POINTER].find_one({"_id": live_database.POINTER_ID})
        assert pointer["database"] == target.name and pointer["previous"] == database.name

        # After the switch, the worker writes the new database only; the API reads it.
        await publish(publisher, *ev.certifiable("ses-s2", 4))
        await publish(publisher, ev.scheduled(ev.session("ses-s2")), ev.completed("ses-s2"))
        await eventually(lambda: trainer_of(target, 4))
        assert await trainer_of(database, 4) is None
        async with httpx.AsyncClient(base_url=service.api.url) as client:
            pool = (await client.get("/trainers", headers=issue("organizer"))).json()
        assert "par-4" in str(pool)

        # Not one registration lost, before, during or after the switch.
        ids = {f"ses-bg|par-{n}" for n in enrolled}

        async def every_registration_projected():
            return ids <= {doc["_id"] async for doc in target["trainees"].find({}, {"_id": 1})}

        await eventually(every_registration_projected)
        assert (await AggregateStore(target["knowledge_scores"]).load("ses-s")).state == {"par-1": {"post": 90}}
    finally:
        await service.stop()
    # Equal to a fresh rebuild of every topic: nothing missing, nothing extra.
    await rebuild(settings_for(topic_prefix, target.name), databases["fresh"].name, copy_command_side=False)
    assert await collection_digests(target, PROJECTIONS) == await collection_digests(databases["fresh"], PROJECTIONS)


async def test_the_command_runs_the_operator_s_stop_and_start_and_refuses_a_used_database(
        publisher, database, databases, topic_prefix, tmp_path):
    """The command line as an operator runs it, on a service with nothing to catch up."""
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": KAFKA, "MONGODB_URI": MONGODB_URI,
           "EMM_TOPIC_PREFIX": topic_prefix, "EVALUATION_MONGODB_DATABASE": database.name}
    hooks = tmp_path / "hooks.log"
    command = [sys.executable, "-m", "emm_evaluation.entrypoints.switch_over", "--database", databases["target"].name,
               "--stop", f"echo stopped >> {hooks}", "--start", f"echo started >> {hooks}"]
    done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"switched:  {database.name} -> {databases['target'].name}" in done.stdout
    assert hooks.read_text().split() == ["stopped", "started"]
    again = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, env=env, timeout=120)
    assert again.returncode == 2 and "live or the home database" in again.stderr
    pointer = await database[live_database.POINTER].find_one({"_id": live_database.POINTER_ID})
    assert pointer["database"] == databases["target"].name
