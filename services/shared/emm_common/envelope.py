"""CloudEvents 1.0 envelope for our events, and its Kafka binding (the `cloudevents` SDK).

We publish in binary mode (`ce_` headers, JSON payload as the record value, the aggregate id as
both `partitionkey` and record key) and accept binary and structured mode when consuming.

`new_event` refuses an event whose record would be larger than `MAX_RECORD_BYTES` (EventTooLarge,
an API answers 413): it is built before the commit, so nothing is stored that the broker could
never take.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from emm_common import contract, logs
from emm_common.errors import DomainError

SPECVERSION = "1.0"
_JSON = JSONFormat()
# CloudEvents' required attributes, and `time`, which our contract requires too. The SDK fills
# in a fresh `id` (and a `specversion`) when a record lacks one, so presence is checked on the
# record itself, before the SDK sees it.
REQUIRED_ATTRIBUTES = ("id", "source", "type", "specversion", "time")
# The most a record's value, key and headers may hold together. Below Kafka's default
# max.message.bytes (1,048,588, which deploy/local and docker-compose keep) and aiokafka's
# max_request_size (1,048,576), with room for the record batch's own overhead.
MAX_RECORD_BYTES = int(os.environ.get("EMM_MAX_EVENT_BYTES", 1_000_000))


class MalformedEvent(ValueError):
    """A Kafka record that is not a valid CloudEvent of our contract. Never retried: dead-lettered."""


class EventTooLarge(DomainError):
    """The event a command would publish is larger than a Kafka record may be; `field` is the
    payload field that takes the most room. Nothing is committed."""

    http_status = 413


@dataclass(frozen=True)
class Event:
    """One fact, as published. `data` is the schema-validated payload."""

    type: str
    source: str
    subject: str
    data: dict[str, Any]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    # The CloudEvents distributed-tracing extension: the correlation of the request or event that
    # caused this one (emm_common.logs). Not part of the fact: equal events may differ in it.
    traceparent: str | None = field(default_factory=logs.current_traceparent, compare=False)

    @property
    def spec(self) -> contract.EventSpec:
        return contract.spec_for(self.type)

    @property
    def partition_key(self) -> str:
        return self.spec.key_of(self.data)

    def to_document(self) -> dict[str, Any]:
        """The form kept in an outbox inside a MongoDB document."""
        document = {"id": self.id, "type": self.type, "source": self.source, "subject": self.subject,
                    "time": self.time.isoformat(), "data": self.data}
        if self.traceparent:
            document["traceparent"] = self.traceparent
        return document

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> "Event":
        return cls(type=doc["type"], source=doc["source"], subject=doc["subject"], data=doc["data"], id=doc["id"],
                   time=datetime.fromisoformat(doc["time"]), traceparent=doc.get("traceparent"))


def new_event(event_type: str, data: dict[str, Any], *, source: str, subject: str | None = None,
              event_id: str | None = None, time: datetime | None = None) -> Event:
    """Build an event after validating its payload against the contract (ContractViolation if not)
    and checking that its Kafka record fits in `MAX_RECORD_BYTES` (EventTooLarge if not)."""
    spec = contract.spec_for(event_type)
    spec.validate(data)
    event = Event(type=event_type, source=source, subject=subject or spec.key_of(data), data=data,
                  id=event_id or str(uuid.uuid4()), time=time or datetime.now(timezone.utc))
    size = record_size(to_record(event))
    if size > MAX_RECORD_BYTES:
        raise EventTooLarge(_largest_field(data), f"the {event_type} event it would publish is {size} bytes; "
                                                  f"an event may be at most {MAX_RECORD_BYTES} bytes")
    return event


def _largest_field(data: dict[str, Any]) -> str:
    """The dotted path to the payload field that takes the most room, e.g. `session.modules`."""
    path, node = [], data
    while isinstance(node, dict) and node:
        name, node = max(node.items(), key=lambda item: len(json.dumps(item[1], default=str)))
        path.append(name)
    return ".".join(path) or "(payload)"


@dataclass(frozen=True)
class KafkaRecord:
    """What aiokafka sends or receives: headers are a list of (str, bytes)."""

    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


def record_size(record: KafkaRecord) -> int:
    """The bytes of a record's value, key and header names and values (what Kafka's limits count,
    less the record batch's overhead of under a hundred bytes)."""
    return (len(record.value) + len(record.key or b"")
            + sum(len(name.encode()) + len(value or b"") for name, value in record.headers))


