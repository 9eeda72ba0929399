"""Every read and write we make is by `_id`, on the promise that it costs the same however large
the collection grows. These tests hold the database server to it: on FerretDB's SQLite backend
the promise needs our patch (deploy/local/ferretdb-sqlite-id-index.patch); unpatched, the
server scans the whole table for each of them."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

# What `apply_once` sends: the _id and a guard on the applied event ids; what the document
# store's get_many sends: several _ids in one query.
FILTERS = [{"_id": "doc-17"}, {"_id": "doc-17", "applied": {"$ne": "event-1"}}, {"_id": {"$in": ["doc-17", "doc-3"]}}]


def uses_the_id_index(plan: dict) -> bool:
    planner = plan["queryPlanner"]
    if "Plan" in planner:  # FerretDB on SQLite: the SQLite query plan, one line per step
        return any("USING INDEX" in step and "__id_" in step for step in planner["Plan"])
    return "COLLSCAN" not in repr(planner)  # MongoDB: IDHACK, EXPRESS_IXSCAN or IXSCAN on _id


@pytest.mark.parametrize("query", FILTERS, ids=["id only", "id and a guard", "ids in a list"])
async def test_a_find_by_id_uses_the_id_index(mongo_database, query):
    await mongo_database.docs.insert_many([{"_id": f"doc-{i}", "applied": []} for i in range(50)])
    plan = await mongo_database.command("explain", {"find": "docs", "filter": query})
    assert uses_the_id_index(plan), plan["queryPlanner"]


async def test_a_guarded_update_by_id_still_applies_its_guard(mongo_database):
    # The narrowed query must not skip the rest of the filter: the second apply matches nothing.
    await mongo_database.docs.insert_one({"_id": "doc-17", "applied": [], "n": 0})
    for _ in range(2):
        await mongo_database.docs.update_one(FILTERS[1], {"$inc": {"n": 1}, "$push": {"applied": "event-1"}})
    assert await mongo_database.docs.find_one({"_id": "doc-17"}) == {"_id": "doc-17", "applied": ["event-1"], "n": 1}
