"""The registration service through its real HTTP API, with the real broker and database."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from emm_common.paging import next_link
from emm_common.topics import all_topics, ensure_topics, topic_name
from tests.conftest import KAFKA
from tests.processes import ServiceProcess
from tests.topics import read_events, read_topic

pytestmark = pytest.mark.integration


def session_body(**overrides) -> dict:
    body = {"title": "EMM2.0 Training-of-Trainers, session 2", "kind": "training_of_trainers",
            "modules": ["migration-governance", "border-management"], "organizing_office": "RO Dakar",
            "city": "Dakar", "country": "SN", "venue": "IOM Regional Office", "start_date": "2026-05-19",
            "end_date": "2026-05-20", "timezone": "Africa/Dakar", "languages": ["fr", "en"], "capacity": 12,
            "facilitator_ids": ["par-facilitator"], "target_audience": "IBM project managers"}
    return {**body, **overrides}


def person(n: int, unique: str, **overrides) -> dict:
    return {"email": f"person{n}.{unique}@example.org", "full_name": f"Participant {n}", "country": "SN",
            "preferred_language": "fr" if n % 2 else "en", "consent_to_contact": True,
            "organization": "IOM", "job_title": "Project manager", "sex": "female" if n % 2 else "male",
            **overrides}


async def schedule(client, issue, **overrides) -> str:
    response = await client.post("/sessions", json=session_body(**overrides), headers=issue("organizer"))
    assert response.status_code == 201, response.text
    return response.json()["session"]["session_id"]


async def test_scheduling_stores_the_session_and_publishes_it(client, issue, topic_prefix):
    session_id = await schedule(client, issue)
    detail = (await client.get(f"/sessions/{session_id}", headers=issue("organizer", offices=["RO Dakar"]))).json()
    assert (detail["seats_taken"], detail["seats_left"], detail["waitlist_length"]) == (0, 12, 0)
    assert detail["session"]["days"] == ["2026-05-19", "2026-05-20"]
    [event] = await read_events(topic_name("emm.sessions", topic_prefix), 1)
    assert event.type == "org.iom.emm.session.scheduled.v1" and event.subject == session_id


async def test_200_concurrent_enrollments_for_20_seats_never_overbook(client, issue, unique, topic_prefix):
    session_id = await schedule(client, issue, capacity=20)
    organizer = issue("organizer")

    async def enroll(n):
        response = await client.post(f"/sessions/{session_id}/enrollments", json=person(n, unique),
                                     headers=organizer)
        assert response.status_code == 201, response.text
        return response.json()["enrollment"]

    enrollments = await asyncio.gather(*(enroll(n) for n in range(200)))
    statuses = [e["status"] for e in enrollments]
    assert statuses.count("registered") == 20 and statuses.count("waitlisted") == 180
    roster = (await client.get(f"/sessions/{session_id}/roster", headers=organizer)).json()
    assert len(roster["registered"]) == 20 and len(roster["waitlist"]) == 180
    # the waitlist is in acceptance order: the position each request was given is its place
    given = sorted((e["waitlist_position"], e["enrollment_id"]) for e in enrollments if e["status"] == "waitlisted")
    assert [p for p, _ in given] == list(range(1, 181))
    assert [e["enrollment_id"] for e in roster["waitlist"]] == [eid for _, eid in given]

    events = await read_events(topic_name("emm.enrollments", topic_prefix), 200)
    kinds = [e.type.split(".")[-2] for e in events]
    assert kinds.count("registered") == 20 and kinds.count("waitlisted") == 180


async def test_cancelling_a_seat_promotes_the_first_waitlisted(client, issue, unique, topic_prefix):
    session_id = await schedule(client, issue, capacity=2)
    organizer = issue("organizer")
    made = [(await client.post(f"/sessions/{session_id}/enrollments", json=person(n, unique),
                               headers=organizer)).json() for n in range(4)]
    first_seat, first_waiting = made[0]["enrollment"], made[2]["enrollment"]
    assert first_waiting["waitlist_position"] == 1
    assert "participant_token" not in made[0]  # the organizer who enrolled them holds no credential of theirs
    # the participant cancels their own seat with the token of their enrollment
    own_token = issue("participant", first_seat["participant_id"], enrollment_id=first_seat["enrollment_id"],
                      session_id=session_id)
    response = await client.post(f"/sessions/{session_id}/enrollments/{first_seat['enrollment_id']}/cancellation",
                                 json={"reason": "mission travel"}, headers=own_token)
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    acknowledged = response.headers["EMM-Event-Ids"].split(",")
    roster = (await client.get(f"/sessions/{session_id}/roster", headers=organizer)).json()
    assert first_waiting["enrollment_id"] in [e["enrollment_id"] for e in roster["registered"]]
    assert [e["waitlist_position"] for e in roster["waitlist"]] == [1]
    events = await read_events(topic_name("emm.enrollments", topic_prefix), 6)
    assert [e.type.split(".")[-2] for e in events][-2:] == ["cancelled", "promoted"]
    assert events[-1].data["freed_by_enrollment_id"] == first_seat["enrollment_id"]
    assert acknowledged == [e.id for e in events[-2:]]  # the 2xx named both events it committed


async def test_enrolling_the_same_person_twice_returns_the_existing_enrollment(client, issue, unique):
    session_id = await schedule(client, issue)
    first = await client.post(f"/sessions/{session_id}/enrollments", json=person(1, unique), headers=issue("organizer"))
    again = await client.post(f"/sessions/{session_id}/enrollments",
                              json=person(1, unique, email=f"PERSON1.{unique}@Example.org"),
                              headers=issue("organizer"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["enrollment"]["enrollment_id"] == first.json()["enrollment"]["enrollment_id"]
    assert again.json()["created"] is False
    assert "EMM-Event-Ids" in first.headers and "EMM-Event-Ids" not in again.headers  # a repeat commits nothing


async def test_self_enrollment_needs_an_invitation_to_that_session(client, issue, unique):
    session_id = await schedule(client, issue)
    other_session = await schedule(client, issue)
    invitation = (await client.post(f"/sessions/{session_id}/invitations", json={},
                                    headers=issue("organizer"))).json()["token"]
    invited = {"Authorization": f"Bearer {invitation}"}
    response = await client.post(f"/sessions/{session_id}/enrollments", json=person(5, unique), headers=invited)
    assert response.status_code == 201 and response.json()["enrollment"]["enrolled_by"] == "participant"
    wrong = await client.post(f"/sessions/{other_session}/enrollments", json=person(6, unique), headers=invited)
    assert wrong.status_code == 403


@pytest.mark.parametrize("overrides, field", [
    ({"capacity": 0}, "capacity"),
    ({"end_date": "2026-05-01"}, "end_date"),
    ({"languages": ["de"]}, "languages"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"country": "Senegal"}, "country"),
])
async def test_bad_session_input_gets_422_naming_the_field_and_publishes_nothing(client, issue, topic_prefix,
                                                                                 overrides, field):
    response = await client.post("/sessions", json=session_body(**overrides), headers=issue("organizer"))
    assert response.status_code == 422, response.text
    assert any(field in [str(part) for part in error["loc"]] for error in response.json()["detail"]), response.text
    assert await read_topic(topic_name("emm.sessions", topic_prefix), 0, timeout=1) == []


async def test_unknown_ids_in_the_path_are_located_in_the_path(client, issue, unique):
    organizer = issue("organizer")
    missing = await client.get("/sessions/ses-nobody", headers=organizer)
    assert missing.status_code == 404 and missing.json()["detail"][0]["loc"] == ["path", "session_id"]
    enrolled = await client.post("/sessions/ses-nobody/enrollments", json=person(1, unique), headers=organizer)
    assert enrolled.status_code == 404 and enrolled.json()["detail"][0]["loc"] == ["path", "session_id"]
    session_id = await schedule(client, issue)
    cancelled = await client.post(f"/sessions/{session_id}/enrollments/enr-nobody/cancellation", json={},
                                  headers=organizer)
    assert cancelled.status_code == 404 and cancelled.json()["detail"][0]["loc"] == ["path", "enrollment_id"]
    someone_else = await client.get("/participants/par-someone-else/history", headers=issue("participant", "par-me"))
    assert someone_else.status_code == 403 and someone_else.json()["detail"][0]["loc"] == ["path", "participant_id"]


async def test_a_refused_bulk_item_is_named_by_its_index_and_enrolls_nobody(client, issue, unique, topic_prefix):
    session_id = await schedule(client, issue)
    url, organizer = f"/sessions/{session_id}/enrollments/bulk", issue("organizer")
    people = [person(1, unique), person(2, unique, email="not an email"), person(3, unique)]
    refused = await client.post(url, json={"participants": people}, headers=organizer)
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "participants", 1, "email"]
    schema = await client.post(url, json={"participants": [person(1, unique), {**person(2, unique), "full_name": 7}]},
                               headers=organizer)
    assert schema.status_code == 422 and schema.json()["detail"][0]["loc"] == ["body", "participants", 1, "full_name"]
    # The refusal came before anything was written: the first person is not enrolled either.
    roster = (await client.get(f"/sessions/{session_id}/roster", headers=organizer)).json()
    assert roster["registered"] == [] and roster["waitlist"] == []
    for topic in ("emm.enrollments", "emm.contacts.internal"):
        assert await read_topic(topic_name(topic, topic_prefix), 0, timeout=1) == []

    enrolled = await client.post(url, json={"participants": [person(1, unique), person(3, unique)]}, headers=organizer)
    assert enrolled.status_code == 200 and [e["enrollment"]["full_name"] for e in enrolled.json()] == [
        "Participant 1", "Participant 3"]


async def test_sessions_and_a_participant_s_history_are_listed_a_page_at_a_time(client, issue, unique):
    organizer = issue("organizer")
    ids = [await schedule(client, issue, start_date=f"2026-06-0{day}", end_date=f"2026-06-0{day}")
           for day in (3, 1, 2)]
    enrolled = [(await client.post(f"/sessions/{session_id}/enrollments", json=person(1, unique),
                                   headers=organizer)).json()["enrollment"] for session_id in ids]
    by_date = [ids[1], ids[2], ids[0]]

    first = await client.get("/sessions", params={"limit": 2}, headers=organizer)
    assert [s["session"]["session_id"] for s in first.json()] == by_date[:2]
    assert first.headers["EMM-Next-Offset"] == "2"
    rest = await client.get(next_link(first.headers), headers=organizer)
    assert [s["session"]["session_id"] for s in rest.json()] == by_date[2:] and next_link(rest.headers) is None
    everything = await client.get("/sessions", headers=organizer)  # 3 is under the default page of 50
    assert len(everything.json()) == 3 and next_link(everything.headers) is None
    too_many = await client.get("/sessions", params={"limit": 201}, headers=organizer)
    assert too_many.status_code == 422 and too_many.json()["detail"][0]["loc"] == ["query", "limit"]

    history = f"/participants/{enrolled[0]['participant_id']}/history"
    page = await client.get(history, params={"limit": 2}, headers=organizer)
    assert [h["session"]["session_id"] for h in page.json()] == by_date[:2]
    rest = await client.get(next_link(page.headers), headers=organizer)
    assert [h["session"]["session_id"] for h in rest.json()] == by_date[2:]
async def test_a_session_with_50000_modules_is_refused_naming_modules_and_the_next_one_is_published_promptly(
        client, issue, topic_prefix):
    modules = [f"module-{n:05d}" for n in range(50_000)]  # accepted before, as a 489 kB event
    response = await client.post("/sessions", json=session_body(modules=modules), headers=issue("organizer"))
    assert response.status_code == 422, response.text[:500]
    assert [error["loc"] for error in response.json()["detail"]] == [["body", "modules"]]
    assert len(response.content) < 1000  # the error does not echo the input back
    assert "EMM-Event-Ids" not in response.headers

    started = asyncio.get_running_loop().time()
    session_id = await schedule(client, issue)
    [event] = await read_events(topic_name("emm.sessions", topic_prefix), 1, timeout=10)
    assert event.subject == session_id and asyncio.get_running_loop().time() - started < 10
    assert (await client.get("/sessions", headers=issue("organizer"))).json()[0]["session"]["session_id"] == session_id


async def test_enrolling_in_a_cancelled_session_is_a_conflict(client, issue, unique):
    session_id = await schedule(client, issue)
    cancelled = await client.post(f"/sessions/{session_id}/status", json={"status": "cancelled", "reason": "venue"},
                                  headers=issue("organizer"))
    assert cancelled.status_code == 200 and cancelled.json()["session"]["status"] == "cancelled"
    response = await client.post(f"/sessions/{session_id}/enrollments", json=person(1, unique),
                                 headers=issue("organizer"))
    assert response.status_code == 409
    assert response.json()["detail"][0]["loc"] == ["path", "session_id"]


async def test_wrong_or_missing_token_changes_nothing(client, issue, topic_prefix):
    assert (await client.post("/sessions", json=session_body())).status_code == 401
    assert (await client.post("/sessions", json=session_body(),
                              headers={"Authorization": "Bearer forged"})).status_code == 401
    assert (await client.post("/sessions", json=session_body(), headers=issue("facilitator"))).status_code == 403
    assert (await client.post("/sessions", json=session_body(), headers=issue("participant"))).status_code == 403
    assert (await client.get("/sessions", headers=issue("organizer"))).json() == []
    assert await read_topic(topic_name("emm.sessions", topic_prefix), 0, timeout=1) == []


async def test_attendance_is_marked_per_day_and_the_latest_mark_wins(client, issue, unique, topic_prefix):
    session_id = await schedule(client, issue, capacity=2)
    organizer = issue("organizer")
    made = [(await client.post(f"/sessions/{session_id}/enrollments", json=person(n, unique),
                               headers=organizer)).json()["enrollment"] for n in range(3)]
    present, absent, waiting = (e["participant_id"] for e in made)
    facilitator = issue("facilitator", "par-facilitator")
    day = "2026-05-19"
    marks = {"marks": [{"participant_id": present, "status": "late"},
                       {"participant_id": absent, "status": "absent", "note": "sick"}]}
    response = await client.put(f"/sessions/{session_id}/attendance/{day}", json=marks, headers=facilitator)
    assert response.status_code == 200, response.text
    correction = {"marks": [{"participant_id": present, "status": "present"}]}
    sheet = (await client.put(f"/sessions/{session_id}/attendance/{day}", json=correction,
                              headers=facilitator)).json()
    assert sheet["sheet"][day][present]["status"] == "present"
    assert sheet["participant_rates"] == {present: 1.0, absent: 0.0}
    assert sheet["session_rate"] == 0.5
    # only registered participants, only session days, only this session's facilitators
    waitlisted = {"marks": [{"participant_id": waiting, "status": "present"}]}
    assert (await client.put(f"/sessions/{session_id}/attendance/{day}", json=waitlisted,
                             headers=facilitator)).status_code == 409
    assert (await client.put(f"/sessions/{session_id}/attendance/2026-05-21", json=correction,
                             headers=facilitator)).status_code == 422
    assert (await client.put(f"/sessions/{session_id}/attendance/{day}", json=correction,
                             headers=issue("facilitator", "par-someone-else"))).status_code == 403
    events = await read_events(topic_name("emm.attendance", topic_prefix), 3)
    assert [e.data["status"] for e in events] == ["late", "absent", "present"]


async def test_contact_details_travel_only_on_the_internal_topic(client, issue, unique, topic_prefix):
    session_id = await schedule(client, issue)
    email = f"person7.{unique}@example.org"
    await client.post(f"/sessions/{session_id}/enrollments", json=person(7, unique, phone="+221 77 123 45 67"),
                      headers=issue("organizer"))
    contacts = await read_events(topic_name("emm.contacts.internal", topic_prefix), 1)
    assert contacts[0].data["email"] == email and contacts[0].data["phone"] == "+221771234567"
    for public in ["emm.sessions", "emm.enrollments", "emm.attendance"]:
        for record in await read_topic(topic_name(public, topic_prefix), 0, timeout=1):
            text = record.value.decode() + json.dumps([(k, v.decode()) for k, v in record.headers])
            assert email not in text and "771234567" not in text


async def test_a_phone_number_written_any_valid_way_is_published_in_e164_and_an_invalid_one_refused(
        client, issue, unique, topic_prefix):
    session_id = await schedule(client, issue)
    url, organizer = f"/sessions/{session_id}/enrollments", issue("organizer")
    written = await client.post(url, json=person(1, unique, country="GW", phone="(+245) 955-123-456"),
                                headers=organizer)
    assert written.status_code == 201, written.text
    national = await client.post(url, json=person(2, unique, country="SN", phone="77 000 00 00"), headers=organizer)
    assert national.status_code == 201, national.text
    contacts = await read_events(topic_name("emm.contacts.internal", topic_prefix), 2)
    assert sorted(c.data["phone"] for c in contacts) == ["+221770000000", "+245955123456"]

    # A Guinea-Bissau number without its country code is not a Senegalese number.
    refused = await client.post(url, json=person(3, unique, country="SN", phone="955123456"), headers=organizer)
    assert refused.status_code == 422
    [error] = refused.json()["detail"]
    assert error["loc"] == ["body", "phone"] and "not a valid phone number in SN" in error["msg"]


async def test_a_2xx_survives_a_kill_before_publishing(topic_prefix, unique, keys, issue):
    # Kafka is unreachable for the first process: it stores facts (2xx) but cannot publish them.
    offline = ServiceProcess("registration", "api", topic_prefix, f"test_{unique}", keys,
                             env={"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}).start()
    try:
        async with httpx.AsyncClient(base_url=offline.url, timeout=30) as client:
            session_id = await schedule(client, issue)
            response = await client.post(f"/sessions/{session_id}/enrollments", json=person(1, unique),
                                         headers=issue("organizer"))
            assert response.status_code == 201
    finally:
        offline.kill()  # SIGKILL right after the responses, nothing published yet
    await ensure_topics(KAFKA, {topic_name(t, topic_prefix) for t in all_topics()}, partitions=3)
    assert await read_topic(topic_name("emm.sessions", topic_prefix), 0, timeout=1) == []

    # What the dead process left is a sweep's, once older than the grace (30 s by default, short here).
    restarted = ServiceProcess("registration", "api", topic_prefix, f"test_{unique}", keys,
                               env={"REGISTRATION_OUTBOX_GRACE_SECONDS": "3",
                                    "REGISTRATION_OUTBOX_SWEEP_SECONDS": "1"}).start()
    try:
        [scheduled] = await read_events(topic_name("emm.sessions", topic_prefix), 1)
        [registered] = await read_events(topic_name("emm.enrollments", topic_prefix), 1)
        assert scheduled.subject == session_id and registered.data["session_id"] == session_id
    finally:
        restarted.stop()


async def test_metrics_count_requests_by_route_and_status(client, issue):
    await client.get("/sessions", headers=issue("organizer"))
    await client.get("/sessions")  # 401
    await client.get("/readyz")
    metrics = (await client.get("/metrics")).text
    assert 'handler="/sessions",method="GET",status="2xx"' in metrics
    assert 'handler="/sessions",method="GET",status="4xx"' in metrics
    assert 'emm_dependency_up{dependency="mongodb"} 1.0' in metrics
