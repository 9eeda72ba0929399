"""Schemathesis against a running API's own OpenAPI document, shared by each service's fuzzing
test, with every check schemathesis has (its default, all of them: no 5xx, every status and header documented,
responses matching their schemas, schema-valid input accepted and schema-violating input refused,
tokens required where the document says so, `Allow` on a 405, ...) plus ours: every 4xx says what
is wrong (tests/integration/fuzz_checks.py). A check a test turns off for an operation is one that
cannot apply to it, and the test says why (`not_applicable`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).parents[2]

# `POST /sign-out` revokes the token every other generated request carries: after it, the rest of
# the run would see only 401s. Its contract (204, or 401 for a token it already signed out) is
# tested in tests/integration/authorization/test_matrix.py.
SIGN_OUT = "/sign-out"


def run_schemathesis(api_url: str, authorization: str, *options: str, known_values: dict[str, list[str]] | None = None,
                     not_applicable: dict[str, dict[str, str]] | None = None,
                     max_examples: int = 15, seed: int = 7) -> subprocess.CompletedProcess:
    """Run the schemathesis CLI over every operation of the API at `api_url`, each request sent with
    the `authorization` header value; `options` are further CLI options (e.g. an operation filter).

    `known_values` maps a parameter ("path.session_id", "body.participant_id") to values that exist
    in the service's data; most requests then use one of them instead of a random id, so they get
    past the 404 into the code that handles the resource.

    `not_applicable` maps an operation ("POST /sessions") to the checks turned off for it, each with
    the reason it cannot apply (the reason is for the reader; schemathesis gets only the name).
    """
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "schemathesis.toml"
        config.write_text(config_of(known_values or {}, not_applicable or {}))
        schemathesis = Path(sys.executable).with_name("schemathesis")
        return subprocess.run(
            [str(schemathesis), "--config-file", str(config), "run", f"{api_url}/openapi.json",
             "-H", f"Authorization: {authorization}", "--exclude-path", SIGN_OUT,
             "-n", str(max_examples), "--seed", str(seed), "--request-timeout", "30", "--no-color", *options],
            capture_output=True, text=True, timeout=600,
            env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.integration.fuzz_checks"}, cwd=ROOT)


def config_of(known_values: dict[str, list[str]], not_applicable: dict[str, dict[str, str]]) -> str:
    """A schemathesis.toml binding each parameter to a dictionary of its known values (JSON strings are
    valid TOML strings), and turning off, per operation, the checks that cannot apply to it."""
    dictionaries = [f"{name(key)} = {{ values = {json.dumps(values)} }}" for key, values in known_values.items()]
    parameters = [f'"{key}" = {{ dictionary = "{name(key)}", probability = 0.8 }}' for key in known_values]
    lines = ["[dictionaries]", *dictionaries, "", "[parameters]", *parameters, ""]
    for operation, checks in not_applicable.items():
        lines += ["[[operations]]", f"include-name = {json.dumps(operation)}",
                  *(f"checks.{check}.enabled = false" for check in checks), ""]
    return "\n".join(lines)


def name(key: str) -> str:
    return key.replace(".", "_")


def assert_no_problem_found(result: subprocess.CompletedProcess) -> None:
    """Schemathesis ran operations and none of its checks failed."""
    report = "\n".join(line[:300] for line in result.stdout.splitlines())  # a generated body can be 10 kB
    assert result.returncode == 0, report[-20000:] + result.stderr[-2000:]
    assert " passed" in result.stdout, result.stdout[-2000:]
