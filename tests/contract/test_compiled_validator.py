"""The compiled validator that accepts payloads on the fast path agrees with `jsonschema`, the
reference that names the field at fault: on every example, and on mutations of each (a field
removed, or given a value of the wrong type, length or format). It must never accept what the
reference refuses; where it refuses what the reference accepts, `validate` still accepts, because
the reference decides."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from emm_common import contract

WRONG_VALUES: list[Any] = [None, 0, -1, 1.5, True, "", "x" * 5000, "not-a-date", "2026-13-45", "a@", [], {}, ["x"]]


def paths(node: Any, where: tuple = ()) -> Iterator[tuple]:
    """Every path to a value inside a payload."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield where + (key,)
            yield from paths(value, where + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield where + (index,)
            yield from paths(value, where + (index,))


def mutations(example: dict) -> Iterator[tuple[str, Any]]:
    for path in paths(example):
        *parents, last = path
        for replacement in [contract] + WRONG_VALUES:  # `contract` stands for "remove the value"
            payload = copy.deepcopy(example)
            parent = payload
            for part in parents:
                parent = parent[part]
            if replacement is contract:
                if isinstance(parent, dict):
                    del parent[last]
                else:
                    parent.pop(last)
            else:
                parent[last] = replacement
            yield f"{'.'.join(map(str, path))}={replacement!r:.20}", payload


CASES = [(spec, example) for spec in contract.catalog().values() for example in spec.schema.get("examples", [])]


@pytest.mark.parametrize(("spec", "example"), CASES, ids=[spec.type for spec, _ in CASES])
def test_the_compiled_validator_agrees_with_the_reference(spec, example):
    assert spec.accepts(example)
    lenient = []
    checked = 0
    for label, payload in mutations(example):
        reference_accepts = not any(True for _ in spec.validator.iter_errors(payload))
        checked += 1
        if spec.accepts(payload) and not reference_accepts:
            lenient.append(label)
    assert checked > 0
    assert lenient == [], f"{spec.type}: the compiled validator accepts what jsonschema refuses: {lenient[:10]}"


def test_a_payload_the_compiled_validator_refuses_is_still_named_by_the_reference():
    spec = contract.spec_for("org.iom.emm.session.scheduled.v1")
    payload = copy.deepcopy(spec.schema["examples"][0])
    del payload["session"]
    with pytest.raises(contract.ContractViolation) as refused:
        spec.validate(payload)
    assert refused.value.field == "(payload)" and "session" in refused.value.message
