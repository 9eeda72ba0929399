"""The one log format and the correlation, without the stack: JSON lines with the common fields,
traceparent accepted, generated and carried on events, personal data masked, the access log and
HTTP metrics by route template."""

from __future__ import annotations

import io
import json
import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from emm_common import logs
from emm_common.access_log import AccessLog
from emm_common.envelope import Event, from_record, new_event, to_record

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.fixture
def lines():
    """What the JSON formatter writes, one parsed object per line."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.PlatformJsonFormatter("registration", "api"))
    logger = logging.getLogger("emm.test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


def test_a_line_has_the_common_fields_and_the_correlation_while_one_is_known(lines):
    log = logging.getLogger("emm.test")
    log.info("before")
    with logs.correlated(TRACEPARENT):
        log.info("during %s", "x", extra={"route": "/sessions"})
    before, during = lines()
    assert {k: before[k] for k in ("level", "service", "process", "logger", "message")} == {
        "level": "INFO", "service": "registration", "process": "api", "logger": "emm.test", "message": "before"}
    assert before["time"].endswith("+00:00") and "correlation_id" not in before
    assert during["correlation_id"] == "4bf92f3577b34da6a3ce929d0e0e4736" and during["traceparent"] == TRACEPARENT
    assert during["route"] == "/sessions" and during["message"] == "during x"


def test_a_handled_event_names_its_id_type_subject_and_its_own_correlation(lines):
    event = Event(type="org.iom.emm.session.cancelled.v1", source="/t", subject="ses-1", data={},
                  traceparent=TRACEPARENT)
    with logs.handling(event):
        logging.getLogger("emm.test").info("applied")
    [line] = lines()
    assert (line["event_id"], line["event_type"], line["subject"], line["correlation_id"]) == (
        event.id, event.type, "ses-1", "4bf92f3577b34da6a3ce929d0e0e4736")


def test_email_addresses_and_tokens_are_masked_even_in_tracebacks(lines):
    log = logging.getLogger("emm.test")
    try:
        raise ValueError("refused aminata.sow@example.org")
    except ValueError:
        log.exception("with eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJwYXItMSJ9.c2lnbmF0dXJl")
    [line] = lines()
    text = json.dumps(line)
    assert "aminata.sow" not in text and "eyJ" not in text and "c2lnbmF0dXJl" not in text
    assert "[email]" in line["exc_info"] and "[token]" in line["message"]


@pytest.mark.parametrize("value", ["", "garbage", "00-" + "0" * 32 + "-00f067aa0ba902b7-01",
                                   "00-4bf92f3577b34da6a3ce929d0e0e4736-" + "0" * 16 + "-01",
                                   "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\nforged line"])
def test_a_malformed_traceparent_is_replaced_by_a_new_one(value):
    with logs.correlated(value) as used:
        assert used != value and logs.valid_traceparent(used) == used


def test_events_made_while_correlated_carry_the_traceparent_through_their_kafka_record():
    data = {"session_id": "ses-1", "reason": "x", "cancelled_at": "2026-05-01T10:00:00Z", "sequence": 2}
    with logs.correlated(TRACEPARENT):
        event = new_event("org.iom.emm.session.cancelled.v1", data, source="/t")
    record = to_record(event)
    assert ("ce_traceparent", TRACEPARENT.encode()) in record.headers
    assert from_record(record).traceparent == TRACEPARENT
    assert Event.from_document(event.to_document()).traceparent == TRACEPARENT
    uncorrelated = new_event("org.iom.emm.session.cancelled.v1", data, source="/t")
    assert uncorrelated.traceparent is None and "ce_traceparent" not in dict(to_record(uncorrelated).headers)


def app_with_access_log() -> FastAPI:
    app = FastAPI()

    @app.get("/sessions/{session_id}")
    async def one(session_id: str):
        return {"correlation": logs.correlation_id()}

    app.add_middleware(AccessLog)
    return app


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_the_access_log_names_the_route_template_and_the_correlation_never_the_query(caplog):
    client = TestClient(app_with_access_log())
    before = sample("emm_http_requests_total", route="/sessions/{session_id}", method="GET", status="200")
    with caplog.at_level(logging.INFO, logger="emm.access"):
        given = client.get("/sessions/ses-secret?token=SECRET", headers={"traceparent": TRACEPARENT})
        generated = client.get("/sessions/ses-2")
    assert given.headers["traceparent"] == TRACEPARENT
    assert given.json()["correlation"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert logs.valid_traceparent(generated.headers["traceparent"])
    assert generated.json()["correlation"] == generated.headers["traceparent"].split("-")[1]
    first = caplog.records[0]
    assert (first.method, first.route, first.status) == ("GET", "/sessions/{session_id}", 200)
    assert "SECRET" not in caplog.text and "ses-secret" not in caplog.text
    assert sample("emm_http_requests_total", route="/sessions/{session_id}", method="GET", status="200") == before + 2
