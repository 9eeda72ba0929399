"""Rebuild and switch over (emm_notification.entrypoints.switch_over) while people keep enrolling,
against the real broker, database and SMTP capture: every one of them gets exactly one
registration email, whether they enrolled before, during or after the switch; the worker ends
up on the new database, which holds the notification log copied from the live one."""

from __future__ import annotations

import asyncio

import pytest

from emm_common import live_database
from emm_common.rebuild import collection_digests
from emm_common.switch_over import switch_over
from emm_notification.config import Settings
from emm_notification.entrypoints.rebuild import PROJECTIONS, rebuild
from emm_notification.entrypoints.switch_over import service_rebuild
from tests.conftest import KAFKA, MONGODB_URI, eventually
from tests.integration.notification.harness import contact, event, mailbox, start_worker
from tests.integration.notification.test_rebuild import Programme
from tests.processes import stop
from tests.unit.notification import examples as ex

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


async def test_switch_over_while_people_enroll_sends_each_one_email_exactly(publisher, mongo_database, unique,
                                                                            topic_prefix):
    live, p = mongo_database, Programme(unique)
    target = live.client[f"{live.name}_v2"]
    workers = [start_worker(topic_prefix, live.name)]
    enrolled: list[str] = []
    stop_enrolling = asyncio.Event()

    async def keep_enrolling() -> None:
        n = 0
        while not stop_enrolling.is_set():
            name = f"p{n}"
            await publisher.publish(contact(p.pid(name), p.address(name), "en"))
            await publisher.publish(event("enrollment.registered.v1", p.about(name, {
                "enrollment_id": f"enr-{name}-{unique}", "participant": ex.participant(p.pid(name), "en"),
                "registered_at": "2026-04-02T10:00:00Z", "enrolled_by": "participant"})))
            enrolled.append(name)
            n += 1
            await asyncio.sleep(0.1)

    async def stop_service() -> None:
        await asyncio.to_thread(stop, workers[-1])

    async def start_service() -> None:
        workers.append(start_worker(topic_prefix, live.name))

    try:
        await publisher.publish(event("session.scheduled.v1", {"session": ex.session(session_id=p.session_id, capacity=200)}))
        enrolling = asyncio.create_task(keep_enrolling())
        await eventually(lambda: asyncio.to_thread(lambda: len(mailbox(p.address("p3"))) == 1), timeout=90)
        settings = Settings(kafka_bootstrap_servers=KAFKA, mongodb_uri=MONGODB_URI, topic_prefix=topic_prefix,
                            mongodb_database=live.name)
        try:
            report = await switch_over(settings, service_rebuild(settings), target.name,
                                       stop=stop_service, start=start_service)
            await asyncio.sleep(2.0)  # still enrolling, now into the new database
        finally:
            stop_enrolling.set()
            await enrolling
        assert report.switched and report.copied.get("notifications", 0) >= 4
        pointer = await live[live_database.POINTER].find_one({"_id": live_database.POINTER_ID})
        assert pointer["database"] == target.name

        async def everyone_has_their_email() -> bool:
            counts = await asyncio.to_thread(lambda: [len(mailbox(p.address(name))) for name in enrolled])
            return all(count >= 1 for count in counts)

        await eventually(everyone_has_their_email, timeout=120)
        await asyncio.sleep(3.0)  # time for a second email, if one were coming
        counts = await asyncio.to_thread(lambda: {name: len(mailbox(p.address(name))) for name in enrolled})
        assert set(counts.values()) == {1}, counts
        # The log of the emails sent after the switch is in the new database only.
        assert await target.notifications.count_documents({}) > await live.notifications.count_documents({})
        await asyncio.to_thread(stop, workers[-1])
        # The new database's projections equal a fresh rebuild of every topic: none was skipped.
        fresh = live.client[f"{live.name}_fresh"]
        await rebuild(settings.model_copy(update={"mongodb_database": target.name}), fresh.name)
        assert await collection_digests(target, PROJECTIONS) == await collection_digests(fresh, PROJECTIONS)
    finally:
        stop_enrolling.set()
        for worker in workers:
            await asyncio.to_thread(stop, worker)
        await live.client.drop_database(target.name)
        await live.client.drop_database(f"{live.name}_fresh")
