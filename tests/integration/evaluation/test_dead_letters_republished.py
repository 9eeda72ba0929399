"""Re-publishing dead letters after a fix (python -m emm_common.dead_letters), on the real broker
and database: a worker deployed with a contract that lacked attendance.recorded dead-letters every
mark; once fixed, the chosen dead letters go back to emm.attendance with their event ids, the
worker applies each, a second run changes nothing, and what was not chosen stays where it is."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from emm_common.contract import schemas_dir
from emm_common.dead_letters import REPUBLISHED_FROM
from emm_common.digest import collection_digests
from emm_common.topics import topic_name
from emm_evaluation.service_layer.handlers import PROJECTIONS
from tests.conftest import KAFKA, eventually
from tests.integration.evaluation import registration_events as ev
from tests.integration.evaluation.test_worker import publish
from tests.processes import ServiceProcess
from tests.topics import read_topic

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

ATTENDANCE = "org.iom.emm.attendance.recorded.v1"


def republish(topic_prefix: str, *selectors: str) -> str:
    """The operator's command, as a process with the deployment's environment."""
    done = subprocess.run([sys.executable, "-m", "emm_common.dead_letters", "--service", "evaluation", *selectors],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": KAFKA, "EMM_TOPIC_PREFIX": topic_prefix})
    assert done.returncode == 0, done.stderr
    return done.stdout


async def applied_marks(worker: ServiceProcess, at_least: int) -> bool:
    """Whether the worker has applied `at_least` attendance records (its own /metrics)."""
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{worker.url}/metrics")).text
    return at_least <= sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == "emm_events_consumed_total" and sample.labels.get("type") == ATTENDANCE
               and sample.labels.get("outcome") == "applied")


def header(record, name: str) -> bytes | None:
    return dict(record.headers).get(name)


async def test_dead_letters_republished_after_the_fix_are_applied_once(
        publisher, database, database_name, topic_prefix, keys, tmp_path):
    old_contract = tmp_path / "old-schemas"
    shutil.copytree(schemas_dir(), old_contract)
    (old_contract / "events" / f"{ATTENDANCE}.json").unlink()
    before_fix = ServiceProcess("evaluation", "worker", topic_prefix, database_name, keys,
                                env={"EMM_SCHEMAS_DIR": str(old_contract)}).start()
    marks = [ev.attended("ses-d", 1, "2026-05-19"), ev.attended("ses-d", 2, "2026-05-19", "late")]
    await publish(publisher, ev.scheduled(ev.session("ses-d")), ev.registered("ses-d", 1), ev.registered("ses-d", 2),
                  *marks)
    await publisher.send_raw(topic_name("emm.sessions", topic_prefix), b"not a cloud event", b"ses-d", [])
    dead_letters = topic_name("emm.dlq.evaluation", topic_prefix)
    assert len(await read_topic(dead_letters, 3)) == 3
    await eventually(lambda: database["trainees"].find_one({"_id": "ses-d|par-2"}))
    before_fix.stop()
    assert not await database["trainees"].find_one({"_id": "ses-d|par-1", "marks.2026-05-19": {"$exists": True}})

    worker = ServiceProcess("evaluation", "worker", topic_prefix, database_name, keys).start()  # the fix
    try:
        assert "would republish (dry run) 2" in republish(topic_prefix, "--reason", "unknown event type", "--dry-run")
        assert len(await read_topic(topic_name("emm.attendance", topic_prefix), 2)) == 2

        report = republish(topic_prefix, "--reason", "unknown event type")

        assert "republished 2" in report and all(mark.id in report for mark in marks)
        for n, status in ((1, "present"), (2, "late")):
            await eventually(lambda: database["trainees"].find_one(
                {"_id": f"ses-d|par-{n}", "marks.2026-05-19": {"$regex": f"{status}$"}}))
        records = await read_topic(topic_name("emm.attendance", topic_prefix), 4)
        again = [r for r in records if header(r, REPUBLISHED_FROM)]
        assert sorted(header(r, "ce_id") for r in again) == sorted(mark.id.encode() for mark in marks)
        originals = {header(r, "ce_id"): r for r in records if not header(r, REPUBLISHED_FROM)}
        for record in again:  # byte for byte, to the same partition
            original = originals[header(record, "ce_id")]
            assert (record.value, record.key, record.partition) == (original.value, original.key, original.partition)
        await eventually(lambda: applied_marks(worker, 2))
        projected = await collection_digests(database, PROJECTIONS)

        assert "republished 2" in republish(topic_prefix, "--reason", "unknown event type")  # a second run

        await eventually(lambda: applied_marks(worker, 4))
        assert await collection_digests(database, PROJECTIONS) == projected
        assert len(await read_topic(dead_letters, 3, settle=1.0)) == 3  # nothing dead-lettered again
        sessions = await read_topic(topic_name("emm.sessions", topic_prefix), 2)
        assert [r.value for r in sessions if r.value == b"not a cloud event"] == [b"not a cloud event"]  # not chosen
    finally:
        worker.stop()
