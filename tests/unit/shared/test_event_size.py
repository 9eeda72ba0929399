"""An event larger than a Kafka record may be is refused when it is built, before anything is
committed, and the API answers 413 naming the payload field that made it so large."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from emm_common import contract, envelope
from emm_common.envelope import EventTooLarge, new_event, record_size, to_record
from emm_common.http import create_service_app
from emm_common.settings import ServiceSettings

FEEDBACK = "org.iom.emm.feedback.submitted.v1"


def feedback(answers: int, text: str) -> dict:
    example = contract.spec_for(FEEDBACK).schema["examples"][0]
    return {**example, "answers": [{"item_id": f"comment-{n}", "value": text} for n in range(answers)]}


def test_record_size_counts_value_key_and_headers():
    record = to_record(new_event(FEEDBACK, feedback(1, "Merci"), source="/emm/evaluation"))
    assert record_size(record) == (len(record.value) + len(record.key)
                                   + sum(len(name.encode()) + len(value) for name, value in record.headers))


def test_the_default_limit_is_below_what_kafka_and_aiokafka_accept_by_default():
    assert envelope.MAX_RECORD_BYTES == 1_000_000 < 1_048_576  # aiokafka max_request_size; broker: 1,048,588


def test_an_event_within_the_contract_but_above_the_record_limit_is_refused_naming_its_largest_field():
    # Within every bound of the schema: 200 comments of 4,000 characters, each escaped to 6 bytes in JSON.
    payload = feedback(200, "é" * 4000)
    contract.validate(FEEDBACK, payload)
    with pytest.raises(EventTooLarge) as refused:
        new_event(FEEDBACK, payload, source="/emm/evaluation")
    assert refused.value.field == "answers"
    assert refused.value.http_status == 413
    assert FEEDBACK in refused.value.message and "1000000 bytes" in refused.value.message


def test_an_event_just_within_the_limit_is_built(monkeypatch):
    record = to_record(new_event(FEEDBACK, feedback(2, "x" * 100), source="/emm/evaluation"))
    size = record_size(record)
    monkeypatch.setattr(envelope, "MAX_RECORD_BYTES", size + 64)  # the new event id and time may differ in length
    new_event(FEEDBACK, feedback(2, "x" * 100), source="/emm/evaluation")
    monkeypatch.setattr(envelope, "MAX_RECORD_BYTES", size - 64)
    with pytest.raises(EventTooLarge):
        new_event(FEEDBACK, feedback(2, "x" * 100), source="/emm/evaluation")


def test_the_api_answers_413_naming_the_field_and_commits_nothing():
    app = create_service_app(ServiceSettings(), title="test", description="test")
    committed = []

    @app.post("/feedback")
    async def submit():
        event = new_event(FEEDBACK, feedback(200, "é" * 4000), source="/emm/evaluation")
        committed.append(event)  # never reached: the event is refused before any write

    response = TestClient(app).post("/feedback")
    assert response.status_code == 413
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "answers"] and error["type"] == "EventTooLarge"
    assert "bytes" in error["msg"]
    assert committed == []
