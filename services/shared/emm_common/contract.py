"""The public event contract: the JSON Schemas under schemas/events/, one per event type.

Each schema names its event type (`title`), its `$id` (the event's `dataschema`), its topic
(`x-topic`), the payload field used as the record key (`x-key`, a dotted path) and whether the topic is
internal (`x-internal`: never for outside consumers). They are JSON Schema draft-07, the dialect
AsyncAPI 3.0 and its code generators read (README.md, "The event contract").
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import jsonschema_rs
from jsonschema import Draft7Validator, FormatChecker


class ContractViolation(ValueError):
    """A payload does not match its event type's schema, or the type is unknown."""

    def __init__(self, event_type: str, field: str, message: str) -> None:
        super().__init__(f"{event_type}: {field}: {message}")
        self.event_type = event_type
        self.field = field
        self.message = message


@dataclass(frozen=True)
class EventSpec:
    type: str
    dataschema: str
    topic: str
    key_field: str
    internal: bool
    schema: dict[str, Any]
    validator: Draft7Validator
    accepts: Callable[[Any], bool]

    def key_of(self, data: dict[str, Any]) -> str:
        """The record key of a payload: the field `x-key` names (a dotted path into the payload)."""
        value: Any = data
        for part in self.key_field.split("."):
            value = value[part]
        return str(value)

    def validate(self, data: Any) -> None:
        """Raise ContractViolation naming the first field at fault.

        A compiled validator (jsonschema-rs, about 150 times faster) accepts the valid payloads,
        which are nearly all of them; only a payload it refuses goes through `jsonschema`, the
        reference, which names the field. Contract tests prove the two agree on every example and
        on mutations of each."""
        if self.accepts(data):
            return
        error = next(iter(sorted(self.validator.iter_errors(data), key=lambda e: list(e.absolute_path))), None)
        if error is not None:
            field = ".".join(str(part) for part in error.absolute_path) or "(payload)"
            raise ContractViolation(self.type, field, error.message)


def schemas_dir() -> Path:
    """Where schemas/ is: $EMM_SCHEMAS_DIR, else the repository's schemas/ above this package."""
    if env := os.environ.get("EMM_SCHEMAS_DIR"):
        return Path(env)
    for parent in Path(__file__).resolve().parents:
        if (parent / "schemas" / "events").is_dir():
            return parent / "schemas"
    raise FileNotFoundError("schemas/ not found: set EMM_SCHEMAS_DIR")


@lru_cache(maxsize=1)
def catalog() -> dict[str, EventSpec]:
    """Every event type of the contract, by type name."""
    specs = {}
    for path in sorted((schemas_dir() / "events").glob("*.json")):
        schema = json.loads(path.read_text())
        Draft7Validator.check_schema(schema)
        specs[schema["title"]] = EventSpec(
            type=schema["title"], dataschema=schema["$id"], topic=schema["x-topic"], key_field=schema["x-key"],
            internal=schema.get("x-internal", False), schema=schema,
            validator=Draft7Validator(schema, format_checker=FormatChecker()),
            accepts=jsonschema_rs.validator_for(schema, validate_formats=True).is_valid)
    return specs


def spec_for(event_type: str) -> EventSpec:
    try:
        return catalog()[event_type]
    except KeyError:
        raise ContractViolation(event_type, "type", "unknown event type") from None


def validate(event_type: str, data: Any) -> None:
    """Validate a payload against its event type's schema; raise ContractViolation if it does not match."""
    spec_for(event_type).validate(data)


def topics() -> set[str]:
    """Every topic the contract names (without prefix)."""
    return {spec.topic for spec in catalog().values()}
