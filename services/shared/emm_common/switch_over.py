"""Rebuild a service's projections into a new database and switch the service over to it,
without losing an event. Each service's command (`emm_<service>.entrypoints.switch_over`) runs
`switch_over` with its own handlers; docs/operations.md says how to run it.

1. Note the end offsets E0 of the service's topics, then rebuild offline into the new, empty
   database (emm_common.rebuild: a snapshot read from the earliest offsets, which reaches at least
   E0). The service keeps running on its live database meanwhile.
2. Catch up, with the service still running: apply to the new database every record from E0 up
   to the live consumer group's committed offsets, and wait until the group has committed past E0
   (from there on, everything the new database holds, the live worker has applied too).
3. Stop the service (`stop`: its API and its worker: the API writes the command side) and wait
   until its consumer group has no member. Its committed offsets C are now final.
4. Catch up to C. Publish whatever the live database's outboxes still hold (the stopped relays'
   leftovers: the restarted worker consumes what concerns it). Copy the collections that are no
   projection (the command side, the notification log) from the live database.
5. Move the live-database pointer (emm_common.live_database) to the new database and start the
   service (`start`): it reads the pointer at start, and its worker resumes from C.

Every record below C is in the new database (steps 1, 2, 4); the worker applies every record
from C on. Records applied twice (between E0 and the snapshot's own end, or redelivered after
C) change nothing: the transitions are idempotent. The catch-up decides and publishes nothing,
as a rebuild: the live worker published those records' consequences already. Should anything
fail before the pointer moves, the service is started again on its live database, unchanged.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Awaitable, Callable, Iterable, Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from emm_common import live_database, mongo
from emm_common.consumer import ConsumedRecord, EventProcessor, Handler
from emm_common.outbox import OutboxRelay
from emm_common.publisher import EventPublisher
from emm_common.rebuild import RebuildStats, TargetNotEmpty, copy_collections, ensure_empty, rebuild_projections
from emm_common.settings import ServiceSettings
from emm_common.snapshot import end_offsets
from emm_common.staging import StagingStore
from emm_common.topics import dead_letter_topic, topic_name

log = logging.getLogger(__name__)

Offsets = dict[TopicPartition, int]


@dataclass(frozen=True)
class ServiceRebuild:
    """What a service's switch-over needs from it: the topics its worker consumes, the collections
    rebuilt from them, the rebuild's handlers on the in-memory store (`staging`) and on a real
    database (the catch-up), every collection whose outbox a relay of the service publishes, and
    whether the other collections are copied from the live database."""

    topics: tuple[str, ...]
    staged: tuple[str, ...]
    memory_handlers: Callable[[Any], Mapping[str, Handler]]
    database_handlers: Callable[[Any], Mapping[str, Handler]]
    outbox_collections: Callable[[Any], list[Any]]
    copy_the_rest: bool = True
    staging: Callable[[tuple[str, ...]], Any] = StagingStore


@dataclass
class SwitchReport:
    live: str = ""
    target: str = ""
    rebuild: RebuildStats | None = None
    caught_up_running: int = 0
    caught_up_stopped: int = 0
    outbox_published: int = 0
    copied: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    stopped_seconds: float = 0.0
    switched: bool = False

    def report(self) -> str:
        lines = [self.rebuild.report() if self.rebuild else "",
                 f"catch-up:  {self.caught_up_running} records while running, {self.caught_up_stopped} once stopped",
                 f"outboxes:  {self.outbox_published} events the live database still held, published",
                 f"copied:    {sum(self.copied.values())} documents {dict(self.copied)}",
                 f"switched:  {self.live} -> {self.target}" if self.switched else f"not switched: still {self.live}",
                 f"took {self.seconds:.1f} s; the service was stopped for {self.stopped_seconds:.1f} s"]
        return "\n".join(line for line in lines if line)


def consumer_group(settings: ServiceSettings) -> str:
    """The worker's Kafka consumer group (the faust app's id, emm_common.worker)."""
    return f"{settings.topic_prefix}{settings.consumer_group or settings.service_name}"


async def committed_offsets(settings: ServiceSettings, partitions: Iterable[TopicPartition]) -> Offsets:
    """The group's committed offset of each partition; -1 where it has none."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        found = await admin.list_consumer_group_offsets(consumer_group(settings), partitions=list(partitions))
    finally:
        await admin.close()
    return {tp: (meta.offset if meta is not None else -1) for tp, meta in found.items()}


