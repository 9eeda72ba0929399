"""What every API's OpenAPI document says beyond its routes' own declarations, decided once here
from each operation's shape (docs/api-conventions.md, "Statuses"):

- the error statuses an operation can answer, each with the error body's schema (`Problem`): 400
  for a body that is not JSON, 401 and 403 for one that takes a token, 404 for one that names a
  resource in its path, 409 for a command (the state may forbid it), 422 for one that takes input,
  503 when the database is away. A route's own `responses` (a 429, its own words) are kept.
- a public route (`Allow(public=True)`) declares no security, so a client knows it needs no token.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

from emm_common.authorization import route_rules


def checked_by_the_domain(**json_schema: Any) -> dict[str, Any]:
    """Field() arguments for a rule the OpenAPI document states but the domain checks, so that its
    error names the field (or item) at fault in its own words; e.g.
    `Field(max_length=200, **checked_by_the_domain(pattern=REQUIRED_TEXT))`."""
    return {"json_schema_extra": json_schema}


# Python's `\s` (str.strip, re) also takes these for spaces; the ECMA regexes of JSON Schema do not.
PYTHON_ONLY_SPACES = r"\x1c-\x1f\x85"
REQUIRED_TEXT = rf"[^\s{PYTHON_ONLY_SPACES}]"  # what the domain's required texts are: not blank once stripped


def ecma_pattern(python_pattern: str) -> str:
    """A domain's Python regex whose `\\s` are all inside character classes, as JSON Schema's ECMA
    dialect reads it the same (each `\\s` as Python's)."""
    return python_pattern.replace(r"\s", rf"\s{PYTHON_ONLY_SPACES}")


class FieldError(BaseModel):
    loc: list[str | int] = Field(description='Where the value at fault is, e.g. ["query", "period_to"]')
    msg: str = Field(description="Why it is refused")
    type: str = Field(description="InvalidInput, NotFound, Conflict, Forbidden, Unauthorized, InvalidBody, "
                                  "RateLimited, or pydantic's own type for a schema error")


class Problem(BaseModel):
    """Every error's body: the fields at fault, or one sentence where no field is (a missing bearer
    token, the database away)."""

    detail: list[FieldError] | str


COMMANDS = {"post", "put", "patch", "delete"}
PROBLEM = {"$ref": "#/components/schemas/Problem"}
FASTAPI_422 = "#/components/schemas/HTTPValidationError"  # FastAPI's own, replaced: ours has no `input`
ERROR_DESCRIPTIONS = {
    400: "The body is not JSON (or not UTF-8)",
    401: "Missing, invalid, expired or signed-out bearer token (`WWW-Authenticate: Bearer`)",
    403: "The token's role or scope does not allow this",
    404: "What the path names does not exist",
    409: "The current state forbids this; `msg` says which state",
    422: "Invalid input; `detail[].loc` names the field",
    503: "The database is unavailable; repeat the request (see Retry-After)",
}


def error_statuses(method: str, operation: dict[str, Any]) -> list[int]:
    """The error statuses an operation of the document can answer, read from its shape."""
    parameters = operation.get("parameters", [])
    takes_body, secured = "requestBody" in operation, bool(operation.get("security"))
    statuses = [400] if takes_body else []
    if secured:
        statuses += [401, 403]
    if any(parameter["in"] == "path" for parameter in parameters):
        statuses.append(404)
    if secured and method in COMMANDS:
        statuses.append(409)
    if takes_body or parameters:
        statuses.append(422)
    if secured or takes_body or parameters:  # it reads or writes the service's data
        statuses.append(503)
    return statuses


def documented(schema: dict[str, Any], rules: list[tuple[str, str, Any]]) -> dict[str, Any]:
    """The OpenAPI document with each operation's error statuses and public routes' lack of security."""
    public = {(method.lower(), path) for method, path, rule in rules if rule is not None and rule.public}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if (method, path) in public:
                operation.pop("security", None)
            responses = operation.setdefault("responses", {})
            for status in error_statuses(method, operation):
                responses.setdefault(str(status), {"description": ERROR_DESCRIPTIONS[status]})
            for status, response in responses.items():
                if status.startswith(("4", "5")) and ("content" not in response or FASTAPI_422 in str(response)):
                    response["content"] = {"application/json": {"schema": PROBLEM}}
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem.pop("$defs", {}))
    components["Problem"] = problem
    return schema


def document_contract(app: FastAPI) -> None:
    """Make `app.openapi()` state every operation's error statuses and which routes are public. Call it
    once on the app; routes included later are documented too (the document is built on first use)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        if not schema.get("x-emm-documented"):
            documented(schema, route_rules(app))
            schema["x-emm-documented"] = True
        return schema

    app.openapi = openapi
