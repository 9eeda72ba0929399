"""The authorization matrix, proved route by route against the running services.

The test reads the table of docs/authorization.md (generated from the routes' own declarations,
see tests/unit/shared/test_authorization.py) and calls every route of every API as every kind of
caller, in scope and out of scope: no token, a forged token, a participant of the session and
one of another session, an invitation to the session, the session's facilitator and another
session's, an organizer of the session's office and one of another office, the regional team,
the service role. Every refused call must be a 401 (no valid token) or a 403 whose detail names
the field at fault and why; and all refused calls together must change nothing: every document of
the three databases read back, no record on any topic, no email. Allowed calls must get past
authorization (neither 401 nor 403); a list "filtered to own" must show the session in scope
and hide it out of scope. A route of an API that the table does not list fails the test.

Then the issue's findings, each as the request that now fails as it should, and the tokens:
a cancelled enrollment's token stops working, a signed-out token is refused by every API.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import MongoClient

from emm_common import authorization as az
from emm_common.auth import TokenIssuer, ensure_key_pair
from emm_common.topics import all_topics, ensure_topics, topic_name
from tests.conftest import KAFKA, MAIL_READER, MONGODB_URI, delete_topics
from tests.integration.notification.harness import FAST
from tests.processes import ServiceProcess

pytestmark = pytest.mark.integration

DOC = Path(__file__).parents[3] / "docs" / "authorization.md"
TODAY = date.today()
ACTORS = ("nobody", "forged", "participant_in", "participant_out", "invitation_in", "facilitator_in",
          "facilitator_out", "organizer_in", "organizer_out", "regional", "service")
COLUMN_OF = {"participant_in": "participant", "participant_out": "participant", "invitation_in": "participant",
             "facilitator_in": "facilitator", "facilitator_out": "facilitator", "organizer_in": "organizer",
             "organizer_out": "organizer", "regional": "regional", "service": "service"}
BOTH = {az.ANY, az.ALL, az.YES, az.PUBLIC}


@dataclass
class World:
    """The running services and the data every route is called on."""

    urls: dict[str, str]
    databases: dict[str, str]
    prefix: str
    tokens: dict[str, dict[str, str]]
    ids: dict[str, str]
    addresses: list[str]
    issuer: TokenIssuer
    office_in: str
    unique: str
    make_tokens: Any = None

    def renew_tokens(self) -> None:
        """Tokens not yet signed out (the matrix signs every caller's token out last)."""
        self.tokens = self.make_tokens()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wait_for(check, what: str, timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"not within {timeout}s: {what}")


def session_body(office: str, facilitator: str, session_id: str) -> dict[str, Any]:
    return {"session_id": session_id, "title": "EMM2.0 ToT", "kind": "training_of_trainers",
            "modules": ["migration-governance"], "organizing_office": office, "city": "Dakar", "country": "SN",
            "start_date": TODAY.isoformat(), "end_date": (TODAY + timedelta(days=1)).isoformat(),
            "timezone": "Africa/Dakar", "languages": ["fr", "en"], "capacity": 10, "facilitator_ids": [facilitator]}


def person(unique: str, name: str) -> dict[str, Any]:
    return {"email": f"{name}.{unique}@example.org", "full_name": name.title(), "country": "SN",
            "preferred_language": "fr", "consent_to_contact": True}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    unique = uuid.uuid4().hex[:10]
    prefix, keys = f"t{unique}.", tmp_path_factory.mktemp("keys")
    ensure_key_pair(keys / "jwt.pem", keys / "jwt.pub.pem")
    ensure_key_pair(keys / "other.pem", keys / "other.pub.pem")
    asyncio.run(ensure_topics(KAFKA, {topic_name(t, prefix) for t in all_topics()}, partitions=3))
    databases = {s: f"test_{unique}_{s[:4]}" for s in ("registration", "evaluation", "notification")}
    processes = [ServiceProcess("registration", "api", prefix, databases["registration"], keys).start(),
                 ServiceProcess("evaluation", "api", prefix, databases["evaluation"], keys).start(),
                 ServiceProcess("evaluation", "worker", prefix, databases["evaluation"], keys).start(),
                 ServiceProcess("notification", "api", prefix, databases["notification"], keys).start(),
                 ServiceProcess("notification", "worker", prefix, databases["notification"], keys, env=FAST).start()]
    try:
        yield build_world(unique, prefix, keys, databases, {p.service: p.url for p in processes if p.kind == "api"})
    finally:
        for process in reversed(processes):
            process.stop()
        with MongoClient(MONGODB_URI) as client:
            for name in databases.values():
                client.drop_database(name)
        asyncio.run(delete_topics(prefix))


def build_world(unique: str, prefix: str, keys: Path, databases: dict[str, str], urls: dict[str, str]) -> World:
    issuer = TokenIssuer((keys / "jwt.pem").read_bytes())
    office_in, office_out = f"CO Alpha {unique}", f"CO Beta {unique}"
    regional = bearer(issuer.issue("stf-regional", "organizer", regional=True))
    reg = httpx.Client(base_url=urls["registration"], timeout=60, headers=regional)

    def ok(response: httpx.Response) -> dict[str, Any]:
        assert response.status_code in (200, 201), response.text
        return response.json()

    staff = {}
    for name, office in (("facilitator_in", office_in), ("facilitator_out", office_out)):
        staff[name] = ok(reg.post("/staff", json={"full_name": name, "email": f"{name}.{unique}@example.org",
                                                  "preferred_language": "fr", "role": "facilitator",
                                                  "offices": [office]}))["staff_id"]
    session_in, session_out = f"ses-in-{unique}", f"ses-out-{unique}"
    ok(reg.post("/sessions", json=session_body(office_in, staff["facilitator_in"], session_in)))
    ok(reg.post("/sessions", json=session_body(office_out, staff["facilitator_out"], session_out)))
    for session_id in (session_in, session_out):
        for step in ("open", "in_progress"):
            ok(reg.post(f"/sessions/{session_id}/status", json={"status": step}))
    enrolled = {}
    for name, session_id in (("amina", session_in), ("bintou", session_in), ("carlos", session_out)):
        enrolled[name] = ok(reg.post(f"/sessions/{session_id}/enrollments", json=person(unique, name)))["enrollment"]
    invitation = ok(reg.post(f"/sessions/{session_in}/invitations", json={}))["token"]

    def participant(enrollment: dict[str, Any]) -> dict[str, str]:
        return bearer(issuer.issue(enrollment["participant_id"], "participant",
                                   enrollment_id=enrollment["enrollment_id"], session_id=enrollment["session_id"]))

    def make_tokens() -> dict[str, dict[str, str]]:
        return {
        "nobody": {},
        "forged": bearer(TokenIssuer((keys / "other.pem").read_bytes()).issue("stf-regional", "organizer",
                                                                            regional=True)),
        "participant_in": participant(enrolled["amina"]), "participant_out": participant(enrolled["carlos"]),
        "invitation_in": bearer(invitation),
        "facilitator_in": bearer(issuer.issue(staff["facilitator_in"], "facilitator")),
        "facilitator_out": bearer(issuer.issue(staff["facilitator_out"], "facilitator")),
        "organizer_in": bearer(issuer.issue("stf-org-in", "organizer", offices=[office_in])),
        "organizer_out": bearer(issuer.issue("stf-org-out", "organizer", offices=[office_out])),
        "regional": bearer(issuer.issue("stf-regional", "organizer", regional=True)),
        "service": bearer(issuer.issue("svc-dashboard", "service")),
        }

    tokens = make_tokens()
    ev = httpx.Client(base_url=urls["evaluation"], timeout=60, headers=regional)
    wait_for(lambda: ev.get(f"/sessions/{session_in}/report").status_code == 200
             and ev.get(f"/sessions/{session_in}/report").json()["registered"] == 2
             and ev.get(f"/sessions/{session_out}/report").status_code == 200,
             "the evaluation service knows both sessions and their trainees")
    questionnaire = ok(ev.post("/questionnaires", json={"title": {"fr": "Q", "en": "Q", "pt": "Q"}, "items": [
        {"item_id": "useful", "type": "likert5", "text": {"fr": "Utile ?", "en": "Useful?", "pt": "Útil?"}}]}))
    notes = httpx.Client(base_url=urls["notification"], timeout=60, headers=regional)
    entry = wait_for(lambda: next(iter(notes.get("/notifications", params={"session_id": session_in}).json()), None),
                     "a notification of the session")
    wait_for(lambda: notes.get("/notifications", params={"session_id": session_out}).json(),
             "a notification of the other session")
    trainer_id = f"trn-{unique}"
    with MongoClient(MONGODB_URI) as client:  # a certified trainer of the session, as the worker would project one
        client[databases["evaluation"]]["trainers"].insert_one({
            "_id": trainer_id, "participant_id": enrolled["bintou"]["participant_id"], "full_name": "Bintou",
            "country": "SN", "languages": ["fr"], "modules": ["migration-governance"], "session_id": session_in,
            "certified_at": f"{TODAY.isoformat()}T12:00:00+00:00", "certificate_reference": f"EMM-{unique}"})
    ids = {"session_id": session_in, "session_out": session_out, "enrollment_id": enrolled["amina"]["enrollment_id"],
           "participant_id": enrolled["amina"]["participant_id"], "trainee": enrolled["bintou"]["participant_id"],
           "day": TODAY.isoformat(), "staff_id": staff["facilitator_in"],
           "questionnaire_id": questionnaire["questionnaire_id"], "notification_id": entry["notification_id"],
           "trainer_id": trainer_id, "certificate_reference": f"EMM-{unique}"}
    addresses = [f"{name}.{unique}@example.org" for name in
                 ("amina", "bintou", "carlos", "dede", "facilitator_in", "facilitator_out", "newstaff")]
    return World(urls, databases, prefix, tokens, ids, addresses, issuer, office_in, unique, make_tokens)


def bodies(world: World) -> dict[tuple[str, str], Any]:
    """A valid body for every route that takes one (so an allowed call can succeed)."""
    ids, unique = world.ids, world.unique
    return {
        ("POST", "/sessions"): session_body(world.office_in, ids["staff_id"], f"ses-new-{unique}"),
        ("PATCH", "/sessions/{session_id}"): {"venue": "Salle 2"},
        ("POST", "/sessions/{session_id}/status"): {"status": "in_progress"},
        ("POST", "/sessions/{session_id}/invitations"): {"valid_days": 7},
        ("POST", "/sessions/{session_id}/enrollments"): person(unique, "dede"),
        ("POST", "/sessions/{session_id}/enrollments/bulk"): {"participants": [person(unique, "dede")]},
        ("POST", "/sessions/{session_id}/enrollments/{enrollment_id}/cancellation"): {"reason": "mission"},
        ("PUT", "/sessions/{session_id}/attendance/{day}"): {"marks": [{"participant_id": ids["participant_id"],
                                                                        "status": "present"}]},
        ("POST", "/sign-in"): {"link": "not-a-link"},
        ("POST", "/sign-in/links"): {"email": f"nobody.{unique}@example.org"},
        ("POST", "/staff"): {"full_name": "New Staff", "email": f"newstaff.{unique}@example.org",
                             "preferred_language": "en", "role": "facilitator", "offices": [world.office_in]},
        ("PATCH", "/staff/{staff_id}"): {"preferred_language": "en"},
        ("POST", "/questionnaires"): {"title": {"fr": "Q2", "en": "Q2", "pt": "Q2"}, "items": [
            {"item_id": "useful", "type": "likert5", "text": {"fr": "Utile ?", "en": "Useful?", "pt": "Útil?"}}]},
        ("PUT", "/questionnaires/{questionnaire_id}"): {"title": {"fr": "Q3", "en": "Q3", "pt": "Q3"}},
        ("PUT", "/sessions/{session_id}/questionnaire"): {"questionnaire_id": "emm2-tot-default"},
        ("POST", "/sessions/{session_id}/feedback"): {"answers": [
            {"item_id": i, "value": v} for i, v in (("work_performance", 5), ("methodology", 5),
                                                     ("content_quality", 5), ("facilitation", 4), ("relevance", 5),
                                                     ("organization", 4), ("recommend", 10))]},
        ("POST", "/sessions/{session_id}/peer-feedback"): {
            "trainee_participant_id": ids["trainee"], "module": "migration-governance",
            "scores": {"content_mastery": 4, "clarity": 4, "participant_engagement": 4, "time_management": 4,
                       "adult_learning_methods": 4}},
        ("POST", "/sessions/{session_id}/scores"): {"participant_id": ids["participant_id"], "phase": "post",
                                                    "score": 85},
        ("PUT", "/sessions/{session_id}/quotes"): {"quotes": []},
        ("POST", "/trainers/{trainer_id}/revoke"): {"reason": "test"},
    }


# Done last, in this order: they end what the tokens can do.
LAST = ("/sessions/{session_id}/enrollments/{enrollment_id}/cancellation", "/sign-out")


def rows() -> list[tuple[tuple[str, str, str], dict[str, str]]]:
    table = az.parse_table(DOC.read_text())
    return sorted(table.items(), key=lambda item: (item[0][2] in LAST and LAST.index(item[0][2]) + 1, item[0]))


def expected(actor: str, cell_of: dict[str, str], path: str) -> str:
    """'allow', 'refuse', 'filter-in', 'filter-out' or 'unauthenticated' for an actor on a row."""
    if cell_of["participant"] == az.PUBLIC:
        return "allow"
    if actor in ("nobody", "forged"):
        return "unauthenticated"
    cell = cell_of[COLUMN_OF[actor]]
    inside = not actor.endswith("_out")
    if cell == az.NO:
        return "refuse"
    if cell in BOTH:
        return "refuse" if actor == "invitation_in" else "allow"
    if cell == az.FILTERED:
        return "filter-in" if inside else "filter-out"
    if actor == "invitation_in":
        return "allow" if cell in (az.INVITATION, az.OWN_OR_INVITED) else "refuse"
    if cell == az.INVITATION:
        return "refuse"
    if cell in (az.OWN_RECORD, az.OWN_OR_INVITED) and "{session_id}" not in path and "{participant_id}" not in path:
        return "allow"  # their own token: signing out
    if "{" not in path and cell == az.OWN_OFFICE:
        return "allow" if inside else "refuse"  # the body names the office
    return "allow" if inside else "refuse"


def url_of(world: World, path: str) -> str:
    return path.format(**world.ids)


def call(world: World, service: str, method: str, path: str, actor: str) -> httpx.Response:
    body = bodies(world).get((method, path))
    return httpx.request(method, world.urls[service] + url_of(world, path), headers=world.tokens[actor],
                         json=body, timeout=60)


def refusal_problem(response: httpx.Response, outcome: str) -> str | None:
    """What is wrong with a refusal, or None."""
    want = 401 if outcome == "unauthenticated" else 403
    if response.status_code != want:
        return f"{response.status_code} instead of {want}: {response.text[:200]}"
    detail = response.json().get("detail")
    if want == 403 and not (isinstance(detail, list) and detail and detail[0].get("loc") and detail[0].get("msg")):
        return f"a 403 without a detail naming the field and the reason: {response.text[:200]}"
    if want == 401 and not detail:
        return "a 401 without a reason"
    return None


# Which process sweeps an outbox in which time slot, and the version claims of replaces: the
# relays' and the store's bookkeeping, which moves with time whatever the callers do.
BOOKKEEPING = ("outbox_sweep_turns", "store_version_claims")


def database_digest(world: World) -> dict[str, str]:
    digests = {}
    with MongoClient(MONGODB_URI) as client:
        for service, name in world.databases.items():
            database = client[name]
            for collection in sorted(database.list_collection_names()):
                if collection in BOOKKEEPING:
                    continue
                documents = sorted(json.dumps(d, sort_keys=True, default=str) for d in database[collection].find())
                digests[f"{service}.{collection}"] = hashlib.sha256("\n".join(documents).encode()).hexdigest()
    return digests


def topic_ends(world: World) -> dict[str, int]:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    async def ends() -> dict[str, int]:
        consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, enable_auto_commit=False, group_id=None)
        await consumer.start()
        try:
            names = [topic_name(t, world.prefix) for t in all_topics()]
            await consumer.topics()  # loads the partitions of every topic
            partitions = [TopicPartition(n, p) for n in names for p in (consumer.partitions_for_topic(n) or ())]
            offsets = await consumer.end_offsets(partitions)
            return {n: sum(o for tp, o in offsets.items() if tp.topic == n) for n in names}
        finally:
            await consumer.stop()

    return asyncio.run(ends())


