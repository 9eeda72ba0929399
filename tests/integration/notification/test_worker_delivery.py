"""The notification worker as a real process against the real broker, database and SMTP capture
server: the right email, in the participant's language, exactly once; a whole programme scenario;
poison to the dead-letter topic.

One worker serves the tests of this module (starting one takes seconds); each test uses its own
session, participant ids and recipient addresses.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import icalendar
import pytest
from aiokafka import AIOKafkaConsumer
from motor.motor_asyncio import AsyncIOMotorClient
from pymongo import MongoClient

from emm_common.auth import TokenVerifier, ensure_key_pair
from emm_common.envelope import to_record
from emm_common.publisher import EventPublisher
from emm_common.topics import all_topics, ensure_topics, topic_name
from tests.conftest import KAFKA, MONGODB_URI, eventually
from tests.integration.notification.harness import (calendar_of, contact, evaluation_closed, event, mailbox,
                                                   raw_message, staff, start_worker)
from tests.processes import stop
from tests.faults.observe import consumer_lag
from tests.topics import read_topic
from tests.unit.notification import examples as ex

pytestmark = pytest.mark.integration


PORTAL = "https://portal.example.org"


@pytest.fixture(scope="module")
def signing_keys(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("keys")
    ensure_key_pair(folder / "jwt.pem", folder / "jwt.pub.pem")
    return folder


@pytest.fixture(scope="module")
def worker(signing_keys):
    run = uuid.uuid4().hex[:10]
    prefix, database = f"t{run}.", f"test_ntf_{run}"
    # Evaluation reminders come 2 s after a session's completion here, so the scenario sees them.
    process = start_worker(prefix, database, NOTIFICATION_EVALUATION_REMINDER_DELAY_HOURS="0.0005",
                           EMM_JWT_PRIVATE_KEY_FILE=str(signing_keys / "jwt.pem"), EMM_PUBLIC_BASE_URL=PORTAL)
    yield prefix, database
    stop(process)
    MongoClient(MONGODB_URI).drop_database(database)


@pytest.fixture(scope="module")
def verifier(signing_keys) -> TokenVerifier:
    return TokenVerifier((signing_keys / "jwt.pub.pem").read_bytes())


def portal_link(message) -> tuple[str, str]:
    """The link token and the page of the one portal URL in an email (the same in its text and HTML)."""
    text, html = message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()
    [url] = set(re.findall(re.escape(PORTAL) + r"/signin\?\S+", text))
    assert f'href="{url.replace("&", "&amp;")}"' in html
    query = parse_qs(urlsplit(url).query)
    return query["link"][0], query["next"][0]


@pytest.fixture
async def publisher(worker):
    prefix, _ = worker
    await ensure_topics(KAFKA, {topic_name(t, prefix) for t in all_topics()}, partitions=3)
    publisher = EventPublisher(KAFKA, prefix)
    await publisher.start()
    yield publisher
    await publisher.stop()


@pytest.fixture
async def log(worker):
    client = AsyncIOMotorClient(MONGODB_URI, tz_aware=True)
    yield client[worker[1]].notifications
    client.close()


class Cast:
    """Unique session and participants for one test, with their addresses."""

    def __init__(self, unique: str) -> None:
        self.unique = unique
        self.session_id = f"ses-{unique}"

    def pid(self, name: str) -> str:
        return f"par-{name}-{self.unique}"

    def address(self, name: str) -> str:
        return f"{name}.{self.unique}@example.org"

    def session(self, **changes):
        return ex.session(session_id=self.session_id, facilitator_ids=[self.pid("fatou")], **changes)

    def registered(self, name: str, language: str = "fr", enrollment: str | None = None):
        payload = ex.enrollment_registered(self.pid(name), language) | {"session_id": self.session_id,
                                                                       "enrollment_id": enrollment or f"enr-{name}"}
        return event("enrollment.registered.v1", payload)


@pytest.fixture
def cast(unique) -> Cast:
    return Cast(unique)


async def publish(publisher, *events) -> None:
    for e in events:
        await publisher.publish(e)


async def arrived(address: str, count: int, timeout: float = 30.0) -> list[dict]:
    async def check():
        messages = await asyncio.to_thread(mailbox, address)
        return messages if len(messages) >= count else None
    return await eventually(check, timeout=timeout)


async def test_registered_participant_gets_a_confirmation_with_a_calendar_invitation_in_her_language(
        publisher, cast, verifier):
    await publish(publisher, event("session.scheduled.v1", {"session": cast.session()}),
                  contact(cast.pid("aminata"), cast.address("aminata"), "fr"), cast.registered("aminata", "fr"))
    [meta] = await arrived(cast.address("aminata"), 1)
    message = raw_message(meta["id"])
    assert message["Content-Language"] == "fr"
    assert "confirm" in message["Subject"].lower()
    assert message.get_body(("plain",)) is not None and message.get_body(("html",)) is not None
    calendar = icalendar.Calendar.from_ical(calendar_of(message))
    assert str(calendar["METHOD"]) == "REQUEST"
    [vevent] = calendar.walk("VEVENT")
    assert cast.session_id in str(vevent["UID"])
    # Her own link to her training in the portal, signed when the email was made.
    token, page = portal_link(message)
    link = verifier.verify_link(token)
    assert (link.purpose, link.subject, link.session_id, page) == (
        "participant-sign-in", cast.pid("aminata"), cast.session_id, f"/trainings/{cast.session_id}")


async def test_a_requested_staff_link_is_emailed_once_and_is_kept_nowhere(publisher, worker, cast, log, verifier):
    prefix, _ = worker
    staff_id = f"stf-{cast.unique}"
    requested = event("sign_in.requested.v1", ex.sign_in_requested(staff_id, session_id=None))
    await publish(publisher, event("staff.updated.v1", ex.staff_updated(staff_id, language="en") | {
        "email": cast.address("fatou")}), requested, requested)
    [meta] = await arrived(cast.address("fatou"), 1)
    message = raw_message(meta["id"])
    assert message["Subject"] == "Your sign-in link to EMM2.0"
    token, page = portal_link(message)
    link = verifier.verify_link(token)
    assert (link.purpose, link.subject, page) == ("staff-sign-in", staff_id, "/organize")
    await publish(publisher, requested)  # redelivered after the send
    await asyncio.sleep(2)
    assert len(mailbox(cast.address("fatou"))) == 1
    [entry] = [e async for e in log.find({"recipient_participant_id": staff_id})]
    assert entry["kind"] == "sign_in_link" and entry["status"] == "sent"
    # The link is in the email only: not in the log, on a topic, or in the worker's log file.
    assert token not in repr(entry)
    for topic in ("emm.notifications", "emm.contacts.internal"):
        records = await read_topic(topic_name(topic, prefix), 1, timeout=5)
        assert all(token.encode() not in r.value for r in records)
    worker_log = Path(os.environ.get("TMPDIR", "/tmp")) / f"notification-worker-{prefix}log"
    assert token not in worker_log.read_text(errors="replace")


async def test_the_evaluation_invitation_leads_to_the_evaluation_page(publisher, cast, verifier):
    await publish(publisher, event("session.scheduled.v1", {"session": cast.session()}),
                  contact(cast.pid("john"), cast.address("john"), "en"), cast.registered("john", "en"),
                  event("session.completed.v1", {"session_id": cast.session_id, "completed_at": "2026-05-18T17:00:00Z"}))
    messages = [raw_message(m["id"]) for m in await arrived(cast.address("john"), 2)]
    [invitation] = [m for m in messages if m["Subject"].startswith("Your feedback on")]
    token, page = portal_link(invitation)
    assert page == f"/trainings/{cast.session_id}/evaluation"
    assert verifier.verify_link(token).session_id == cast.session_id


async def test_participant_without_consent_gets_no_email_and_the_log_says_why(publisher, cast, log):
    await publish(publisher, event("session.scheduled.v1", {"session": cast.session()}),
                  contact(cast.pid("moussa"), cast.address("moussa"), consent=False),
                  cast.registered("moussa"))
    entry = await eventually(lambda: log.find_one({"recipient_participant_id": cast.pid("moussa")}))
    assert (entry["status"], entry["reason"]) == ("skipped", "no consent to be contacted")
    await asyncio.sleep(1)
    assert mailbox(cast.address("moussa")) == []


async def test_redelivered_event_sends_no_second_email(publisher, cast, log):
    registered = cast.registered("john", "en")
    await publish(publisher, event("session.scheduled.v1", {"session": cast.session()}),
                  contact(cast.pid("john"), cast.address("john"), "en"), registered)
    await arrived(cast.address("john"), 1)
    await publish(publisher, registered, registered)  # the same event id, twice more
    await eventually(lambda: log.count_documents({"caused_by_event_id": registered.id}))
    await asyncio.sleep(2)
    assert len(mailbox(cast.address("john"))) == 1
    entry = await log.find_one({"caused_by_event_id": registered.id})
    assert entry["status"] == "sent" and entry["attempts"] == 1


async def test_contact_arriving_after_the_enrollment_releases_the_confirmation(publisher, cast):
    await publish(publisher, event("session.scheduled.v1", {"session": cast.session()}),
                  cast.registered("joao", "pt"))
    await asyncio.sleep(1)
    await publish(publisher, contact(cast.pid("joao"), cast.address("joao"), "pt"))
    [meta] = await arrived(cast.address("joao"), 1)
    assert raw_message(meta["id"])["Content-Language"] == "pt"


async def test_malformed_event_goes_to_the_dead_letter_topic_with_the_reason(publisher, worker, cast):
    prefix, _ = worker
    enrollments = topic_name("emm.enrollments", prefix)
    await publisher._producer.send_and_wait(enrollments, b"not a cloud event", key=cast.session_id.encode())
    await publisher._producer.send_and_wait(
        enrollments, b'{"session_id": "x"}', key=cast.session_id.encode(),
        headers=[("ce_id", cast.unique.encode()), ("ce_source", b"/x"), ("ce_specversion", b"1.0"),
                 ("ce_type", b"org.iom.emm.enrollment.registered.v1"), ("ce_time", b"2026-05-18T17:00:00Z"),
                 ("content-type", b"application/json")])
    consumer = AIOKafkaConsumer(topic_name("emm.dlq.notification", prefix), bootstrap_servers=KAFKA,
                                auto_offset_reset="earliest", enable_auto_commit=False, group_id=None)
    await consumer.start()
    reasons = []
    try:
        async def check():
            for records in (await consumer.getmany(timeout_ms=500)).values():
                reasons.extend(dict(r.headers)["dlq_reason"].decode() for r in records
                               if r.key == cast.session_id.encode())
            return len(reasons) >= 2
        await eventually(check, timeout=120)
    finally:
        await consumer.stop()
    assert any(r.startswith("malformed: not a CloudEvent") for r in reasons)
    assert any("participant_id" in r or "enrollment_id" in r for r in reasons)


async def test_a_record_without_ce_id_is_dead_lettered_and_sends_no_invitation(publisher, worker, cast):
    prefix, _ = worker
    await publish(publisher, event("session.scheduled.v1", {"session": cast.session()}),
                  contact(cast.pid("aminata"), cast.address("aminata"), "fr"), cast.registered("aminata", "fr"))
    await arrived(cast.address("aminata"), 1)
    completed = event("session.completed.v1", {"session_id": cast.session_id, "completed_at": "2026-05-18T17:00:00Z"})
    record = to_record(completed)
    await publisher._producer.send_and_wait(topic_name("emm.sessions", prefix), record.value, key=record.key,
                                            headers=[(k, v) for k, v in record.headers if k != "ce_id"])
    reasons = await dead_letter_reasons(prefix, cast.session_id.encode(), 1)
    assert reasons == ["malformed: CloudEvent attribute 'id' is missing"]
    await asyncio.sleep(2)
    assert len(mailbox(cast.address("aminata"))) == 1  # no evaluation invitation


async def dead_letter_reasons(prefix: str, key: bytes, expected: int) -> list[str]:
    records = await read_topic(topic_name("emm.dlq.notification", prefix), expected, timeout=60)
    return [dict(r.headers)["dlq_reason"].decode() for r in records if r.key == key]


async def test_an_old_session_update_delivered_again_sends_nothing_to_people_enrolled_since(publisher, cast, log):
    old_update = event("session.updated.v1", {"session": cast.session(venue="Radisson Blu", sequence=2),
                                              "changed_fields": ["venue"]})
    await publish(publisher, event("session.scheduled.v1", {"session": cast.session()}), old_update,
                  contact(cast.pid("aminata"), cast.address("aminata"), "fr"), cast.registered("aminata", "fr"))
    await arrived(cast.address("aminata"), 1)  # the confirmation; the update came before she enrolled
    await publish(publisher, old_update)
    newer = event("session.updated.v1", {"session": cast.session(venue="King Fahd Palace", sequence=3),
                                         "changed_fields": ["venue"]})
    await publish(publisher, newer)  # same key, same partition: consumed after the redelivery
    await arrived(cast.address("aminata"), 2)
    await asyncio.sleep(1)
    assert len(mailbox(cast.address("aminata"))) == 2
    updates = [e async for e in log.find({"recipient_participant_id": cast.pid("aminata"), "kind": "session_updated"})]
    assert [e["caused_by_event_id"] for e in updates] == [newer.id]


CONSUMED_TOPICS = ("emm.sessions", "emm.enrollments", "emm.attendance", "emm.feedback", "emm.trainers",
                   "emm.contacts.internal")


async def test_every_consumed_event_delivered_again_changes_no_mail_no_log_entry_and_no_topic(
        publisher, worker, cast, log):
    """A programme with every event type the worker consumes; then every record on its topics
    again, byte for byte, in the same order."""
    prefix, database = worker
    people = {"aminata": "fr", "john": "en", "joao": "pt", "fatou": "fr"}
    other = f"{cast.session_id}-b"
    await publish(publisher, event("session.scheduled.v1", {"session": cast.session(capacity=2, sequence=1)}),
                  *(contact(cast.pid(n), cast.address(n), lang) for n, lang in people.items() if n != "fatou"),
                  staff(cast.pid("fatou"), cast.address("fatou")),
                  event("session.updated.v1", {"session": cast.session(capacity=2, venue="Radisson Blu", sequence=2),
                                               "changed_fields": ["venue"]}),
                  cast.registered("aminata", "fr"), cast.registered("john", "en"),
                  event("enrollment.waitlisted.v1", ex.enrollment_waitlisted(cast.pid("joao"), 1) | {
                      "session_id": cast.session_id}),
                  event("enrollment.cancelled.v1", ex.enrollment_cancelled(cast.pid("john")) | {
                      "session_id": cast.session_id}),
                  event("enrollment.promoted.v1", ex.enrollment_promoted(cast.pid("joao")) | {
                      "session_id": cast.session_id}),
                  event("session.completed.v1", {"session_id": cast.session_id, "completed_at": "2026-05-18T17:00:00Z"}),
                  event("session.scheduled.v1", {"session": ex.session(session_id=other)}),
                  event("enrollment.registered.v1", ex.enrollment_registered(cast.pid("aminata"), "fr") | {
                      "session_id": other, "enrollment_id": "enr-other"}),
                  event("session.cancelled.v1", {"session_id": other, "reason": "Venue unavailable",
                                                 "cancelled_at": "2026-05-10T09:00:00Z", "sequence": 2}),
                  event("sign_in.requested.v1", ex.sign_in_requested(cast.pid("aminata"), cast.session_id)))
    await arrived(cast.address("aminata"), 6)  # two confirmations, invitation, reminder, the cancellation, her link
    await publish(publisher, *(event("feedback.submitted.v1", ex.feedback_submitted(f"sub-{n}-{cast.unique}", cast.pid(n))
                                     | {"session_id": cast.session_id}) for n in ("aminata", "joao")),
                  evaluation_closed(cast.session_id, 2, 2),
                  event("trainer.certified.v1", ex.trainer_certified(cast.pid("aminata")) | {
                      "session_id": cast.session_id}))
    await arrived(cast.address("aminata"), 7)
    await arrived(cast.address("fatou"), 1)
    await arrived(cast.address("joao"), 4)  # waitlisted, promoted, invitation, reminder

    topics = [topic_name(t, prefix) for t in CONSUMED_TOPICS]
    notifications = topic_name("emm.notifications", prefix)

    async def settled():
        await eventually(lambda: caught_up(prefix, topics), timeout=60)
        await asyncio.sleep(3)  # delivery polls every 0.2 s; nothing new is due
        return {"mail": {n: [m["id"] for m in mailbox(cast.address(n))] for n in people},
                "log": sorted([e async for e in log.find({"session_id": {"$in": [cast.session_id, other]}})],
                              key=lambda e: e["_id"]),
                "published": len(await read_topic(notifications, 0, timeout=1))}

    before = await settled()
    assert before["published"] > 0 and len(before["log"]) >= 11
    for topic in topics:
        for record in sorted(await read_topic(topic, 0, timeout=1), key=lambda r: (r.partition, r.offset)):
            await publisher._producer.send_and_wait(topic, record.value, key=record.key, partition=record.partition,
                                                    headers=list(record.headers))
    after = await settled()
    assert after == before


async def caught_up(prefix: str, topics: list[str]) -> bool:
    return await consumer_lag(KAFKA, f"{prefix}notification", topics) == 0


async def test_whole_programme_sends_exactly_the_expected_messages_in_each_language(publisher, cast, log):
    """Enroll, waitlist, cancel and promote, move the venue, complete, evaluate, certify."""
    people = {"aminata": "fr", "john": "en", "joao": "pt", "fatou": "fr"}
    await publish(publisher, event("session.scheduled.v1", {"session": cast.session(capacity=2, sequence=1)}),
                  *(contact(cast.pid(n), cast.address(n), lang) for n, lang in people.items() if n != "fatou"),
                  staff(cast.pid("fatou"), cast.address("fatou")))
    await publish(publisher, cast.registered("aminata", "fr"), cast.registered("john", "en"))
    await arrived(cast.address("aminata"), 1)
    await arrived(cast.address("john"), 1)
    await publish(publisher, event("enrollment.waitlisted.v1", ex.enrollment_waitlisted(cast.pid("joao"), 1) | {
        "session_id": cast.session_id}))
    await arrived(cast.address("joao"), 1)
    await publish(publisher, event("enrollment.cancelled.v1", ex.enrollment_cancelled(cast.pid("john")) | {
        "session_id": cast.session_id}))
    await arrived(cast.address("john"), 2)
    await publish(publisher, event("enrollment.promoted.v1", ex.enrollment_promoted(cast.pid("joao")) | {
        "session_id": cast.session_id}))
    await arrived(cast.address("joao"), 2)
    await publish(publisher, event("session.updated.v1", {"session": cast.session(venue="King Fahd Palace", sequence=2),
                                                          "changed_fields": ["venue"]}))
    await arrived(cast.address("aminata"), 2)
    await arrived(cast.address("joao"), 3)
    await publish(publisher, event("session.completed.v1", {"session_id": cast.session_id,
                                                            "completed_at": "2026-05-18T17:00:00Z"}))
    await arrived(cast.address("aminata"), 4)  # the invitation, and the reminder 2 s later
    await arrived(cast.address("joao"), 5)
    await publish(publisher, *(event("feedback.submitted.v1", ex.feedback_submitted(f"sub-{n}-{cast.unique}", cast.pid(n))
                                     | {"session_id": cast.session_id}) for n in ("aminata", "joao")),
                  evaluation_closed(cast.session_id, 2, 2))
    await arrived(cast.address("fatou"), 1)
    await publish(publisher, event("trainer.certified.v1", ex.trainer_certified(cast.pid("aminata")) | {
        "session_id": cast.session_id}))
    await arrived(cast.address("aminata"), 5)
    await asyncio.sleep(2)  # and nothing more arrives

    expected = {
        "aminata": ["enrollment_registered", "session_updated", "evaluation_invitation", "evaluation_reminder",
                    "trainer_certified"],
        "john": ["enrollment_registered", "enrollment_cancelled"],
        "joao": ["enrollment_waitlisted", "enrollment_promoted", "session_updated", "evaluation_invitation",
                 "evaluation_reminder"],
        "fatou": ["report_ready"],
    }
    calendars = {"enrollment_registered": ("REQUEST", 1), "enrollment_promoted": ("REQUEST", 1),
                 "session_updated": ("REQUEST", 2), "enrollment_cancelled": ("CANCEL", 1)}
    for name, kinds in expected.items():
        messages = mailbox(cast.address(name))
        entries = {e["_id"]: e async for e in log.find({"recipient_participant_id": cast.pid(name)})}
        received = []
        for meta in messages:
            notification_id = meta["message_id"].strip("<>").split("@")[0]
            entry = entries[notification_id]
            received.append(entry["kind"])
            message = raw_message(meta["id"])
            assert message["Content-Language"] == people[name], (name, entry["kind"])
            ics = calendar_of(message)
            if entry["kind"] in calendars:
                calendar = icalendar.Calendar.from_ical(ics)
                [vevent] = calendar.walk("VEVENT")
                assert (str(calendar["METHOD"]), int(vevent["SEQUENCE"])) == calendars[entry["kind"]], entry["kind"]
            else:
                assert ics is None, entry["kind"]
        assert sorted(received) == sorted(kinds), name
        assert all(e["status"] == "sent" for e in entries.values())
