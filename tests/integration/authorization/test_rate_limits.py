"""Rate limits at the edges, against real API processes: sign-in link requests, invitation-based
enrollment and the public certificate check, per address and per IP, with a 429 and
`Retry-After`, counted in the database so that two processes share one count."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

import httpx
import pytest

from tests.processes import ServiceProcess

pytestmark = pytest.mark.integration


@pytest.fixture
def registration(topic_prefix, unique, keys):
    first = ServiceProcess("registration", "api", topic_prefix, f"test_{unique}", keys).start()
    second = ServiceProcess("registration", "api", topic_prefix, f"test_{unique}", keys).start()
    yield first, second
    first.stop()
    second.stop()


def assert_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert 0 < int(response.headers["Retry-After"]) <= 3601
    assert response.json()["detail"][0]["type"] == "RateLimited" and "too many" in response.json()["detail"][0]["msg"]


async def test_link_requests_are_limited_per_address_and_per_ip_across_processes(registration, unique):
    first, second = registration
    async with httpx.AsyncClient(timeout=60) as client:
        urls = [first.url, second.url] * 5
        answers = await asyncio.gather(*(client.post(f"{url}/sign-in/links", json={"email": f"a.{unique}@example.org"})
                                         for url in urls))
        assert [a.status_code for a in answers] == [202] * 10
        assert_limited(await client.post(f"{second.url}/sign-in/links", json={"email": f"A.{unique}@example.org"}))
        others = [await client.post(f"{first.url}/sign-in/links", json={"email": f"n{n}.{unique}@example.org"})
                  for n in range(20)]
        assert [a.status_code for a in others] == [202] * 20  # 30 counted from this IP (a refusal counts nothing)
        assert_limited(await client.post(f"{first.url}/sign-in/links", json={"email": f"last.{unique}@example.org"}))


async def test_enrollment_by_invitation_is_limited_per_address_and_an_organizer_is_not(registration, unique, issue):
    api = registration[0]
    organizer = issue("organizer")
    start = date.today() + timedelta(days=30)
    body = {"title": "ToT", "kind": "training_of_trainers", "modules": ["m"], "organizing_office": "RO Dakar",
            "city": "Dakar", "country": "SN", "start_date": start.isoformat(), "end_date": start.isoformat(),
            "timezone": "Africa/Dakar", "languages": ["fr"], "capacity": 50}
    async with httpx.AsyncClient(base_url=api.url, timeout=60) as client:
        session_id = (await client.post("/sessions", json=body, headers=organizer)).json()["session"]["session_id"]
        assert (await client.post(f"/sessions/{session_id}/status", json={"status": "open"},
                                  headers=organizer)).status_code == 200
        invitation = (await client.post(f"/sessions/{session_id}/invitations", json={}, headers=organizer)).json()
        invited = {"Authorization": f"Bearer {invitation['token']}"}
        someone = {"email": f"awa.{unique}@example.org", "full_name": "Awa", "country": "SN",
                   "preferred_language": "fr", "consent_to_contact": True}
        answers = [await client.post(f"/sessions/{session_id}/enrollments", json=someone, headers=invited)
                   for _ in range(5)]
        assert [a.status_code for a in answers] == [201, 200, 200, 200, 200]
        assert_limited(await client.post(f"/sessions/{session_id}/enrollments", json=someone, headers=invited))
        again = await client.post(f"/sessions/{session_id}/enrollments", json=someone, headers=organizer)
        assert again.status_code == 200


async def test_the_public_certificate_check_is_limited_per_reference(publisher, topic_prefix, unique, keys):
    api = ServiceProcess("evaluation", "api", topic_prefix, f"test_{unique}", keys).start()
    try:
        async with httpx.AsyncClient(base_url=api.url, timeout=60) as client:
            reference = f"EMM2-TOT-2026-{uuid.uuid4().hex[:8].upper()}"
            answers = [await client.get(f"/certificates/{reference}") for _ in range(30)]
            assert {a.status_code for a in answers} == {404}  # no token needed; nobody holds this one
            assert_limited(await client.get(f"/certificates/{reference}"))
    finally:
        api.stop()
