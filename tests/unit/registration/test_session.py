from datetime import date, datetime, timezone

import pytest

from emm_registration.domain.errors import Conflict, InvalidInput
from emm_registration.domain.session import Session
from tests.unit.registration.examples import (
    NOW, SESSION_ID, enroll, event_types, later, scheduled_session, session_details)


def test_scheduling_records_the_whole_session():
    session = Session.schedule(SESSION_ID, scheduled_by="usr-organizer", **session_details())
    assert session.status == "scheduled" and session.sequence == 0
    [event] = session.pending_events
    assert event.event_type() == "org.iom.emm.session.scheduled.v1"
    assert event.payload()["scheduled_by"] == "usr-organizer"
    assert event.payload()["session"]["days"] == ["2026-05-17", "2026-05-18"]
    assert event.payload()["session"]["programme"] == "EMM2.0"


def test_days_cover_start_to_end_inclusive():
    session = scheduled_session(start_date=date(2026, 5, 30), end_date=date(2026, 6, 2))
    assert session.days == [date(2026, 5, 30), date(2026, 5, 31), date(2026, 6, 1), date(2026, 6, 2)]


def test_iso_strings_are_accepted_for_dates_and_datetimes():
    session = scheduled_session(start_date="2026-05-17", end_date="2026-05-17",
                                enrollment_opens_at="2026-04-01T01:00:00+01:00")
    assert session.days == [date(2026, 5, 17)]
    assert session.enrollment_opens_at == datetime(2026, 4, 1, tzinfo=timezone.utc)


def test_country_is_upper_cased_and_duplicate_languages_dropped():
    session = scheduled_session(country="sn", languages=["fr", "en", "fr"])
    assert session.country == "SN" and session.languages == ["fr", "en"]


@pytest.mark.parametrize("field, overrides", [
    ("end_date", {"end_date": date(2026, 5, 16)}),
    ("end_date", {"end_date": date(2026, 7, 1)}),
    ("capacity", {"capacity": 0}),
    ("capacity", {"capacity": True}),
    ("enrollment_closes_at", {"enrollment_closes_at": datetime(2026, 3, 1, tzinfo=timezone.utc)}),
    ("enrollment_opens_at", {"enrollment_opens_at": datetime(2026, 4, 1)}),
    ("languages", {"languages": []}),
    ("languages", {"languages": ["fr", "es"]}),
    ("modules", {"modules": []}),
    ("modules", {"modules": "migration-governance"}),
    ("modules", {"modules": [f"module-{n}" for n in range(51)]}),
    ("modules", {"modules": ["m" * 201]}),
    ("facilitator_ids", {"facilitator_ids": [f"par-{n}" for n in range(51)]}),
    ("timezone", {"timezone": "Africa/Atlantis"}),
    ("timezone", {"timezone": "../etc/passwd"}),
    ("kind", {"kind": "webinar"}),
    ("country", {"country": "Senegal"}),
    ("title", {"title": ""}),
    ("title", {"title": None}),
    ("start_date", {"start_date": "17/05/2026"}),
    ("facilitator_ids", {"facilitator_ids": ["has space"]}),
    ("programme", {"programme": "EMM3.0"}),
])
def test_invalid_session_details_name_the_field(field, overrides):
    with pytest.raises(InvalidInput) as error:
        Session.schedule(SESSION_ID, **session_details(**overrides))
    assert error.value.field == field


@pytest.mark.parametrize("session_id", ["ses-1\n", "s" * 64 + "\n", "has space"])
def test_session_id_is_an_id_the_event_contract_allows(session_id):
    with pytest.raises(InvalidInput) as error:
        Session.schedule(session_id, **session_details())
    assert error.value.field == "session_id"


def test_enrollment_window_is_optional():
    session = scheduled_session(enrollment_opens_at=None, enrollment_closes_at=None)
    assert "enrollment_opens_at" not in session.snapshot()


def test_update_bumps_sequence_and_names_changed_fields():
    session = scheduled_session()
    assert session.update({"venue": "King Fahd Palace", "city": "Dakar"}, NOW) == ["venue"]
    assert session.sequence == 1
    [event] = session.pending_events
    assert event.event_type() == "org.iom.emm.session.updated.v1"
    assert event.payload()["changed_fields"] == ["venue"]
    assert event.payload()["session"]["venue"] == "King Fahd Palace"
    assert event.payload()["session"]["sequence"] == 1


def test_update_to_the_same_values_records_nothing():
    session = scheduled_session()
    assert session.update({"capacity": 2, "start_date": "2026-05-17"}, NOW) == []
    assert session.sequence == 0 and session.pending_events == []


def test_update_of_dates_changes_days():
    session = scheduled_session()
    session.update({"end_date": "2026-05-19"}, NOW)
    assert session.pending_events[-1].payload()["session"]["days"][-1] == "2026-05-19"


