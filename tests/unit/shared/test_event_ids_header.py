"""The `EMM-Event-Ids` header: a 2xx lists the events its request committed, nothing else does."""

from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient

from emm_common import outbox
from emm_common.http import EVENT_IDS_HEADER, AcknowledgeEvents


def app_committing(*event_ids: str, status: int = 200) -> TestClient:
    app = FastAPI()
    app.add_middleware(AcknowledgeEvents)

    @app.post("/command")
    async def command():
        nudged = []
        outbox.committed(lambda *commit: nudged.append(commit), "sessions", "ses-1",
                         {event_id: {} for event_id in event_ids[:1]})
        outbox.acknowledge(event_ids[1:])
        if status >= 400:
            raise HTTPException(status, "refused after the commit")
        return {"ok": True}

    return TestClient(app)


def test_a_successful_command_lists_its_events_in_commit_order():
    response = app_committing("e-1", "e-2", "e-3").post("/command")
    assert response.headers[EVENT_IDS_HEADER] == "e-1,e-2,e-3"


def test_a_command_that_committed_nothing_has_no_header():
    response = app_committing().post("/command")
    assert response.status_code == 200 and EVENT_IDS_HEADER not in response.headers


def test_an_error_response_acknowledges_nothing():
    response = app_committing("e-1", status=409).post("/command")
    assert response.status_code == 409 and EVENT_IDS_HEADER not in response.headers


def test_requests_do_not_see_each_others_events():
    client = app_committing("e-1")
    assert [client.post("/command").headers[EVENT_IDS_HEADER] for _ in range(2)] == ["e-1", "e-1"]


def test_outside_a_request_committing_records_nothing():
    outbox.acknowledge(["e-9"])
    with outbox.acknowledging() as ids:
        pass
    assert ids == []
