"""The registration API as a real process on this test's topics and database."""

from __future__ import annotations

import pytest

from tests.processes import ServiceProcess


@pytest.fixture
def api(topic_prefix, unique, keys):
    service = ServiceProcess("registration", "api", topic_prefix, f"test_{unique}", keys).start()
    yield service
    service.stop()
