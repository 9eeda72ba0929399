"""Re-publishing dead letters after a fix: chosen records of a service's dead-letter topic go back
to their original topic, byte for byte, with their event ids.

    python -m emm_common.dead_letters --service evaluation --reason "unknown event type" [--dry-run]
    python -m emm_common.dead_letters --service notification --id <ce_id> --id <ce_id>
    python -m emm_common.dead_letters --service evaluation --failed-since 2026-05-17T00:00:00Z \\
        --failed-until 2026-05-18T00:00:00Z
    python -m emm_common.dead_letters --service evaluation --offsets 2:10-19   # DLQ partition 2, offsets 10..19

Selectors combine (a record must match every one given); `--all` selects every dead letter.
The dead-letter topic is read from its earliest offset up to its end at the start, with no
consumer group; nothing is removed from it (Kafka keeps it; the records republished name it).

A republished record is the original value, key (so the same partition) and headers, without the
`dlq_*` headers and with `emm_republished_from: <dead-letter topic>/<partition>@<offset>`. Every
consumer of the original topic receives it again: the one that failed applies it now, the others
find its id already applied or its fact already known (consumers are idempotent) and change
nothing. An event dead-lettered more than once is republished once per run; running the command
twice is as harmless as a redelivery. See docs/operations.md.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable

from emm_common.consumer import ConsumedRecord
from emm_common.publisher import EventPublisher
from emm_common.settings import ServiceSettings
from emm_common.snapshot import snapshot_records
from emm_common.topics import dead_letter_topic, topic_name

log = logging.getLogger(__name__)

REPUBLISHED_FROM = "emm_republished_from"


def utc_time(text: str) -> datetime:
    """An ISO 8601 time; one without an offset is taken as UTC."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class DeadLetter:
    """One record of a dead-letter topic, with what the consumer said about it."""

    record: ConsumedRecord
    reason: str
    original_topic: str
    original_partition: int | None
    original_offset: int | None
    failed_at: datetime | None
    event_id: str | None

    @classmethod
    def of(cls, record: ConsumedRecord) -> "DeadLetter":
        headers = {name: value.decode("utf-8", "replace") for name, value in record.headers or []}

        def number(name: str) -> int | None:
            return int(headers[name]) if headers.get(name, "").isdigit() else None

        try:
            failed_at = utc_time(headers["dlq_failed_at"])
        except (KeyError, ValueError):
            failed_at = None
        return cls(record, headers.get("dlq_reason", ""), headers.get("dlq_original_topic", ""),
                   number("dlq_original_partition"), number("dlq_original_offset"), failed_at,
                   headers.get("ce_id") or None)

    @property
    def where(self) -> str:
        return f"{self.record.topic}/{self.record.partition}@{self.record.offset}"

    def republished(self) -> tuple[str, bytes, bytes | None, list[tuple[str, bytes]]]:
        """(topic, value, key, headers) of the record to send back."""
        headers = [(name, value) for name, value in self.record.headers or []
                   if not name.startswith("dlq_") and name != REPUBLISHED_FROM]
        return (self.original_topic, self.record.value, self.record.key,
                headers + [(REPUBLISHED_FROM, self.where.encode())])

    def describe(self) -> str:
        origin = f"{self.original_topic}/{self.original_partition}@{self.original_offset}"
        return f"{self.where} (from {origin}, event {self.event_id or '-'}): {self.reason}"


@dataclass(frozen=True)
class OffsetRange:
    partition: int
    first: int
    last: int

    @classmethod
    def parse(cls, text: str) -> "OffsetRange":
        """`PARTITION:FIRST-LAST` (inclusive) or `PARTITION:OFFSET`."""
        partition, _, offsets = text.partition(":")
        first, _, last = offsets.partition("-")
        try:
            return cls(int(partition), int(first), int(last or first))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not PARTITION:FIRST-LAST") from None

    def covers(self, record: ConsumedRecord) -> bool:
        return record.partition == self.partition and self.first <= record.offset <= self.last


