"""Database round trips of the evaluation worker per consumed event, and of registration's
commands per request, before and after the store port.

    make bench BENCH=round_trips [ARGS='--baseline ed33e60 --registration-baseline e0f1d55 --participants 20']

Feeds realistic ToT sessions, one after the other, straight to the worker's handlers, against
the running FerretDB (MONGODB_URI; a fresh database, dropped afterwards): each session
scheduled, its own participants enrolled, a change before it starts, two days of attendance, a
facilitator's and a peer's rating of each practice delivery, everyone's evaluation, the post-test scores (the API's command side, written
directly and not counted), the completion, a change of the completed session, the
trainer.certified events read back from the topic, and a redelivery of the second day's
attendance. Every call a handler makes on the database is counted by a proxy around the
database object, the same for both code versions; the new code's own counter (the store
adapter's `round_trips`) is printed beside it and must agree. The time the handlers took is
printed too (Kafka and schema validation are not in it); with `--sessions` above 1 it shows
whether it holds as the collections grow.

"Before" is the code of `--baseline` (default: the commit before the store port), taken with
`git archive` into a temporary folder and run in a subprocess with that folder's services on
PYTHONPATH; "after" is this checkout. Calls by the outbox relay are not counted (one removal per
published trainer document, in both versions).

Registration's commands are counted the same way (`--registration-baseline`, default the commit
before registration went onto the store port): a session scheduled, each participant enrolled
(a new person), one of them enrolled again, the session started, each participant's attendance
marked for the first day, one mark changed, and the session read as `GET /sessions/{id}` reads it.
"Before" waits for the old store's pruning of old states, which it ran off the request path.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from collections import defaultdict
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

DEFAULT_BASELINE = "ed33e60"
DEFAULT_REGISTRATION_BASELINE = "e0f1d55"


class Calls:
    """Calls per label: reads and writes, and the most of each one event needed."""

    def __init__(self) -> None:
        self.reads = 0
        self.writes = 0
        self.per_label: dict[str, list[tuple[int, int]]] = defaultdict(list)

    def count(self, operation: str) -> None:
        if operation in ("find_one", "find", "count_documents"):
            self.reads += 1
        else:
            self.writes += 1


class CountingCursor:
    def __init__(self, cursor: Any, calls: Calls) -> None:
        self._cursor, self._calls = cursor, calls

    async def to_list(self, length: int | None = None) -> list:
        self._calls.count("find")
        return await self._cursor.to_list(length)

    def __aiter__(self):
        self._calls.count("find")
        return self._cursor.__aiter__()


class CountingCollection:
    """A collection whose every call to the server is counted (a find once, for its one batch)."""

    def __init__(self, database: "CountingDatabase", collection: Any) -> None:
        self.database, self._collection, self.name = database, collection, collection.name

    def find(self, *args: Any, **kwargs: Any) -> CountingCursor:
        return CountingCursor(self._collection.find(*args, **kwargs), self.database.calls)

    def __getattr__(self, operation: str) -> Any:
        method = getattr(self._collection, operation)

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.database.calls.count(operation)
            return await method(*args, **kwargs)

        return counted


class CountingDatabase:
    def __init__(self, database: Any, calls: Calls) -> None:
        self._database, self.calls, self.name = database, calls, database.name

    def __getitem__(self, name: str) -> CountingCollection:
        return CountingCollection(self, self._database[name])

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]


def handlers_of(code: str, database: CountingDatabase) -> tuple[dict, Any]:
    """The worker's handlers in this code version, and the store adapter (after only)."""
    from emm_evaluation.config import Settings

    settings = Settings()
    if code == "before":
        from emm_evaluation.service_layer.handlers import Projector

        projector = Projector(database, settings.certification_rules(),
                              settings.respondent_key.get_secret_value().encode())
        return projector.handlers(), None
    from emm_evaluation import bootstrap
    from emm_evaluation.adapters import mongo

    store = mongo.document_store(database)
    return bootstrap.applier(settings, store).handlers(), store


