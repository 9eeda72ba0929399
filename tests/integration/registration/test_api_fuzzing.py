"""Schemathesis against the registration API's own OpenAPI document, with a valid organizer
token: no generated request gets a 5xx, and every 4xx says what is wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import ServiceProcess

pytestmark = pytest.mark.integration


def test_no_generated_request_gets_a_server_error(topic_prefix, unique, keys, issue):
    api = ServiceProcess("registration", "api", topic_prefix, f"test_{unique}", keys).start()
    try:
        schemathesis = Path(sys.executable).with_name("schemathesis")
        result = subprocess.run(
            [str(schemathesis), "run", f"{api.url}/openapi.json", "-H", issue("organizer")["Authorization"]
             .join(["Authorization: ", ""]), "-c", "not_a_server_error,error_names_the_problem",
             "-n", "15", "--seed", "7", "--request-timeout", "30"],
            capture_output=True, text=True, timeout=600,
            env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.integration.fuzz_checks"},
            cwd=Path(__file__).parents[3])
    finally:
        api.stop()
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