def mail_count(world: World) -> int:
    return sum(len(httpx.get(f"{MAIL_READER}/messages", params={"to": a}, timeout=10).json())
               for a in world.addresses)


def state(world: World) -> tuple[dict[str, str], dict[str, int], int]:
    return database_digest(world), topic_ends(world), mail_count(world)


def quiet_state(world: World) -> tuple[dict[str, str], dict[str, int], int]:
    """The state once the workers have nothing left to do (two readings 2 s apart agree)."""
    before = state(world)
    for _ in range(30):
        time.sleep(2)
        now = state(world)
        if now == before:
            return now
        before = now
    return before


def test_every_route_of_every_api_is_in_the_table(world):
    listed = {(s, m, p) for s, m, p in az.parse_table(DOC.read_text())}
    served = set()
    for service, url in world.urls.items():
        # Every operation of the service's own OpenAPI document, and the operational routes.
        for path, operations in httpx.get(f"{url}/openapi.json", timeout=30).json()["paths"].items():
            served |= {(service, method.upper(), path) for method in operations}
    assert served - listed == set(), f"routes the table does not list: {sorted(served - listed)}"


def test_the_matrix_holds_for_every_route_role_and_scope(world):
    table = rows()
    assert len(table) > 60, "the table has gone missing from docs/authorization.md"
    protected = [(key, cells) for key, cells in table if cells["participant"] != az.PUBLIC]
    before = quiet_state(world)
    problems, refused = [], 0
    for (service, method, path), cells in protected:
        for actor in ACTORS:
            outcome = expected(actor, cells, path)
            if outcome in ("refuse", "unauthenticated"):
                refused += 1
                problem = refusal_problem(call(world, service, method, path, actor), outcome)
                if problem:
                    problems.append(f"{service} {method} {path} as {actor}: {problem}")
    assert not problems, "\n".join(problems)
    time.sleep(3)  # anything a refused call had set going would be on its way by now
    after = state(world)
    changed = [name for name in sorted(set(before[0]) | set(after[0])) if before[0].get(name) != after[0].get(name)]
    assert not changed, f"refused calls changed documents: {changed}"
    assert before[1] == after[1], f"refused calls put records on topics: {before[1]} -> {after[1]}"
    assert before[2] == after[2], f"refused calls sent email: {before[2]} -> {after[2]}"

    allowed = 0
    for (service, method, path), cells in table:
        for actor in ACTORS:
            outcome = expected(actor, cells, path)
            if outcome in ("refuse", "unauthenticated"):
                continue
            if cells["participant"] == az.PUBLIC and actor != "nobody":
                continue
            allowed += 1
            response = call(world, service, method, path, actor)
            refusals = (403,) if cells["participant"] == az.PUBLIC else (401, 403)  # a public route checks its link
            if response.status_code in refusals or response.status_code >= 500:
                problems.append(f"{service} {method} {path} as {actor}: {response.status_code} for an allowed call: "
                                f"{response.text[:200]}")
            elif outcome.startswith("filter") and response.status_code == 200:
                shown = world.ids["session_id"] in response.text
                if shown != (outcome == "filter-in"):
                    problems.append(f"{service} {method} {path} as {actor}: the session in scope is "
                                    f"{'shown' if shown else 'hidden'}")
    world.renew_tokens()
    print(f"\nmatrix: {len(table)} routes ({len(protected)} with a token) x {len(ACTORS)} callers; "
          f"{refused} refused calls, {allowed} allowed calls")
    assert not problems, "\n".join(problems)


