"""The offline rebuild (emm_notification.entrypoints.rebuild) against the real broker and database:
after a whole programme through the live worker, a fresh replay of the topics gives the same
read projections, digest for digest, and the same plan of the log (ids, kinds, recipients and
sessions; the scheduler's reminders aside); it sends and publishes nothing; and
an altered live document is caught, while a delivery outcome is not part of what is compared."""

from __future__ import annotations

import asyncio

import pytest

from emm_common.rebuild import collection_digests, end_offsets
from emm_common.topics import all_topics, topic_name
from emm_notification.adapters.planned_notifications import COLLECTION, plan_of
from emm_notification.config import Settings
from emm_notification.entrypoints.rebuild import PROJECTIONS, rebuild
from emm_notification.entrypoints.worker import TOPICS
from tests.conftest import KAFKA, MONGODB_URI, eventually
from tests.integration.notification.harness import contact, evaluation_closed, event, mailbox, staff, start_worker
from tests.processes import stop
from tests.unit.notification import examples as ex

pytestmark = pytest.mark.integration


class Programme:
    """One session's people and events, with ids and addresses unique to the test."""

    def __init__(self, unique: str) -> None:
        self.unique = unique
        self.session_id = f"ses-{unique}"

    def pid(self, name: str) -> str:
        return f"par-{name}-{self.unique}"

    def address(self, name: str) -> str:
        return f"{name}.{self.unique}@example.org"

    def session(self, **changes) -> dict:
        return ex.session(session_id=self.session_id, facilitator_ids=[self.pid("fatou")], capacity=4, **changes)

    def about(self, name: str, payload: dict) -> dict:
        return payload | {"session_id": self.session_id, "participant_id": self.pid(name)}


async def plans(database, collection: str) -> str:
    return (await collection_digests(database, [collection], plan_of))[collection]