@dataclass(frozen=True)
class Selection:
    """Which dead letters to republish: every selector given must match (none given: nothing,
    unless `everything`)."""

    event_ids: frozenset[str] = frozenset()
    reason: str | None = None
    failed_since: datetime | None = None
    failed_until: datetime | None = None
    offsets: tuple[OffsetRange, ...] = ()
    everything: bool = False

    @property
    def empty(self) -> bool:
        return not (self.event_ids or self.reason or self.failed_since or self.failed_until or self.offsets
                    or self.everything)

    def matches(self, letter: DeadLetter) -> bool:
        if self.empty or not letter.original_topic:
            return False
        if self.event_ids and letter.event_id not in self.event_ids:
            return False
        if self.reason and self.reason.casefold() not in letter.reason.casefold():
            return False
        if self.failed_since and not (letter.failed_at and letter.failed_at >= self.failed_since):
            return False
        if self.failed_until and not (letter.failed_at and letter.failed_at < self.failed_until):
            return False
        return not self.offsets or any(r.covers(letter.record) for r in self.offsets)


def chosen(letters: Iterable[DeadLetter], selection: Selection) -> list[DeadLetter]:
    """The dead letters `selection` matches, in the order given, each event once (its first
    dead letter: an event dead-lettered again after an earlier republish has one record per time)."""
    found, seen = [], set()
    for letter in letters:
        if not selection.matches(letter):
            continue
        identity = letter.event_id or letter.where
        if identity not in seen:
            seen.add(identity)
            found.append(letter)
    return found


@dataclass
class Republished:
    read: int = 0
    letters: list[DeadLetter] = field(default_factory=list)
    sent: bool = False

    def report(self) -> str:
        verb = "republished" if self.sent else "would republish (dry run)"
        lines = [f"{self.read} dead letters read; {verb} {len(self.letters)}:"]
        return "\n".join(lines + [f"  {letter.describe()}" for letter in self.letters])


async def republish(settings: ServiceSettings, service: str, selection: Selection, *,
                    dry_run: bool = False) -> Republished:
    """Send the chosen dead letters of `service` back to their original topics (see the module)."""
    dlq = topic_name(dead_letter_topic(service), settings.topic_prefix)
    letters = [DeadLetter.of(record) async for record in snapshot_records(settings.kafka_bootstrap_servers, [dlq])]
    result = Republished(read=len(letters), letters=chosen(letters, selection))
    if dry_run or not result.letters:
        return result
    publisher = EventPublisher(settings.kafka_bootstrap_servers, settings.topic_prefix,
                               client_id=f"{service}-dead-letters")
    await publisher.start()
    try:
        for letter in result.letters:
            await publisher.send_raw(*letter.republished())
            log.info("republished %s", letter.describe())
    finally:
        await publisher.stop()
    result.sent = True
    return result


def command_line(argv: list[str] | None = None) -> Republished:
    parser = argparse.ArgumentParser(
        prog="python -m emm_common.dead_letters",
        description="Send chosen dead letters of a service back to their original topics, keeping their ids.")
    parser.add_argument("--service", required=True, choices=("evaluation", "notification"),
                        help="whose dead-letter topic (emm.dlq.<service>, after EMM_TOPIC_PREFIX)")
    parser.add_argument("--id", dest="event_ids", action="append", default=[], metavar="CE_ID",
                        help="an event id (the ce_id header); repeat for several")
    parser.add_argument("--reason", help="text the dead-letter reason contains (case ignored)")
    parser.add_argument("--failed-since", type=utc_time, metavar="ISO_TIME",
                        help="dead-lettered at or after this time (dlq_failed_at; UTC unless it says)")
    parser.add_argument("--failed-until", type=utc_time, metavar="ISO_TIME",
                        help="dead-lettered before this time")
    parser.add_argument("--offsets", action="append", default=[], type=OffsetRange.parse,
                        metavar="PARTITION:FIRST-LAST", help="a range of the dead-letter topic; repeat for several")
    parser.add_argument("--all", action="store_true", help="every dead letter (no other selector needed)")
    parser.add_argument("--dry-run", action="store_true", help="list what would be republished; send nothing")
    args = parser.parse_args(argv)
    selection = Selection(frozenset(args.event_ids), args.reason, args.failed_since, args.failed_until,
                          tuple(args.offsets), args.all)
    if selection.empty:
        parser.error("choose the dead letters: --id, --reason, --failed-since/--failed-until, --offsets or --all")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        result = asyncio.run(republish(ServiceSettings(service_name=args.service), args.service, selection,
                                       dry_run=args.dry_run))
    except LookupError as exc:
        parser.exit(2, f"{parser.prog}: {exc}\n")
    print(result.report())
    return result


if __name__ == "__main__":
    command_line()
