"""The metrics that need more than a counter, without the stack: the outbox backlog and the age of
its oldest event kept current between sweeps (never reset while events wait), the consumer lag a
worker exports, dead letters by a bounded reason."""

from __future__ import annotations

import time
from dataclasses import dataclass

from aiokafka.errors import KafkaConnectionError
from prometheus_client import REGISTRY

from emm_common import metrics
from emm_common.consumer import dead_letter_kind
from emm_common.documents import outbox_map
from emm_common.envelope import new_event
from emm_common.outbox import OutboxRelay
from tests.unit.shared.fakes import FakeCollection, FakePublisher


def completed(session_id: str):
    return new_event("org.iom.emm.session.completed.v1",
                     {"session_id": session_id, "completed_at": "2026-05-18T17:00:00Z"}, source="/emm/test")


def value(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


class BrokerAway(FakePublisher):
    async def send(self, event):
        raise KafkaConnectionError("broker away")


async def test_events_waiting_for_the_broker_are_counted_and_age_until_they_leave():
    sessions = FakeCollection("sessions_backlog_1")
    events = [completed("ses-a"), completed("ses-a")]
    sessions.documents["ses-a@1"] = {"_id": "ses-a@1", "version": 1, "outbox": outbox_map(events, 1)}
    relay = OutboxRelay(BrokerAway(), [sessions])
    try:
        await relay.relay_once()
    except KafkaConnectionError:
        pass
    assert value("emm_outbox_pending", collection=sessions.name) == 2
    first_age = value("emm_outbox_oldest_event_age_seconds", collection=sessions.name)
    time.sleep(0.05)
    # no sweep in between: the age grows at every scrape, and the backlog is not reset
    assert value("emm_outbox_oldest_event_age_seconds", collection=sessions.name) > first_age
    assert value("emm_outbox_pending", collection=sessions.name) == 2

    published = await OutboxRelay(FakePublisher(), [sessions]).publish_document(sessions, "ses-a@1")
    assert published == 2
    assert value("emm_outbox_pending", collection=sessions.name) == 0
    assert value("emm_outbox_oldest_event_age_seconds", collection=sessions.name) == 0


def test_a_commit_counts_at_once_and_a_sweep_keeps_when_each_event_was_first_seen():
    backlog = metrics.OutboxBacklog()
    backlog.waiting("enrollments", ["e1"])
    first_seen = backlog._waiting["enrollments"]["e1"]
    backlog.swept("enrollments", ["e1", "e2"])
    assert backlog._waiting["enrollments"]["e1"] == first_seen and set(backlog._waiting["enrollments"]) == {"e1", "e2"}
    backlog.left("enrollments", ["e1", "e2"])
    [pending, oldest] = backlog.collect()
    assert [s.value for s in pending.samples] == [0] and [s.value for s in oldest.samples] == [0.0]


@dataclass(frozen=True)
class TP:
    topic: str
    partition: int


class FakeConsumer:
    """What report_consumer_lag reads of faust's consumer."""

    def __init__(self, assigned, highwaters, committed, earliest) -> None:
        self._assigned, self._highwaters, self._committed_offset, self._earliest = (
            assigned, highwaters, committed, earliest)

    def assignment(self):
        return set(self._assigned)

    async def highwaters(self, *tps):
        return {tp: self._highwaters[tp] for tp in tps}

    async def earliest_offsets(self, *tps):
        return {tp: self._earliest[tp] for tp in tps}


async def test_the_lag_is_the_high_watermark_less_the_committed_offset_per_partition():
    a, b = TP("t.emm.enrollments", 0), TP("t.emm.enrollments", 1)
    await metrics.report_consumer_lag("lag-test", FakeConsumer([a, b], {a: 120, b: 7}, {a: 100}, {b: 2}))
    assert value("emm_consumer_lag_records", group="lag-test", topic=a.topic, partition="0") == 20
    assert value("emm_consumer_lag_records", group="lag-test", topic=b.topic, partition="1") == 5  # nothing committed
    # partition 1 moved to another worker: this one stops reporting it
    await metrics.report_consumer_lag("lag-test", FakeConsumer([a], {a: 120}, {a: 120}, {}))
    assert value("emm_consumer_lag_records", group="lag-test", topic=a.topic, partition="0") == 0
    assert value("emm_consumer_lag_records", group="lag-test", topic=b.topic, partition="1") is None


def test_dead_letter_reasons_are_a_few_kinds_not_free_text():
    assert dead_letter_kind("malformed: not a CloudEvent") == "malformed"
    assert dead_letter_kind("rejected by handler: unknown session") == "rejected"
    assert dead_letter_kind("gave up after 300s of transient failures: ...") == "transient_timeout"
    assert dead_letter_kind("handler failed 3 times: KeyError: 'x'") == "handler_failed"