async def test_a_rebuild_plans_what_the_live_worker_planned_and_sends_nothing(publisher, mongo_database, unique,
                                                                             topic_prefix):
    live, p = mongo_database, Programme(unique)
    worker = start_worker(topic_prefix, live.name)
    rebuilt = live.client[f"{live.name}_rebuild"]
    try:
        async def publish(*events, until):
            for e in events:
                await publisher.publish(e)
            await eventually(until, timeout=60)

        people = {"aminata": ("fr", True), "john": ("en", True), "joao": ("pt", True), "moussa": ("fr", False),
                  "fatou": ("fr", True)}
        await publish(event("session.scheduled.v1", {"session": p.session()}),
                      *(contact(p.pid(n), p.address(n), lang, consent) for n, (lang, consent) in people.items()
                        if n != "fatou"), staff(p.pid("fatou"), p.address("fatou")),
                      until=lambda: _count(live.contacts, 5))
        # awa has no contact yet: her messages wait for it.
        await publish(*(event("enrollment.registered.v1", p.about(n, ex.enrollment_registered(p.pid(n))))
                        for n in ("aminata", "john", "moussa", "awa")),
                      until=lambda: _roster(live, p, lambda r: len(r["registered_ids"]) == 4))
        await publish(event("enrollment.waitlisted.v1", p.about("joao", ex.enrollment_waitlisted(p.pid("joao"), 1))),
                      until=lambda: _roster(live, p, lambda r: r["waitlisted_ids"] == [p.pid("joao")]))
        await publish(event("enrollment.cancelled.v1", p.about("john", ex.enrollment_cancelled(p.pid("john")))),
                      until=lambda: _roster(live, p, lambda r: p.pid("john") not in r["registered_ids"]))
        await publish(event("enrollment.promoted.v1", p.about("joao", ex.enrollment_promoted(p.pid("joao")))),
                      until=lambda: _roster(live, p, lambda r: p.pid("joao") in r["registered_ids"]))
        await publish(event("session.updated.v1", {"session": p.session(venue="King Fahd Palace", sequence=2),
                                                   "changed_fields": ["venue"]}),
                      until=lambda: live.sessions.find_one({"_id": p.session_id, "snapshot.sequence": 2}))
        await publish(event("session.completed.v1", {"session_id": p.session_id,
                                                     "completed_at": "2026-05-18T17:00:00Z"}),
                      until=lambda: live.sessions.find_one({"_id": p.session_id, "status": "completed"}))
        # The session ended months ago: the scheduler plans evaluation reminders at once, from the clock.
        await eventually(lambda: live.notifications.find_one({"kind": "evaluation_reminder"}), timeout=60)
        await publish(*(event("feedback.submitted.v1", p.about(n, ex.feedback_submitted(f"sub-{n}-{unique}",
                                                                                         p.pid(n))))
                        for n in ("aminata", "joao", "moussa", "awa")),
                      evaluation_closed(p.session_id, 4, 4),
                      until=lambda: live.notifications.find_one({"kind": "report_ready"}))
        await publisher.send_raw(topic_name("emm.enrollments", topic_prefix), b"not a cloud event",
                                 p.session_id.encode(), [])
        await publish(event("trainer.certified.v1", ex.trainer_certified(p.pid("aminata")) | {
            "session_id": p.session_id}), contact(p.pid("awa"), p.address("awa"), "fr"),
                      until=lambda: live.notifications.find_one({"kind": "trainer_certified"}))
        # The contact releases awa's waiting messages: a delivery-state change, not part of the plan.
        await eventually(lambda: _count(live.notifications, 0, recipient_participant_id=p.pid("awa"),
                                        status="awaiting_contact"), timeout=60)
        await eventually(lambda: asyncio.to_thread(mailbox, p.address("aminata")), timeout=60)
    finally:
        stop(worker)
    before = await end_offsets(KAFKA, sorted(topic_name(t, topic_prefix) for t in all_topics()))
    sent_before = {n: len(await asyncio.to_thread(mailbox, p.address(n))) for n in (*people, "awa")}
    try:
        stats = await rebuild(Settings(kafka_bootstrap_servers=KAFKA, mongodb_uri=MONGODB_URI,
                                       topic_prefix=topic_prefix, mongodb_database=live.name), rebuilt.name)

        assert await end_offsets(KAFKA, sorted({tp.topic for tp in before})) == before
        await asyncio.sleep(1)
        assert {n: len(await asyncio.to_thread(mailbox, p.address(n))) for n in sent_before} == sent_before
        consumed = {topic_name(t, topic_prefix) for t in TOPICS}
        assert stats.events == sum(offset for tp, offset in before.items() if tp.topic in consumed)
        assert stats.poison == 1 and stats.copied == {}
        assert await collection_digests(rebuilt, PROJECTIONS) == await collection_digests(live, PROJECTIONS)
        # 7 enrollment messages, 4 session updates and 4 evaluation invitations to the registered,
        # the organizer digest, the certificate; the live log has evaluation reminders besides.
        assert stats.documents[COLLECTION] == 17 == await live.notifications.count_documents(
            {"kind": {"$nin": ["session_reminder", "evaluation_reminder"]}})
        assert await plans(rebuilt, COLLECTION) == await plans(live, "notifications")

        # A delivery outcome is not compared; a changed plan or projection is caught.
        await live.notifications.update_many({}, {"$set": {"status": "failed", "attempts": 9}})
        assert await plans(rebuilt, COLLECTION) == await plans(live, "notifications")
        await live.notifications.update_one({"kind": "report_ready"}, {"$set": {"kind": "session_updated"}})
        assert await plans(rebuilt, COLLECTION) != await plans(live, "notifications")
        await live.rosters.update_one({"_id": p.session_id}, {"$set": {"waitlisted_ids": [p.pid("john")]}})
        live_digests, rebuilt_digests = await collection_digests(live, PROJECTIONS), await collection_digests(
            rebuilt, PROJECTIONS)
        assert {name for name in PROJECTIONS if live_digests[name] != rebuilt_digests[name]} == {"rosters"}
    finally:
        await live.client.drop_database(rebuilt.name)


async def _count(collection, expected: int, **query) -> bool:
    return await collection.count_documents(query) == expected


async def _roster(live, programme: Programme, holds) -> bool:
    roster = await live.rosters.find_one({"_id": programme.session_id})
    return roster is not None and holds(roster)
