"""Single-document atomic writes against the real MongoDB-protocol server."""

from __future__ import annotations

import asyncio
import time

import pytest

from emm_common import documents
from emm_common.envelope import new_event
from emm_common.outbox import OutboxRelay, SweepTurns

pytestmark = pytest.mark.integration


def completed(session_id):
    return new_event("org.iom.emm.session.completed.v1",
                     {"session_id": session_id, "completed_at": "2026-05-18T17:00:00Z"}, source="/test")


@pytest.fixture
async def store(mongo_database):
    return documents.AggregateStore(mongo_database.sessions, keep=3)


async def test_commit_of_a_version_someone_else_committed_is_refused(store):
    await store.commit("s1", {"seats": 1}, 0, [completed("s1")])
    current = await store.load("s1")
    assert await store.commit("s1", {"seats": 2}, current.version, [completed("s1")]) == 2
    with pytest.raises(documents.VersionConflict):
        await store.commit("s1", {"seats": 99}, current.version, [completed("s1")])
    assert (await store.load("s1")).state == {"seats": 2}


async def test_concurrent_writers_of_one_aggregate_never_lose_an_update(store):
    await store.commit("s1", {"count": 0}, 0, [])

    async def increment():
        while True:
            current = await store.load("s1")
            try:
                await store.commit("s1", {"count": current.state["count"] + 1}, current.version, [])
                return
            except documents.VersionConflict:
                await asyncio.sleep(0)

    await asyncio.gather(*(increment() for _ in range(40)))
    assert (await store.load("s1")).state["count"] == 40


async def test_old_states_are_pruned_but_their_version_numbers_stay_taken(store, mongo_database):
    for version in range(6):
        await store.commit("s1", {"n": version}, version, [completed("s1")])
    await store.settled()
    assert await mongo_database.sessions.count_documents({}) == 6
    assert await mongo_database.sessions_states.count_documents({}) == 3  # the newest three
    assert (await store.load("s1")).state == {"n": 5}
    with pytest.raises(documents.VersionConflict):  # a pruned version number is never free again
        await store.commit("s1", {"n": "late writer"}, 0, [])
    assert await mongo_database.sessions_states.count_documents({}) == 3  # the loser left nothing


async def test_every_version_waits_in_the_outbox_until_relayed(store, mongo_database):
    for version in range(3):
        await store.commit("s1", {"n": version}, version, [completed("s1")])

    class Publisher:  # an in-memory stand-in for our own port: the relay only needs send()
        async def send(self, event):
            future = asyncio.get_running_loop().create_future()
            future.set_result(None)
            return future

    assert await OutboxRelay(Publisher(), [mongo_database.sessions]).relay_once() == 3
    assert await OutboxRelay(Publisher(), [mongo_database.sessions]).relay_once() == 0
    assert [v.state for v in await store.latest_of_all()] == [{"n": 2}]


async def test_an_event_is_applied_to_a_projection_once(mongo_database):
    projection = mongo_database.enrolled
    assert await documents.apply_once(projection, "s1", "e1", {"$inc": {"registered": 1}})
    assert not await documents.apply_once(projection, "s1", "e1", {"$inc": {"registered": 1}})
    assert await documents.apply_once(projection, "s1", "e2", {"$inc": {"registered": 1}})
    assert (await projection.find_one({"_id": "s1"}))["registered"] == 2


async def test_one_process_at_a_time_gets_the_turn_to_sweep_a_collection(mongo_database):
    """Insert-once turns: of several processes asking in one interval, one sweeps; the next
    interval is another turn."""
    processes = [SweepTurns(mongo_database, holder=f"process-{n}") for n in range(4)]
    taken = await asyncio.gather(*(p.take("sessions", 3600) for p in processes))
    assert sum(taken) == 1
    others = [p for p, took in zip(processes, taken) if not took]
    assert not any(await asyncio.gather(*(p.take("sessions", 3600) for p in others)))
    assert await others[0].take("participants", 3600)  # each collection has its own turn

    await asyncio.sleep(0.5 - time.time() % 0.5)  # the start of a slot of 0.5 s
    assert sum(await asyncio.gather(*(p.take("attendance", 0.5) for p in processes))) == 1
    await asyncio.sleep(0.5)
    assert sum(await asyncio.gather(*(p.take("attendance", 0.5) for p in processes))) == 1  # the next slot
