"""Every operation of every API documents the error statuses it can answer, with the error body's
schema: 400 for a body that is not JSON, 401 and 403 where a token is needed, 404 where the path
names a resource, 409 for a command, 422 for input; a public route asks for no token. And the
answers themselves: an unparseable body is a 400 in the project's error shape, a 405 names every
method of the path."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Body
from fastapi.testclient import TestClient

from emm_common.http import create_service_app
from emm_common.settings import ServiceSettings
from emm_evaluation.entrypoints import api as evaluation_api
from emm_notification.entrypoints import api as notification_api
from emm_registration.entrypoints import api as registration_api

APPS = [registration_api.create_app, evaluation_api.create_app, notification_api.create_app]
PROBLEM = {"$ref": "#/components/schemas/Problem"}


def operations(openapi):
    for path, methods in openapi["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", method, operation


@pytest.mark.parametrize("create_app", APPS)
def test_every_operation_documents_its_error_statuses_with_the_error_schema(create_app):
    openapi = create_app().openapi()
    missing = []
    for name, method, operation in operations(openapi):
        statuses = set(operation["responses"])
        expected = set()
        if "requestBody" in operation:
            expected |= {"400", "422"}
        if operation.get("security"):
            expected |= {"401", "403", "503"} | ({"409"} if method != "get" else set())
        if any(parameter["in"] == "path" for parameter in operation.get("parameters", [])):
            expected |= {"404", "422"}
        missing += [f"{name}: {status}" for status in sorted(expected - statuses)]
        missing += [f"{name}: {status} without the Problem schema" for status, response in operation["responses"].items()
                    if status.startswith("4") and response.get("content", {}).get("application/json", {})
                    .get("schema") != PROBLEM]
    assert missing == []
    assert "HTTPValidationError" not in openapi["components"]["schemas"]


@pytest.mark.parametrize("create_app", APPS)
def test_public_routes_ask_for_no_token_and_the_others_for_a_bearer_token(create_app):
    openapi = create_app().openapi()
    public = {name for name, _, operation in operations(openapi) if not operation.get("security")}
    assert "GET /.well-known/jwks.json" in public and "GET /healthz" in public
    assert "POST /sign-out" not in public
    if create_app is registration_api.create_app:
        assert {"POST /sign-in", "POST /sign-in/links"} <= public
        assert "POST /sessions" not in public


router = APIRouter()


@router.post("/sessions")
async def schedule(title: str = Body(embed=True)):
    return {"title": title}


@router.get("/sessions")
async def sessions():
    return []


def client() -> TestClient:
    app = create_service_app(ServiceSettings(), title="sample", description="test")
    app.include_router(router)
    return TestClient(app)


def test_a_body_that_is_not_utf8_json_is_a_400_naming_the_body():
    answer = client().post("/sessions", content=b"\xff\xfe{", headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["detail"][0]["loc"] == ["body"]


def test_a_405_names_every_method_of_the_path():
    answer = client().delete("/sessions")
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "GET, POST"
