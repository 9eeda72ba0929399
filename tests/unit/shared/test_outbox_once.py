"""In normal operation (no process killed) the relay publishes each event once, however many
times it is told about its document."""

from __future__ import annotations

import asyncio

from emm_common.documents import outbox_map
from emm_common.envelope import new_event
from emm_common.outbox import OutboxRelay
from tests.unit.shared.fakes import FakeCollection, FakePublisher


def completed(session_id: str):
    return new_event("org.iom.emm.session.completed.v1",
                     {"session_id": session_id, "completed_at": "2026-05-18T17:00:00Z"}, source="/emm/test")


async def test_a_nudge_that_waited_behind_a_sweep_publishes_nothing_again():
    """The commit's nudge carries the outbox as written; a sweep that ran while the nudge waited
    in the queue has published and removed it already."""
    sessions, publisher = FakeCollection("sessions_once_1"), FakePublisher()
    event = completed("ses-a")
    outbox = outbox_map([event], 1)
    sessions.documents["ses-a@1"] = {"_id": "ses-a@1", "outbox": dict(outbox)}
    relay = OutboxRelay(publisher, [sessions])
    assert await relay.relay_once() == 1
    await relay.publish_document(sessions, "ses-a@1", {"_id": "ses-a@1", "outbox": outbox})
    assert [e.id for e in publisher.published] == [event.id]
    assert sessions.documents["ses-a@1"]["outbox"] == {}


async def test_an_event_published_whose_removal_failed_is_removed_later_without_a_second_publish():
    sessions, publisher = FakeCollection("sessions_once_2"), FakePublisher()
    event = completed("ses-b")
    sessions.documents["ses-b@1"] = {"_id": "ses-b@1", "outbox": outbox_map([event], 1)}
    relay = OutboxRelay(publisher, [sessions])
    update_one = sessions.update_one

    async def database_away(*args, **kwargs):
        raise ConnectionError("the database is away")
    sessions.update_one = database_away
    try:
        await relay.relay_once()
    except ConnectionError:
        pass
    sessions.update_one = update_one
    await relay.relay_once()
    assert [e.id for e in publisher.published] == [event.id]
    assert sessions.documents["ses-b@1"]["outbox"] == {}


async def test_another_process_sweeping_while_a_commit_is_nudged_publishes_it_once():
    """Two processes relay one collection (two API instances, or the API and the lifecycle clock):
    the one that committed is nudged; the other's periodic sweep, running at that moment, must
    leave a fresh entry to that nudge (it takes only entries older than its grace)."""
    sessions, publisher = FakeCollection("sessions_once_3"), FakePublisher()
    event = completed("ses-c")
    outbox = outbox_map([event], 1)
    sessions.documents["ses-c@1"] = {"_id": "ses-c@1", "outbox": dict(outbox)}
    committing, other = OutboxRelay(publisher, [sessions]), OutboxRelay(publisher, [sessions])
    committing.nudge("sessions_once_3", "ses-c@1", outbox)
    await run_until_relayed(sessions, "ses-c@1", other, committing)
    assert [e.id for e in publisher.published] == [event.id]
    assert sessions.documents["ses-c@1"]["outbox"] == {}


async def test_a_nudge_that_failed_is_published_by_its_own_relay_once_the_broker_is_back():
    """Not left to a sweep, which would wait for the grace (30 s) to run out."""
    sessions, publisher = FakeCollection("sessions_once_4"), FakePublisher()
    event = completed("ses-d")
    outbox = outbox_map([event], 1)
    sessions.documents["ses-d@1"] = {"_id": "ses-d@1", "outbox": dict(outbox)}
    send, away = publisher.send, {"times": 1}

    async def broker_away_once(e):
        if away["times"]:
            away["times"] -= 1
            raise ConnectionError("the broker is away")
        return await send(e)

    publisher.send = broker_away_once
    relay = OutboxRelay(publisher, [sessions], poll_seconds=0.01)
    relay.nudge("sessions_once_4", "ses-d@1", outbox)
    await run_until_relayed(sessions, "ses-d@1", relay)
    assert [e.id for e in publisher.published] == [event.id]


async def run_until_relayed(collection: FakeCollection, doc_id: str, *relays: OutboxRelay) -> None:
    """Run the relays until the document's outbox is empty (2 s at most), and a little longer, so
    that a second publication would show."""
    for relay in relays:
        relay.start()
    try:
        for _ in range(200):
            await asyncio.sleep(0.01)
            if not collection.documents[doc_id]["outbox"]:
                break
        await asyncio.sleep(0.05)
    finally:
        for relay in relays:
            await relay.stop()
