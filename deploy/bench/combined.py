"""The whole pipeline in one run: raw limits, our figures, and each of ours as a ratio of its raw limit.

    make bench BENCH=combined [ARGS='--rates 5,20,50 --seconds 40 --rebuild-sessions 1000']

Prints the machine (CPU, memory, nproc, load average at the start and the end), then measures,
one section after another so that no section competes with another for the CPU:
  enrollment (enrollment.py): with wrk, bare FastAPI GET /healthz, the enrollment API (spread over
       sessions, and into one) and GET /sessions/{id} at a fixed concurrency; FerretDB insert_one,
       find_one and conditional replace_one at that concurrency from several client processes; the
       commands FerretDB counted per enrollment; raw aiokafka produce (acks=all, idempotent);
  round trip: one ~300-byte event at a time (acks=all, idempotent) from a producer to a consumer
       in this process: seconds to the broker's ack and to the consumer, p50/p99;
  accept-to-visible: a registration API, an evaluation worker and a notification worker as real
       processes on their own topics and databases; enrollments offered at a fixed rate (open
       loop, sessions of 20 participants); for each 2xx, the time until the evaluation worker's
       `trainees` document `{session_id}|{participant_id}` holds its status and until the
       notification log holds the enrollment email's entry (its id from the event id in the
       `EMM-Event-Ids` header), each polled by `_id` every --poll seconds, p50/p99;
  rebuild (evaluation_rebuild.py): --rebuild-sessions x 102 events generated through our
       EventPublisher, raw aiokafka consume of them, FerretDB upsert and insert_many rates, the
       offline rebuilds of the evaluation and notification projections;
and a Markdown table of each of ours against the raw limit it is bound by.
A benchmark, not a test: figures vary with the machine's load; compare ratios from one run.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import shutil
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from motor.motor_asyncio import AsyncIOMotorClient

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from emm_common.auth import TokenIssuer, ensure_key_pair  # noqa: E402
from emm_common.http import EVENT_IDS_HEADER  # noqa: E402
from emm_common.topics import all_topics, ensure_topics, topic_name  # noqa: E402
from emm_evaluation.service_layer.projections import trainee_id  # noqa: E402
from emm_notification.domain.messages import MessageKind, notification_key  # noqa: E402
from tests.conftest import KAFKA, MONGODB_URI  # noqa: E402
from tests.processes import ServiceProcess  # noqa: E402

from enrollment import EnrollmentFigures, enrollment_figures, person, report, session  # noqa: E402
from evaluation_rebuild import RebuildFigures, rebuild_figures  # noqa: E402
from measure import delete_topics, load_average, machine, markdown_table, percentile  # noqa: E402

PARTICIPANTS_PER_SESSION = 20


# -- raw: one event from producer to consumer ---------------------------------------------------

@dataclass
class RoundTrip:
    """Seconds from send until the broker's ack, and until the consumer has the event, one per event."""

    acked: list[float]
    consumed: list[float]


async def raw_round_trip(count: int = 200) -> RoundTrip:
    prefix = f"b{uuid.uuid4().hex[:8]}."
    topic = f"{prefix}roundtrip"
    await ensure_topics(KAFKA, {topic}, partitions=1)
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all", enable_idempotence=True)
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=KAFKA, auto_offset_reset="earliest", group_id=None)
    arrivals: asyncio.Queue[tuple[int, float]] = asyncio.Queue()

    async def read() -> None:
        async for record in consumer:
            arrivals.put_nowait((int(record.value[:8]), time.perf_counter()))

    await producer.start()
    await consumer.start()
    reader = asyncio.create_task(read())
    figures = RoundTrip([], [])
    try:
        for i in range(count + 1):  # the first event finds the topic's leader and warms up
            sent = time.perf_counter()
            await (await producer.send(topic, value=f"{i:08d}".encode() + b"x" * 292))
            acked = time.perf_counter()
            index, consumed = await asyncio.wait_for(arrivals.get(), 30)
            assert index == i, (index, i)
            if i:
                figures.acked.append(acked - sent)
                figures.consumed.append(consumed - sent)
    finally:
        reader.cancel()
        await producer.stop()
        await consumer.stop()
        await delete_topics(prefix)
    return figures


# -- ours: from the API's 2xx until the fact is in both projections -----------------------------

@dataclass
class Visibility:
    """Seconds per acknowledged enrollment: request to 2xx, then 2xx until visible in the
    evaluation projection, in the notification log, and in both."""

    rate: float
    offered: int
    offered_seconds: float
    api: list[float]
    evaluation: list[float]
    notification: list[float]
    both: list[float]
    refused: int  # requests without a 2xx
    missing: int  # 2xx whose fact was not visible in both within the deadline


