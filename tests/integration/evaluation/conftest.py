"""Fixtures of the evaluation integration tests: registration's events published onto the
test's prefixed topics, the evaluation worker and API as real processes."""

from __future__ import annotations

import pytest

from tests.processes import ServiceProcess


@pytest.fixture
def database_name(unique) -> str:
    return f"test_{unique}"


@pytest.fixture
def database(mongo_database, database_name):
    """The database the worker and the API of this test use (the shared fixture's, dropped after)."""
    assert mongo_database.name == database_name
    return mongo_database


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
