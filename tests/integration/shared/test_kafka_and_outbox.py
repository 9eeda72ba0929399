"""The shared package against the real broker and database: publishing, the outbox relay, and a
faust worker that dead-letters poison and survives SIGKILL without duplicate effects."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from emm_common.envelope import Event, KafkaRecord, from_record, new_event
from emm_common.outbox import OutboxRelay, outbox_fields
from emm_common.publisher import EventPublisher
from emm_common.topics import all_topics, ensure_topics, topic_name
from tests.conftest import KAFKA, MONGODB_URI, eventually
from tests.processes import stop
from tests.topics import read_topic

pytestmark = pytest.mark.integration
COMPLETED = "org.iom.emm.session.completed.v1"


def completed(session_id: str):
    return new_event(COMPLETED, {"session_id": session_id, "completed_at": "2026-05-18T17:00:00Z"},
                     source="/emm/test")


@pytest.fixture
async def topics(topic_prefix):
    await ensure_topics(KAFKA, {topic_name(t, topic_prefix) for t in all_topics()}, partitions=3)
    return topic_prefix


@pytest.fixture
async def publisher(topics):
    publisher = EventPublisher(KAFKA, topics)
    await publisher.start()
    yield publisher
    await publisher.stop()


async def test_published_event_is_on_its_topic_keyed_by_session(publisher, topics):
    event = completed("ses-1")
    await publisher.publish(event)
    [record] = await read_topic(topic_name("emm.sessions", topics), 1)
    assert record.key == b"ses-1"
    parsed = from_record(KafkaRecord(record.key, record.value, list(record.headers)))
    assert parsed.id == event.id and parsed.data == event.data


async def test_events_of_one_session_keep_their_order(publisher, topics):
    events = [completed("ses-order") for _ in range(20)]
    futures = [await publisher.send(e) for e in events]
    await asyncio.gather(*futures)
    records = await read_topic(topic_name("emm.sessions", topics), 20)
    assert {r.partition for r in records} == {records[0].partition}
    assert [dict(r.headers)["ce_id"].decode() for r in records] == [e.id for e in events]


async def test_outbox_written_while_kafka_is_unreachable_is_published_later(mongo_database, topics):
    documents = mongo_database.sessions
    event = completed("ses-outbox")
    await documents.insert_one({"_id": "ses-outbox", "version": 1, "outbox": outbox_fields_map([event])})
    unreachable = EventPublisher("127.0.0.1:1", topics)
    with pytest.raises(Exception):
        await asyncio.wait_for(unreachable.start(), 5)
    assert await documents.count_documents({"outbox": {"$ne": {}}}) == 1  # nothing lost meanwhile

    publisher = EventPublisher(KAFKA, topics)
    await publisher.start()
    try:
        assert await OutboxRelay(publisher, [documents]).relay_once() == 1
    finally:
        await publisher.stop()
    assert (await documents.find_one({"_id": "ses-outbox"}))["outbox"] == {}
    [record] = await read_topic(topic_name("emm.sessions", topics), 1)
    assert dict(record.headers)["ce_id"].decode() == event.id


async def test_crash_between_publish_and_outbox_cleanup_republishes_the_same_event_id(mongo_database, publisher,
                                                                                      topics):
    documents = mongo_database.sessions
    event = completed("ses-crash")
    await documents.insert_one({"_id": "ses-crash", "version": 1, "outbox": outbox_fields_map([event])})
    await publisher.publish(event)  # the relay published, then died before removing it
    assert await OutboxRelay(publisher, [documents]).relay_once() == 1
    records = await read_topic(topic_name("emm.sessions", topics), 2)
    assert [dict(r.headers)["ce_id"].decode() for r in records] == [event.id, event.id]  # a duplicate, same id
    assert await OutboxRelay(publisher, [documents]).relay_once() == 0


async def relayed_until(relay: OutboxRelay, topic: str, expected: int, timeout: float = 20.0) -> list:
    """Run the relay's own loop (as an API or worker does) until `expected` records are on `topic`."""
    relay.start()
    try:
        return await read_topic(topic, expected, timeout=timeout)
    finally:
        await relay.stop()


def ids_on(records) -> list[str]:
    return [dict(r.headers)["ce_id"].decode() for r in records]


def oversized(session_id: str, size: int) -> Event:
    """A completed event with a `notes` field of `size` bytes (the schema allows extra fields);
    built without new_event, which would refuse one above its limit, as an older release did not."""
    return Event(type=COMPLETED, source="/emm/test", subject=session_id,
                 data={"session_id": session_id, "completed_at": "2026-05-18T17:00:00Z", "notes": "x" * size})


async def test_an_event_larger_than_the_broker_takes_is_parked_and_holds_back_no_other_document(
        mongo_database, publisher, topics):
    documents = mongo_database.sessions
    too_large, after_it, next_session = oversized("ses-big", 3_400_000), completed("ses-big"), completed("ses-next")
    await documents.insert_one({"_id": "ses-big@1", "version": 1, "outbox": outbox_fields_map([too_large, after_it])})
    await documents.insert_one({"_id": "ses-next@1", "version": 1, "outbox": outbox_fields_map([next_session])})

    records = await relayed_until(OutboxRelay(publisher, [documents], poll_seconds=0.5, grace_seconds=0),
                                  topic_name("emm.sessions", topics), 2, timeout=10)

    assert sorted(ids_on(records)) == sorted([after_it.id, next_session.id])
    big = await documents.find_one({"_id": "ses-big@1"})
    assert big["outbox"] == {} and list(big["parked_outbox"]) == [too_large.id]
    assert big["parked_outbox"][too_large.id]["parked_reason"].startswith("MessageSizeTooLargeError")
    assert (await documents.find_one({"_id": "ses-next@1"}))["outbox"] == {}