def test_update_refuses_unknown_and_fixed_fields():
    session = scheduled_session()
    for field in ("status", "sequence", "session_id", "days", "colour"):
        with pytest.raises(InvalidInput) as error:
            session.update({field: "x"}, NOW)
        assert error.value.field == field


def test_update_is_validated_like_scheduling():
    with pytest.raises(InvalidInput) as error:
        scheduled_session().update({"end_date": "2026-05-01"}, NOW)
    assert error.value.field == "end_date"


def test_capacity_cannot_drop_below_registered():
    session = scheduled_session(capacity=3)
    for name in ("aminata", "moussa"):
        enroll(session, name)
    with pytest.raises(Conflict) as error:
        session.update({"capacity": 1}, NOW)
    assert error.value.field == "capacity"
    session.update({"capacity": 2}, NOW)
    assert session.seats_left == 0


def test_raising_capacity_promotes_waitlisted_in_order():
    session = scheduled_session(capacity=1)
    for minutes, name in enumerate(("aminata", "moussa", "fatou", "kofi")):
        enroll(session, name, minutes)
    session.pending_events.clear()
    session.update({"capacity": 3}, later(10))
    assert event_types(session) == ["org.iom.emm.session.updated.v1", "org.iom.emm.enrollment.promoted.v1",
                                    "org.iom.emm.enrollment.promoted.v1"]
    promoted = [e.enrollment_id for e in session.pending_events[1:]]
    assert promoted == ["enr-moussa", "enr-fatou"]
    assert all(e.freed_by_enrollment_id is None for e in session.pending_events[1:])
    assert [e.enrollment_id for e in session.waitlist()] == ["enr-kofi"]


def test_an_enrolled_person_cannot_become_facilitator():
    session = scheduled_session()
    enrollment = enroll(session, "aminata")
    with pytest.raises(Conflict) as error:
        session.update({"facilitator_ids": ["par-facilitator-1", enrollment.participant_id]}, NOW)
    assert error.value.field == "facilitator_ids"


def test_lifecycle_goes_scheduled_open_in_progress_completed():
    session = scheduled_session()
    session.open_enrollment()
    session.start()
    session.complete(later(60))
    assert session.status == "completed" and session.sequence == 3
    assert event_types(session) == ["org.iom.emm.session.updated.v1", "org.iom.emm.session.updated.v1",
                                    "org.iom.emm.session.completed.v1"]
    assert session.pending_events[0].payload()["changed_fields"] == ["status"]
    assert session.pending_events[-1].payload() == {"session_id": SESSION_ID,
                                                    "completed_at": "2026-04-02T11:00:00Z"}


def test_repeating_a_transition_is_a_no_op():
    session = scheduled_session()
    session.open_enrollment()
    session.open_enrollment()
    session.cancel("Venue unavailable", NOW)
    session.cancel("Venue unavailable", later(5))
    assert event_types(session) == ["org.iom.emm.session.updated.v1", "org.iom.emm.session.cancelled.v1"]
    assert session.sequence == 2 and session.cancelled_at == NOW


@pytest.mark.parametrize("steps, illegal", [
    ([], lambda s: s.complete(NOW)),
    (["start"], lambda s: s.open_enrollment()),
    (["start", "complete"], lambda s: s.cancel("too late", NOW)),
    (["cancel"], lambda s: s.start()),
    (["cancel"], lambda s: s.complete(NOW)),
])
def test_illegal_transitions_conflict(steps, illegal):
    session = scheduled_session()
    actions = {"start": session.start, "complete": lambda: session.complete(NOW),
               "cancel": lambda: session.cancel("Venue unavailable", NOW)}
    for step in steps:
        actions[step]()
    with pytest.raises(Conflict) as error:
        illegal(session)
    assert error.value.field == "status"


def test_cancellation_carries_reason_and_new_sequence():
    session = scheduled_session()
    session.update({"venue": "King Fahd Palace"}, NOW)
    session.cancel("Venue unavailable", later(5))
    assert session.pending_events[-1].payload() == {
        "session_id": SESSION_ID, "reason": "Venue unavailable", "cancelled_at": "2026-04-02T10:05:00Z",
        "sequence": 2}


def test_cancellation_needs_a_reason():
    with pytest.raises(InvalidInput) as error:
        scheduled_session().cancel(" ", NOW)
    assert error.value.field == "reason"


@pytest.mark.parametrize("end", ["cancel", "complete"])
def test_closed_session_cannot_be_updated(end):
    session = scheduled_session()
    session.start()
    session.cancel("Strike", NOW) if end == "cancel" else session.complete(NOW)
    with pytest.raises(Conflict) as error:
        session.update({"venue": "Elsewhere"}, NOW)
    assert error.value.field == "session_id"
