"""Schemathesis against the registration API's own OpenAPI document, with a valid organizer
token: no generated request gets a 5xx, and every 4xx says what is wrong."""

from __future__ import annotations

import pytest

from tests.integration.fuzzing import assert_no_problem_found, run_schemathesis
from tests.processes import ServiceProcess

pytestmark = pytest.mark.integration


def test_no_generated_request_gets_a_server_error(topic_prefix, unique, keys, issue):
    api = ServiceProcess("registration", "api", topic_prefix, f"test_{unique}", keys).start()
    try:
        result = run_schemathesis(api.url, issue("organizer")["Authorization"])
    finally:
        api.stop()
    assert_no_problem_found(result)
