"""The outbox relay sets aside an event the broker will never take, and carries on with the others."""

from __future__ import annotations

import pytest
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError, OutOfOrderSequenceNumber
from prometheus_client import REGISTRY

from emm_common.documents import outbox_map
from emm_common.envelope import Event, new_event
from emm_common.outbox import OutboxRelay, restore_parked
from tests.unit.shared.fakes import FakeCollection, FakePublisher

COMPLETED = "org.iom.emm.session.completed.v1"


def completed(session_id: str) -> Event:
    return new_event(COMPLETED, {"session_id": session_id, "completed_at": "2026-05-18T17:00:00Z"},
                     source="/emm/test")


def with_outbox(collection: FakeCollection, doc_id: str, events: list[Event]) -> None:
    collection.documents[doc_id] = {"_id": doc_id, "version": 1, "outbox": outbox_map(events, 1)}


def parked_count(collection: str, reason: str) -> float:
    return REGISTRY.get_sample_value("emm_outbox_parked_total", {"collection": collection, "reason": reason}) or 0.0


async def test_an_event_too_large_to_send_is_parked_and_the_others_are_published():
    sessions, publisher = FakeCollection("sessions_parking_1"), FakePublisher()
    first, too_large, last, next_one = completed("ses-a"), completed("ses-a"), completed("ses-a"), completed("ses-b")
    with_outbox(sessions, "ses-a@1", [first, too_large, last])
    with_outbox(sessions, "ses-b@1", [next_one])
    publisher.refuse_at_send[too_large.id] = MessageSizeTooLargeError("The message is 3400000 bytes")
    before = parked_count(sessions.name, "MessageSizeTooLargeError")

    assert await OutboxRelay(publisher, [sessions]).relay_once() == 3

    assert [e.id for e in publisher.published] == [first.id, last.id, next_one.id]
    document = sessions.documents["ses-a@1"]
    assert document["outbox"] == {}
    parked = document["parked_outbox"][too_large.id]
    assert parked["type"] == COMPLETED and parked["data"] == too_large.data
    assert parked["parked_reason"].startswith("MessageSizeTooLargeError")
    assert parked["parked_at"]
    assert parked_count(sessions.name, "MessageSizeTooLargeError") == before + 1
    assert sessions.documents["ses-b@1"]["outbox"] == {}
    assert await OutboxRelay(publisher, [sessions]).relay_once() == 0  # parked is not pending


async def test_parking_and_removal_are_one_write_of_the_document():
    sessions, publisher = FakeCollection("sessions_parking_2"), FakePublisher()
    good, bad = completed("ses-c"), completed("ses-c")
    with_outbox(sessions, "ses-c@1", [good, bad])
    publisher.refuse_at_send[bad.id] = MessageSizeTooLargeError()
    await OutboxRelay(publisher, [sessions]).publish_document(sessions, "ses-c@1")
    assert sessions.updates == 1


async def test_a_batch_the_broker_refuses_is_parked_and_the_producer_renewed(caplog):
    sessions, publisher = FakeCollection("sessions_parking_3"), FakePublisher()
    refused = completed("ses-d")
    with_outbox(sessions, "ses-d@1", [refused])
    publisher.fail_on_delivery[refused.id] = MessageSizeTooLargeError()

    with caplog.at_level("ERROR", logger="emm_common.outbox"):
        assert await OutboxRelay(publisher, [sessions]).publish_document(sessions, "ses-d@1") == 0

    assert list(sessions.documents["ses-d@1"]["parked_outbox"]) == [refused.id]
    # aiokafka's idempotent producer numbered its next batches past the refused one: only a new
    # producer gets the partition's later events accepted again
    assert publisher.renewals == 1
    [record] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert refused.id in record.getMessage() and COMPLETED in record.getMessage()
    assert "MessageSizeTooLargeError" in record.getMessage() and "ses-d@1" in record.getMessage()


async def test_an_outbox_entry_our_contract_does_not_know_is_parked():
    sessions, publisher = FakeCollection("sessions_parking_4"), FakePublisher()
    good = completed("ses-e")
    with_outbox(sessions, "ses-e@1", [good])
    sessions.documents["ses-e@1"]["outbox"]["odd"] = {**good.to_document(), "id": "odd",
                                                      "type": "org.iom.emm.session.exploded.v1", "seq": [1, 1]}
    assert await OutboxRelay(publisher, [sessions]).relay_once() == 1
    assert sessions.documents["ses-e@1"]["parked_outbox"]["odd"]["parked_reason"].startswith("ContractViolation")


@pytest.mark.parametrize("failure", [KafkaConnectionError("broker away"), OutOfOrderSequenceNumber()],
                         ids=["broker-away", "not-retriable-but-not-the-event-s-fault"])
async def test_a_failure_that_is_not_the_event_s_fault_keeps_it_for_the_next_try(failure):
    sessions, publisher = FakeCollection("sessions_parking_5"), FakePublisher()
    event = completed("ses-f")
    with_outbox(sessions, "ses-f@1", [event])
    publisher.fail_on_delivery[event.id] = failure
    with pytest.raises(type(failure)):
        await OutboxRelay(publisher, [sessions]).publish_document(sessions, "ses-f@1")
    assert list(sessions.documents["ses-f@1"]["outbox"]) == [event.id]
    assert "parked_outbox" not in sessions.documents["ses-f@1"]
    assert publisher.renewals == 0


async def test_events_published_before_a_retriable_failure_leave_the_outbox():
    sessions, publisher = FakeCollection("sessions_parking_6"), FakePublisher()
    published, waiting = completed("ses-g"), completed("ses-g")
    with_outbox(sessions, "ses-g@1", [published, waiting])
    publisher.refuse_at_send[waiting.id] = KafkaConnectionError("broker away")
    with pytest.raises(KafkaConnectionError):
        await OutboxRelay(publisher, [sessions]).publish_document(sessions, "ses-g@1")
    assert list(sessions.documents["ses-g@1"]["outbox"]) == [waiting.id]


async def test_restoring_parked_events_puts_them_back_in_the_outbox_in_their_order():
    sessions, publisher = FakeCollection("sessions_parking_7"), FakePublisher()
    events = [completed("ses-h") for _ in range(3)]
    with_outbox(sessions, "ses-h@1", events)
    for event in events[1:]:
        publisher.refuse_at_send[event.id] = MessageSizeTooLargeError()
    await OutboxRelay(publisher, [sessions]).relay_once()
    publisher.refuse_at_send.clear()  # the operator raised the topic's limit

    assert await restore_parked(sessions, "ses-h@1") == [e.id for e in events[1:]]
    assert sessions.documents["ses-h@1"]["parked_outbox"] == {}
    assert await OutboxRelay(publisher, [sessions]).relay_once() == 2
    assert [e.id for e in publisher.published] == [e.id for e in events]
