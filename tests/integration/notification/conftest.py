"""Fixtures of the notification integration tests."""

from __future__ import annotations

import pytest

from emm_common.publisher import EventPublisher
from emm_common.topics import all_topics, ensure_topics, topic_name
from tests.conftest import KAFKA


@pytest.fixture
async def publisher(topic_prefix):
    """A producer onto this test's prefixed topics (created first, as the worker expects)."""
    await ensure_topics(KAFKA, {topic_name(t, topic_prefix) for t in all_topics()}, partitions=3)
    publisher = EventPublisher(KAFKA, topic_prefix)
    await publisher.start()
    yield publisher
    await publisher.stop()
