"""Every input of every API, as its OpenAPI document describes it, is typed and bounded: each
string has a maxLength, each list a maxItems, each map a maxProperties (dates, enums and constants
are bounded by what they are). An oversized body is then a 422 naming the field, before any
command runs; and a client reading the document knows the limits."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from emm_evaluation.entrypoints import api as evaluation_api
from emm_notification.entrypoints import api as notification_api
from emm_registration.entrypoints import api as registration_api

APPS = {"registration": registration_api.create_app, "evaluation": evaluation_api.create_app,
        "notification": notification_api.create_app}
BOUNDED_BY_FORMAT = {"date", "date-time"}
JSON_TYPES = {"string", "integer", "number", "boolean", "array", "object", "null"}


def problems(schema: dict[str, Any], where: str, components: dict[str, Any],
             seen: frozenset[str] = frozenset()) -> Iterator[str]:
    """The unbounded or untyped places of one input schema (following $refs once per path)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            yield from problems(components[name], where, components, seen | {name})
        return
    alternatives = schema.get("anyOf") or schema.get("oneOf") or schema.get("allOf")
    if alternatives:
        for alternative in alternatives:
            yield from problems(alternative, where, components, seen)
        return
    kind = schema.get("type")
    if kind is None and not ("enum" in schema or "const" in schema):
        yield f"{where}: untyped"
        return
    if kind == "string" and not ({"enum", "const", "maxLength"} & set(schema)
                                 or schema.get("format") in BOUNDED_BY_FORMAT):
        yield f"{where}: string without maxLength"
    if kind == "array":
        if "maxItems" not in schema:
            yield f"{where}: array without maxItems"
        yield from problems(schema.get("items", {}), f"{where}[]", components, seen)
    if kind == "object":
        for name, field in schema.get("properties", {}).items():
            yield from problems(field, f"{where}.{name}", components, seen)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            if "maxProperties" not in schema:
                yield f"{where}: map without maxProperties"
            yield from problems(extra, f"{where}.*", components, seen)


def input_problems(openapi: dict[str, Any]) -> list[str]:
    """Problems of every request body and query parameter of every operation."""
    components = openapi.get("components", {}).get("schemas", {})
    found = []
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            route = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    found += problems(parameter["schema"], f"{route} ?{parameter['name']}", components)
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                found += problems(body["schema"], f"{route} body", components)
    return found


@pytest.mark.parametrize("service", APPS)
def test_every_api_input_is_typed_and_bounded(service):
    assert input_problems(APPS[service]().openapi()) == []


def test_the_check_finds_an_unbounded_list_and_an_untyped_field():
    openapi = {"paths": {"/x": {"post": {"requestBody": {"content": {"application/json": {"schema": {
        "type": "object", "properties": {"modules": {"type": "array", "items": {"type": "string"}},
                                         "answers": {"title": "Answers"}}}}}}}}}}
    assert input_problems(openapi) == ["POST /x body.modules: array without maxItems",
                                       "POST /x body.modules[]: string without maxLength",
                                       "POST /x body.answers: untyped"]
