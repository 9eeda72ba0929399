"""The pure parts of a rebuild: the staging store's MongoDB semantics (what projection handlers
rely on, and a refusal of everything else) and the canonical digest of documents."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pymongo.errors import DuplicateKeyError

from emm_common.documents import AggregateStore, apply_once
from emm_common.rebuild import (NotStaged, PoisonRecord, RebuildStats, StagingStore, canonical_json,
                                documents_digest, without_bookkeeping)


@pytest.fixture
def store() -> StagingStore:
    return StagingStore(["sessions", "trainers"])


async def test_find_one_by_id_returns_a_fresh_copy_every_time(store):
    await store["sessions"].insert_one({"_id": "s1", "participants": ["p1"]})
    found = await store["sessions"].find_one({"_id": "s1"})
    found["participants"].append("p2")
    assert await store["sessions"].find_one({"_id": "s1"}) == {"_id": "s1", "participants": ["p1"]}
    assert await store["sessions"].find_one({"_id": "nope"}) is None


async def test_documents_come_back_as_the_server_keeps_them():
    store = StagingStore(["c"])
    at = datetime(2026, 5, 20, 17, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    await store["c"].insert_one({"_id": "d", "days": ("a", "b"), "at": at})
    found = await store["c"].find_one({"_id": "d"})
    assert found["days"] == ["a", "b"]
    assert found["at"] == datetime(2026, 5, 20, 16, 0, 0, 123000, tzinfo=timezone.utc)
    assert found["at"].tzinfo is not None


async def test_insert_of_an_existing_id_raises_duplicate_key_error(store):
    await store["trainers"].insert_one({"_id": "trn-1", "status": "active"})
    with pytest.raises(DuplicateKeyError):
        await store["trainers"].insert_one({"_id": "trn-1", "status": "other"})
    assert (await store["trainers"].find_one({"_id": "trn-1"}))["status"] == "active"


async def test_replace_one_with_upsert_inserts_then_replaces_the_whole_document(store):
    await store["sessions"].replace_one({"_id": "s1"}, {"_id": "s1", "a": 1, "b": 2}, upsert=True)
    result = await store["sessions"].replace_one({"_id": "s1"}, {"_id": "s1", "a": 3}, upsert=True)
    assert result.matched_count == 1
    assert await store["sessions"].find_one({"_id": "s1"}) == {"_id": "s1", "a": 3}
    missing = await store["sessions"].replace_one({"_id": "s2"}, {"a": 1})
    assert missing.matched_count == 0 and await store["sessions"].find_one({"_id": "s2"}) is None


async def test_set_on_insert_applies_only_when_the_upsert_creates_the_document(store):
    trainers = store["trainers"]
    await trainers.update_one({"_id": "trn-1"}, {"$set": {"full_name": "A"}, "$setOnInsert": {"status": "active"}},
                              upsert=True)
    await trainers.update_one({"_id": "trn-1"}, {"$set": {"status": "revoked"}}, upsert=True)
    await trainers.update_one({"_id": "trn-1"}, {"$set": {"full_name": "B"}, "$setOnInsert": {"status": "active"}},
                              upsert=True)
    assert await trainers.find_one({"_id": "trn-1"}) == {"_id": "trn-1", "full_name": "B", "status": "revoked"}


async def test_apply_once_applies_an_event_once_on_a_staged_collection(store):
    sessions = store["sessions"]
    assert await apply_once(sessions, "s1", "e1", {"$set": {"status": "open"}})
    assert await apply_once(sessions, "s1", "e2", {"$set": {"status": "completed"}})
    assert not await apply_once(sessions, "s1", "e1", {"$set": {"status": "open"}})  # a redelivery
    assert await sessions.find_one({"_id": "s1"}) == {"_id": "s1", "status": "completed", "applied": ["e1", "e2"]}


async def test_an_upsert_whose_id_exists_but_whose_conditions_fail_collides_like_mongodb(store):
    await store["sessions"].insert_one({"_id": "s1", "applied": ["e1"]})
    with pytest.raises(DuplicateKeyError):
        await store["sessions"].update_one({"_id": "s1", "applied": {"$ne": "e1"}}, {"$push": {"applied": "e1"}},
                                           upsert=True)
    result = await store["sessions"].update_one({"_id": "s1", "applied": {"$ne": "e1"}}, {"$set": {"x": 1}})
    assert result.matched_count == 0


async def test_push_appends_one_value_or_each_of_several(store):
    await store["sessions"].update_one({"_id": "s1"}, {"$push": {"history": "a"}}, upsert=True)
    await store["sessions"].update_one({"_id": "s1"}, {"$push": {"history": {"$each": ["b", "c"]}}})
    assert (await store["sessions"].find_one({"_id": "s1"}))["history"] == ["a", "b", "c"]


async def test_find_by_ids_with_a_projection(store):
    for n in (1, 2, 3):
        await store["sessions"].insert_one({"_id": f"s{n}", "n": n, "applied": ["e"]})
    found = [doc async for doc in store["sessions"].find({"_id": {"$in": ["s3", "s1", "s9"]}}, {"applied": 0})]
    assert found == [{"_id": "s3", "n": 3}, {"_id": "s1", "n": 1}]
    assert await store["sessions"].find_one({"_id": "s2"}, {"_id": 1}) == {"_id": "s2"}
    assert await store["sessions"].find_one({"_id": "s2"}, {"n": 1, "_id": 0}) == {"n": 2}
    assert await store["sessions"].find({"_id": {"$in": ["s2"]}}).to_list(10) == [
        {"_id": "s2", "n": 2, "applied": ["e"]}]


async def test_what_projection_handlers_do_not_do_is_refused(store):
    sessions = store["sessions"]
    with pytest.raises(NotStaged):
        await sessions.find_one({"status": "open"})  # a scan: handlers read by _id
    with pytest.raises(NotStaged):
        await sessions.update_one({"_id": "s1"}, {"$inc": {"n": 1}}, upsert=True)
    with pytest.raises(NotStaged):
        await sessions.update_one({"_id": "s1"}, {"$set": {"session.status": "open"}}, upsert=True)
    with pytest.raises(NotStaged):
        await sessions.delete_one({"_id": "s1"})
    with pytest.raises(NotStaged):
        sessions.count_documents


async def test_a_collection_that_is_not_staged_can_be_named_but_not_used(store):
    scores = AggregateStore(store["knowledge_scores"])  # as the evaluation Projector builds it
    with pytest.raises(NotStaged, match="knowledge_scores"):
        await scores.load("s1")


async def test_raw_documents_are_what_was_stored(store):
    await store["sessions"].insert_one({"_id": "s1", "n": 1})
    [raw] = store["sessions"].raw_documents()
    assert raw["_id"] == "s1" and raw["n"] == 1
    assert len(store["sessions"]) == 1 and len(store["trainers"]) == 0


# -- digests --------------------------------------------------------------------------------------

def test_digest_ignores_key_order_document_order_and_the_outbox():
    one = [{"_id": "a", "x": 1, "y": {"b": 2, "a": 1}}, {"_id": "b", "outbox": {"e1": {}}}]
    two = [{"_id": "b"}, {"y": {"a": 1, "b": 2}, "x": 1, "_id": "a", "outbox": {}}]
    assert documents_digest(one) == documents_digest(two)


def test_digest_changes_with_any_value_list_order_or_number_type():
    base = documents_digest([{"_id": "a", "x": [1, 2], "n": 4}])
    assert documents_digest([{"_id": "a", "x": [1, 3], "n": 4}]) != base
    assert documents_digest([{"_id": "a", "x": [2, 1], "n": 4}]) != base
    assert documents_digest([{"_id": "a", "x": [1, 2], "n": 4.0}]) != base
    assert documents_digest([{"_id": "a", "x": [1, 2], "n": 4}, {"_id": "b"}]) != base


def test_digest_of_an_instant_does_not_depend_on_its_time_zone_object():
    utc = datetime(2026, 5, 20, 16, 0, tzinfo=timezone.utc)
    dakar_plus_one = utc.astimezone(timezone(timedelta(hours=1)))
    assert documents_digest([{"_id": "a", "at": utc}]) == documents_digest([{"_id": "a", "at": dakar_plus_one}])
    assert canonical_json({"at": utc}) == '{"at":{"$date":"2026-05-20T16:00:00Z"}}'


def test_normalise_chooses_what_is_compared_and_none_leaves_a_document_out():
    documents = [{"_id": "a", "kind": "x", "status": "sent"}, {"_id": "b", "kind": "reminder", "status": "sent"}]

    def plan(doc):
        return None if doc["kind"] == "reminder" else {"_id": doc["_id"], "kind": doc["kind"]}

    assert documents_digest(documents, plan) == documents_digest([{"_id": "a", "kind": "x", "status": "planned"}],
                                                                 plan)


def test_canonical_json_is_compact_with_sorted_keys():
    assert canonical_json({"b": [1, "é"], "a": None}) == '{"a":null,"b":[1,"é"]}'
    assert without_bookkeeping({"_id": 1, "outbox": {"e": 1}, "applied": ["e"]}) == {"_id": 1, "applied": ["e"]}


def test_stats_give_rates_of_each_phase():
    stats = RebuildStats(events=1000, applied=990, ignored=5, poison=5, documents={"a": 300, "b": 100},
                         fold_seconds=2.0, write_seconds=0.5,
                         poison_records=[PoisonRecord("emm.sessions", 0, 7, "malformed: x")])
    assert (stats.events_per_second, stats.documents_per_second, stats.seconds) == (500.0, 800.0, 2.5)
    assert "emm.sessions/0@7: malformed: x" in stats.report()
    assert stats.to_dict()["events_per_second"] == 500.0
