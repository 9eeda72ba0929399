"""The lifecycle clock as a real worker process on the real broker and database, on a programme
time fast-forwarded so that a day lasts 12 seconds: it opens, starts, completes and closes the
evaluation of a session, each exactly once, through a SIGKILL in the middle of the first day and
with two instances running after the restart; and an organizer's own earlier step is never
repeated."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from emm_common.topics import all_topics, ensure_topics, topic_name
from tests.conftest import KAFKA, eventually
from tests.integration.registration.test_registration_api import session_body
from tests.processes import ServiceProcess
from tests.topics import read_events

pytestmark = pytest.mark.integration

SPEED = 7200  # a programme day lasts 12 s
DAY_SECONDS = 86400 / SPEED
# The programme time at the real instant the processes are set up: two mornings before the first day.
ORIGIN = datetime(2026, 5, 15, 6, tzinfo=timezone.utc)


def clock_env(origin_at: datetime) -> dict[str, str]:
    return {"EMM_CLOCK_SPEED": str(SPEED), "EMM_CLOCK_ORIGIN": ORIGIN.isoformat(),
            "EMM_CLOCK_ORIGIN_AT": origin_at.isoformat(), "REGISTRATION_CLOCK_POLL_SECONDS": "0.3",
            "REGISTRATION_EVALUATION_DAYS": "0.5", "REGISTRATION_OUTBOX_POLL_SECONDS": "0.3"}


def programme_time(origin_at: datetime) -> datetime:
    return ORIGIN + (datetime.now(timezone.utc) - origin_at) * SPEED


@pytest.fixture
async def clocked(topic_prefix, unique, keys):
    """The registration API and one clock worker on the same fast-forwarded programme time."""
    await ensure_topics(KAFKA, {topic_name(t, topic_prefix) for t in all_topics()}, partitions=3)
    origin_at = datetime.now(timezone.utc)
    env = clock_env(origin_at)
    database = f"test_{unique}"
    api = ServiceProcess("registration", "api", topic_prefix, database, keys, env=env)
    workers = [ServiceProcess("registration", "worker", topic_prefix, database, keys, env=env)]
    for process in (api, *workers):
        process.start(wait=False)
    for process in (api, *workers):
        await asyncio.to_thread(process.wait_until_answering, None, 90)

    def another_worker() -> ServiceProcess:
        workers.append(ServiceProcess("registration", "worker", topic_prefix, database, keys, env=env).start())
        return workers[-1]

    yield api, workers, another_worker, origin_at
    for process in (api, *workers):
        process.stop()


async def test_the_clock_moves_a_session_through_its_life_once_through_a_restart_mid_day(clocked, issue,
                                                                                          topic_prefix):
    api, workers, another_worker, origin_at = clocked
    organizer = issue("organizer", "usr-organizer")
    async with httpx.AsyncClient(base_url=api.url, headers=organizer, timeout=30) as client:
        opens = programme_time(origin_at) + timedelta(hours=6)
        clocked_id = (await client.post("/sessions", json=session_body(
            start_date="2026-05-17", end_date="2026-05-18", enrollment_opens_at=opens.isoformat()))).json()[
            "session"]["session_id"]
        # The organizer starts this one herself, a day early: the clock must not start it again.
        manual_id = (await client.post("/sessions", json=session_body(
            start_date="2026-05-17", end_date="2026-05-17"))).json()["session"]["session_id"]
        started = await client.post(f"/sessions/{manual_id}/status", json={"status": "in_progress"})
        assert started.status_code == 200, started.text

        async def status(session_id: str, wanted: str):
            view = (await client.get(f"/sessions/{session_id}")).json()
            return view if view["session"]["status"] == wanted else None

        await eventually(lambda: status(clocked_id, "open"), timeout=60, interval=0.2)
        await eventually(lambda: status(clocked_id, "in_progress"), timeout=60, interval=0.2)
        # Mid-morning of the first day: kill the clock, leave it down for a quarter of a day.
        killed_at = programme_time(origin_at)
        workers[0].kill()
        await asyncio.sleep(DAY_SECONDS / 4)
        assert (await client.get(f"/sessions/{clocked_id}")).json()["session"]["status"] == "in_progress"
        another_worker()
        another_worker()  # two instances from now on
        closed = await eventually(lambda: closed_evaluation(client, clocked_id), timeout=90, interval=0.3)
        manual = await eventually(lambda: closed_evaluation(client, manual_id), timeout=90, interval=0.3)

    assert killed_at.date() == datetime(2026, 5, 17).date()
    # Completed at 18:00 Dakar time (UTC) on the last day, give or take a pass, and closed half a day later.
    completed_at = datetime.fromisoformat(closed["completed_at"])
    assert timedelta(0) <= completed_at - datetime(2026, 5, 18, 18, tzinfo=timezone.utc) < timedelta(hours=2)
    assert datetime.fromisoformat(closed["evaluation_closes_at"]) == completed_at + timedelta(days=0.5)
    assert datetime.fromisoformat(closed["evaluation_closed_at"]) >= completed_at + timedelta(days=0.5)
    assert closed["session"]["sequence"] == 3  # open 1, in_progress 2, completed 3

    events = await read_events(topic_name("emm.sessions", topic_prefix), 9, timeout=30)
    steps = {sid: [step_of(e) for e in events if e.subject == sid] for sid in (clocked_id, manual_id)}
    assert steps[clocked_id] == ["scheduled", "open", "in_progress", "completed", "evaluation_closed"]
    assert steps[manual_id] == ["scheduled", "in_progress", "completed", "evaluation_closed"]
    assert [key for key, n in Counter(e.id for e in events).items() if n > 1] == []


async def closed_evaluation(client: httpx.AsyncClient, session_id: str):
    view = (await client.get(f"/sessions/{session_id}")).json()
    return view if view.get("evaluation_closed_at") else None


def step_of(event) -> str:
    kind = event.type.removeprefix("org.iom.emm.session.").removesuffix(".v1")
    return event.data["session"]["status"] if kind == "updated" else kind
