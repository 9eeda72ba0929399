"""Notification delivery figures against the local stack (Kafka, FerretDB, SMTP capture on 1025/8025).

    make bench BENCH=notification_delivery [ARGS='--messages 200 --lag-samples 100']

Prints:
- channel: messages/s the EmailChannel hands to the local SMTP server (one SMTP transaction each),
  at several concurrencies;
- worker: messages/s end to end through a real worker (events already on the topic → all sent);
- lag: from an enrollment.registered event acknowledged by Kafka to the confirmation's arrival in
  the capture server (its arrival time is the nanosecond stamp in the capture's message id), p50/p99.
  The registration API's 2xx comes before its outbox relay publishes the event; that relay step
  (nudged at once, ~ms) is not included here.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid

from motor.motor_asyncio import AsyncIOMotorClient

from emm_common.publisher import EventPublisher
from emm_common.topics import all_topics, ensure_topics, topic_name
from emm_notification.adapters.email_channel import EmailChannel
from emm_notification.domain.channel import OutgoingMessage
from tests.conftest import KAFKA, MONGODB_URI, SMTP_HOST, SMTP_PORT
from tests.integration.notification.harness import address, contact, enrollments, event, mailbox, start_worker
from tests.processes import stop
from tests.unit.notification import examples as ex


async def channel_rate(n: int, concurrency: int) -> float:
    channel = EmailChannel(SMTP_HOST, SMTP_PORT, "emm-noreply@emm.iom.int", timeout=10)
    run = uuid.uuid4().hex[:8]
    limit = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with limit:
            await channel.send(OutgoingMessage(f"ntf-bench-{run}-{i}", f"bench.{run}@example.org", "Bench",
                                               "Benchmark", "Hello\n", "<p>Hello</p>"))
    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return n / (time.perf_counter() - started)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def worker_figures(n: int, samples: int) -> tuple[float, list[float]]:
    run = uuid.uuid4().hex[:10]
    prefix, database = f"b{run}.", f"bench_ntf_{run}"
    await ensure_topics(KAFKA, {topic_name(t, prefix) for t in all_topics()}, partitions=3)
    publisher = EventPublisher(KAFKA, prefix)
    await publisher.start()
    client = AsyncIOMotorClient(MONGODB_URI, tz_aware=True)
    log = client[database].notifications
    worker = start_worker(prefix, database, NOTIFICATION_DELIVERY_CONCURRENCY="8")
    try:
        # The worker is up once it has applied a first contact.
        await publisher.publish(contact(f"par-warmup-{run}", f"warmup.{run}@example.org"))
        while not await client[database].contacts.find_one({"_id": f"par-warmup-{run}"}):
            await asyncio.sleep(0.1)
        # Throughput: n registrations on the topic, then time until all are sent.
        started = time.perf_counter()
        names = [f"t{i}" for i in range(n)]
        for e in enrollments(run, names):
            await publisher.send(e)
        while await log.count_documents({"status": "sent"}) < n:
            await asyncio.sleep(0.05)
            if time.perf_counter() - started > 300:
                raise TimeoutError("worker did not send everything in 300 s")
        rate = n / (time.perf_counter() - started)

        # Lag: one enrollment at a time, as people enroll.
        lags, planned, delivered = [], [], []
        session_id = f"ses-{run}"
        for i in range(samples):
            pid, to = f"par-l{i}-{run}", address(run, f"l{i}")
            await publisher.publish(contact(pid, to, "fr"))
            await asyncio.sleep(0.05)  # the contact is known before the enrollment, as in real life
            payload = ex.enrollment_registered(pid) | {"session_id": session_id, "enrollment_id": f"enr-l{i}"}
            await publisher.publish(event("enrollment.registered.v1", payload))
            acked = time.time_ns()
            while not (arrived := await asyncio.to_thread(mailbox, to)):
                await asyncio.sleep(0.01)
            lags.append((int(arrived[0]["id"].split("-")[0]) - acked) / 1e6)
            entry = await log.find_one({"recipient_participant_id": pid})
            planned.append((entry["created_at"].timestamp() * 1e9 - acked) / 1e6)
            delivered.append((entry["sent_at"] - entry["created_at"]).total_seconds() * 1e3)
        print(f"          of which event acked -> planned in the log p50 {statistics.median(planned):.0f} ms, "
              f"planned -> accepted by SMTP p50 {statistics.median(delivered):.0f} ms")
        return rate, lags
    finally:
        stop(worker)
        await publisher.stop()
        await client.drop_database(database)
        client.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--lag-samples", type=int, default=100)
    args = parser.parse_args()
    for concurrency in (1, 4, 8):
        print(f"channel   concurrency {concurrency}: {await channel_rate(args.messages, concurrency):7.1f} messages/s "
              f"to the local SMTP server")
    rate, lags = await worker_figures(args.messages, args.lag_samples)
    print(f"worker    end to end ({args.messages} enrollments, concurrency 8): {rate:7.1f} messages/s")
    print(f"lag       enrollment event acked -> email captured, {len(lags)} samples: "
          f"p50 {statistics.median(lags):.0f} ms, p99 {percentile(lags, 99):.0f} ms, max {max(lags):.0f} ms")


if __name__ == "__main__":
    asyncio.run(main())
