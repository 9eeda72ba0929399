"""Fixtures of the evaluation integration tests: registration's events published onto the
test's prefixed topics, the evaluation worker and API as real processes."""

from __future__ import annotations

import httpx
import pytest

from emm_common.publisher import EventPublisher
from emm_common.topics import all_topics, ensure_topics, topic_name
from tests.conftest import KAFKA
from tests.processes import ServiceProcess


@pytest.fixture
async def publisher(topic_prefix):
    """A producer onto this test's prefixed topics (created first, as the worker expects)."""
    await ensure_topics(KAFKA, {topic_name(t, topic_prefix) for t in all_topics()}, partitions=3)
    publisher = EventPublisher(KAFKA, topic_prefix)
    await publisher.start()
    yield publisher
    await publisher.stop()


@pytest.fixture
def database_name(unique) -> str:
    return f"test_{unique}"


@pytest.fixture
async def database(database_name):
    from motor.motor_asyncio import AsyncIOMotorClient

    from tests.conftest import MONGODB_URI

    client = AsyncIOMotorClient(MONGODB_URI, serverSelectionTimeoutMS=5000, tz_aware=True)
    yield client[database_name]
    await client.drop_database(database_name)
    client.close()


@pytest.fixture
def worker(publisher, topic_prefix, database_name, keys):
    service = ServiceProcess("evaluation", "worker", topic_prefix, database_name, keys).start()
    yield service
    service.stop()


@pytest.fixture
def api(publisher, topic_prefix, database_name, keys):
    service = ServiceProcess("evaluation", "api", topic_prefix, database_name, keys).start()
    yield service
    service.stop()


@pytest.fixture
async def client(api):
    async with httpx.AsyncClient(base_url=api.url, timeout=60) as client:
        yield client