async def test_an_event_above_the_topic_s_own_limit_is_parked_and_the_partition_s_later_events_still_go_out(
        mongo_database, topic_prefix):
    # The broker refuses the batch itself (the producer's own limit is higher): aiokafka's idempotent
    # producer then numbers that partition's next batches past it, and only a new producer gets them in.
    sessions_topic = topic_name("emm.sessions", topic_prefix)
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(sessions_topic, 1, 1, topic_configs={"max.message.bytes": "20000"})])
    finally:
        await admin.close()
    await ensure_topics(KAFKA, {topic_name(t, topic_prefix) for t in all_topics()}, partitions=1)
    documents = mongo_database.sessions
    too_large = new_event(COMPLETED, oversized("ses-t", 30_000).data, source="/emm/test")  # within our limit
    before, after_it, next_session = completed("ses-t"), completed("ses-t"), completed("ses-u")
    await documents.insert_one({"_id": "ses-t@1", "version": 1,
                                "outbox": outbox_fields_map([before, too_large, after_it])})
    await documents.insert_one({"_id": "ses-u@1", "version": 1, "outbox": outbox_fields_map([next_session])})
    publisher = EventPublisher(KAFKA, topic_prefix)
    await publisher.start()
    try:
        records = await relayed_until(OutboxRelay(publisher, [documents], poll_seconds=0.5, grace_seconds=0), sessions_topic, 3)
    finally:
        await publisher.stop()

    assert ids_on(records) == [before.id, after_it.id, next_session.id]  # one partition: in order
    parked = (await documents.find_one({"_id": "ses-t@1"}))["parked_outbox"]
    assert list(parked) == [too_large.id] and parked[too_large.id]["parked_reason"].startswith(
        "MessageSizeTooLargeError")


def outbox_fields_map(events):
    return {key.split(".", 1)[1]: value for key, value in outbox_fields(events, version=1).items()}


# ---------------------------------------------------------------- the faust worker

def start_sample_worker(prefix: str, database: str, metrics_port: int = 0) -> subprocess.Popen:
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": KAFKA, "MONGODB_URI": MONGODB_URI, "EMM_TOPIC_PREFIX": prefix,
           "EMM_MONGODB_DATABASE": database, "EMM_TOPIC_PARTITIONS": "3", "EMM_METRICS_PORT": str(metrics_port)}
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"sample-worker-{prefix}log", "ab")
    return subprocess.Popen([sys.executable, "-m", "tests.integration.shared.sample_worker"],
                            cwd=Path(__file__).parents[3], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


async def test_worker_applies_events_once_and_dead_letters_poison(mongo_database, publisher, topics, unique):
    worker = start_sample_worker(topics, mongo_database.name)
    try:
        good = [completed(f"ses-{i}") for i in range(30)]
        for event in good[:10]:
            await publisher.publish(event)
        raw = publisher._producer
        sessions_topic = topic_name("emm.sessions", topics)
        await raw.send_and_wait(sessions_topic, b"this is not json", key=b"ses-x")
        await raw.send_and_wait(sessions_topic, b'{"session_id": "ses-x"}', key=b"ses-x",
                                headers=[("ce_id", b"p-2"), ("ce_source", b"/x"), ("ce_specversion", b"1.0"),
                                         ("ce_type", COMPLETED.encode()), ("ce_time", b"2026-05-18T17:00:00Z"),
                                         ("content-type", b"application/json")])
        await eventually(lambda: count(mongo_database.completed, 10), timeout=60)

        stop(worker, signal.SIGKILL)  # mid-stream, before offsets of the last events may be committed
        for event in good[10:]:
            await publisher.publish(event)
        await publisher.publish(good[0])  # a redelivered event, same id
        worker = start_sample_worker(topics, mongo_database.name)
        await eventually(lambda: count(mongo_database.completed, 30), timeout=60)
        await asyncio.sleep(2)
        assert await mongo_database.completed.count_documents({}) == 30  # no duplicate effect
        assert {d["_id"] async for d in mongo_database.completed.find()} == {e.id for e in good}

        dead = await read_topic(topic_name("emm.dlq.sample", topics), 2)
        # A poison record redelivered after the kill is dead-lettered again: group by origin.
        by_origin = {(dict(r.headers)["dlq_original_topic"].decode(), dict(r.headers)["dlq_original_offset"]):
                     dict(r.headers)["dlq_reason"].decode() for r in dead}
        reasons = sorted(by_origin.values())
        assert len(reasons) == 2
        assert reasons[0].startswith("malformed: not a CloudEvent")
        assert "completed_at" in reasons[1]
        assert {topic for topic, _ in by_origin} == {sessions_topic}
    finally:
        stop(worker)


async def count(collection, expected: int) -> bool:
    return await collection.count_documents({}) >= expected
