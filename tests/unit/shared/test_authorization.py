"""The authorization rules (emm_common.authorization) on a small app with an in-memory scope
source, and docs/authorization.md agreeing with the routes' declarations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from emm_common import authorization as az
from emm_common.auth import TokenIssuer, TokenVerifier, ensure_key_pair
from emm_common.authorization import (ALL, ANY, FILTERED, OWN_ENROLLMENT, OWN_OFFICE, OWN_RECORD, OWN_SESSION, Allow,
                                      Caller, SessionScope, Target)
from emm_common.http import error_location, problem
from emm_common.errors import DomainError

DOC = Path(__file__).parents[3] / "docs" / "authorization.md"


class Scopes:
    sessions = {"ses-a": SessionScope("ses-a", "CO A", frozenset({"stf-fa"}),
                                      {"enr-1": ("par-1", "registered"), "enr-2": ("par-2", "cancelled")})}

    async def session(self, session_id):
        return self.sessions.get(session_id)

    async def enrollment_status(self, session_id, enrollment_id, participant_id):
        found = self.sessions.get(session_id, SessionScope(session_id, None)).enrollments.get(enrollment_id)
        return found[1] if found and found[0] == participant_id else None

    async def target(self, kind, value):
        return Target(offices=frozenset({"CO A"})) if kind == "staff_id" and value == "stf-x" else None


@pytest.fixture
def client(tmp_path):
    ensure_key_pair(tmp_path / "k.pem", tmp_path / "k.pub.pem")
    app = FastAPI()
    app.state.token_verifier = TokenVerifier((tmp_path / "k.pub.pem").read_bytes())
    app.state.scopes = Scopes()

    @app.exception_handler(DomainError)
    async def refused(request, exc):
        return problem(exc.http_status, error_location(request, exc), exc.message, type(exc).__name__)

    @app.post("/sessions/{session_id}/scores")
    async def scores(session_id: str, who: Annotated[Caller, Depends(Allow(facilitator=OWN_SESSION,
                                                                           organizer=OWN_OFFICE, regional=ALL))]):
        return {"by": who.subject}

    @app.post("/sessions/{session_id}/feedback")
    async def feedback(session_id: str, who: Annotated[Caller, Depends(Allow(participant=OWN_ENROLLMENT))]):
        return {"by": who.subject}

    @app.get("/participants/{participant_id}/history")
    async def history(participant_id: str, who: Annotated[Caller, Depends(Allow(participant=OWN_RECORD,
                                                                                organizer=FILTERED))]):
        return {"offices": sorted(who.offices) if who.offices is not None else None}

    @app.patch("/staff/{staff_id}")
    async def staff(staff_id: str, who: Annotated[Caller, Depends(Allow(organizer=OWN_OFFICE, regional=ALL,
                                                                        target="staff_id",
                                                                        body_offices=("offices", "regional")))]):
        return {}

    @app.get("/questionnaires/default")
    async def default(who: Annotated[Caller, Depends(Allow(participant=ANY, organizer=ANY))]):
        return {}

    issuer = TokenIssuer((tmp_path / "k.pem").read_bytes())
    test_client = TestClient(app)
    test_client.as_ = lambda subject, role, **claims: {"Authorization": f"Bearer {issuer.issue(subject, role, **claims)}"}
    return test_client


def test_a_facilitator_scores_only_the_sessions_they_facilitate(client):
    assert client.post("/sessions/ses-a/scores", headers=client.as_("stf-fa", "facilitator")).status_code == 200
    refused = client.post("/sessions/ses-a/scores", headers=client.as_("stf-fb", "facilitator"))
    assert refused.status_code == 403
    assert refused.json()["detail"][0]["loc"] == ["path", "session_id"]
    assert "facilitator of this session" in refused.json()["detail"][0]["msg"]


def test_an_organizer_acts_for_their_offices_and_the_regional_team_for_all(client):
    assert client.post("/sessions/ses-a/scores", headers=client.as_("o", "organizer", offices=["CO A"])).status_code == 200
    other = client.post("/sessions/ses-a/scores", headers=client.as_("o", "organizer", offices=["CO B"]))
    assert other.status_code == 403 and "not for CO A" in other.json()["detail"][0]["msg"]
    assert client.post("/sessions/ses-a/scores", headers=client.as_("r", "organizer", regional=True)).status_code == 200
    assert client.post("/sessions/ses-none/scores", headers=client.as_("r", "organizer", regional=True)).status_code == 200
    assert client.post("/sessions/ses-none/scores", headers=client.as_("o", "organizer", offices=["CO A"])).status_code == 404


def test_no_token_is_401_and_a_role_the_route_does_not_list_is_403_naming_the_role(client):
    assert client.post("/sessions/ses-a/scores").status_code == 401
    assert client.post("/sessions/ses-a/scores", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    refused = client.post("/sessions/ses-a/scores", headers=client.as_("par-1", "participant", enrollment_id="enr-1",
                                                                       session_id="ses-a"))
    assert refused.status_code == 403 and refused.json()["detail"][0]["loc"] == ["header", "authorization"]
    assert client.post("/sessions/ses-a/scores", headers=client.as_("svc", "service")).status_code == 403


def test_only_the_participant_submits_their_evaluation_and_a_cancelled_token_stops_working(client):
    own = client.as_("par-1", "participant", enrollment_id="enr-1", session_id="ses-a")
    assert client.post("/sessions/ses-a/feedback", headers=own).status_code == 200
    assert client.post("/sessions/ses-b/feedback", headers=own).status_code == 403
    assert client.post("/sessions/ses-a/feedback", headers=client.as_("r", "organizer", regional=True)).status_code == 403
    cancelled = client.as_("par-2", "participant", enrollment_id="enr-2", session_id="ses-a")
    refused = client.post("/sessions/ses-a/feedback", headers=cancelled)
    assert refused.status_code == 401 and "cancelled" in refused.json()["detail"]
    assert client.get("/participants/par-2/history", headers=cancelled).status_code == 200  # their own record
    assert client.get("/participants/par-1/history", headers=cancelled).status_code == 403
    invitation = client.as_("invitee", "participant", session_id="ses-a")
    assert client.get("/questionnaires/default", headers=invitation).status_code == 403


def test_a_list_filtered_to_own_passes_the_caller_s_offices(client):
    answer = client.get("/participants/par-1/history", headers=client.as_("o", "organizer", offices=["CO A", "CO C"]))
    assert answer.json() == {"offices": ["CO A", "CO C"]}


def test_an_office_organizer_cannot_give_offices_they_lack_or_regional_rights(client):
    office = client.as_("o", "organizer", offices=["CO A"])
    assert client.patch("/staff/stf-x", json={"offices": ["CO A"]}, headers=office).status_code == 200
    wider = client.patch("/staff/stf-x", json={"offices": ["CO A", "CO B"]}, headers=office)
    assert wider.status_code == 403 and wider.json()["detail"][0]["loc"] == ["body", "offices"]
    regional = client.patch("/staff/stf-x", json={"regional": True}, headers=office)
    assert regional.status_code == 403 and regional.json()["detail"][0]["loc"] == ["body", "regional"]
    assert client.patch("/staff/stf-x", json={"regional": True},
                        headers=client.as_("r", "organizer", regional=True)).status_code == 200


def test_the_document_s_table_is_the_one_the_routes_declare():
    generated = az.table(az.service_apps())
    assert az.parse_table(DOC.read_text()) == az.parse_table(generated), \
        "docs/authorization.md is out of date: run `make authorization-table`"
    assert "NOT DECLARED" not in generated, "a route declares no Allow(...)"


def test_every_json_route_of_every_api_has_a_response_model():
    from fastapi.responses import JSONResponse
    from fastapi.routing import APIRoute

    missing = []
    for service, app in az.service_apps().items():
        for _, route in az._flat_routes(app.routes):
            if not isinstance(route, APIRoute) or not route.include_in_schema:
                continue
            json_answer = route.response_class in (JSONResponse,) or getattr(route.response_class, "value", None)
            if route.response_model is None and json_answer and route.status_code != 204:
                missing.append(f"{service} {sorted(route.methods)} {route.path}")
    assert missing == []
