"""The AsyncAPI document, checked by the official parser (@asyncapi/parser, offline): it is
valid, every reference resolves, and it lists exactly the event types of schemas/events."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from emm_common import contract

SCHEMAS = Path(__file__).parents[2] / "schemas"
CHECKER = Path(__file__).with_name("validate_asyncapi.cjs")
NODE_MODULES = Path(os.environ.get("EMM_CACHE_DIR", Path.home() / ".cache" / "emm-tot")) / "node" / "node_modules"


def parse(document: Path) -> tuple[int, dict]:
    if not shutil.which("node") or not (NODE_MODULES / "@asyncapi" / "parser").is_dir():
        pytest.fail("node or @asyncapi/parser missing: run deploy/local/bootstrap.sh (make test does)")
    result = subprocess.run(["node", str(CHECKER), str(document)], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "NODE_PATH": str(NODE_MODULES)})
    return result.returncode, json.loads(result.stdout or "{}")


def test_asyncapi_document_is_valid_and_lists_every_event_type():
    code, summary = parse(SCHEMAS / "asyncapi.yaml")
    assert code == 0, summary
    assert set(summary["messages"]) - {"dead-letter"} == set(contract.catalog())
    assert set(summary["channels"]) >= contract.topics()


def test_a_broken_reference_fails_the_check(tmp_path):
    shutil.copytree(SCHEMAS, tmp_path / "schemas")
    document = yaml.safe_load((tmp_path / "schemas" / "asyncapi.yaml").read_text())
    document["components"]["schemas"]["SessionScheduledV1"]["allOf"][0]["$ref"] = "./events/missing.json"
    broken = tmp_path / "schemas" / "asyncapi.yaml"
    broken.write_text(yaml.safe_dump(document))
    code, summary = parse(broken)
    assert code != 0
    assert any(error["code"] == "invalid-ref" for error in summary["errors"])


def test_the_internal_topic_is_marked_as_internal():
    document = yaml.safe_load((SCHEMAS / "asyncapi.yaml").read_text())
    assert "INTERNAL" in document["channels"]["contactsInternal"]["description"]
    assert "never" in document["info"]["description"]


def test_every_payload_is_a_named_schema_of_its_draft_07_file():
    """The AsyncAPI Schema Object (the payloads' default format) extends JSON Schema draft-07, the
    dialect of the event files; each payload is a component schema named for generated models."""
    document = yaml.safe_load((SCHEMAS / "asyncapi.yaml").read_text())
    schemas = document["components"]["schemas"]
    by_type = {}
    for message in document["components"]["messages"].values():
        if "$ref" not in message["payload"]:
            continue  # the dead letter's payload is the original bytes
        assert "schemaFormat" not in message["payload"]
        name = message["payload"]["$ref"].removeprefix("#/components/schemas/")
        assert schemas[name]["title"] == name
        (wrapped,) = schemas[name]["allOf"]
        file = json.loads((SCHEMAS / wrapped["$ref"]).read_text())
        assert file["$schema"] == "http://json-schema.org/draft-07/schema#"
        by_type[message["name"]] = file["title"]
    assert by_type == {t: t for t in contract.catalog()}
