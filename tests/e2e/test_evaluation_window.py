"""A session's evaluation window, end to end on the real broker, database and SMTP capture, with
nobody moving the session: the lifecycle clock starts and completes a one-day session and closes
its evaluation a programme day later (a programme day lasts 12 s). The one participant who has not
answered gets the evaluation reminder 12 h before the closing, once; after the closing their
answer is refused with a 409 that says when it closed; the facilitator and the office's
organizer each get the final digest, in their own language, with the response rate and the
headline sentences; nothing waits for a contact."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import httpx
import pytest

from deploy.local.dakar_scenario import answers_of
from emm_common.topics import all_topics, ensure_topics, topic_name
from tests.conftest import KAFKA, SMTP_PORT, eventually
from tests.e2e.test_dakar_scenario import captured_for
from tests.processes import ServiceProcess

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

PROGRAMME_START = "2026-05-16T00:00:00+00:00"


def clock_env(origin_at: datetime) -> dict[str, str]:
    return {"EMM_CLOCK_SPEED": "7200", "EMM_CLOCK_ORIGIN": PROGRAMME_START, "EMM_CLOCK_ORIGIN_AT": origin_at.isoformat(),
            "REGISTRATION_CLOCK_POLL_SECONDS": "0.3", "REGISTRATION_EVALUATION_DAYS": "1",
            "NOTIFICATION_EVALUATION_REMINDER_LEAD_HOURS": "12", "NOTIFICATION_SMTP_PORT": str(SMTP_PORT),
            "NOTIFICATION_DELIVERY_POLL_SECONDS": "0.3", "NOTIFICATION_SCHEDULER_POLL_SECONDS": "0.5"}


@pytest.fixture
async def services(topic_prefix, unique, keys):
    await ensure_topics(KAFKA, {topic_name(t, topic_prefix) for t in all_topics()}, partitions=3)
    env = clock_env(datetime.now(timezone.utc))
    db = {name: f"test_{unique}_{name}" for name in ("registration", "evaluation", "notification")}
    processes = {
        "registration": ServiceProcess("registration", "api", topic_prefix, db["registration"], keys, env=env),
        "clock": ServiceProcess("registration", "worker", topic_prefix, db["registration"], keys, env=env),
        "evaluation": ServiceProcess("evaluation", "api", topic_prefix, db["evaluation"], keys, env=env),
        "evaluation_worker": ServiceProcess("evaluation", "worker", topic_prefix, db["evaluation"], keys, env=env),
        "notification": ServiceProcess("notification", "worker", topic_prefix, db["notification"], keys, env=env),
    }
    try:
        for process in processes.values():
            process.start(wait=False)
        for process in processes.values():
            await asyncio.to_thread(process.wait_until_answering, None, 120)
        yield processes
    finally:
        for process in processes.values():
            process.stop()


async def test_the_evaluation_window_reminds_closes_with_a_409_and_sends_the_final_digest(services, issue, unique):
    organizer = issue("organizer", "usr-organizer")
    facilitator_email, organizer_email = f"mariama.{unique}@iom.example.org", f"grace.{unique}@iom.example.org"
    people = [f"p{n}.{unique}@example.org" for n in range(3)]
    async with httpx.AsyncClient(base_url=services["registration"].url, headers=organizer, timeout=30) as reg, \
            httpx.AsyncClient(base_url=services["evaluation"].url, timeout=30) as evaluation:
        facilitator = (await reg.post("/staff", json={
            "email": facilitator_email, "full_name": "Mariama Faye", "preferred_language": "fr",
            "role": "facilitator", "offices": ["RO Dakar"]})).json()
        await reg.post("/staff", json={"email": organizer_email, "full_name": "Grace Mensah",
                                       "preferred_language": "en", "role": "organizer", "offices": ["RO Dakar"]})
        session = (await reg.post("/sessions", json={
            "title": f"EMM2.0 ToT {unique}", "kind": "training_of_trainers", "modules": ["migration-governance"],
            "organizing_office": "RO Dakar", "city": "Dakar", "country": "SN", "start_date": "2026-05-17",
            "end_date": "2026-05-17", "timezone": "Africa/Dakar", "languages": ["fr", "en"], "capacity": 5,
            "facilitator_ids": [facilitator["staff_id"]]})).json()["session"]
        sid = session["session_id"]
        enrolled = (await reg.post(f"/sessions/{sid}/enrollments/bulk", json={"participants": [
            {"email": email, "full_name": f"Participant {n}", "country": "SN", "preferred_language": "en",
             "consent_to_contact": True} for n, email in enumerate(people)]})).json()
        tokens = [issue("participant", e["enrollment"]["participant_id"], enrollment_id=e["enrollment"]["enrollment_id"],
                        session_id=sid) for e in enrolled]

        async def status_is(wanted: str):
            view = (await reg.get(f"/sessions/{sid}")).json()
            return view if view["session"]["status"] == wanted else None

        await eventually(lambda: status_is("in_progress"), timeout=120, interval=0.3)

        async def submit(n: int):
            return await evaluation.post(f"/sessions/{sid}/feedback", headers=tokens[n], json={
                "submission_id": f"sub-{unique}-{n}", "language": "en", "answers": answers_of(n + 1)})

        async def accepted(n: int):
            response = await submit(n)
            return response if response.status_code in (200, 201) else None

        for n in (0, 1):  # the third participant does not answer
            await eventually(lambda: accepted(n), timeout=60, interval=0.3)

        async def reminded():
            found = await captured_for([people[2]])
            return found if any(m.subject.startswith("Reminder: your feedback") for m in found) else None

        await eventually(reminded, timeout=120, interval=0.5)
        closed = await eventually(lambda: closed_view(reg, sid), timeout=120, interval=0.3)

        async def refused():
            response = await submit(2)
            return response if response.status_code == 409 else None

        refusal = await eventually(refused, timeout=60, interval=0.3)
        assert refusal.json()["detail"][0]["loc"][-1] == "evaluation_closed_at"
        assert f"closed at {closed['evaluation_closed_at'][:10]}" in refusal.text  # 18 May, programme time

    async def digests():
        found = await captured_for([facilitator_email, organizer_email])
        return found if len(found) == 2 else None

    fr, en = sorted(await eventually(digests, timeout=120, interval=0.5), key=lambda m: m.language != "fr")
    assert (fr.to, fr.subject) == (facilitator_email, f"Rapport d'évaluation disponible : EMM2.0 ToT {unique}")
    assert "Taux de réponse : 67 % des participant(e)s inscrit(e)s ont répondu." in fr.text
    assert (en.to, en.language) == (organizer_email, "en")
    assert "Response rate: 67% of registered participants answered." in en.text
    assert "What the report says:" in en.text
    # The reminder went once, to the one who had not answered; nobody else was reminded.
    reminders = [m for m in await captured_for(people) if m.subject.startswith("Reminder: your feedback")]
    assert [m.to for m in reminders] == [people[2]]


async def closed_view(client: httpx.AsyncClient, session_id: str):
    view = (await client.get(f"/sessions/{session_id}")).json()
    return view if view.get("evaluation_closed_at") else None
