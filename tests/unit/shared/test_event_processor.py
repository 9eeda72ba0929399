"""The consumer's processing core: dispatch, retry, dead-letter. The dead-letter port is an
in-memory fake of our own (the real topic is exercised in tests/integration/shared)."""

from __future__ import annotations

from pymongo.errors import AutoReconnect, OperationFailure

from emm_common import contract
from emm_common.consumer import ConsumedRecord, EventProcessor, PoisonEvent
from emm_common.envelope import new_event, to_record
from emm_common.store import VersionConflict

COMPLETED = "org.iom.emm.session.completed.v1"


class DeadLetters:
    def __init__(self):
        self.records = []

    async def send(self, topic, value, key, headers):
        self.records.append((topic, value, key, dict(headers)))


def consumed(event, offset=7) -> ConsumedRecord:
    record = to_record(event)
    return ConsumedRecord("emm.sessions", 2, offset, record.key, record.value, record.headers)


def completed_event():
    return new_event(COMPLETED, contract.spec_for(COMPLETED).schema["examples"][0], source="/test")


def processor(handlers, dead_letters, **kwargs):
    return EventProcessor("evaluation", handlers, dead_letters.send, "emm.dlq.evaluation",
                          backoff_seconds=0.001, **kwargs)


async def test_valid_event_reaches_its_handler():
    seen, dlq = [], DeadLetters()

    async def handle(event):
        seen.append(event.id)

    event = completed_event()
    assert await processor({COMPLETED: handle}, dlq).process(consumed(event)) == "applied"
    assert seen == [event.id] and dlq.records == []


async def test_event_nobody_handles_is_ignored():
    assert await processor({}, DeadLetters()).process(consumed(completed_event())) == "ignored"


async def test_malformed_record_is_dead_lettered_with_reason_and_origin():
    dlq = DeadLetters()
    record = ConsumedRecord("emm.sessions", 3, 42, b"k", b"\x00not json", [])
    assert await processor({}, dlq).process(record) == "dead_lettered"
    topic, value, key, headers = dlq.records[0]
    assert (topic, value, key) == ("emm.dlq.evaluation", b"\x00not json", b"k")
    assert headers["dlq_reason"].startswith(b"malformed")
    assert (headers["dlq_original_topic"], headers["dlq_original_partition"], headers["dlq_original_offset"]) == (
        b"emm.sessions", b"3", b"42")


async def test_connection_loss_is_retried_until_it_heals():
    calls, dlq = [], DeadLetters()

    async def handle(event):
        calls.append(1)
        if len(calls) < 4:
            raise AutoReconnect("database restarting")

    assert await processor({COMPLETED: handle}, dlq, max_attempts=2).process(consumed(completed_event())) == "applied"
    assert len(calls) == 4 and dlq.records == []


async def test_failing_handler_is_tried_a_bounded_number_of_times_then_dead_lettered():
    calls, dlq = [], DeadLetters()

    async def handle(event):
        calls.append(1)
        raise KeyError("bug")

    outcome = await processor({COMPLETED: handle}, dlq, max_attempts=3).process(consumed(completed_event()))
    assert outcome == "dead_lettered" and len(calls) == 3
    assert b"KeyError" in dlq.records[0][3]["dlq_reason"]


async def test_poison_event_is_dead_lettered_at_once():
    calls, dlq = [], DeadLetters()

    async def handle(event):
        calls.append(1)
        raise PoisonEvent("session unknown forever")

    assert await processor({COMPLETED: handle}, dlq).process(consumed(completed_event())) == "dead_lettered"
    assert len(calls) == 1 and b"session unknown forever" in dlq.records[0][3]["dlq_reason"]


async def test_dead_letter_write_is_retried_not_skipped():
    dlq, failures = DeadLetters(), []

    async def flaky_send(topic, value, key, headers):
        if len(failures) < 2:
            failures.append(1)
            raise ConnectionError("broker away")
        await dlq.send(topic, value, key, headers)

    proc = EventProcessor("evaluation", {}, flaky_send, "emm.dlq.evaluation", backoff_seconds=0.001)
    assert await proc.process(ConsumedRecord("emm.sessions", 0, 1, None, b"junk", [])) == "dead_lettered"
    assert len(dlq.records) == 1


async def test_ferretdb_failing_a_query_it_cancelled_is_waited_out_not_dead_lettered():
    """FerretDB answers an operation it abandoned (a backend busy or restarting) with an
    OperationFailure whose message says `context canceled`; so does a SQLite `database is locked`.
    Both heal by themselves: more than max_attempts of them must not dead-letter the event; nor
    must a run of version conflicts between two worker instances."""
    seen, dlq = [], DeadLetters()
    failures = [OperationFailure("(InternalError) context canceled", 1),
                OperationFailure("database is locked (5) (SQLITE_BUSY)", 1),
                OperationFailure("context deadline exceeded", 1), VersionConflict("trainers/trn-1")]

    async def handle(event):
        if failures:
            raise failures.pop(0)
        seen.append(event.id)

    event = completed_event()
    assert await processor({COMPLETED: handle}, dlq, max_attempts=2).process(consumed(event)) == "applied"
    assert seen == [event.id] and dlq.records == []
