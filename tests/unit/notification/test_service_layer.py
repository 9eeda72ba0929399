"""The service layer with in-memory fakes of its ports: planning into the log, delivery, retries,
take-over of an interrupted attempt, reminders and resend."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from emm_common.envelope import new_event
from emm_notification.domain.composition import PortalLinks, Programme
from emm_notification.domain.retry import PermanentDeliveryError, RetryPolicy, TemporaryDeliveryError
from emm_notification.service_layer.delivery import Delivery, DeliveryOptions
from emm_notification.service_layer.handlers import NotificationHandlers
from emm_notification.service_layer.resend import NotResendable, request_resend
from emm_notification.service_layer.scheduler import ReminderTimes, Scheduler
from tests.unit.notification import examples as ex
from tests.unit.notification.fakes import Clock, FakeChannel, FakeLog, FakeProjections

T = "org.iom.emm."


def event(name: str, payload: dict, event_id: str | None = None):
    return new_event(T + name, payload, source="/emm/test", event_id=event_id)


def contact_event(pid: str, language: str = "fr", consent: bool = True, email: str | None = None):
    return event("contact.updated.v1", {"participant_id": pid, "full_name": pid.title(), "email": email or f"{pid}@example.org",
                                        "preferred_language": language, "consent_to_contact": consent,
                                        "updated_at": "2026-04-02T10:00:00Z"})


class World:
    def __init__(self, **options) -> None:
        self.clock = Clock()
        self.log = FakeLog()
        self.projections = FakeProjections()
        self.channel = FakeChannel()
        self.delivery = Delivery(self.log, self.projections, self.channel, clock=self.clock,
                                 programme=Programme(links=PortalLinks("http://portal.test", ex.ISSUER)),
                                 options=DeliveryOptions(policy=RetryPolicy(3, timedelta(seconds=10)),
                                                         lease=timedelta(seconds=60), **options))
        self.handlers = NotificationHandlers(self.projections, self.log, clock=self.clock)
        self.table = self.handlers.handlers()

    async def consume(self, *events) -> None:
        for e in events:
            await self.table[e.type](e)

    async def scheduled_session(self, **changes) -> None:
        await self.consume(event("session.scheduled.v1", {"session": ex.session(**changes)}))


@pytest.fixture
async def world():
    w = World()
    await w.scheduled_session()
    await w.consume(contact_event("par-aminata", "fr"), contact_event("par-john", "en"))
    return w


async def test_registered_enrollment_is_sent_once_in_the_participants_language(world):
    registered = event("enrollment.registered.v1", ex.enrollment_registered("par-john", "en"))
    await world.consume(registered, registered)
    assert await world.delivery.deliver_due() == 1
    assert await world.delivery.deliver_due() == 0
    [message] = world.channel.sent
    assert message.language == "en" and message.attachments[0].filename == "invitation.ics"
    [entry] = world.log.entries.values()
    assert entry["status"] == "sent" and entry["attempts"] == 1
    [outbox_event] = entry["outbox"].values()
    assert outbox_event["type"] == T + "notification.sent.v1"


async def test_an_old_session_update_redelivered_plans_nothing_for_people_enrolled_since(world):
    update = event("session.updated.v1", {"session": ex.session(venue="King Fahd Palace", sequence=2),
                                          "changed_fields": ["venue"]})
    await world.consume(update)  # nobody is enrolled yet: nothing to plan
    assert world.log.entries == {}
    await world.consume(event("enrollment.registered.v1", ex.enrollment_registered("par-john", "en")))
    await world.consume(update)  # the same event again, byte for byte
    assert [e["kind"] for e in world.log.entries.values()] == ["enrollment_registered"]


async def test_a_crash_after_the_plan_was_kept_is_repaired_by_the_redelivery_with_that_plan(world):
    await world.consume(event("enrollment.registered.v1", ex.enrollment_registered("par-john", "en")))
    update = event("session.updated.v1", {"session": ex.session(venue="King Fahd Palace", sequence=2),
                                          "changed_fields": ["venue"]})
    add = world.log.add

    async def crash(entries):
        raise ConnectionError("the worker died after keeping the plan")
    world.log.add = crash
    with pytest.raises(ConnectionError):
        await world.consume(update)
    world.log.add = add
    await world.consume(event("enrollment.registered.v1", ex.enrollment_registered("par-aminata", "fr")))
    await world.consume(update)  # redelivered after the restart
    updated = [e["recipient_participant_id"] for e in world.log.entries.values() if e["kind"] == "session_updated"]
    assert updated == ["par-john"]  # the plan kept at first, not the people enrolled now


async def test_participant_without_consent_gets_nothing_and_the_log_says_why(world):
    await world.consume(contact_event("par-moussa", consent=False),
                        event("enrollment.registered.v1", ex.enrollment_registered("par-moussa")))
    await world.delivery.deliver_due()
    assert world.channel.sent == []
    [entry] = world.log.entries.values()
    assert (entry["status"], entry["reason"]) == ("skipped", "no consent to be contacted")


async def test_message_waits_for_a_late_contact_then_goes(world):
    await world.consume(event("enrollment.registered.v1", ex.enrollment_registered("par-joao", "pt")))
    assert await world.delivery.deliver_due() == 0
    assert world.log.by_status("awaiting_contact")
    await world.consume(contact_event("par-joao", "pt"))
    assert await world.delivery.deliver_due() == 1
    assert world.channel.sent[0].language == "pt"


async def test_temporary_failures_are_retried_with_backoff_then_sent(world):
    world.channel.failures = [TemporaryDeliveryError("451 busy"), TemporaryDeliveryError("451 busy")]
    await world.consume(event("enrollment.registered.v1", ex.enrollment_registered()))
    await world.delivery.deliver_due()
    [entry] = world.log.entries.values()
    assert entry["status"] == "retrying" and entry["next_attempt_at"] == world.clock() + timedelta(seconds=10)
    assert await world.delivery.deliver_due() == 0  # not due yet
    world.clock.advance(seconds=10)
    await world.delivery.deliver_due()
    world.clock.advance(seconds=20)
    await world.delivery.deliver_due()
    entry = world.log.entries[entry["_id"]]
    assert entry["status"] == "sent" and entry["attempts"] == 3
    assert [h["outcome"] for h in entry["history"]] == ["retry", "retry", "sent"]


async def test_permanent_failure_ends_at_once_with_notification_failed(world):
    world.channel.failures = [PermanentDeliveryError("550 no such user", code=550)]
    await world.consume(event("enrollment.registered.v1", ex.enrollment_registered()))
    await world.delivery.deliver_due()
    [entry] = world.log.entries.values()
    assert (entry["status"], entry["reason"], entry["attempts"]) == ("failed", "550 no such user", 1)
    [failed] = entry["outbox"].values()
    assert failed["type"] == T + "notification.failed.v1" and failed["data"]["reason"] == "550 no such user"


async def test_gives_up_after_the_last_try(world):
    world.channel.failures = [TemporaryDeliveryError("451 busy")] * 3
    await world.consume(event("enrollment.registered.v1", ex.enrollment_registered()))
    for _ in range(3):
        await world.delivery.deliver_due()
        world.clock.advance(minutes=5)
    [entry] = world.log.entries.values()
    assert entry["status"] == "failed" and entry["reason"].startswith("gave up after 3 attempts")


async def test_an_attempt_held_by_another_worker_is_left_alone(world):
    await world.consume(event("enrollment.registered.v1", ex.enrollment_registered()))
    [entry] = world.log.entries.values()
    await world.log.claim(f"{entry['_id']}#1", world.clock(), "other worker")
    assert await world.delivery.deliver_due() == 0
    assert world.channel.sent == []


async def test_an_attempt_interrupted_by_a_crash_is_taken_over_after_the_lease_and_recorded(world):
    await world.consume(event("enrollment.registered.v1", ex.enrollment_registered()))
    [entry] = world.log.entries.values()
    # A worker claimed attempt 1, marked it sending, sent it, and died before recording.
    await world.log.claim(f"{entry['_id']}#1", world.clock(), "dead worker")
    await world.log.update(entry["_id"], {"status": "sending", "next_attempt_at": world.clock() + timedelta(seconds=60)})
    assert await world.delivery.deliver_due() == 0
    world.clock.advance(seconds=61)
    assert await world.delivery.deliver_due() == 1
    entry = world.log.entries[entry["_id"]]
    assert entry["status"] == "sent" and entry["possible_duplicate"] and entry["attempts"] == 2
    assert [h["outcome"] for h in entry["history"]] == ["interrupted", "sent"]
    assert world.channel.sent[0].notification_id == entry["_id"]  # same Message-ID as the lost attempt


async def test_resend_reopens_a_failed_message_once(world):
    world.channel.failures = [PermanentDeliveryError("550 no such user", code=550)]
    await world.consume(event("enrollment.registered.v1", ex.enrollment_registered()))
    await world.delivery.deliver_due()
    [entry] = world.log.entries.values()
    with pytest.raises(NotResendable):  # its notification.failed is not published yet
        await request_resend(world.log, entry["_id"], by="usr-organizer", now=world.clock())
    world.log.entries[entry["_id"]]["outbox"] = {}  # the relay published it
    await request_resend(world.log, entry["_id"], by="usr-organizer", now=world.clock())
    with pytest.raises(NotResendable):
        await request_resend(world.log, entry["_id"], by="usr-organizer", now=world.clock())
    await world.delivery.deliver_due()
    entry = world.log.entries[entry["_id"]]
    assert entry["status"] == "sent" and len(world.channel.sent) == 1


async def test_day_before_reminder_is_planned_once_and_not_for_a_cancelled_enrollment(world):
    await world.consume(event("enrollment.registered.v1", ex.enrollment_registered("par-aminata")),
                        event("enrollment.registered.v1", ex.enrollment_registered("par-john", "en")),
                        event("enrollment.cancelled.v1", ex.enrollment_cancelled("par-john")))
    scheduler = Scheduler(world.projections, world.log, clock=world.clock, times=ReminderTimes())
    world.clock.now = world.clock.now.replace(month=5, day=16, hour=8, minute=30)  # Dakar is UTC
    assert await scheduler.plan_due() == 1
    assert await scheduler.plan_due() == 0
    [reminder] = [e for e in world.log.entries.values() if e["kind"] == "session_reminder"]
    assert reminder["recipient_participant_id"] == "par-aminata"


async def test_no_reminder_for_a_cancelled_session_even_if_planned_before(world):
    await world.consume(event("enrollment.registered.v1", ex.enrollment_registered("par-aminata")))
    await world.delivery.deliver_due()
    scheduler = Scheduler(world.projections, world.log, clock=world.clock, times=ReminderTimes())
    world.clock.now = world.clock.now.replace(month=5, day=16, hour=8, minute=30)
    await scheduler.plan_due()
    await world.consume(event("session.cancelled.v1", ex.session_cancelled()))
    sent_before = len(world.channel.sent)
    await world.delivery.deliver_due()
    [reminder] = [e for e in world.log.entries.values() if e["kind"] == "session_reminder"]
    assert (reminder["status"], reminder["reason"]) == ("skipped", "session cancelled")
    assert [m.subject for m in world.channel.sent[sent_before:]]  # only the cancellation went out
    assert all("session_reminder" not in m.notification_id for m in world.channel.sent)


async def test_evaluation_reminder_goes_only_to_those_who_have_not_answered(world):
    await world.consume(event("enrollment.registered.v1", ex.enrollment_registered("par-aminata")),
                        event("enrollment.registered.v1", ex.enrollment_registered("par-john", "en")),
                        event("session.completed.v1", ex.session_completed()),
                        event("feedback.submitted.v1", ex.feedback_submitted("sub-1", pid="par-aminata")))
    scheduler = Scheduler(world.projections, world.log, clock=world.clock,
                          times=ReminderTimes(evaluation_reminder_delay=timedelta(hours=1)))
    world.clock.now = world.clock.now.replace(month=5, day=18, hour=17) + timedelta(minutes=30)
    assert await scheduler.plan_due() == 0
    world.clock.advance(hours=1)
    assert await scheduler.plan_due() == 1
    [reminder] = [e for e in world.log.entries.values() if e["kind"] == "evaluation_reminder"]
    assert reminder["recipient_participant_id"] == "par-john"


async def test_evaluation_reminder_goes_a_lead_time_before_the_evaluation_closes_once_and_not_after_it_closed(world):
    completed = {**ex.session_completed(), "evaluation_closes_at": "2026-06-01T18:00:00Z"}
    await world.consume(event("enrollment.registered.v1", ex.enrollment_registered("par-aminata")),
                        event("enrollment.registered.v1", ex.enrollment_registered("par-john", "en")),
                        event("session.completed.v1", completed),
                        event("feedback.submitted.v1", ex.feedback_submitted("sub-1", pid="par-aminata")))
    scheduler = Scheduler(world.projections, world.log, clock=world.clock,
                          times=ReminderTimes(evaluation_reminder_lead=timedelta(hours=48)))
    world.clock.now = datetime(2026, 5, 30, 17, 59, tzinfo=timezone.utc)
    assert await scheduler.plan_due() == 0  # the 72 h after completion do not count when the closing is known
    world.clock.now = datetime(2026, 5, 30, 18, tzinfo=timezone.utc)
    assert await scheduler.plan_due() == 1
    world.clock.advance(hours=1)
    assert await scheduler.plan_due() == 0  # once
    [reminder] = [e for e in world.log.entries.values() if e["kind"] == "evaluation_reminder"]
    assert reminder["recipient_participant_id"] == "par-john"


async def test_no_evaluation_reminder_once_the_evaluation_closed(world):
    completed = {**ex.session_completed(), "evaluation_closes_at": "2026-06-01T18:00:00Z"}
    await world.consume(event("enrollment.registered.v1", ex.enrollment_registered("par-john", "en")),
                        event("session.completed.v1", completed),
                        event("session.evaluation_closed.v1", {"session_id": ex.SESSION_ID,
                                                               "closed_at": "2026-05-20T09:00:00Z"}))
    scheduler = Scheduler(world.projections, world.log, clock=world.clock, times=ReminderTimes())
    world.clock.now = datetime(2026, 5, 31, tzinfo=timezone.utc)
    assert await scheduler.plan_due() == 0


async def test_a_sign_in_link_requested_once_is_sent_once_however_often_the_request_comes(world):
    requested = event("sign_in.requested.v1", ex.sign_in_requested("par-john"))
    await world.consume(requested, requested)
    await world.delivery.deliver_due()
    await world.consume(requested)  # redelivered after the send
    assert await world.delivery.deliver_due() == 0
    [message] = world.channel.sent
    assert message.subject.startswith("Your link to") and message.to_address == "par-john@example.org"
    [entry] = world.log.entries.values()
    assert entry["kind"] == "sign_in_link" and entry["facts"] == {"purpose": "participant-sign-in"}


async def test_a_staff_member_s_link_waits_for_their_contact_then_goes_in_their_language(world):
    await world.consume(event("sign_in.requested.v1", ex.sign_in_requested("stf-fatou", session_id=None)))
    assert await world.delivery.deliver_due() == 0
    [entry] = world.log.entries.values()
    assert entry["status"] == "awaiting_contact"
    await world.consume(event("staff.updated.v1", ex.staff_updated("stf-fatou", language="pt")))
    assert await world.delivery.deliver_due() == 1
    [message] = world.channel.sent
    assert message.language == "pt" and message.to_address == "stf-fatou@iom.example.org"


async def test_the_closed_evaluation_s_digest_goes_to_the_facilitator_and_the_office_s_organizers(world):
    elsewhere = {**ex.staff_updated("stf-abidjan", role="organizer"), "offices": ["CO Abidjan"]}
    await world.consume(event("staff.updated.v1", ex.staff_updated("par-facilitator-1", role="facilitator")),
                        event("staff.updated.v1", ex.staff_updated("stf-fatou", role="organizer", language="en")),
                        event("staff.updated.v1", elsewhere),
                        event("session.scheduled.v1", {"session": ex.session(), "scheduled_by": "usr-emm-team"}),
                        event("enrollment.registered.v1", ex.enrollment_registered("par-john", "en")),
                        event("evaluation.closed.v1", ex.evaluation_closed()))
    digest = [e for e in world.log.entries.values() if e["kind"] == "report_ready"]
    assert sorted((e["recipient_participant_id"], e["status"], e["language"]) for e in digest) == [
        ("par-facilitator-1", "planned", "fr"), ("stf-fatou", "planned", "en")]
    await world.delivery.deliver_due()
    assert {m.to_address for m in world.channel.sent} >= {"par-facilitator-1@iom.example.org",
                                                          "stf-fatou@iom.example.org"}


async def test_a_deactivated_staff_member_gets_no_more_email(world):
    await world.consume(event("staff.updated.v1", ex.staff_updated("stf-fatou")),
                        event("staff.updated.v1", ex.staff_updated("stf-fatou", active=False)),
                        event("sign_in.requested.v1", ex.sign_in_requested("stf-fatou", session_id=None)))
    await world.delivery.deliver_due()
    assert world.channel.sent == []
    [entry] = world.log.entries.values()
    assert (entry["status"], entry["reason"]) == ("skipped", "no longer an active staff member")


def mark(pid: str, day: str, status: str, at: str) -> Event:
    return event("attendance.recorded.v1", {
        "attendance_id": f"att-{pid}-{day}-{at}", "session_id": ex.SESSION_ID, "participant_id": pid,
        "enrollment_id": f"enr-{pid}", "day": day, "status": status, "recorded_by": "par-facilitator-1",
        "recorded_at": at})


async def test_one_absence_digest_per_day_to_the_session_s_staff_once_the_day_is_over(world):
    await world.consume(event("staff.updated.v1", ex.staff_updated("par-facilitator-1", role="facilitator")),
                        contact_event("par-john", "en"), contact_event("par-aminata"),
                        event("session.scheduled.v1", {"session": ex.session()}),
                        mark("par-john", "2026-05-17", "absent", "2026-05-17T09:00:00Z"),
                        mark("par-aminata", "2026-05-17", "absent", "2026-05-17T09:01:00Z"),
                        mark("par-aminata", "2026-05-17", "excused", "2026-05-17T09:30:00Z"),
                        mark("par-aminata", "2026-05-18", "present", "2026-05-18T09:00:00Z"))
    scheduler = Scheduler(world.projections, world.log, clock=world.clock, times=ReminderTimes())
    world.clock.now = datetime(2026, 5, 17, 23, 59, tzinfo=timezone.utc)  # Dakar is on UTC
    await scheduler.plan_due()
    assert [e for e in world.log.entries.values() if e["kind"] == "absence_digest"] == []
    world.clock.now = datetime(2026, 5, 18, 0, 0, tzinfo=timezone.utc)
    await scheduler.plan_due()
    await scheduler.plan_due()
    [digest] = [e for e in world.log.entries.values() if e["kind"] == "absence_digest"]
    assert (digest["recipient_participant_id"], digest["facts"]["day"]) == ("par-facilitator-1", "2026-05-17")
    assert digest["facts"]["absent_names"] == ["Par-John"]  # excused is not listed


async def test_a_trainee_out_of_reach_of_the_attendance_rule_is_told_in_their_language(world):
    await world.consume(contact_event("par-john", "en"), event("session.scheduled.v1", {"session": ex.session()}),
                        event("certification.out_of_reach.v1", {
                            "participant_id": "par-john", "session_id": ex.SESSION_ID, "days_attended": 1,
                            "session_days": 2, "min_attendance_ratio": 0.8, "decided_at": "2026-05-18T09:00:00Z"}))
    await world.delivery.deliver_due()
    [message] = [m for m in world.channel.sent if m.to_address == "par-john@example.org"]
    assert message.subject.startswith("Your attendance and your certification")
    assert "You attended 1 of 2 day(s)" in message.text and "at least 80%" in message.text