class FirstSeen:
    """When each awaited document was first seen: one query per look for all of them
    (`_id: {$in: [...]}`), so the watching costs the database the same at 5 or 50 offers/s
    (a query per enrollment per look would itself be the load at 50/s)."""

    def __init__(self, collection, poll: float, matches=lambda found, wanted: True) -> None:
        self.collection, self.poll, self.matches = collection, poll, matches
        self.waiting: dict[str, tuple[object, asyncio.Future]] = {}

    def wait(self, document_id: str, wanted: object = None) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.waiting[document_id] = (wanted, future)
        return future

    async def watch(self) -> None:
        while True:
            if self.waiting:
                batch = list(self.waiting)[:1000]
                async for found in self.collection.find({"_id": {"$in": batch}}):
                    wanted, future = self.waiting[found["_id"]]
                    if self.matches(found, wanted):
                        del self.waiting[found["_id"]]
                        future.set_result(time.perf_counter())
            await asyncio.sleep(self.poll)


async def accept_to_visible(rate: float, seconds: float, poll: float, deadline: float = 120) -> Visibility:
    run = uuid.uuid4().hex[:8]
    prefix = f"b{run}."
    databases = {name: f"bench_{name}_{run}" for name in ("registration", "evaluation", "notification")}
    keys = Path(f"/tmp/emm-bench-{run}")
    ensure_key_pair(keys / "jwt.pem", keys / "jwt.pub.pem")
    organizer = {"Authorization": f"Bearer {TokenIssuer((keys / 'jwt.pem').read_bytes()).issue('bench', 'organizer', regional=True)}"}
    await ensure_topics(KAFKA, {topic_name(t, prefix) for t in all_topics()}, partitions=3)
    processes = [ServiceProcess("registration", "api", prefix, databases["registration"], keys),
                 ServiceProcess("evaluation", "worker", prefix, databases["evaluation"], keys),
                 ServiceProcess("notification", "worker", prefix, databases["notification"], keys)]
    mongo = AsyncIOMotorClient(MONGODB_URI)
    trainees = FirstSeen(mongo[databases["evaluation"]].trainees, poll,
                         lambda found, status: found.get("status") == status)
    log = FirstSeen(mongo[databases["notification"]].notifications, poll)
    watchers = [asyncio.create_task(trainees.watch()), asyncio.create_task(log.watch())]

    async def seen(future: asyncio.Future, until: float) -> float | None:
        try:
            return await asyncio.wait_for(future, max(0.0, until - time.perf_counter()))
        except asyncio.TimeoutError:
            return None

    try:
        for process in processes:
            process.start(wait=False)
        for process in processes:
            await asyncio.to_thread(process.wait_until_answering, None, 120)
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        async with httpx.AsyncClient(base_url=processes[0].url, timeout=60, limits=limits) as client:
            count = max(1, round(rate * seconds))
            # Room for all (every enrollment is registered), PARTICIPANTS_PER_SESSION each as in a ToT.
            sessions = [(await client.post("/sessions", json=session(10_000), headers=organizer))
                        .json()["session"]["session_id"] for _ in range(math.ceil(count / PARTICIPANTS_PER_SESSION))]

            async def enroll(i: int, session_id: str, wait: float) -> tuple[float, float | None, float | None] | None:
                """(request to 2xx, 2xx to evaluation, 2xx to notification) in seconds; None without a 2xx."""
                sent = time.perf_counter()
                try:
                    response = await client.post(f"/sessions/{session_id}/enrollments", json=person(i, run),
                                                 headers=organizer)
                except httpx.TransportError:  # a connection the server closed under load: counted as refused
                    return None
                acked = time.perf_counter()
                if response.status_code != 201:
                    return None
                enrollment = response.json()["enrollment"]
                # The enrollment's events come last in the header: the session's commit follows the participant's.
                event_id = response.headers[EVENT_IDS_HEADER].split(",")[-1]
                trainee = trainee_id(session_id, enrollment["participant_id"])
                entry = notification_key(event_id, enrollment["participant_id"], MessageKind.ENROLLMENT_REGISTERED)
                evaluation, notification = await asyncio.gather(
                    seen(trainees.wait(trainee, enrollment["status"]), acked + wait),
                    seen(log.wait(entry), acked + wait))
                return (acked - sent, evaluation and evaluation - acked, notification and notification - acked)

            # One enrollment through the whole pipeline first: both workers have joined their groups.
            warm_up = await enroll(-1, sessions[0], 120)
            if warm_up is None or None in warm_up:
                raise RuntimeError(f"the warm-up enrollment did not become visible in 120 s: {warm_up}")
            started = time.perf_counter()
            tasks = []
            for i in range(count):
                await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
                tasks.append(asyncio.create_task(enroll(i, sessions[i % len(sessions)], deadline)))
            await asyncio.sleep(max(0.0, started + count / rate - time.perf_counter()))
            offered_seconds = time.perf_counter() - started
            results = await asyncio.gather(*tasks)
    finally:
        for watcher in watchers:
            watcher.cancel()
        for process in processes:
            process.stop()
        for name in databases.values():
            await mongo.drop_database(name)
        mongo.close()
        await delete_topics(prefix)
        shutil.rmtree(keys, ignore_errors=True)
    acknowledged = [r for r in results if r is not None]
    complete = [r for r in acknowledged if None not in r]
    return Visibility(rate, count, offered_seconds, [r[0] for r in acknowledged],
                      [r[1] for r in acknowledged if r[1] is not None],
                      [r[2] for r in acknowledged if r[2] is not None],
                      [max(r[1], r[2]) for r in complete], count - len(acknowledged),
                      len(acknowledged) - len(complete))


