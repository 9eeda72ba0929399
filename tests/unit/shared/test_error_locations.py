"""Where a refused request's error points (`detail[].loc`): the path parameter, query parameter
or body field at fault, as FastAPI's own 422 does, and inside a list the item's index."""

from fastapi import APIRouter, Body
from fastapi.testclient import TestClient

from emm_common.errors import DomainError, InvalidInput, NotFound
from emm_common.http import create_service_app
from emm_common.settings import ServiceSettings

router = APIRouter()


@router.get("/sessions/{session_id}/report")
async def report(session_id: str, language: str = "en"):
    if language not in ("fr", "en", "pt"):
        raise InvalidInput("language", "must be fr, en or pt")
    raise NotFound("session_id", f"no session {session_id}")


@router.post("/sessions/{session_id}/enrollments/bulk")
async def bulk(session_id: str, participants: list[dict] = Body(embed=True)):
    for index, person in enumerate(participants):
        try:
            if person.get("session") == "gone":
                raise NotFound("session_id", f"no session {session_id}")
            if person.get("phone") == "bad":
                raise InvalidInput("phone", "is not a phone number")
        except DomainError as error:
            raise error.at("participants", index)
    return {"enrolled": len(participants)}


@router.post("/trainers/{trainer_id}/revoke")
async def revoke(trainer_id: str):
    raise InvalidInput("reason", "is required")


def client() -> TestClient:
    app = create_service_app(ServiceSettings(), title="sample", description="test")
    app.include_router(router)
    return TestClient(app)  # not entered: no lifespan, no connections


def loc(response) -> list:
    return response.json()["detail"][0]["loc"]


def test_an_unknown_path_parameter_is_located_in_the_path():
    response = client().get("/sessions/ses-nope/report")
    assert response.status_code == 404 and loc(response) == ["path", "session_id"]


def test_a_refused_body_field_is_located_in_the_body():
    response = client().post("/trainers/trn-1/revoke")
    assert response.status_code == 422 and loc(response) == ["body", "reason"]


def test_a_refused_query_parameter_is_located_in_the_query():
    response = client().get("/sessions/ses-1/report", params={"language": "de"})
    assert response.status_code == 422 and loc(response) == ["query", "language"]


def test_a_refused_list_item_names_its_index_like_a_schema_error():
    body = {"participants": [{"phone": "+221770000000"}, {"phone": "bad"}]}
    response = client().post("/sessions/ses-1/enrollments/bulk", json=body)
    assert response.status_code == 422 and loc(response) == ["body", "participants", 1, "phone"]
    schema_error = client().post("/sessions/ses-1/enrollments/bulk", json={"participants": [{}, 3]})
    assert loc(schema_error) == ["body", "participants", 1]  # FastAPI's own form, which ours follows


def test_a_path_parameter_stays_in_the_path_even_inside_a_list_item():
    response = client().post("/sessions/ses-1/enrollments/bulk", json={"participants": [{"session": "gone"}]})
    assert response.status_code == 404 and loc(response) == ["path", "session_id"]
