"""CloudEvents envelope and its Kafka binding: what goes on the wire, and what we accept."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from emm_common import contract
from emm_common.envelope import KafkaRecord, MalformedEvent, from_record, new_event, to_record

COMPLETED = "org.iom.emm.session.completed.v1"


def example(event_type: str) -> dict:
    return contract.spec_for(event_type).schema["examples"][0]


def test_binary_mode_record_carries_every_required_attribute_and_the_key():
    event = new_event(COMPLETED, example(COMPLETED), source="/emm/registration")
    record = to_record(event)
    headers = dict(record.headers)
    for attribute in ("id", "source", "type", "subject", "time", "specversion", "dataschema", "partitionkey"):
        assert headers[f"ce_{attribute}"], attribute
    assert headers["content-type"] == b"application/json"
    assert headers["ce_dataschema"].decode() == contract.spec_for(COMPLETED).dataschema
    assert record.key == b"ses-dakar-tot-1" == headers["ce_partitionkey"]
    assert json.loads(record.value) == example(COMPLETED)


def test_session_events_are_keyed_by_the_session_inside_the_snapshot():
    scheduled = "org.iom.emm.session.scheduled.v1"
    record = to_record(new_event(scheduled, example(scheduled), source="/emm/registration"))
    assert record.key == b"ses-dakar-tot-1"


def test_round_trip_keeps_the_event():
    event = new_event(COMPLETED, example(COMPLETED), source="/emm/registration")
    parsed = from_record(to_record(event))
    assert (parsed.id, parsed.type, parsed.source, parsed.subject, parsed.data) == (
        event.id, event.type, event.source, event.subject, event.data)
    assert parsed.time == event.time


def test_structured_mode_is_accepted():
    cloud_event = CloudEvent(attributes={"id": "e-1", "source": "/elsewhere", "type": COMPLETED,
                                         "specversion": "1.0", "time": datetime(2026, 5, 18, 17, tzinfo=timezone.utc),
                                         "datacontenttype": "application/json"}, data=example(COMPLETED))
    message = ce_kafka.to_structured(cloud_event, JSONFormat())
    parsed = from_record(KafkaRecord(key=b"ses-dakar-tot-1", value=message.value, headers=list(message.headers.items())))
    assert parsed.id == "e-1" and parsed.data == example(COMPLETED)


def test_building_an_invalid_payload_is_refused():
    with pytest.raises(contract.ContractViolation):
        new_event(COMPLETED, {"session_id": "s"}, source="/emm/registration")


@pytest.mark.parametrize("value, headers, reason", [
    (b"not json at all", [], "not a CloudEvent"),
    (b"{}", [], "'id' is missing"),
    (b"[1, 2]", [], "not a CloudEvent"),
    (b'{"session_id": "s"}', [("ce_id", b"1"), ("ce_source", b"/x"), ("ce_type", b"org.iom.emm.session.exploded.v1"),
                             ("ce_specversion", b"1.0"), ("ce_time", b"2026-05-18T17:00:00Z"),
                             ("content-type", b"application/json")], "unknown event type"),
    (b'{"session_id": "s"}', [("ce_id", b"1"), ("ce_source", b"/x"), ("ce_type", COMPLETED.encode()),
                             ("ce_specversion", b"1.0"), ("ce_time", b"2026-05-18T17:00:00Z"),
                             ("content-type", b"application/json")], "completed_at"),
    (json.dumps(example(COMPLETED)).encode(), [("ce_id", b"1"), ("ce_source", b"/x"), ("ce_type", COMPLETED.encode()),
                                               ("ce_specversion", b"1.0"), ("content-type", b"application/json")],
     "'time' is missing"),
])
def test_malformed_records_are_refused_with_the_reason(value, headers, reason):
    with pytest.raises(MalformedEvent) as error:
        from_record(KafkaRecord(key=None, value=value, headers=headers))
    assert reason in str(error.value)


def _binary_headers_without(attribute: str) -> list[tuple[str, bytes]]:
    headers = to_record(new_event(COMPLETED, example(COMPLETED), source="/emm/registration")).headers
    return [(name, value) for name, value in headers if name != f"ce_{attribute}"]


@pytest.mark.parametrize("attribute", ["id", "source", "type", "specversion", "time"])
def test_a_binary_record_without_a_required_attribute_is_refused(attribute):
    # The SDK would invent a fresh id (and assume specversion 1.0): an event id that is on no topic.
    with pytest.raises(MalformedEvent, match=f"'{attribute}' is missing"):
        from_record(KafkaRecord(key=b"ses-dakar-tot-1", value=json.dumps(example(COMPLETED)).encode(),
                                headers=_binary_headers_without(attribute)))


def test_a_binary_record_with_an_empty_id_is_refused():
    headers = [(name, b"" if name == "ce_id" else value) for name, value in _binary_headers_without("none")]
    with pytest.raises(MalformedEvent, match="'id' is empty"):
        from_record(KafkaRecord(key=None, value=json.dumps(example(COMPLETED)).encode(), headers=headers))


@pytest.mark.parametrize("attribute", ["id", "source", "type", "specversion", "time"])
def test_a_structured_record_without_a_required_attribute_is_refused(attribute):
    envelope = {"id": "e-1", "source": "/elsewhere", "type": COMPLETED, "specversion": "1.0",
                "time": "2026-05-18T17:00:00Z", "datacontenttype": "application/json", "data": example(COMPLETED)}
    del envelope[attribute]
    with pytest.raises(MalformedEvent, match=f"'{attribute}' is missing"):
        from_record(KafkaRecord(key=None, value=json.dumps(envelope).encode(),
                                headers=[("content-type", b"application/cloudevents+json")]))