async def group_members(settings: ServiceSettings) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        [response] = await admin.describe_consumer_groups([consumer_group(settings)])
    finally:
        await admin.close()
    return sum(len(group[5]) for group in response.groups)  # (error, id, state, protocol type, protocol, members)


async def beginning_offsets(bootstrap_servers: str, partitions: list[TopicPartition]) -> Offsets:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        return await consumer.beginning_offsets(partitions)
    finally:
        await consumer.stop()


async def wait_for(check: Callable[[], Awaitable[bool]], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} after {timeout:.0f} s")
        await asyncio.sleep(0.5)


async def records_between(bootstrap_servers: str, starts: Offsets, ends: Offsets) -> AsyncIterator[ConsumedRecord]:
    """Every record at offsets [starts[tp], ends[tp]) of each partition, in offset order per
    partition (no consumer group, nothing committed)."""
    todo = {tp: (starts[tp], ends[tp]) for tp in ends if ends[tp] > starts.get(tp, 0)}
    if not todo:
        return
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest", client_id="emm-switch-over")
    await consumer.start()
    try:
        consumer.assign(sorted(todo))
        for tp, (start, _) in todo.items():
            consumer.seek(tp, start)
        while todo:
            for tp, fetched in (await consumer.getmany(*todo, timeout_ms=500)).items():
                end = todo[tp][1]
                for record in fetched:
                    if record.offset < end:
                        yield ConsumedRecord(record.topic, record.partition, record.offset, record.key,
                                             record.value, list(record.headers or ()))
                if fetched and fetched[-1].offset >= end - 1:
                    del todo[tp]
                    consumer.pause(tp)
            for tp in [tp for tp in todo if await consumer.position(tp) >= todo[tp][1]]:
                del todo[tp]
    finally:
        await consumer.stop()


class CatchUp:
    """Applies records to the new database with the rebuild's handlers; remembers how far."""

    def __init__(self, settings: ServiceSettings, handlers: Mapping[str, Handler], positions: Offsets) -> None:
        self.settings = settings
        self.positions = dict(positions)

        async def already_dead_lettered(*_: Any) -> None:
            """The live worker dead-lettered this record already."""

        self.processor = EventProcessor(
            settings.service_name, dict(handlers), already_dead_lettered,
            topic_name(dead_letter_topic(settings.service_name), settings.topic_prefix),
            max_attempts=settings.consumer_max_attempts, transient_retry_seconds=settings.transient_retry_seconds)

    async def to(self, ends: Offsets) -> int:
        """Apply every record from the positions reached up to `ends`; return how many."""
        applied = 0
        async for record in records_between(self.settings.kafka_bootstrap_servers, self.positions, ends):
            await self.processor.process(record)
            self.positions[TopicPartition(record.topic, record.partition)] = record.offset + 1
            applied += 1
        for tp, end in ends.items():
            self.positions[tp] = max(self.positions.get(tp, 0), end)
        return applied