def test_a_cancelled_enrollment_s_token_stops_working(world):
    # The matrix test cancelled Amina's enrollment; alone, this test cancels it itself.
    token = world.tokens["participant_in"]
    ids = world.ids
    httpx.post(f"{world.urls['registration']}/sessions/{ids['session_id']}/enrollments/{ids['enrollment_id']}"
               "/cancellation", json={}, headers=world.tokens["regional"], timeout=30)
    calendar = httpx.get(f"{world.urls['registration']}/sessions/{ids['session_id']}/calendar.ics",
                         headers=token, timeout=30)
    assert calendar.status_code == 200  # their own session: they see it was theirs
    history = httpx.get(f"{world.urls['registration']}/participants/{ids['participant_id']}/history",
                        headers=token, timeout=30)
    assert history.status_code == 200  # their own record still shows them they were cancelled

    def evaluation_refuses() -> bool:
        answer = httpx.get(f"{world.urls['evaluation']}/sessions/{ids['session_id']}/questionnaire",
                           headers=token, timeout=30)
        return answer.status_code == 401 and "cancelled" in answer.json()["detail"]
    wait_for(evaluation_refuses, "evaluation refuses the cancelled enrollment's token", timeout=60)
    feedback = httpx.post(f"{world.urls['evaluation']}/sessions/{ids['session_id']}/feedback",
                          json=bodies(world)[("POST", "/sessions/{session_id}/feedback")], headers=token, timeout=30)
    assert feedback.status_code == 401


