"""A stream of mixed commands through the real HTTP APIs, as organizers, facilitators and
participants would send them, with a ledger of what each API acknowledged.

Every ToT session goes through its whole life: scheduled; ten people enroll for eight seats
(two wait); one cancels and the first waiting person is promoted; in progress; attendance for
both days (one person misses the second); each trainee's practice delivery is rated; everyone
evaluates; completed. That is 32 commands per session; `sessions_for(n)` sessions give at least
n commands. Several sessions are driven at once, at a fixed offered rate (commands/s, not counting
resends): a rate the workers sustain without faults, so that what the checks see after a fault is
recovery, not a backlog the machine could never have cleared.

A command is retried until it is acknowledged (every command is idempotent): after a 503
(dependency down), a timeout or a refused connection (process restarting), and, for the
evaluation API, after a 404/409 that means "not projected yet". The ledger keeps the event ids of
each 2xx (`EMM-Event-Ids`), every status code seen, and anything that is neither a 2xx nor a
clear, retryable refusal.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx

COMMANDS_PER_SESSION = 32
SEATS, PEOPLE = 8, 10
DAYS = ("2026-10-13", "2026-10-14")  # past: attendance is taken on the day or later
MODULES = ["migration-governance", "labour-mobility"]
RUBRIC = {"content_mastery": 4, "clarity": 4, "participant_engagement": 4, "time_management": 4,
          "adult_learning_methods": 4}
ANSWERS = [{"item_id": "work_performance", "value": 5}, {"item_id": "methodology", "value": 4},
           {"item_id": "content_quality", "value": 4}, {"item_id": "facilitation", "value": 5},
           {"item_id": "relevance", "value": 4}, {"item_id": "organization", "value": 4},
           {"item_id": "recommend", "value": 9}]
NOT_PROJECTED_YET = (404, 409)  # the evaluation service has not seen the enrollment yet


def sessions_for(commands: int) -> int:
    return -(-commands // COMMANDS_PER_SESSION)


@dataclass
class Ledger:
    """What the APIs answered, for the checks after the run."""

    planned: int = 0
    acknowledged: int = 0
    event_ids: list[str] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    unclear: list[str] = field(default_factory=list)  # neither a 2xx nor a clear retryable refusal
    retries: Counter = field(default_factory=Counter)
    certifiable: set[str] = field(default_factory=set)  # participant ids expected to be certified
    feedback_submissions: set[str] = field(default_factory=set)
    seated: dict[str, list[str]] = field(default_factory=dict)  # session id -> participants with a seat at the end
    started: float = field(default_factory=time.monotonic)

    @property
    def progress(self) -> float:
        return self.acknowledged / self.planned if self.planned else 0.0


class CommandStream:
    def __init__(self, registration: str, evaluation: str, issue: Callable[..., dict], run_id: str,
                 sessions: int, rate: float, concurrency: int = 6, give_up_after: float = 600.0) -> None:
        self.registration, self.evaluation = registration, evaluation
        self.run_id = run_id
        self.sessions = sessions
        self.concurrency = concurrency
        self.rate = rate
        self._next_start = 0.0
        self.give_up_after = give_up_after
        self.ledger = Ledger(planned=sessions * COMMANDS_PER_SESSION)
        self.issue = issue
        self.organizer = issue("organizer", "usr-organizer")  # (role, subject) -> Authorization header
        self.facilitator_id = f"par-fac-{run_id}"
        self.facilitator = issue("facilitator", self.facilitator_id)

    async def run(self) -> Ledger:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(self.sessions):
            queue.put_nowait(n)
        timeout = httpx.Timeout(30.0, connect=5.0)
        async with httpx.AsyncClient(timeout=timeout) as client:
            async def drive() -> None:
                while not queue.empty():
                    await self.one_session(client, queue.get_nowait())

            await asyncio.gather(*(drive() for _ in range(self.concurrency)))
        return self.ledger

    # -- one command -----------------------------------------------------------------------------

    async def command(self, client: httpx.AsyncClient, method: str, url: str, *, json: Any,
                      headers: dict, retry_statuses: tuple[int, ...] = ()) -> dict:
        """Send until acknowledged; return the body of the 2xx."""
        await self._pace()
        deadline = time.monotonic() + self.give_up_after
        route = url.split("//", 1)[1].split("/", 1)[1].split("/")[0]
        while True:
            try:
                response = await client.request(method, url, json=json, headers=headers)
            except httpx.TransportError as exc:  # refused or timed out: the outcome is unknown, repeat
                self.ledger.statuses[type(exc).__name__] += 1
                await self._wait(deadline, f"{method} {url}: {exc!r}")
                continue
            self.ledger.statuses[response.status_code] += 1
            if response.is_success:
                self.ledger.acknowledged += 1
                if ids := response.headers.get("EMM-Event-Ids"):
                    self.ledger.event_ids.extend(ids.split(","))
                return response.json()
            if response.status_code == 503:
                if not _names_the_problem(response) or "Retry-After" not in response.headers:
                    self.ledger.unclear.append(f"{method} {url}: 503 without detail or Retry-After: "
                                               f"{response.text[:200]}")
                self.ledger.retries[f"503 {route}"] += 1
            elif response.status_code in retry_statuses:
                self.ledger.retries[f"{response.status_code} {route}"] += 1
            else:
                self.ledger.unclear.append(f"{method} {url}: {response.status_code} {response.text[:300]}")
                return {}
            await self._wait(deadline, f"{method} {url}: {response.status_code}")

    async def _pace(self) -> None:
        """Start commands at `rate` per second at most."""
        now = time.monotonic()
        self._next_start = max(self._next_start, now)
        delay = self._next_start - now
        self._next_start += 1 / self.rate
        if delay > 0:
            await asyncio.sleep(delay)

    @staticmethod
    async def _wait(deadline: float, what: str) -> None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"never acknowledged: {what}")
        await asyncio.sleep(1.0)

    # -- one session's life ------------------------------------------------------------------------

    async def one_session(self, client: httpx.AsyncClient, n: int) -> None:
        reg, ev = self.registration, self.evaluation
        sid = f"ses-{self.run_id}-{n:04d}"
        await self.command(client, "POST", f"{reg}/sessions", headers=self.organizer, json={
            "session_id": sid, "title": f"EMM2.0 ToT {n}", "kind": "training_of_trainers", "modules": MODULES,
            "organizing_office": "RO Dakar", "city": "Dakar", "country": "SN", "start_date": DAYS[0],
            "end_date": DAYS[1], "timezone": "Africa/Dakar", "languages": ["fr", "en"], "capacity": SEATS,
            "facilitator_ids": [self.facilitator_id]})
        enrolled = []
        for p in range(PEOPLE):
            made = await self.command(client, "POST", f"{reg}/sessions/{sid}/enrollments", headers=self.organizer,
                                      json=_person(self.run_id, n, p))
            enrolled.append(made)
        first = enrolled[0]["enrollment"]
        await self.command(client, "POST", f"{reg}/sessions/{sid}/enrollments/{first['enrollment_id']}/cancellation",
                           headers=self.organizer, json={"reason": "called away on mission"})
        await self.command(client, "POST", f"{reg}/sessions/{sid}/status", headers=self.organizer,
                           json={"status": "in_progress"})
        # Seats: people 1-7 from the start, person 8 promoted when person 0 cancelled; person 9 waits.
        seated = [made["enrollment"]["participant_id"] for made in enrolled[1:SEATS + 1]]
        # Each person's own token, signed by the test's issuer (the API hands nobody another's credential).
        own = {e["participant_id"]: self.issue("participant", e["participant_id"], enrollment_id=e["enrollment_id"],
                                               session_id=sid) for e in (made["enrollment"] for made in enrolled)}
        for day_index, day in enumerate(DAYS):
            marks = [{"participant_id": pid, "status": "absent" if day_index == 1 and i == 0 else "present"}
                     for i, pid in enumerate(seated)]
            await self.command(client, "PUT", f"{reg}/sessions/{sid}/attendance/{day}", headers=self.facilitator,
                               json={"marks": marks})
        for i, pid in enumerate(seated):
            await self.command(client, "POST", f"{ev}/sessions/{sid}/peer-feedback", headers=self.facilitator,
                               retry_statuses=NOT_PROJECTED_YET,
                               json={"peer_feedback_id": f"pf-{sid}-{i}", "trainee_participant_id": pid,
                                     "module": MODULES[i % 2], "scores": RUBRIC})
        for i, pid in enumerate(seated):
            submission = f"sub-{sid}-{i}"
            await self.command(client, "POST", f"{ev}/sessions/{sid}/feedback",
                               headers=own[pid], retry_statuses=NOT_PROJECTED_YET,
                               json={"submission_id": submission, "language": "en", "anonymous": False,
                                     "answers": ANSWERS})
            self.ledger.feedback_submissions.add(submission)
        await self.command(client, "POST", f"{reg}/sessions/{sid}/status", headers=self.organizer,
                           json={"status": "completed"})
        self.ledger.certifiable.update(seated[1:])  # seated[0] missed a day: 50% < 80% of days
        self.ledger.seated[sid] = seated


def _person(run_id: str, session: int, n: int) -> dict:
    return {"email": f"p{n}.s{session}.{run_id}@example.org", "full_name": f"Participant {session}-{n}",
            "country": "SN", "preferred_language": "fr" if n % 2 else "en", "consent_to_contact": True}


def _names_the_problem(response: httpx.Response) -> bool:
    try:
        return bool(response.json().get("detail"))
    except ValueError:
        return False