# -- the table ----------------------------------------------------------------------------------

def per_second(value: float, unit: str) -> str:
    return f"{value:,.0f} {unit}" if value >= 100 else f"{value:,.1f} {unit}"


def ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:,.0f} ms" if values else "none"


def p50_p99(values: list[float]) -> str:
    return f"p50 {ms(values, .5)}, p99 {ms(values, .99)}"


def tails(values: list[float]) -> str:
    return f"p50 {ms(values, .5)}, p99 {ms(values, .99)}, p99.9 {ms(values, .999)} (n {len(values)})"


def times(ours: list[float], raw: list[float], q: float) -> str:
    if not ours:
        return "-"
    ratio = percentile(ours, q) / percentile(raw, q)
    return f"{ratio:.1f}×" if ratio < 10 else f"{ratio:,.0f}×"


def latency_row(what: str, ours: list[float], raw_what: str, raw: list[float]) -> tuple[str, ...]:
    return what, p50_p99(ours), raw_what, p50_p99(raw), f"{times(ours, raw, .5)}, {times(ours, raw, .99)}"


def rate_row(what: str, ours: float, unit: str, raw_what: str, raw: float, raw_unit: str,
             ours_note: str = "", raw_note: str = "") -> tuple[str, ...]:
    ratio = ours / raw
    return (what, per_second(ours, unit) + ours_note, raw_what, per_second(raw, raw_unit) + raw_note,
            f"{ratio:.3f}" if ratio < 1 else f"{ratio:.1f}")


def visibility_rows(visibilities: list[Visibility], e: EnrollmentFigures, trip: RoundTrip) -> list[tuple[str, ...]]:
    bare = f"bare FastAPI GET /healthz, concurrency {e.concurrency}"
    trip_raw = "aiokafka produce → consume, one event at a time"
    rows = []
    for v in visibilities:
        offered = f"{v.offered / v.offered_seconds:.1f}/s offered"
        rows += [
            (f"API request → 2xx at {offered}", tails(v.api), bare,
             f"p50 {e.bare.latency['p50'] * 1000:,.0f} ms, p99 {e.bare.latency['p99'] * 1000:,.0f} ms", "-"),
            (f"2xx → both projections at {offered} ({len(v.api) - v.missing} of {v.offered} visible in both)",
             tails(v.both), trip_raw, p50_p99(trip.consumed),
             f"{times(v.both, trip.consumed, .5)}, {times(v.both, trip.consumed, .99)}"),
        ]
    return rows


