"""A rebuild's notification log records the plan and nothing about delivery; the worker's own
handlers run over a staging store with it (no database, broker or SMTP server)."""

from __future__ import annotations

import pytest

from emm_common.envelope import new_event
from emm_common.rebuild import StagingStore
from emm_notification.adapters.planned_notifications import COLLECTION, PlannedNotifications, plan_of
from emm_notification.entrypoints.rebuild import PROJECTIONS, handlers_for
from tests.unit.notification import examples as ex

T = "org.iom.emm."


def event(name: str, payload: dict):
    return new_event(T + name, payload, source="/test")


def contact(pid: str, consent: bool = True):
    return event("contact.updated.v1", {"participant_id": pid, "full_name": "Someone", "email": f"{pid}@example.org",
                                        "preferred_language": "fr", "consent_to_contact": consent,
                                        "updated_at": "2026-04-02T10:00:00Z"})


async def planned(staging: StagingStore) -> list[dict]:
    collection = staging[COLLECTION]
    return [await collection.find_one({"_id": raw["_id"]}) for raw in collection.raw_documents()]


async def test_handlers_over_a_staging_store_plan_each_message_once_without_delivery_state():
    staging = StagingStore((*PROJECTIONS, COLLECTION))
    handlers = handlers_for(staging)
    registered = event("enrollment.registered.v1", ex.enrollment_registered("par-aminata"))
    for e in (event("session.scheduled.v1", {"session": ex.session()}), contact("par-aminata"), registered,
              registered, event("enrollment.registered.v1", ex.enrollment_registered("par-john")),
              contact("par-john", consent=False)):
        await handlers[e.type](e)

    entries = await planned(staging)
    assert sorted((e["kind"], e["recipient_participant_id"]) for e in entries) == [
        ("enrollment_registered", "par-aminata"), ("enrollment_registered", "par-john")]
    assert all(set(e) == {"_id", "kind", "recipient_participant_id", "session_id"} for e in entries)
    roster = await staging["rosters"].find_one({"_id": ex.SESSION_ID})
    assert roster["registered_ids"] == ["par-aminata", "par-john"] and len(roster["applied"]) == 2


async def test_nothing_about_sending_or_scheduling_is_possible():
    log = PlannedNotifications(StagingStore([COLLECTION])[COLLECTION])
    for call in (log.get("n"), log.due(None, 10), log.claim("n#1", None, "me"), log.occasion_planned("o"),
                 log.mark_occasion("o", None), log.update("n", {}, events=[object()])):
        with pytest.raises(NotImplementedError):
            await call


def test_scheduler_reminders_are_left_out_of_the_comparison():
    entry = {"_id": "ntf-1", "kind": "evaluation_reminder", "recipient_participant_id": "p", "session_id": "s",
             "caused_by_event_id": "evaluation-reminder:s", "status": "sent"}
    assert plan_of(entry) is None
    assert plan_of(entry | {"kind": "evaluation_invitation", "attempts": 2}) == {
        "_id": "ntf-1", "kind": "evaluation_invitation", "recipient_participant_id": "p", "session_id": "s"}
