"""Bearer tokens and sign-in links: only the issuers sign, every service verifies, roles are enforced,
and neither kind of token passes for the other."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Annotated
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from emm_common import auth
from emm_common.auth import Principal, TokenIssuer, TokenVerifier, ensure_key_pair, sign_in_url


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


def test_a_staff_token_carries_name_offices_and_whether_regional(keys):
    private, public = keys
    token = TokenIssuer(private).issue("stf-1", "organizer", name="Fatou Ndiaye", offices=["RO Dakar", "CO Abidjan"],
                                       regional=False)
    assert TokenVerifier(public).verify(token) == Principal("stf-1", "organizer", name="Fatou Ndiaye",
                                                            offices=("RO Dakar", "CO Abidjan"), regional=False)
    regional = TokenVerifier(public).verify(TokenIssuer(private).issue("stf-2", "organizer", regional=True))
    assert regional.regional and regional.offices == ()


def test_a_link_says_what_it_is_for_whose_it_is_and_when_it_expires(keys):
    private, public = keys
    before = datetime.now(timezone.utc)
    token = TokenIssuer(private).issue_link("participant-sign-in", "par-1", 3600, session_id="ses-1")
    link = TokenVerifier(public).verify_link(token)
    assert (link.purpose, link.subject, link.session_id) == ("participant-sign-in", "par-1", "ses-1")
    assert before + timedelta(seconds=3598) <= link.expires_at <= before + timedelta(seconds=3602)
    assert link.jti and TokenVerifier(public).verify_link(TokenIssuer(private).issue_link(
        "participant-sign-in", "par-1", 3600, session_id="ses-1")).jti != link.jti


def test_a_link_is_not_a_bearer_token_and_a_bearer_token_is_not_a_link(keys):
    private, public = keys
    issuer, verifier = TokenIssuer(private), TokenVerifier(public)
    with pytest.raises(jwt.InvalidTokenError):
        verifier.verify(issuer.issue_link("staff-sign-in", "stf-1", 900))
    with pytest.raises(jwt.InvalidTokenError):
        verifier.verify_link(issuer.issue("stf-1", "organizer"))
    # Even with every claim of the other kind added, the audience tells them apart.
    key = serialization.load_pem_private_key(private, password=None)
    claims = {"iss": auth.ISSUER, "sub": "stf-1", "role": "organizer", "purpose": "staff-sign-in", "jti": "j",
              "exp": int(time.time()) + 900}
    with pytest.raises(jwt.InvalidAudienceError):
        verifier.verify(jwt.encode({**claims, "aud": auth.LINK_AUDIENCE}, key, algorithm="EdDSA"))
    with pytest.raises(jwt.InvalidAudienceError):
        verifier.verify_link(jwt.encode({**claims, "aud": auth.AUDIENCE}, key, algorithm="EdDSA"))


def test_an_expired_or_forged_link_is_refused(keys, tmp_path):
    private, public = keys
    with pytest.raises(jwt.ExpiredSignatureError):
        TokenVerifier(public).verify_link(TokenIssuer(private).issue_link("staff-sign-in", "stf-1", -10))
    ensure_key_pair(tmp_path / "other.pem", tmp_path / "other.pub.pem")
    forged = TokenIssuer((tmp_path / "other.pem").read_bytes()).issue_link("staff-sign-in", "stf-1", 900)
    with pytest.raises(jwt.InvalidSignatureError):
        TokenVerifier(public).verify_link(forged)


def test_a_participant_link_names_its_session(keys):
    with pytest.raises(ValueError):
        TokenIssuer(keys[0]).issue_link("participant-sign-in", "par-1", 3600)
    with pytest.raises(ValueError):
        TokenIssuer(keys[0]).issue_link("password-reset", "par-1", 3600)


def test_a_sign_in_url_carries_the_link_and_the_page_to_show():
    url = sign_in_url("http://127.0.0.1:8004/", "a.b-c_d", "/trainings/ses-1/evaluation")
    assert url == "http://127.0.0.1:8004/signin?link=a.b-c_d&next=%2Ftrainings%2Fses-1%2Fevaluation"
    assert parse_qs(urlsplit(url).query) == {"link": ["a.b-c_d"], "next": ["/trainings/ses-1/evaluation"]}


def test_the_command_line_prints_links_and_says_it_is_a_local_tool(tmp_path, monkeypatch, capsys):
    import emm_common.settings

    monkeypatch.setattr(emm_common.settings, "CACHE_DIR", tmp_path)
    auth.main(["link", "participant-sign-in", "par-1", "--session-id", "ses-1"])
    verifier = TokenVerifier((tmp_path / "keys" / "jwt-ed25519.pub.pem").read_bytes())
    link = verifier.verify_link(capsys.readouterr().out.strip())
    assert (link.purpose, link.session_id) == ("participant-sign-in", "ses-1")
    assert link.expires_at > datetime.now(timezone.utc) + timedelta(days=59)
    auth.main(["link", "staff-sign-in", "stf-1"])
    assert verifier.verify_link(capsys.readouterr().out.strip()).expires_at < datetime.now(timezone.utc) + timedelta(
        minutes=16)
    auth.main(["token", "organizer", "stf-1", "--name", "Fatou", "--office", "RO Dakar"])
    assert verifier.verify(capsys.readouterr().out.strip()).offices == ("RO Dakar",)
    with pytest.raises(SystemExit):
        auth.main(["link", "participant-sign-in", "par-1"])  # no session
    capsys.readouterr()
    with pytest.raises(SystemExit):
        auth.main(["token", "--help"])
    assert "LOCAL DEVELOPMENT TOOL ONLY" in " ".join(capsys.readouterr().out.split())


def test_tokens_name_their_key_and_a_jwks_of_two_keys_accepts_both_during_a_rotation(tmp_path):
    import json
    import os

    import jwt as pyjwt

    from emm_common.auth import jwks, public_keys

    for name in ("old", "new"):
        ensure_key_pair(tmp_path / f"{name}.pem", tmp_path / f"{name}.pub.pem")
    old, new = (TokenIssuer((tmp_path / f"{name}.pem").read_bytes()) for name in ("old", "new"))
    assert pyjwt.get_unverified_header(old.issue("x", "service"))["kid"] == old.key_id != new.key_id
    key_file = tmp_path / "jwks.json"
    key_file.write_text(json.dumps(jwks(public_keys((tmp_path / "old.pub.pem").read_bytes()).values())))
    verifier = TokenVerifier.from_file(key_file, reload_seconds=0)
    assert verifier.verify(old.issue("a", "service")).subject == "a"
    with pytest.raises(pyjwt.InvalidSignatureError):
        verifier.verify(new.issue("b", "service"))
    both = {**public_keys((tmp_path / "old.pub.pem").read_bytes()), **public_keys((tmp_path / "new.pub.pem").read_bytes())}
    key_file.write_text(json.dumps(jwks(both.values())))  # step 1: both keys, read without a restart
    os.utime(key_file, ns=(1, 2))
    assert verifier.verify(new.issue("b", "service")).subject == "b"
    assert verifier.verify(old.issue("a", "service")).subject == "a"
    key_file.write_text(json.dumps(jwks(public_keys((tmp_path / "new.pub.pem").read_bytes()).values())))
    os.utime(key_file, ns=(3, 4))  # step 3: the old key retired
    with pytest.raises(pyjwt.InvalidSignatureError):
        verifier.verify(old.issue("a", "service"))