def session_of_steps(session_id: str, people: range) -> list[tuple[str, list]]:
    """The labelled steps of one session of `people` (participant numbers), in the order a worker meets them."""
    from tests.integration.evaluation import registration_events as ev

    details = ev.session(session_id, facilitators=("fac-1",))
    participants = len(people)
    return [
        ("session.scheduled", [ev.scheduled(details)]),
        ("enrollment.registered", [ev.registered(session_id, n) for n in people]),
        (f"session.updated (open, {participants} participants)",
         [ev.updated({**details, "sequence": 1, "city": "Saly"}, "city")]),
        ("attendance.recorded (day 1)", [ev.attended(session_id, n, "2026-05-19") for n in people]),
        ("attendance.recorded (day 2)", [ev.attended(session_id, n, "2026-05-20", at="2026-05-20T09:00:00Z")
                                         for n in people]),
        ("peer_feedback.submitted", [*(ev.peer_rating(session_id, n) for n in people),  # the facilitator's
                                     *(ev.peer_rating(session_id, n, rater=f"par-{peer}", score=5)  # a peer's
                                       for n, peer in zip(people, [*people[1:], people[0]]))]),
        ("feedback.submitted", [ev.feedback(session_id, n) for n in people]),
        ("post-test scores", []),
        ("session.completed", [ev.completed(session_id)]),
        (f"session.updated (completed, {participants} participants)",
         [ev.updated({**details, "sequence": 2, "status": "completed", "city": "Saly"}, "status")]),
        ("trainer.certified (read back)", []),
        ("redelivered attendance.recorded", [ev.attended(session_id, n, "2026-05-20", at="2026-05-20T09:00:00Z")
                                             for n in people]),
    ]


async def measure(code: str, participants: int, sessions: int) -> dict[str, Any]:
    from motor.motor_asyncio import AsyncIOMotorClient

    from emm_common.documents import AggregateStore
    from emm_common.envelope import Event
    from tests.conftest import MONGODB_URI

    client = AsyncIOMotorClient(MONGODB_URI, tz_aware=True)
    raw = client[f"bench_rt_{code}_{uuid.uuid4().hex[:8]}"]
    calls = Calls()
    handlers, store = handlers_of(code, CountingDatabase(raw, calls))
    rows: dict[str, dict[str, Any]] = {}
    adapter, seconds, events_fed = [], 0.0, 0
    try:
        for number in range(sessions):
            session_id = f"ses-rt-{number}"
            people = range(number * participants + 1, (number + 1) * participants + 1)
            for label, events in session_of_steps(session_id, people):
                if label == "post-test scores":
                    await AggregateStore(raw["knowledge_scores"]).commit(
                        session_id, {f"par-{n}": {"pre": 50, "post": 80} for n in people}, 0, [])
                    continue
                if label.startswith("trainer.certified"):
                    events = [Event.from_document(entry) async for doc in raw["trainers"].find({"session_id": session_id})
                              for entry in (doc.get("outbox") or {}).values()]
                row = rows.setdefault(label, {"label": label, "events": 0, "reads": [], "writes": []})
                for event in events:
                    reads, writes = calls.reads, calls.writes
                    if store is not None:
                        store.round_trips.reset()
                    started = time.perf_counter()
                    await handlers[event.type](event)
                    seconds += time.perf_counter() - started
                    row["reads"].append(calls.reads - reads)
                    row["writes"].append(calls.writes - writes)
                    if store is not None:
                        adapter.append((store.round_trips.reads, store.round_trips.writes) ==
                                       (row["reads"][-1], row["writes"][-1]))
                row["events"] += len(events)
                events_fed += len(events)
        trainers = await raw["trainers"].count_documents({})
    finally:
        await client.drop_database(raw.name)
        client.close()
    return {"code": code, "rows": list(rows.values()), "trainers": trainers, "seconds": seconds,
            "events": events_fed, "adapter_agrees": all(adapter) if adapter else None}


