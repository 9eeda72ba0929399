"""The document store port: the MongoDB adapter on the real server and the in-memory adapter
keep the same semantics (insert once, replace only at the version read, events into the
document's outbox in the same write, reads by `_id`), and count the same round trips."""

from __future__ import annotations

import asyncio

import pytest

from emm_common.envelope import new_event
from emm_common.store import VERSION, VersionConflict
from emm_common.store.memory import MemoryDocumentStore
from emm_common.store.mongo import MongoDocumentStore

pytestmark = pytest.mark.integration


@pytest.fixture(params=["mongo", "memory"])
def store(request, mongo_database):
    committed = []
    adapter = MongoDocumentStore(mongo_database) if request.param == "mongo" else MemoryDocumentStore()
    adapter.on_commit = lambda collection, doc_id, entries: committed.append((collection, doc_id, sorted(entries)))
    adapter.committed = committed
    return adapter


def an_event(n: int = 1):
    """Any contract-valid event will do."""
    return new_event("org.iom.emm.session.completed.v1", {"session_id": f"ses-{n}", "completed_at": "2026-05-20T17:00:00Z"},
                     source="/emm/registration")


async def test_insert_is_refused_for_an_existing_id_and_its_events_are_dropped(store):
    event = an_event()
    assert await store.insert("trainers", {"_id": "trn-1", "status": "active"}, [event])
    assert not await store.insert("trainers", {"_id": "trn-1", "status": "other"}, [an_event(2)])
    found = await store.get("trainers", "trn-1")
    assert found.document == {"_id": "trn-1", "status": "active"} and found.version == 1
    assert store.committed == [("trainers", "trn-1", [event.id])]


async def test_replace_writes_the_new_state_only_at_the_version_read(store):
    await store.insert("sessions", {"_id": "s1", "title": "A", "city": "Dakar"})
    first = await store.get("sessions", "s1")
    await store.replace("sessions", first, {"_id": "s1", "title": "B", "participants": ["p1"]})
    with pytest.raises(VersionConflict):
        await store.replace("sessions", first, {"_id": "s1", "title": "C"})
    second = await store.get("sessions", "s1")
    assert second.document == {"_id": "s1", "title": "B", "participants": ["p1"]} and second.version == 2
    await store.replace("sessions", second, {"_id": "s1", "title": "C"})
    assert (await store.get("sessions", "s1")).document == {"_id": "s1", "title": "C"}


async def test_a_replace_adds_its_events_to_the_outbox_and_a_read_leaves_the_outbox_out(store):
    await store.insert("trainers", {"_id": "trn-1", "status": "active"}, [an_event(1)])
    later = an_event(2)
    await store.replace("trainers", await store.get("trainers", "trn-1"), {"_id": "trn-1", "status": "revoked"},
                        [later])
    assert (await store.get("trainers", "trn-1")).document == {"_id": "trn-1", "status": "revoked"}
    assert store.committed[-1] == ("trainers", "trn-1", [later.id])
    raw = await outbox_of(store, "trainers", "trn-1")
    assert sorted(raw) == sorted([store.committed[0][2][0], later.id])
    assert raw[later.id]["seq"] == [2, 0]  # after the insert's events: the relay publishes in that order


async def outbox_of(store, collection, doc_id):
    if isinstance(store, MemoryDocumentStore):
        return store.outbox(collection, doc_id)
    return (await store.database[collection].find_one({"_id": doc_id}))["outbox"]


async def test_a_document_written_before_versions_existed_is_replaced_once_from_version_zero(mongo_database):
    store = MongoDocumentStore(mongo_database)
    await mongo_database["sessions"].insert_one({"_id": "old", "title": "A"})
    old = await store.get("sessions", "old")
    assert old.version == 0
    await store.replace("sessions", old, {"_id": "old", "title": "B"})
    with pytest.raises(VersionConflict):
        await store.replace("sessions", old, {"_id": "old", "title": "C"})
    assert await mongo_database["sessions"].find_one({"_id": "old"}) == {"_id": "old", "title": "B", VERSION: 1}


async def test_get_many_and_insert_many_take_one_round_trip_each(store):
    inserted = await store.insert_many("trainees", [({"_id": f"s|p{n}", "n": n}, []) for n in range(5)])
    assert inserted == {f"s|p{n}" for n in range(5)}
    again = await store.insert_many("trainees", [({"_id": "s|p1", "n": 9}, [an_event()]),
                                                 ({"_id": "s|p9", "n": 9}, [])])
    assert again == {"s|p9"} and store.committed == []
    store.round_trips.reset()
    found = await store.get_many("trainees", ["s|p1", "s|p3", "s|nobody", "s|p1"])
    assert {doc_id: doc.document["n"] for doc_id, doc in found.items()} == {"s|p1": 1, "s|p3": 3}
    assert dict(store.round_trips.calls) == {("get_many", "trainees"): 1}
    assert store.round_trips.reads == 1 and store.round_trips.writes == 0


async def test_all_lists_a_collection_with_only_the_fields_asked_for(store):
    await store.insert("sessions", {"_id": "s1", "session": {"country": "SN"}, "participants": ["p1"]})
    await store.insert("sessions", {"_id": "s2", "session": None, "participants": []})
    listed = sorted((s.document for s in await store.all("sessions", fields=["session"])), key=lambda d: d["_id"])
    assert listed == [{"_id": "s1", "session": {"country": "SN"}}, {"_id": "s2", "session": None}]


async def test_writers_in_two_processes_never_lose_an_update_of_one_document(mongo_database):
    """Two worker instances (a rebalance, or a document fed from two partitions) each with their
    own store and locks, replacing one document at once: every increment survives, on FerretDB
    v1 too, whose conditional update alone is not atomic."""
    stores = [MongoDocumentStore(mongo_database), MongoDocumentStore(mongo_database)]
    assert await stores[0].insert("trainers", {"_id": "trn-race", "count": 0})

    async def increment(store, times):
        for _ in range(times):
            while True:
                current = await store.get("trainers", "trn-race")
                try:
                    await store.replace("trainers", current, {**current.document, "count": current.document["count"] + 1})
                    break
                except VersionConflict:
                    continue

    await asyncio.gather(*(increment(store, 15) for store in stores for _ in range(3)))
    found = await stores[0].get("trainers", "trn-race")
    assert found.document["count"] == 90 and found.version == 91