def to_record(event: Event) -> KafkaRecord:
    """Binary-mode Kafka record of an event."""
    spec = event.spec
    attributes = {"id": event.id, "source": event.source, "type": event.type, "subject": event.subject,
                  "time": event.time, "specversion": SPECVERSION, "datacontenttype": "application/json",
                  "dataschema": spec.dataschema, ce_kafka.PARTITIONKEY_ATTR: event.partition_key}
    if event.traceparent:
        attributes["traceparent"] = event.traceparent
    cloud_event = CloudEvent(attributes=attributes, data=event.data)
    message = ce_kafka.to_binary(cloud_event, _JSON)
    key = message.key.encode() if isinstance(message.key, str) else message.key
    return KafkaRecord(key=key, value=message.value, headers=list(message.headers.items()))


def from_record(record: KafkaRecord, *, validate: bool = True) -> Event:
    """Parse a consumed record (binary or structured mode) into an Event, validated against the contract.

    Raises MalformedEvent with the reason for anything that is not a valid event of ours.
    """
    headers: dict[str, bytes] = {}
    for name, value in record.headers or []:
        headers[name] = value if isinstance(value, bytes) else str(value).encode()
    sent = _attributes_as_sent(headers, record.value)
    for name in REQUIRED_ATTRIBUTES:
        if name not in sent:
            raise MalformedEvent(f"CloudEvent attribute '{name}' is missing")
        if not isinstance(sent[name], str) or not sent[name].strip():
            raise MalformedEvent(f"CloudEvent attribute '{name}' is empty or not a string")
    try:
        cloud_event = ce_kafka.from_kafka(ce_kafka.KafkaMessage(headers=headers, key=record.key, value=record.value),
                                          _JSON)
    except Exception as exc:  # the SDK raises many types for bad input; all mean the same to us
        raise MalformedEvent(f"not a CloudEvent: {type(exc).__name__}: {exc}") from exc
    attributes = cloud_event.get_attributes()
    if attributes.get("specversion") != SPECVERSION:
        raise MalformedEvent(f"unsupported specversion {attributes.get('specversion')!r}")
    data = cloud_event.get_data()
    if isinstance(data, (bytes, str)):
        raise MalformedEvent("data is not a JSON object")
    if not isinstance(data, dict):
        raise MalformedEvent("data is not a JSON object")
    event_time = attributes["time"]
    if not isinstance(event_time, datetime):
        raise MalformedEvent("time is not an RFC 3339 timestamp")
    event_type = attributes["type"]
    if validate:
        try:
            contract.validate(event_type, data)
        except contract.ContractViolation as exc:
            raise MalformedEvent(str(exc)) from exc
    return Event(type=event_type, source=attributes["source"], subject=attributes.get("subject") or "",
                 data=data, id=attributes["id"], time=event_time,
                 traceparent=logs.valid_traceparent(attributes.get("traceparent")))


def _attributes_as_sent(headers: dict[str, bytes], value: bytes) -> dict[str, Any]:
    """The CloudEvents attributes a record carries itself: its `ce_` headers in binary mode (the
    mode of any record with one), else the top-level members of its JSON value (structured mode).
    Raises MalformedEvent for a record that is in neither form."""
    binary = {name.lower()[3:]: raw.decode("utf-8", "replace") for name, raw in headers.items()
              if name.lower().startswith("ce_")}
    if binary:
        return binary
    try:
        document = json.loads(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedEvent(f"not a CloudEvent: no ce_ headers, and the value is not JSON ({exc})") from exc
    if not isinstance(document, dict):
        raise MalformedEvent("not a CloudEvent: no ce_ headers, and the value is not a JSON object")
    return document
