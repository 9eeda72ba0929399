"""The published contract: every schema is valid, documents itself, and keeps contact details internal."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft7Validator, FormatChecker

from emm_common import contract

SCHEMA_FILES = sorted((Path(__file__).parents[2] / "schemas" / "events").glob("*.json"))
TYPE_NAME = re.compile(r"^org\.iom\.emm\.[a-z_]+\.[a-z_]+\.v[0-9]+$")
CONTACT_FIELDS = {"email", "phone"}


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def property_names(node) -> set[str]:
    names: set[str] = set()
    if isinstance(node, dict):
        names |= set(node.get("properties", {}))
        for value in node.values():
            names |= property_names(value)
    elif isinstance(node, list):
        for value in node:
            names |= property_names(value)
    return names


def unbounded(node, where: str = "") -> list[str]:
    """Every string without maxLength (unless an enum or a constant) and every array without
    maxItems in a schema, as JSON pointers."""
    found = []
    if isinstance(node, dict):
        kinds = node.get("type", [])
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if "string" in kinds and not {"maxLength", "enum", "const"} & set(node):
            found.append(f"{where}: string without maxLength")
        if "array" in kinds and "maxItems" not in node:
            found.append(f"{where}: array without maxItems")
        for key, value in node.items():
            if key != "examples":
                found += unbounded(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += unbounded(value, f"{where}/{index}")
    return found


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.stem)
def test_every_string_and_array_has_a_bound(path):
    """So that a consumer can size what it stores, and no event grows beyond a Kafka record."""
    assert unbounded(load(path)) == []


def test_the_bound_check_finds_strings_and_arrays_without_one():
    schema = {"properties": {"modules": {"type": "array", "items": {"type": "string"}},
                             "value": {"type": ["integer", "string"]}, "kind": {"type": "string", "enum": ["a"]}},
              "examples": [{"type": "string"}]}
    assert unbounded(schema) == ["/properties/modules: array without maxItems",
                                 "/properties/modules/items: string without maxLength",
                                 "/properties/value: string without maxLength"]


def test_the_design_s_event_types_are_all_in_the_contract():
    required = {f"org.iom.emm.{name}.v1" for name in [
        "session.scheduled", "session.updated", "session.cancelled", "session.completed",
        "enrollment.registered", "enrollment.waitlisted", "enrollment.promoted", "enrollment.cancelled",
        "attendance.recorded", "feedback.submitted", "peer_feedback.submitted", "trainer.certified",
        "notification.sent", "notification.failed"]}
    assert required <= set(contract.catalog())


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.stem)
def test_schema_is_valid_draft_07_and_named_after_its_type(path):
    schema = load(path)
    Draft7Validator.check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert TYPE_NAME.match(schema["title"]), schema["title"]
    assert path.stem == schema["title"]
    assert schema["$id"].endswith(f"/{schema['title']}.json")


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.stem)
def test_every_example_validates(path):
    schema = load(path)
    assert schema.get("examples"), "each schema documents at least one example"
    validator = Draft7Validator(schema, format_checker=FormatChecker())
    for example in schema["examples"]:
        assert not list(validator.iter_errors(example))


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.stem)
def test_record_key_is_a_required_field(path):
    schema = load(path)
    top, *inner = schema["x-key"].split(".")
    assert top in schema["required"]
    contract.spec_for(schema["title"]).key_of(schema["examples"][0])


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.stem)
def test_contact_details_only_on_internal_topics(path):
    schema = load(path)
    exposed = property_names(schema) & CONTACT_FIELDS
    if schema["x-internal"]:
        assert schema["x-topic"].endswith(".internal")
    else:
        assert not exposed, f"{schema['title']} is public but has {exposed}"
        assert not schema["x-topic"].endswith(".internal")


def test_every_event_keyed_by_session_has_a_top_level_session_id():
    """Consumers key every event the same way: by `session_id` at the top level (the session events
    nest the whole session and got the top-level field in 1.1, optional since older events lack it)."""
    for spec in contract.catalog().values():
        if spec.key_field.endswith("session_id"):
            assert "session_id" in spec.schema["properties"], spec.type
            for example in spec.schema["examples"]:
                assert example["session_id"] == spec.key_of(example), spec.type


def test_a_payload_missing_a_required_field_is_refused_naming_it():
    example = contract.spec_for("org.iom.emm.enrollment.cancelled.v1").schema["examples"][0]
    broken = {k: v for k, v in example.items() if k != "previous_status"}
    with pytest.raises(contract.ContractViolation) as error:
        contract.validate("org.iom.emm.enrollment.cancelled.v1", broken)
    assert "previous_status" in error.value.message


def test_a_wrong_value_is_refused_naming_its_field():
    example = contract.spec_for("org.iom.emm.attendance.recorded.v1").schema["examples"][0]
    with pytest.raises(contract.ContractViolation) as error:
        contract.validate("org.iom.emm.attendance.recorded.v1", {**example, "day": "17 May"})
    assert error.value.field == "day"


def test_an_anonymous_feedback_carrying_a_participant_id_is_refused():
    example = contract.spec_for("org.iom.emm.feedback.submitted.v1").schema["examples"][0]
    with pytest.raises(contract.ContractViolation):
        contract.validate("org.iom.emm.feedback.submitted.v1", {**example, "anonymous": True})
    anonymous = {k: v for k, v in example.items() if k != "participant_id"} | {"anonymous": True}
    contract.validate("org.iom.emm.feedback.submitted.v1", anonymous)


def test_unknown_event_type_is_refused():
    with pytest.raises(contract.ContractViolation):
        contract.validate("org.iom.emm.session.exploded.v1", {})
