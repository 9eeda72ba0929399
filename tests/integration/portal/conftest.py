"""The portal against real registration and evaluation APIs (and the evaluation worker, which
learns sessions and enrollments from registration's events), all real processes on the test
module's own topics and databases, driven with httpx as a browser without JavaScript would."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from pymongo import MongoClient

from emm_common.auth import TokenIssuer, ensure_key_pair
from emm_common.topics import all_topics, ensure_topics, topic_name
from emm_portal.adapters.session_cookie import CookieCodec
from emm_portal.domain.visitor import Visitor
from tests.conftest import KAFKA, MONGODB_URI, delete_topics
from tests.processes import PORTAL_COOKIE_SECRET, ServiceProcess, portal

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
COOKIE = "emm-portal"  # the portal's address is http://127.0.0.1: no Secure, no __Host- prefix


@dataclass
class Stack:
    registration: ServiceProcess
    evaluation: ServiceProcess
    worker: ServiceProcess
    portal: ServiceProcess
    issuer: TokenIssuer
    unique: str

    def organizer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.issuer.issue('stf-organizer', 'organizer', regional=True)}"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    unique = uuid.uuid4().hex[:10]
    prefix, keys = f"t{unique}.", tmp_path_factory.mktemp("keys")
    ensure_key_pair(keys / "jwt.pem", keys / "jwt.pub.pem")
    asyncio.run(ensure_topics(KAFKA, {topic_name(t, prefix) for t in all_topics()}, partitions=3))
    registration = ServiceProcess("registration", "api", prefix, f"test_{unique}_reg", keys).start()
    evaluation = ServiceProcess("evaluation", "api", prefix, f"test_{unique}_eval", keys).start()
    worker = ServiceProcess("evaluation", "worker", prefix, f"test_{unique}_eval", keys).start()
    web = portal(keys, registration=registration, evaluation=evaluation).start()
    yield Stack(registration, evaluation, worker, web, TokenIssuer((keys / "jwt.pem").read_bytes()), unique)
    for process in (web, worker, evaluation, registration):
        process.stop()
    with MongoClient(MONGODB_URI) as client:
        client.drop_database(f"test_{unique}_reg")
        client.drop_database(f"test_{unique}_eval")
    asyncio.run(delete_topics(prefix))


def session_body(**overrides: Any) -> dict[str, Any]:
    start = date.today() + timedelta(days=30)
    body = {"title": "EMM2.0 ToT Dakar", "kind": "training_of_trainers", "modules": ["migration-governance"],
            "organizing_office": "RO Dakar", "city": "Dakar", "country": "SN", "venue": "IOM Regional Office",
            "start_date": start.isoformat(), "end_date": (start + timedelta(days=1)).isoformat(),
            "timezone": "Africa/Dakar", "languages": ["fr", "en"], "capacity": 2}
    return {**body, **overrides}


def schedule(stack: Stack, **overrides: Any) -> str:
    response = httpx.post(f"{stack.registration.url}/sessions", json=session_body(**overrides),
                          headers=stack.organizer(), timeout=30)
    assert response.status_code == 201, response.text
    session_id = response.json()["session"]["session_id"]
    opened = httpx.post(f"{stack.registration.url}/sessions/{session_id}/status", json={"status": "open"},
                        headers=stack.organizer(), timeout=30)
    assert opened.status_code == 200, opened.text
    return session_id


def invitation(stack: Stack, session_id: str) -> str:
    response = httpx.post(f"{stack.registration.url}/sessions/{session_id}/invitations", json={},
                          headers=stack.organizer(), timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["token"]


def person(stack: Stack, name: str, **overrides: Any) -> dict[str, Any]:
    local = name.lower().replace(" ", ".")
    return {"email": f"{local}.{stack.unique}@example.org", "full_name": name, "country": "SN",
            "preferred_language": "fr", "consent_to_contact": True, **overrides}


def enrol_by_api(stack: Stack, session_id: str, someone: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{stack.registration.url}/sessions/{session_id}/enrollments", json=someone,
                          headers=stack.organizer(), timeout=30)
    assert response.status_code in (200, 201), response.text
    return response.json()["enrollment"]


def browser(portal_process: ServiceProcess, **headers: str) -> httpx.Client:
    """A browser without JavaScript: keeps cookies, follows no redirect by itself."""
    return httpx.Client(base_url=portal_process.url, timeout=60, headers={"accept-language": "fr", **headers})


def sign_in_as(client: httpx.Client, stack: Stack, enrollment: dict[str, Any], language: str = "fr") -> None:
    """Test-only sign-in: the cookie the portal would set after exchanging this person's link,
    made with the test's signing key and the portal's cookie secret."""
    token = stack.issuer.issue(enrollment["participant_id"], "participant",
                               enrollment_id=enrollment["enrollment_id"], session_id=enrollment["session_id"])
    visitor = Visitor(language=language).signed_in_as(
        token, "participant", enrollment["participant_id"], time.time() + 3600, name=enrollment["full_name"],
        session_id=enrollment["session_id"], enrollment_id=enrollment["enrollment_id"])
    client.cookies.set(COOKIE, CookieCodec(PORTAL_COOKIE_SECRET.encode()).encode(visitor))


def csrf_of(page: httpx.Response) -> str:
    match = CSRF.search(page.text)
    assert match, f"no CSRF field on the page: {page.text[:300]}"
    return match.group(1)


def submit(client: httpx.Client, path: str, fields: dict[str, Any], page: httpx.Response | None = None
           ) -> httpx.Response:
    """Post a form as the browser would: with the CSRF field of the page it came from."""
    page = page or client.get(path)
    return client.post(path, data={**fields, "csrf_token": csrf_of(page)})


def wait_until_evaluation_knows(stack: Stack, session_id: str, registered: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = httpx.get(f"{stack.evaluation.url}/sessions/{session_id}/report", headers=stack.organizer())
        if response.status_code == 200 and response.json()["registered"] == registered:
            return
        time.sleep(0.5)
    raise AssertionError(f"the evaluation service does not know the {registered} trainees of {session_id}")
