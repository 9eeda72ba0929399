"""Both drivers the settings allow work against the real server: motor (default) and PyMongo's
AsyncMongoClient (motor's successor, same API for what we use)."""

from __future__ import annotations

import pytest

from emm_common import mongo
from emm_common.documents import AggregateStore
from emm_common.settings import ServiceSettings
from tests.conftest import MONGODB_URI

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("driver", ["motor", "pymongo"])
async def test_the_configured_driver_commits_and_loads_an_aggregate(driver, unique):
    settings = ServiceSettings(mongodb_uri=MONGODB_URI, mongodb_driver=driver, mongodb_database=f"test_{unique}")
    database = mongo.database_for(settings)
    try:
        await mongo.ping(database)
        store = AggregateStore(database.sessions)
        await store.commit("s1", {"driver": driver}, 0, [])
        assert (await store.load("s1")).state == {"driver": driver}
        assert [v.state for v in await store.latest_of_all()] == [{"driver": driver}]
    finally:
        await database.client.drop_database(database.name)
        closing = mongo.close(database)
        if closing is not None:
            await closing