def summary(e: EnrollmentFigures, trip: RoundTrip, visibilities: list[Visibility], r: RebuildFigures) -> str:
    bare = f"bare FastAPI GET /healthz, concurrency {e.concurrency}"
    consume = "aiokafka consume of the same topics"
    evaluation, notification = r.evaluation, r.notification
    insert, find = e.database["insert_one"], e.database["find_one"]
    writes = e.writes_per_enrollment or 1
    rows = [
        rate_row(f"enrollment API, {e.sessions} sessions, concurrency {e.concurrency} (wrk)", e.spread.rate, "req/s",
                 bare, e.bare.rate, "req/s", f"; {e.spread.percentiles()}", f"; {e.bare.percentiles()}"),
        rate_row("enrollment API, all into one session", e.hot.rate, "req/s", bare, e.bare.rate, "req/s",
                 f"; {e.hot.percentiles()}"),
        rate_row(f"enrollment API, {e.sessions} sessions ({writes:.1f} writes each, counted by FerretDB)",
                 e.spread.rate, "req/s", f"FerretDB insert_one, concurrency {insert.concurrency}, ÷ {writes:.1f}",
                 insert.rate / writes, "req/s"),
        rate_row("GET /sessions/{id} (wrk)", e.get_session.rate, "req/s",
                 f"FerretDB find_one by _id, concurrency {find.concurrency}", find.rate, "reads/s",
                 f"; {e.get_session.percentiles()}"),
        *visibility_rows(visibilities, e, trip),
        rate_row(f"evaluation rebuild, read+fold of {r.events:,} events", evaluation.events_per_second, "events/s",
                 consume, r.consume, "events/s"),
        rate_row(f"evaluation rebuild, bulk write of {sum(evaluation.documents.values()):,} documents",
                 evaluation.documents_per_second, "docs/s", "FerretDB insert_many, 1,000 × 1 kB per call", r.bulk,
                 "docs/s"),
        rate_row("evaluation rebuild, total", evaluation.events / evaluation.seconds, "events/s", consume, r.consume,
                 "events/s", f" ({evaluation.seconds:.0f} s)"),
        rate_row("evaluation rebuild, total", evaluation.events / evaluation.seconds, "events/s",
                 "FerretDB replace_one upsert by _id, one at a time", r.upsert, "upserts/s"),
        rate_row(f"notification rebuild, total ({notification.events:,} events on its topics)",
                 notification.events / notification.seconds, "events/s", consume, r.consume, "events/s",
                 f" ({notification.seconds:.0f} s)"),
        rate_row("our EventPublisher, 102 events in flight", r.generate_rate, "events/s",
                 "aiokafka produce, 300 B, acks=all, idempotent", e.produce_rate, "events/s"),
    ]
    return markdown_table(("ours", "figure", "raw limit", "figure", "ours ÷ raw"), rows)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--load-seconds", type=float, default=10, help="how long each wrk load runs")
    parser.add_argument("--concurrency", type=int, default=20, help="enrollment requests in flight")
    parser.add_argument("--sessions", type=int, default=30, help="sessions the throughput figure spreads over")
    parser.add_argument("--round-trips", type=int, default=200, help="events for the raw round trip")
    parser.add_argument("--rates", default="5,20,50", help="enrollments offered per second, accept-to-visible, "
                                                          "one run at each rate (comma separated)")
    parser.add_argument("--seconds", type=float, default=40, help="for how long they are offered at each rate")
    parser.add_argument("--poll", type=float, default=0.02, help="seconds between two looks at a projection")
    parser.add_argument("--rebuild-sessions", type=int, default=1000, help="sessions of 102 events for the rebuild")
    args = parser.parse_args()
    started = time.perf_counter()
    print(f"machine: {machine()}", flush=True)

    print(f"\n== enrollment API (load average {load_average()})", flush=True)
    enrollment = await enrollment_figures(args.load_seconds, args.concurrency, args.sessions)
    report(enrollment)

    print(f"\n== raw round trip (load average {load_average()})", flush=True)
    trip = await raw_round_trip(args.round_trips)
    print(f"raw  aiokafka send → ack, {len(trip.acked)} events one at a time: {p50_p99(trip.acked)}")
    print(f"raw  aiokafka send → consumed:                     {p50_p99(trip.consumed)}", flush=True)

    visibilities = []
    for rate in (float(r) for r in args.rates.split(",")):
        print(f"\n== accept-to-visible at {rate:g}/s (load average {load_average()})", flush=True)
        visibility = await accept_to_visible(rate, args.seconds, args.poll)
        visibilities.append(visibility)
        print(f"offered {visibility.offered} enrollments in {visibility.offered_seconds:.1f} s, "
              f"{len(visibility.api)} acknowledged, {visibility.refused} refused, "
              f"{visibility.missing} not visible in both within 120 s; polled every {args.poll * 1000:.0f} ms")
        for name, values in (("request → 2xx", visibility.api), ("2xx → evaluation", visibility.evaluation),
                             ("2xx → notification", visibility.notification), ("2xx → both", visibility.both)):
            print(f"ours {name:20s} {tails(values)}, max {max(values) * 1000:,.0f} ms" if values else
                  f"ours {name:20s} none", flush=True)

    print(f"\n== rebuild over {args.rebuild_sessions * 102:,} events (load average {load_average()})", flush=True)
    rebuild = await rebuild_figures(args.rebuild_sessions)

    print(f"\n== summary\n{summary(enrollment, trip, visibilities, rebuild)}")
    print(f"\nload average at the end {load_average()}; wall time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    asyncio.run(main())