async def measure_registration(code: str, participants: int) -> dict[str, Any]:
    """Calls per registration request, through the service layer as the API calls it."""
    from datetime import datetime, timezone

    from pymongo import AsyncMongoClient

    from emm_registration import bootstrap
    from tests.conftest import MONGODB_URI
    from tests.unit.registration.examples import NOW, session_details

    client = AsyncMongoClient(MONGODB_URI, tz_aware=True)
    raw = client[f"bench_rt_reg_{code}_{uuid.uuid4().hex[:8]}"]
    calls = Calls()
    database = CountingDatabase(raw, calls)
    now = {"value": NOW}
    if code == "before":
        stores = bootstrap.stores(database)
        pruned = [getattr(stores, name) for name in bootstrap.AGGREGATES]
    else:
        from emm_common.store.mongo import MongoDocumentStore

        stores, pruned = bootstrap.stores(MongoDocumentStore(database)), []
    from emm_registration.service_layer.commands import Registration

    registration = Registration(stores, clock=lambda: now["value"])
    session_id = "ses-rt-registration"
    rows: dict[str, dict[str, Any]] = {}

    async def counted(label: str, command) -> Any:
        row = rows.setdefault(label, {"label": label, "events": 0, "reads": [], "writes": []})
        reads, writes = calls.reads, calls.writes
        result = await command()
        for store in pruned:
            await store.settled()
        row["events"] += 1
        row["reads"].append(calls.reads - reads)
        row["writes"].append(calls.writes - writes)
        return result

    def person(n: int) -> dict[str, Any]:
        return {"email": f"person{n}@example.org", "full_name": f"Person {n}", "country": "SN",
                "preferred_language": "fr", "consent_to_contact": True}

    try:
        await counted("schedule a session", lambda: registration.schedule_session(
            session_details(capacity=participants), "usr-organizer", session_id))
        enrolled = [await counted("enrollment request (a new person)",
                                  lambda n=n: registration.enroll(session_id, person(n), "participant"))
                    for n in range(participants)]
        await counted("enrollment request (the same person again)",
                      lambda: registration.enroll(session_id, person(0), "participant"))
        await registration.change_status(session_id, "start")
        now["value"] = datetime(2026, 5, 17, 9, 5, tzinfo=timezone.utc)
        for result in enrolled:
            await counted("attendance mark (one person, first day)", lambda r=result: registration.record_attendance(
                session_id, "2026-05-17", [{"participant_id": r.participant.participant_id, "status": "present"}],
                "par-facilitator-1"))
        now["value"] = datetime(2026, 5, 17, 9, 30, tzinfo=timezone.utc)
        await counted("attendance mark (changed)", lambda: registration.record_attendance(
            session_id, "2026-05-17", [{"participant_id": enrolled[0].participant.participant_id,
                                        "status": "absent"}], "par-facilitator-1"))
        await counted("GET /sessions/{id}", lambda: registration.session(session_id))
    finally:
        await client.drop_database(raw.name)
        await client.close()
    return {"code": code, "rows": list(rows.values())}


def registration_report(before: dict[str, Any], after: dict[str, Any]) -> str:
    from measure import markdown_table

    header = ("request", "requests", "before: calls/request (reads + writes)",
              "after: calls/request (reads + writes)", "after: most reads, writes in one request")
    rows = [(new["label"], str(new["events"]),
             f"{mean([r + w for r, w in zip(old['reads'], old['writes'])])} ({mean(old['reads'])} + {mean(old['writes'])})",
             f"{mean([r + w for r, w in zip(new['reads'], new['writes'])])} ({mean(new['reads'])} + {mean(new['writes'])})",
             f"{max(new['reads'])}, {max(new['writes'])}")
            for old, new in zip(before["rows"], after["rows"])]
    return markdown_table(header, rows)


