"""Signing in with emailed links, the staff directory, and what the portal reads (sessions by
facilitator, a session's .ics), through the real registration API on the real broker and database."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import httpx
import icalendar
import pytest

from emm_common.auth import TokenIssuer, TokenVerifier, ensure_key_pair
from emm_common.paging import next_link
from emm_common.topics import topic_name
from tests.integration.registration.test_registration_api import person, schedule
from tests.processes import ServiceProcess
from tests.topics import read_events

pytestmark = pytest.mark.integration

ON_ITS_WAY = {"detail": "If this address is known, a sign-in link is on its way."}


@pytest.fixture
def issuer(keys) -> TokenIssuer:
    return TokenIssuer((keys / "jwt.pem").read_bytes())


@pytest.fixture
def verifier(keys) -> TokenVerifier:
    return TokenVerifier((keys / "jwt.pub.pem").read_bytes())


def staff(name: str, unique: str, **overrides) -> dict:
    return {"full_name": name, "email": f"{name.split()[0].lower()}.{unique}@iom.example.org",
            "preferred_language": "fr", "role": "organizer", "offices": ["RO Dakar"], **overrides}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def contacts_events(topic_prefix: str, expected: int, kind: str) -> list:
    events = await read_events(topic_name("emm.contacts.internal", topic_prefix), expected)
    return [e for e in events if e.type == f"org.iom.emm.{kind}.v1"]


async def test_an_organizer_keeps_the_staff_directory_and_each_change_is_published(client, issue, unique,
                                                                                  topic_prefix):
    organizer = issue("organizer", "stf-boss")
    added = await client.post("/staff", json=staff("Fatou Ndiaye", unique), headers=organizer)
    assert added.status_code == 201, added.text
    fatou = added.json()
    assert fatou["staff_id"].startswith("stf-") and fatou["offices"] == ["RO Dakar"] and fatou["active"] is True
    again = await client.post("/staff", json=staff("Fatou N.", unique, email=fatou["email"].upper()), headers=organizer)
    assert again.status_code == 200 and again.json() == fatou  # the same email is the same person, unchanged
    moussa = (await client.post("/staff", json=staff("Moussa Sarr", unique, role="facilitator", offices=[]),
                                headers=organizer)).json()

    changed = await client.patch(f"/staff/{fatou['staff_id']}", json={"offices": ["RO Dakar", "CO Abidjan"]},
                                 headers=organizer)
    assert changed.status_code == 200 and changed.json()["offices"] == ["RO Dakar", "CO Abidjan"]
    assert (await client.get(f"/staff/{fatou['staff_id']}", headers=organizer)).json() == changed.json()

    first = await client.get("/staff", params={"limit": 1}, headers=organizer)
    assert [m["full_name"] for m in first.json()] == ["Fatou Ndiaye"]
    rest = await client.get(next_link(first.headers), headers=organizer)
    assert [m["full_name"] for m in rest.json()] == ["Moussa Sarr"] and next_link(rest.headers) is None
    facilitators = await client.get("/staff", params={"role": "facilitator"}, headers=organizer)
    assert [m["staff_id"] for m in facilitators.json()] == [moussa["staff_id"]]

    events = await contacts_events(topic_prefix, 3, "staff.updated")
    # in order per person (the record key is the staff id)
    assert [e.data["offices"] for e in events if e.subject == fatou["staff_id"]] == [
        ["RO Dakar"], ["RO Dakar", "CO Abidjan"]]
    assert [e.data["offices"] for e in events if e.subject == moussa["staff_id"]] == [[]]
    assert {e.data["email"] for e in events} == {fatou["email"], moussa["email"]}


async def test_the_staff_directory_is_for_organizers_and_refuses_what_cannot_be(client, issue, unique):
    organizer = issue("organizer", "stf-boss")
    fatou = (await client.post("/staff", json=staff("Fatou Ndiaye", unique), headers=organizer)).json()
    for who in (issue("facilitator"), issue("participant")):
        assert (await client.get("/staff", headers=who)).status_code == 403
        assert (await client.post("/staff", json=staff("Awa Ba", unique), headers=who)).status_code == 403
    assert (await client.get("/staff")).status_code == 401
    no_office = await client.post("/staff", json=staff("Awa Ba", unique, offices=[]), headers=organizer)
    assert no_office.status_code == 422 and no_office.json()["detail"][0]["loc"] == ["body", "offices"]
    new_email = await client.patch(f"/staff/{fatou['staff_id']}", json={"email": "other@iom.example.org"},
                                   headers=organizer)
    assert new_email.status_code == 422 and new_email.json()["detail"][0]["loc"] == ["body", "email"]
    missing = await client.get("/staff/stf-nobody", headers=organizer)
    assert missing.status_code == 404 and missing.json()["detail"][0]["loc"] == ["path", "staff_id"]


async def test_a_staff_link_signs_in_once_and_gives_a_twelve_hour_staff_token(client, issue, issuer, verifier,
                                                                              unique):
    organizer = issue("organizer", "stf-boss")
    fatou = (await client.post("/staff", json=staff("Fatou Ndiaye", unique, offices=["RO Dakar", "CO Abidjan"]),
                               headers=organizer)).json()
    link = issuer.issue_link("staff-sign-in", fatou["staff_id"], 900)
    # A link is no bearer token: no API takes it.
    assert (await client.get("/sessions", headers=bearer(link))).status_code == 401

    signed_in = await client.post("/sign-in", json={"link": link})
    assert signed_in.status_code == 200, signed_in.text
    body = signed_in.json()
    assert {k: body[k] for k in ("role", "subject", "session_id", "enrollment_id", "name", "preferred_language")} == {
        "role": "organizer", "subject": fatou["staff_id"], "session_id": None, "enrollment_id": None,
        "name": "Fatou Ndiaye", "preferred_language": "fr"}
    principal = verifier.verify(body["token"])
    assert (principal.offices, principal.regional, principal.name) == (("RO Dakar", "CO Abidjan"), False,
                                                                       "Fatou Ndiaye")
    assert (await client.get("/staff", headers=bearer(body["token"]))).status_code == 200
    assert 11.9 * 3600 < seconds_from_now(body["expires_at"]) < 12.1 * 3600

    used = await client.post("/sign-in", json={"link": link})
    assert used.status_code == 401 and used.json()["detail"][0]["loc"] == ["body", "link"]
    assert "used already" in used.json()["detail"][0]["msg"]


async def test_only_one_of_two_simultaneous_uses_of_a_staff_link_signs_in(client, issue, issuer, unique, api, keys,
                                                                          topic_prefix):
    fatou = (await client.post("/staff", json=staff("Fatou Ndiaye", unique), headers=issue("organizer"))).json()
    second = ServiceProcess("registration", "api", topic_prefix, api.database, keys).start()
    try:
        async with httpx.AsyncClient(base_url=second.url, timeout=60) as other:
            for _ in range(3):
                link = issuer.issue_link("staff-sign-in", fatou["staff_id"], 900)
                answers = await asyncio.gather(*(c.post("/sign-in", json={"link": link})
                                                 for c in (client, other, client, other)))
                assert sorted(a.status_code for a in answers) == [200, 401, 401, 401]
    finally:
        second.stop()


async def test_an_expired_forged_or_wrong_kind_of_link_and_an_inactive_person_do_not_sign_in(
        client, issue, issuer, unique, tmp_path):
    organizer = issue("organizer")
    fatou = (await client.post("/staff", json=staff("Fatou Ndiaye", unique), headers=organizer)).json()
    ensure_key_pair(tmp_path / "other.pem", tmp_path / "other.pub.pem")
    refused = {
        "expired": issuer.issue_link("staff-sign-in", fatou["staff_id"], -5),
        "forged": TokenIssuer((tmp_path / "other.pem").read_bytes()).issue_link("staff-sign-in", fatou["staff_id"], 900),
        "an API token": issuer.issue(fatou["staff_id"], "organizer"),
        "nobody's": issuer.issue_link("staff-sign-in", "stf-nobody", 900),
        "garbage": "not-a-token",
    }
    for what, link in refused.items():
        response = await client.post("/sign-in", json={"link": link})
        assert response.status_code == 401, what
    await client.patch(f"/staff/{fatou['staff_id']}", json={"active": False}, headers=organizer)
    inactive = await client.post("/sign-in", json={"link": issuer.issue_link("staff-sign-in", fatou["staff_id"], 900)})
    assert inactive.status_code == 401 and "no longer active" in inactive.json()["detail"][0]["msg"]


async def test_a_participant_link_signs_in_to_their_enrollment_again_and_again_even_once_cancelled(
        client, issue, issuer, verifier, unique):
    session_id = await schedule(client, issue)
    other_session = await schedule(client, issue)
    made = await client.post(f"/sessions/{session_id}/enrollments", json=person(1, unique), headers=issue("organizer"))
    assert made.status_code == 201 and "participant_token" not in made.json()
    enrollment = made.json()["enrollment"]
    link = issuer.issue_link("participant-sign-in", enrollment["participant_id"], 3600, session_id=session_id)

    signed_in = (await client.post("/sign-in", json={"link": link})).json()
    assert {k: signed_in[k] for k in ("role", "subject", "session_id", "enrollment_id", "name",
                                      "preferred_language")} == {
        "role": "participant", "subject": enrollment["participant_id"], "session_id": session_id,
        "enrollment_id": enrollment["enrollment_id"], "name": "Participant 1", "preferred_language": "fr"}
    assert 6.9 * 86400 < seconds_from_now(signed_in["expires_at"]) < 7.1 * 86400
    principal = verifier.verify(signed_in["token"])
    assert (principal.enrollment_id, principal.session_id) == (enrollment["enrollment_id"], session_id)
    cancelled = await client.post(f"/sessions/{session_id}/enrollments/{enrollment['enrollment_id']}/cancellation",
                                  json={}, headers=bearer(signed_in["token"]))
    assert cancelled.status_code == 200

    again = await client.post("/sign-in", json={"link": link})  # reusable, and a cancelled enrollment still signs in
    assert again.status_code == 200 and again.json()["enrollment_id"] == enrollment["enrollment_id"]
    history = await client.get(f"/participants/{enrollment['participant_id']}/history",
                               headers=bearer(again.json()["token"]))
    assert [h["enrollment"]["status"] for h in history.json()] == ["cancelled"]

    elsewhere = issuer.issue_link("participant-sign-in", enrollment["participant_id"], 3600, session_id=other_session)
    assert (await client.post("/sign-in", json={"link": elsewhere})).status_code == 401


async def test_asking_for_links_answers_the_same_whoever_asks_and_publishes_one_request_per_link(
        client, issue, unique, topic_prefix):
    organizer = issue("organizer")
    fatou = (await client.post("/staff", json=staff("Fatou Ndiaye", unique), headers=organizer)).json()
    sessions = [await schedule(client, issue, start_date=f"2026-06-0{day}", end_date=f"2026-06-0{day}")
                for day in (1, 2)]
    for session_id in sessions:
        await client.post(f"/sessions/{session_id}/enrollments", json=person(1, unique), headers=organizer)
    participant_email = person(1, unique)["email"]

    answers = [await client.post("/sign-in/links", json={"email": email})
               for email in (fatou["email"], participant_email.upper(), f"nobody.{unique}@example.org")]
    assert [(a.status_code, a.json()) for a in answers] == [(202, ON_ITS_WAY)] * 3
    requested = await contacts_events(topic_prefix, 5, "sign_in.requested")
    assert sorted((e.data["purpose"], e.data.get("session_id") or "") for e in requested) == sorted([
        ("participant-sign-in", sessions[0]), ("participant-sign-in", sessions[1]), ("staff-sign-in", "")])
    assert {e.data["recipient_id"] for e in requested if e.data["purpose"] == "staff-sign-in"} == {fatou["staff_id"]}
    assert all("email" not in e.data and "link" not in e.data for e in requested)
    not_an_address = await client.post("/sign-in/links", json={"email": "not an address"})
    assert not_an_address.status_code == 422


async def test_three_requests_an_hour_per_address_even_across_processes(client, issue, unique, topic_prefix, api,
                                                                        keys):
    fatou = (await client.post("/staff", json=staff("Fatou Ndiaye", unique), headers=issue("organizer"))).json()
    second = ServiceProcess("registration", "api", topic_prefix, api.database, keys).start()
    try:
        async with httpx.AsyncClient(base_url=second.url, timeout=60) as other:
            answers = await asyncio.gather(*(c.post("/sign-in/links", json={"email": fatou["email"]})
                                             for c in [client, other] * 5))
    finally:
        second.stop()
    assert [(a.status_code, a.json()) for a in answers] == [(202, ON_ITS_WAY)] * 10
    requested = await contacts_events(topic_prefix, 4, "sign_in.requested")
    assert len(requested) == 3


async def test_sessions_are_listed_by_who_facilitates_them(client, issue):
    mine = await schedule(client, issue, facilitator_ids=["stf-moussa", "stf-awa"])
    await schedule(client, issue, facilitator_ids=["stf-awa"])
    listed = await client.get("/sessions", params={"facilitator": "stf-moussa"}, headers=issue("facilitator", "stf-moussa"))
    assert [s["session"]["session_id"] for s in listed.json()] == [mine]
    assert len((await client.get("/sessions", params={"facilitator": "stf-awa"}, headers=issue("organizer"))).json()) == 2


def seconds_from_now(moment: str) -> float:
    return datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp() - time.time()


async def test_a_session_downloads_as_the_calendar_event_of_its_invitations(client, issue):
    session_id = await schedule(client, issue)
    response = await client.get(f"/sessions/{session_id}/calendar.ics", params={"language": "fr"},
                                headers=issue("participant", "par-1", enrollment_id="enr-1", session_id=session_id))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
    assert f'filename="{session_id}.ics"' in response.headers["content-disposition"]
    calendar = icalendar.Calendar.from_ical(response.content)
    [event] = calendar.walk("VEVENT")
    assert (str(calendar["METHOD"]), str(event["UID"]), str(event["STATUS"])) == (
        "PUBLISH", f"{session_id}@emm.iom.int", "CONFIRMED")
    assert event.decoded("DTSTART").isoformat() == "2026-05-19" and "Sénégal" in str(event["LOCATION"])
    await client.post(f"/sessions/{session_id}/status", json={"status": "cancelled", "reason": "venue"},
                      headers=issue("organizer"))
    cancelled = icalendar.Calendar.from_ical((await client.get(f"/sessions/{session_id}/calendar.ics",
                                                               headers=issue("organizer"))).content)
    assert str(cancelled.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"
    assert (await client.get(f"/sessions/{session_id}/calendar.ics")).status_code == 401
