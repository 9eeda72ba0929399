"""Bearer tokens: only the issuer signs, every service verifies, roles are enforced."""

from __future__ import annotations

from typing import Annotated

import jwt
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from emm_common.auth import Principal, TokenIssuer, TokenVerifier, ensure_key_pair, require_role


@pytest.fixture
def keys(tmp_path):
    ensure_key_pair(tmp_path / "k.pem", tmp_path / "k.pub.pem")
    return (tmp_path / "k.pem").read_bytes(), (tmp_path / "k.pub.pem").read_bytes()


def test_participant_token_is_scoped_to_one_enrollment(keys):
    private, public = keys
    token = TokenIssuer(private).issue("par-1", "participant", enrollment_id="enr-1", session_id="ses-1")
    assert TokenVerifier(public).verify(token) == Principal("par-1", "participant", "enr-1", "ses-1")


def test_token_signed_by_another_key_is_refused(keys, tmp_path):
    ensure_key_pair(tmp_path / "other.pem", tmp_path / "other.pub.pem")
    token = TokenIssuer((tmp_path / "other.pem").read_bytes()).issue("x", "organizer")
    with pytest.raises(jwt.InvalidSignatureError):
        TokenVerifier(keys[1]).verify(token)


def test_expired_token_is_refused(keys):
    token = TokenIssuer(keys[0]).issue("x", "organizer", ttl_seconds=-10)
    with pytest.raises(jwt.ExpiredSignatureError):
        TokenVerifier(keys[1]).verify(token)


def test_existing_keys_are_kept(tmp_path):
    ensure_key_pair(tmp_path / "k.pem", tmp_path / "k.pub.pem")
    before = (tmp_path / "k.pem").read_bytes()
    ensure_key_pair(tmp_path / "k.pem", tmp_path / "k.pub.pem")
    assert (tmp_path / "k.pem").read_bytes() == before


def test_roles_are_enforced_with_401_and_403(keys):
    app = FastAPI()
    app.state.token_verifier = TokenVerifier(keys[1])

    @app.post("/sessions")
    def schedule(who: Annotated[Principal, Depends(require_role("organizer"))]):
        return {"by": who.subject}

    client = TestClient(app)
    issuer = TokenIssuer(keys[0])
    assert client.post("/sessions").status_code == 401
    assert client.post("/sessions", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    facilitator = issuer.issue("f-1", "facilitator")
    assert client.post("/sessions", headers={"Authorization": f"Bearer {facilitator}"}).status_code == 403
    organizer = issuer.issue("o-1", "organizer")
    response = client.post("/sessions", headers={"Authorization": f"Bearer {organizer}"})
    assert response.status_code == 200 and response.json() == {"by": "o-1"}