def test_a_signed_out_token_is_refused_by_every_api(world):
    token = bearer(world.issuer.issue("stf-signing-out", "organizer", regional=True, ttl_seconds=3600))
    for url in world.urls.values():
        assert httpx.get(f"{url}/.well-known/jwks.json", timeout=30).json()["keys"][0]["kid"] == world.issuer.key_id
        assert httpx.post(f"{url}/sign-out", headers=token, timeout=30).status_code == 204
    for service, path in (("registration", "/sessions"), ("evaluation", "/trainers"),
                          ("notification", "/notifications")):
        refused = httpx.get(world.urls[service] + path, headers=token, timeout=30)
        assert refused.status_code == 401 and "signed out" in refused.json()["detail"], (service, refused.text)


def test_the_issue_s_findings_now_fail_as_they_should(world):
    """Each finding of issue 15, as the request that succeeded then."""
    ids, urls, tokens = world.ids, world.urls, world.tokens
    reg, ev = urls["registration"], urls["evaluation"]
    other = tokens["facilitator_out"]
    findings = {
        "another session's facilitator overwrites a post-test score": httpx.post(
            f"{ev}/sessions/{ids['session_id']}/scores", json={"participant_id": ids["trainee"], "phase": "post",
                                                                "score": 10}, headers=other),
        "another session's facilitator reads the roster": httpx.get(f"{reg}/sessions/{ids['session_id']}/roster",
                                                                    headers=other),
        "... the attendance sheet": httpx.get(f"{reg}/sessions/{ids['session_id']}/attendance", headers=other),
        "... the report": httpx.get(f"{ev}/sessions/{ids['session_id']}/report", headers=other),
        "... a participant's history": httpx.get(f"{reg}/participants/{ids['trainee']}/history", headers=other),
        "an organizer submits a participant's evaluation": httpx.post(
            f"{ev}/sessions/{ids['session_id']}/feedback", json=bodies(world)[("POST", "/sessions/{session_id}/feedback")],
            headers=tokens["organizer_in"]),
        "an organizer of another office changes the session": httpx.patch(
            f"{reg}/sessions/{ids['session_id']}", json={"venue": "elsewhere"}, headers=tokens["organizer_out"]),
    }
    for finding, response in findings.items():
        print(f"{finding}: {response.status_code} {response.text[:160]}")
        assert response.status_code == 403, finding
    named = httpx.get(f"{urls['notification']}/notifications", params={"session_id": ids["session_id"]},
                      headers=tokens["organizer_out"])
    print(f"an organizer of another office lists the session's messages: {named.status_code} {named.text[:80]}")
    assert named.status_code == 200 and named.json() == []
    again = httpx.post(f"{reg}/sessions/{ids['session_id']}/enrollments", json=person(world.unique, "bintou"),
                       headers=tokens["organizer_in"])
    print(f"an organizer posts a person's details again: {again.status_code}, keys {sorted(again.json())}")
    assert again.status_code == 200 and "token" not in again.text.lower()
