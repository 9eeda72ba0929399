"""The offline rebuild (emm_evaluation.entrypoints.rebuild) against the real broker and database:
the live worker's projections equal a fresh replay of their topics into an empty database,
digest for digest; the rebuild publishes nothing; and an altered live document is caught."""

from __future__ import annotations

import pytest

from emm_common.documents import AggregateStore
from emm_common.rebuild import collection_digests, end_offsets
from emm_common.topics import all_topics, topic_name
from emm_evaluation.config import Settings
from emm_evaluation.entrypoints.rebuild import rebuild
from emm_evaluation.entrypoints.worker import TOPICS
from emm_evaluation.service_layer.handlers import PROJECTIONS
from tests.conftest import KAFKA, MONGODB_URI, eventually
from tests.integration.evaluation import registration_events as ev
from tests.integration.evaluation.test_worker import certified_events, publish, trainer_of

pytestmark = pytest.mark.integration

COMMAND_SIDE = ("knowledge_scores", "knowledge_scores_states", "knowledge_scores_heads")


def settings_for(topic_prefix: str, database_name: str) -> Settings:
    return Settings(kafka_bootstrap_servers=KAFKA, mongodb_uri=MONGODB_URI, topic_prefix=topic_prefix,
                    mongodb_database=database_name)


async def every_offset(topic_prefix: str) -> dict:
    return await end_offsets(KAFKA, sorted(topic_name(t, topic_prefix) for t in all_topics()))


async def rebuilt_equals_live(live, rebuilt, collections) -> bool:
    return await collection_digests(live, collections) == await collection_digests(rebuilt, collections)


@pytest.fixture
async def rebuilt(database, unique):
    """The database a test rebuilds into (dropped afterwards)."""
    target = database.client[f"test_{unique}_rebuild"]
    yield target
    await database.client.drop_database(target.name)


async def test_a_rebuild_equals_the_live_projections_and_publishes_nothing(
        publisher, worker, database, rebuilt, topic_prefix):
    await publish(publisher, ev.scheduled(ev.session("ses-r")))
    for n in range(1, 7):
        await publish(publisher, *ev.certifiable("ses-r", n))
    await publish(publisher, ev.feedback("ses-r", 2, 3, submitted_at="2026-05-21T10:00:00Z"),  # a resubmission
                  ev.feedback("ses-r", 7, anonymous=True, respondent_ref="r" + "0" * 32),
                  ev.attended("ses-r", 6, "2026-05-20", "absent", at="2026-05-20T19:00:00Z"),
                  ev.scheduled(ev.session("gov-r", kind="government_delivery", facilitators=("par-1",))))
    await publisher.send_raw(topic_name("emm.sessions", topic_prefix), b"not a cloud event", b"ses-r", [])
    await eventually(lambda: database["trainees"].find_one({"_id": "ses-r|par-6",
                                                            "marks.2026-05-20": {"$regex": "absent$"}}))
    await publish(publisher, ev.completed("ses-r"))
    await eventually(lambda: trainer_of(database, 5))
    assert len(await certified_events(topic_prefix, expected=5)) == 5  # the record the rebuild takes them from
    # The command side is not on any topic: it is copied, and its pending outbox is not.
    scores = AggregateStore(database["knowledge_scores"])
    await scores.commit("ses-r", {"par-1": {"post": 90}}, 0, [])
    await database["knowledge_scores"].update_one({"_id": AggregateStore.document_id("ses-r", 1)},
                                                  {"$set": {"outbox": {"e1": {"id": "e1"}}}})
    worker.stop()  # what it still had to apply is applied; from here, nothing may be published
    before = await every_offset(topic_prefix)

    stats = await rebuild(settings_for(topic_prefix, database.name), rebuilt.name)

    assert await every_offset(topic_prefix) == before
    assert stats.poison == 1 and stats.poison_records[0].reason.startswith("malformed")
    consumed = {topic_name(t, topic_prefix) for t in TOPICS}
    assert stats.events == sum(offset for tp, offset in before.items() if tp.topic in consumed)
    assert stats.documents["trainers"] == 5 and stats.documents["trainees"] == 6
    assert await collection_digests(rebuilt, PROJECTIONS + COMMAND_SIDE) == await collection_digests(
        database, PROJECTIONS + COMMAND_SIDE)
    copied = await rebuilt["knowledge_scores"].find_one({"_id": AggregateStore.document_id("ses-r", 1)})
    assert copied["outbox"] == {}
    assert (await AggregateStore(rebuilt["knowledge_scores"]).load("ses-r")).state == {"par-1": {"post": 90}}


async def test_an_altered_live_document_no_longer_digests_like_its_rebuild(
        publisher, worker, database, rebuilt, topic_prefix):
    await publish(publisher, ev.scheduled(ev.session("ses-x")), *ev.certifiable("ses-x", 1),
                  *ev.certifiable("ses-x", 2))
    await eventually(lambda: database["trainees"].find_one({"_id": "ses-x|par-2", "ratings": {"$ne": "{}"}}))
    await rebuild(settings_for(topic_prefix, database.name), rebuilt.name, copy_command_side=False)
    await eventually(lambda: rebuilt_equals_live(database, rebuilt, PROJECTIONS))

    await database["trainees"].update_one({"_id": "ses-x|par-1"},
                                          {"$set": {"marks.2026-05-20": "2026-05-19T09:00:00Z|absent"}})

    live, fresh = await collection_digests(database, PROJECTIONS), await collection_digests(rebuilt, PROJECTIONS)
    assert live["trainees"] != fresh["trainees"]
    assert {name for name in PROJECTIONS if live[name] != fresh[name]} == {"trainees"}
