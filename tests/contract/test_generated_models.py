"""What an outside consumer gets from the AsyncAPI document with a code generator nobody here
wrote: AsyncAPI Modelina (npm) makes Python models with readable names, one per event type,
whose required fields are required (constructing one without such a field fails) and whose
optional fields are not."""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emm_common import contract

SCHEMAS = Path(__file__).parents[2] / "schemas"
GENERATOR = Path(__file__).with_name("generate_models.cjs")
NODE_MODULES = Path(os.environ.get("EMM_CACHE_DIR", Path.home() / ".cache" / "emm-tot")) / "node" / "node_modules"
PACKAGE = "asyncapimodels"  # Modelina's Python imports name this package
READABLE = re.compile(r"^[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)*$")


def model_name(event_type: str) -> str:
    """org.iom.emm.peer_feedback.submitted.v1 -> PeerFeedbackSubmittedV1, the AsyncAPI component's name."""
    *_, entity, fact, version = event_type.split(".")
    return "".join(part.capitalize() for part in (*entity.split("_"), *fact.split("_"), version))


def module_name(model: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", model).lower()


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    if not shutil.which("node") or not (NODE_MODULES / "@asyncapi" / "modelina").is_dir():
        pytest.fail("node or @asyncapi/modelina missing: run deploy/local/bootstrap.sh (make test does)")
    root = tmp_path_factory.mktemp("modelina")
    result = subprocess.run(["node", str(GENERATOR), str(SCHEMAS / "asyncapi.yaml"), str(root / PACKAGE)],
                            capture_output=True, text=True, timeout=300, env={**os.environ, "NODE_PATH": str(NODE_MODULES)})
    assert result.returncode == 0, result.stderr
    (root / PACKAGE / "__init__.py").touch()
    sys.path.insert(0, str(root))
    try:
        yield json.loads(result.stdout)
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def model_class(name: str):
    return getattr(importlib.import_module(f"{PACKAGE}.{module_name(name)}"), name)


def test_every_event_type_gets_one_model_named_after_it(generated):
    assert {model_name(t) for t in contract.catalog()} <= set(generated)
    assert len(generated) == len(set(generated)), "no model overwrites another"


def test_every_model_has_a_readable_name(generated):
    """No names made of $id URLs (HttpsColonSlashSlash...) or counters (AnonymousSchema37)."""
    assert [name for name in generated if not READABLE.match(name) or "Anonymous" in name] == []


@pytest.mark.parametrize("event_type", sorted(contract.catalog()))
def test_required_fields_are_required_and_optional_ones_are_not(generated, event_type):
    spec = contract.spec_for(event_type)
    model = model_class(model_name(event_type))
    example = spec.schema["examples"][0]
    built = model(example)
    for field, value in example.items():
        if isinstance(value, (str, int, float, bool)):
            assert getattr(built, field) == value or getattr(getattr(built, field), "value", None) == value
    required = set(spec.schema["required"])
    for field in example:
        without = {k: v for k, v in example.items() if k != field}
        if field in required:
            with pytest.raises(KeyError):
                model(without)
        else:
            model(without)
    assert required <= set(example), "the first example shows every required field"


def test_a_schema_fetched_by_its_dataschema_goes_straight_into_modelina(generated, tmp_path):
    """Draft-07: Modelina's JSON Schema input takes it (it refuses a 2020-12 `$schema`)."""
    schema = SCHEMAS / "events" / "org.iom.emm.session.scheduled.v1.json"
    result = subprocess.run(["node", str(GENERATOR), str(schema)], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "NODE_PATH": str(NODE_MODULES)})
    assert result.returncode == 0, result.stderr
    assert {"Session", "SessionKind", "SessionStatus", "Language"} <= set(json.loads(result.stdout))
    newer = json.loads(schema.read_text()) | {"$schema": "https://json-schema.org/draft/2020-12/schema"}
    (tmp_path / "newer.json").write_text(json.dumps(newer))
    refused = subprocess.run(["node", str(GENERATOR), str(tmp_path / "newer.json")], capture_output=True, text=True,
                             timeout=120, env={**os.environ, "NODE_PATH": str(NODE_MODULES)})
    assert refused.returncode == 1 and "not a JSON Schema" in refused.stderr
