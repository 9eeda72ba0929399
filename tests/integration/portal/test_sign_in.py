"""Signing in on the portal with the links of emails, exchanged at the real registration API."""

from __future__ import annotations

import httpx
import pytest

from emm_portal.adapters.session_cookie import CookieCodec
from tests.integration.portal.conftest import (COOKIE, CSRF, browser, enrol_by_api, person, schedule, sign_in_as,
                                               submit)
from tests.processes import PORTAL_COOKIE_SECRET

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def participant_link(stack, enrollment: dict) -> str:
    return stack.issuer.issue_link("participant-sign-in", enrollment["participant_id"], 3600,
                                   session_id=enrollment["session_id"])


def test_a_participant_link_signs_in_and_goes_on_to_the_page_it_names(stack):
    session_id = schedule(stack)
    enrollment = enrol_by_api(stack, session_id, person(stack, "Aïcha Touré"))
    with browser(stack.portal) as client:
        answer = client.get("/signin", params={"link": participant_link(stack, enrollment),
                                               "next": f"/trainings/{session_id}"})
        assert answer.status_code == 303 and answer.headers["location"] == f"/trainings/{session_id}"
        assert "HttpOnly" in answer.headers["set-cookie"] and "SameSite=Lax" in answer.headers["set-cookie"]
        assert participant_link(stack, enrollment) not in answer.headers["set-cookie"]
        page = client.get(answer.headers["location"])
    assert page.status_code == 200 and "tag-registered" in page.text


def test_next_never_leads_off_the_site(stack):
    session_id = schedule(stack)
    enrollment = enrol_by_api(stack, session_id, person(stack, "Mamadou Keïta"))
    with browser(stack.portal) as client:
        answer = client.get("/signin", params={"link": participant_link(stack, enrollment),
                                               "next": "//elsewhere.example/trainings"})
    assert answer.status_code == 303 and answer.headers["location"] == "/trainings"


def test_a_link_that_is_not_valid_says_so_and_offers_a_new_one(stack):
    with browser(stack.portal) as client:
        page = client.get("/signin", params={"link": "not-a-link"})
        still_out = client.get("/trainings")
    assert page.status_code == 401 and 'href="/signin/email"' in page.text
    assert still_out.status_code == 401


def test_a_staff_link_is_exchanged_only_when_the_button_is_pressed_and_only_once(stack):
    added = httpx.post(f"{stack.registration.url}/staff", headers=stack.organizer(), json={
        "full_name": "Fatou Ndiaye", "email": f"fatou.{stack.unique}@iom.example.org", "preferred_language": "en",
        "role": "organizer", "offices": ["RO Dakar"]})
    assert added.status_code in (200, 201), added.text
    link = stack.issuer.issue_link("staff-sign-in", added.json()["staff_id"], 900)
    with browser(stack.portal) as client:
        scanned = client.get("/signin", params={"link": link})  # what a mail scanner does
        assert scanned.status_code == 200 and 'action="/signin"' in scanned.text
        pressed = submit(client, "/signin", {"link": link, "next": ""}, scanned)
        assert pressed.status_code == 303 and pressed.headers["location"] == "/organize"
        assert '<html lang="en">' in client.get("/").text  # her preference, from the exchange
        stale = submit(client, "/signin", {"link": link, "next": ""}, scanned)
        assert stale.status_code == 403  # signing in gave this browser a new CSRF secret
        again = submit(client, "/signin", {"link": link, "next": ""}, client.get("/signin", params={"link": link}))
    assert again.status_code == 401


def test_asking_for_a_link_says_the_same_whether_the_address_is_known_or_not(stack):
    session_id = schedule(stack)
    known = person(stack, "Adjoa Asante")
    enrol_by_api(stack, session_id, known)
    with browser(stack.portal) as client:
        answers = [submit(client, "/signin/email", {"email": email})
                   for email in (known["email"], f"nobody.{stack.unique}@example.org")]
        shown = [CSRF.sub("", client.get(answer.headers["location"]).text) for answer in answers]
        wrong = submit(client, "/signin/email", {"email": "not an address"})
    # The same answer, header for header, apart from the clock (a second may pass between the two).
    headers = [{k: v for k, v in a.headers.items() if k != "date"} for a in answers]
    assert [a.status_code for a in answers] == [303, 303] and headers[0] == headers[1]
    assert shown[0] == shown[1]
    assert wrong.status_code == 422 and 'value="not an address"' in wrong.text


def test_signing_out_revokes_the_token_at_the_apis(stack):
    session_id = schedule(stack)
    enrollment = enrol_by_api(stack, session_id, person(stack, "Kofi Mensah"))
    with browser(stack.portal) as client:
        sign_in_as(client, stack, enrollment)
        page = client.get(f"/trainings/{session_id}")
        token = CookieCodec(PORTAL_COOKIE_SECRET.encode()).decode(client.cookies[COOKIE]).token
        history = f"{stack.registration.url}/participants/{enrollment['participant_id']}/history"
        assert httpx.get(history, headers={"Authorization": f"Bearer {token}"}).status_code == 200
        out = submit(client, "/signout", {}, page)
        assert out.status_code == 303
    refused = httpx.get(history, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401 and "signed out" in refused.json()["detail"]
    questionnaire = httpx.get(f"{stack.evaluation.url}/sessions/{session_id}/questionnaire",
                              headers={"Authorization": f"Bearer {token}"})
    assert questionnaire.status_code == 401