def baseline_tree(revision: str, into: Path) -> Path:
    """The services/ and schemas/ folders of `revision`, extracted into `into`."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", revision, "services", "schemas"],
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def run_measurement(code: str, tree: Path, participants: int, sessions: int, service: str = "evaluation") -> dict[str, Any]:
    path = [str(tree / "services" / "shared"), str(tree / "services" / service), str(ROOT)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path), "EMM_SCHEMAS_DIR": str(tree / "schemas")}
    done = subprocess.run([sys.executable, __file__, "--measure", code, "--service", service,
                           "--participants", str(participants), "--sessions", str(sessions)],
                          env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"measuring {code} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def mean(values: list[int]) -> str:
    return f"{sum(values) / len(values):.1f}" if values else "-"


def report(before: dict[str, Any], after: dict[str, Any]) -> str:
    from measure import markdown_table

    header = ("step", "events", "before: calls/event (reads + writes)", "after: calls/event (reads + writes)",
              "after: most reads, writes in one event")
    rows = []
    for old, new in zip(before["rows"], after["rows"]):
        if not new["events"]:
            continue
        rows.append((new["label"], str(new["events"]),
                     f"{mean([r + w for r, w in zip(old['reads'], old['writes'])])} "
                     f"({mean(old['reads'])} + {mean(old['writes'])})",
                     f"{mean([r + w for r, w in zip(new['reads'], new['writes'])])} "
                     f"({mean(new['reads'])} + {mean(new['writes'])})",
                     f"{max(new['reads'])}, {max(new['writes'])}"))
    total = [sum(sum(row["reads"]) + sum(row["writes"]) for row in run["rows"]) for run in (before, after)]
    return "\n".join([
        markdown_table(header, rows), "",
        f"all sessions: {after['events']} events, {total[0]} calls before, {total[1]} after; "
        f"trainers certified: {before['trainers']} before, {after['trainers']} after; "
        f"the store adapter's own counter agrees with the proxy on every event: {after['adapter_agrees']}",
        *(f"handlers {run['code']}: {run['seconds']:.1f} s, {run['events'] / run['seconds']:.0f} events/s"
          for run in (before, after))])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="the revision measured as 'before' (evaluation)")
    parser.add_argument("--registration-baseline", default=DEFAULT_REGISTRATION_BASELINE,
                        help="the revision measured as 'before' (registration)")
    parser.add_argument("--service", choices=("evaluation", "registration"), default="evaluation",
                        help=argparse.SUPPRESS)
    parser.add_argument("--participants", type=int, default=20)
    parser.add_argument("--sessions", type=int, default=1)
    parser.add_argument("--measure", choices=("before", "after"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        if args.service == "registration":
            print(json.dumps(asyncio.run(measure_registration(args.measure, args.participants))))
        else:
            print(json.dumps(asyncio.run(measure(args.measure, args.participants, args.sessions))))
        return
    with tempfile.TemporaryDirectory() as folder:
        before = run_measurement("before", baseline_tree(args.baseline, Path(folder)), args.participants,
                                 args.sessions)
    after = run_measurement("after", ROOT, args.participants, args.sessions)
    print(f"Database calls of the evaluation worker per consumed event: {args.sessions} ToT session(s) of "
          f"{args.participants}, before ({args.baseline}) and after (this checkout)\n")
    print(report(before, after))
    with tempfile.TemporaryDirectory() as folder:
        before = run_measurement("before", baseline_tree(args.registration_baseline, Path(folder)),
                                 args.participants, 1, "registration")
    after = run_measurement("after", ROOT, args.participants, 1, "registration")
    print(f"\nDatabase calls of registration per request: one session of {args.participants}, before "
          f"({args.registration_baseline}) and after (this checkout)\n")
    print(registration_report(before, after))


if __name__ == "__main__":
    main()
