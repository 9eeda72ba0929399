"""The notification worker under failure, as a real process against the real broker, database and
SMTP servers: the mail server down for a while, and the worker killed mid-stream.

The one window a crash cannot be kept out of is between the SMTP server's acceptance and the log
write that records it: there is no transaction spanning an SMTP server and a database. A worker
killed in that window leaves the entry `sending`; after the claim lease another attempt is made
and the message goes again, with the same Message-ID (derived from the notification id), while
the log records the interrupted attempt and marks the entry `possible_duplicate`. With
NOTIFICATION_DELIVERY_CONCURRENCY=c, at most c messages can be in that window at once.
`test_kill_between_smtp_acceptance_and_log_write_gives_one_recognisable_duplicate` proves it.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import eventually
from tests.integration.notification.harness import HOST, Mailbox, address, enrollments, mailbox, start_worker
from tests.processes import free_port, stop

pytestmark = pytest.mark.integration


def message_ids(addresses: list[str]) -> Counter:
    return Counter(m["message_id"] for a in addresses for m in mailbox(a))


async def test_mail_server_down_for_a_while_messages_are_retried_and_all_delivered_once(
        publisher, topic_prefix, mongo_database, unique):
    box, port = Mailbox(), free_port()
    worker = start_worker(topic_prefix, mongo_database.name, smtp_port=port)
    try:
        names = [f"p{i}" for i in range(5)]
        for e in enrollments(unique, names):
            await publisher.publish(e)
        log = mongo_database.notifications
        # Nothing listens on the port: every attempt is refused, and retried.
        await eventually(lambda: _all_retrying(log, 5), timeout=120)
        server = Controller(box, hostname=HOST, port=port)
        server.start()
        try:
            await eventually(lambda: _count(log, {"status": "sent"}, 5), timeout=120)
            await asyncio.sleep(1)
        finally:
            server.stop()
        recipients = sorted(rcpt for rcpts, _ in box.messages for rcpt in rcpts)
        assert recipients == sorted(address(unique, n) for n in names)  # all delivered, once each
        async for entry in log.find({}):
            outcomes = [h["outcome"] for h in entry["history"]]
            assert outcomes[-1] == "sent" and "retry" in outcomes
            assert "mail server unreachable" in next(h["reason"] for h in entry["history"] if h["outcome"] == "retry")
    finally:
        stop(worker)


async def _all_retrying(log, n: int) -> bool:
    return await log.count_documents({"status": "retrying", "attempts": {"$gte": 2}}) == n


async def _count(log, query: dict, n: int) -> bool:
    return await log.count_documents(query) >= n


async def _exited(process) -> bool:
    return process.poll() is not None


async def _received_at_least(addresses: list[str], n: int) -> bool:
    return sum((await asyncio.to_thread(message_ids, addresses)).values()) >= n


async def test_kill_between_smtp_acceptance_and_log_write_gives_one_recognisable_duplicate(
        publisher, topic_prefix, mongo_database, unique):
    names = [f"k{i}" for i in range(6)]
    addresses = [address(unique, n) for n in names]
    # One message at a time, and the worker dies right after the server accepted the third.
    worker = start_worker(topic_prefix, mongo_database.name, NOTIFICATION_TEST_EXIT_AFTER_SEND="3",
                          NOTIFICATION_DELIVERY_CONCURRENCY="1")
    try:
        for e in enrollments(unique, names):
            await publisher.publish(e)
        await eventually(lambda: _exited(worker), timeout=150)
        assert worker.returncode == 9
        assert sum(message_ids(addresses).values()) == 3
        worker = start_worker(topic_prefix, mongo_database.name, NOTIFICATION_DELIVERY_CONCURRENCY="1")
        log = mongo_database.notifications
        await eventually(lambda: _count(log, {"status": "sent"}, 6), timeout=150)
        await asyncio.sleep(1)
    finally:
        stop(worker)

    received = message_ids(addresses)
    assert len(received) == 6  # none lost
    [(duplicated, copies)] = [(mid, n) for mid, n in received.items() if n > 1]
    assert copies == 2  # one recognisable duplicate: the same Message-ID twice
    entry = await log.find_one({"_id": duplicated.strip("<>").split("@")[0]})
    assert entry["possible_duplicate"] is True and entry["status"] == "sent" and entry["attempts"] == 2
    # (contact_received may come first: the contacts topic is consumed independently)
    assert [h["outcome"] for h in entry["history"] if "attempt" in h] == ["interrupted", "sent"]
    assert await log.count_documents({"possible_duplicate": True}) == 1


async def test_worker_killed_mid_stream_and_restarted_loses_nothing_and_duplicates_only_flagged_messages(
        publisher, topic_prefix, mongo_database, unique):
    names = [f"m{i}" for i in range(30)]
    addresses = [address(unique, n) for n in names]
    events = enrollments(unique, names)
    first, rest = events[:1 + 30 + 20], events[1 + 30 + 20:]  # session, contacts, 20 registrations
    worker = start_worker(topic_prefix, mongo_database.name)
    log = mongo_database.notifications
    try:
        for e in first:
            await publisher.publish(e)
        await eventually(lambda: _received_at_least(addresses, 5), timeout=150)
        stop(worker, 9)  # SIGKILL, mid-stream
        for e in rest:
            await publisher.publish(e)
        await publisher.publish(first[-1])  # and a redelivery
        worker = start_worker(topic_prefix, mongo_database.name)
        await eventually(lambda: _count(log, {"status": "sent"}, 30), timeout=240)
        await asyncio.sleep(1)
    finally:
        stop(worker)

    received = message_ids(addresses)
    assert len(received) == 30  # none lost
    duplicated = {mid.strip("<>").split("@")[0] for mid, n in received.items() if n > 1}
    flagged = {e["_id"] async for e in log.find({"possible_duplicate": True})}
    assert duplicated <= flagged  # a copy only where the log says the worker died while sending it
    assert await log.count_documents({}) == 30