async def switch_over(settings: ServiceSettings, service: ServiceRebuild, target_name: str, *,
                      stop: Callable[[], Awaitable[None]], start: Callable[[], Awaitable[None]],
                      stop_timeout: float = 300.0, keep_up_timeout: float = 600.0) -> SwitchReport:
    """Rebuild into the empty database `target_name` and switch the service to it (see the module)."""
    began = time.monotonic()
    client = mongo.client_for(settings)
    home = client[settings.database_name]
    if not settings.follow_live_database:
        raise ValueError(f"{settings.service_name} does not read the live-database pointer (follow_live_database)")
    live = await live_database.resolve(settings, home)
    report = SwitchReport(live=live.name, target=target_name)
    if target_name in (live.name, home.name):
        raise ValueError(f"{target_name} is the live or the home database; switch over to a new one")
    target = client[target_name]
    try:
        await ensure_empty(target)
        names = [topic_name(t, settings.topic_prefix) for t in service.topics]
        starts = await end_offsets(settings.kafka_bootstrap_servers, names)
        report.rebuild = await rebuild_projections(settings, service.topics, target, service.staged,
                                                   service.memory_handlers, staging=service.staging)
        catch_up = CatchUp(settings, service.database_handlers(target), starts)
        report.caught_up_running = await catch_up.to(await committed_offsets(settings, starts))

        firsts = await beginning_offsets(settings.kafka_bootstrap_servers, list(starts))

        async def live_worker_passed_the_snapshot() -> bool:
            committed = await committed_offsets(settings, starts)
            return all(committed[tp] >= end for tp, end in starts.items() if end > firsts[tp])

        await wait_for(live_worker_passed_the_snapshot, "the live worker has not committed past the rebuild's "
                       "snapshot (is it running?)", keep_up_timeout)
        report.caught_up_running += await catch_up.to(await committed_offsets(settings, starts))
        stopped = time.monotonic()
        try:
            await stop()
            async def no_member() -> bool:
                return await group_members(settings) == 0

            await wait_for(no_member, f"consumer group {consumer_group(settings)} still has members", stop_timeout)
            report.caught_up_stopped = await catch_up.to(await committed_offsets(settings, starts))
            report.outbox_published = await publish_leftovers(settings, service.outbox_collections(live))
            if service.copy_the_rest:
                report.copied = await copy_collections(
                    live, target, exclude=(*service.staged, live_database.POINTER))
            await live_database.point_to(home, target_name, previous=live.name)
            report.switched = True
        finally:
            await start()  # on the new database if switched, else on the live one, unchanged
            report.stopped_seconds = time.monotonic() - stopped
    finally:
        report.seconds = time.monotonic() - began
        closing = mongo.close(home)
        if closing is not None:
            await closing
    return report


async def publish_leftovers(settings: ServiceSettings, collections: list[Any]) -> int:
    """Publish every event still in the outboxes of `collections` (the relays are stopped)."""
    publisher = EventPublisher(settings.kafka_bootstrap_servers, settings.topic_prefix,
                               client_id=f"{settings.service_name}-switch-over")
    await publisher.start()
    try:
        return await OutboxRelay(publisher, collections).relay_once()
    finally:
        await publisher.stop()


def shell(command: str | None, what: str) -> Callable[[], Awaitable[None]]:
    """A hook that runs `command` in a shell (failing if it fails), or, without one, asks the
    operator and waits for Enter."""
    async def run() -> None:
        if command is None:
            await asyncio.to_thread(input, f"{what}, then press Enter: ")
            return
        print(f"[switch-over] {what}: {command}", flush=True)
        await asyncio.to_thread(subprocess.run, command, shell=True, check=True)

    return run


def command_line(settings: ServiceSettings, service: ServiceRebuild, argv: list[str] | None = None) -> SwitchReport:
    """A service's switch-over command: `--database NAME` (new, empty; default
    `<home>_<UTC time>`), `--stop CMD` and `--start CMD` (shell commands that stop and start the
    service's API and worker; without them the command asks the operator to)."""
    parser = argparse.ArgumentParser(description=f"Rebuild the {settings.service_name} projections into a new "
                                     "database and switch the service over to it, without losing an event.")
    parser.add_argument("--database", help="the new database; it must be empty (default: <home>_<UTC time>)")
    parser.add_argument("--stop", help=f"shell command that stops every {settings.service_name} process "
                        "(API and worker) and returns once they are stopped")
    parser.add_argument("--start", help=f"shell command that starts the {settings.service_name} processes again")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    target = args.database or f"{settings.database_name}_{datetime.now(timezone.utc):%Y%m%d%H%M%S}"
    name = settings.service_name
    try:
        report = asyncio.run(switch_over(settings, service, target,
                                         stop=shell(args.stop, f"stop every {name} process (API and worker)"),
                                         start=shell(args.start, f"start the {name} API and worker")))
    except (ValueError, LookupError, TimeoutError, TargetNotEmpty, live_database.PointerMoved,
            subprocess.CalledProcessError) as exc:
        parser.exit(2, f"{parser.prog}: {exc}\n")
    print(report.report())
    return report
