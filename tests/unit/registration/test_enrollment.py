from datetime import datetime, timezone

import pytest

from emm_registration.domain.errors import Conflict, InvalidInput, NotFound
from tests.unit.registration.examples import (
    FACILITATOR_ID, NOW, enroll, event_types, later, profile, scheduled_session)


def full_session(capacity: int = 2, waitlisted: tuple[str, ...] = ("fatou", "kofi")):
    session = scheduled_session(capacity=capacity)
    names = ["aminata", "moussa", "awa", "ibrahima"][:capacity] + list(waitlisted)
    for minutes, name in enumerate(names):
        enroll(session, name, minutes)
    session.pending_events.clear()
    return session


def test_enrolling_with_seats_left_registers():
    session = scheduled_session()
    enrollment = enroll(session, "aminata", enrolled_by="organizer")
    assert enrollment.status == "registered" and enrollment.registered_at == NOW
    assert session.seats_taken == 1 and session.seats_left == 1
    [event] = session.pending_events
    assert event.event_type() == "org.iom.emm.enrollment.registered.v1"
    assert event.payload()["participant"] == profile("aminata")
    assert event.payload()["enrolled_by"] == "organizer"


def test_enrolling_in_a_full_session_waitlists_with_position():
    session = full_session(waitlisted=())
    first, second = enroll(session, "fatou", 10), enroll(session, "kofi", 11)
    assert first.status == second.status == "waitlisted"
    assert [e.payload()["position"] for e in session.pending_events] == [1, 2]
    assert session.waitlist_position("enr-kofi") == 2
    assert session.seats_taken == 2


def test_enrolling_twice_returns_existing_enrollment():
    session = scheduled_session()
    first = enroll(session, "aminata")
    session.pending_events.clear()
    again = session.enroll(profile("aminata"), "participant", later(5), "enr-another-request")
    assert again is first
    assert session.pending_events == [] and len(session.enrollments) == 1


def test_repeated_command_with_same_enrollment_id_returns_it():
    session = full_session(waitlisted=("fatou",))
    assert enroll(session, "fatou", 30) is session.enrollments["enr-fatou"]
    assert session.pending_events == []


def test_enrollment_id_of_another_participant_conflicts():
    session = scheduled_session()
    enroll(session, "aminata")
    with pytest.raises(Conflict) as error:
        session.enroll(profile("moussa"), "participant", NOW, "enr-aminata")
    assert error.value.field == "enrollment_id"


def test_no_overbooking_however_many_enroll():
    session = scheduled_session(capacity=3)
    for n in range(10):
        session.enroll(profile(f"person{n}"), "participant", later(n), f"enr-{n}")
    assert session.seats_taken == 3 and len(session.roster()) == 3
    assert [e.enrollment_id for e in session.waitlist()] == [f"enr-{n}" for n in range(3, 10)]


def test_cancellation_promotes_first_waitlisted():
    session = full_session()
    session.cancel_enrollment("enr-moussa", later(30), reason="Mission travel")
    assert event_types(session) == ["org.iom.emm.enrollment.cancelled.v1", "org.iom.emm.enrollment.promoted.v1"]
    cancelled, promoted = session.pending_events
    assert cancelled.payload()["previous_status"] == "registered"
    assert cancelled.payload()["reason"] == "Mission travel"
    assert promoted.enrollment_id == "enr-fatou" and promoted.freed_by_enrollment_id == "enr-moussa"
    assert session.enrollments["enr-fatou"].status == "registered"
    assert session.waitlist_position("enr-kofi") == 1
    assert session.seats_taken == 2


def test_cancelling_a_waitlisted_place_promotes_nobody():
    session = full_session()
    session.cancel_enrollment("enr-fatou", later(30))
    assert event_types(session) == ["org.iom.emm.enrollment.cancelled.v1"]
    assert session.pending_events[0].payload()["previous_status"] == "waitlisted"
    assert session.waitlist_position("enr-kofi") == 1


def test_cancelling_twice_is_a_no_op():
    session = full_session()
    session.cancel_enrollment("enr-moussa", later(30))
    session.pending_events.clear()
    session.cancel_enrollment("enr-moussa", later(31))
    assert session.pending_events == []
    assert session.enrollments["enr-moussa"].cancelled_at == later(30)
    assert session.seats_taken == 2


def test_cancelling_an_unknown_enrollment_is_not_found():
    with pytest.raises(NotFound) as error:
        scheduled_session().cancel_enrollment("enr-nobody", NOW)
    assert error.value.field == "enrollment_id"


def test_waitlist_order_is_acceptance_order_not_id_order():
    session = full_session(waitlisted=())
    session.enroll(profile("zainab"), "participant", later(10), "enr-z")
    session.enroll(profile("abdou"), "participant", later(11), "enr-a")
    session.cancel_enrollment("enr-aminata", later(20))
    assert session.enrollments["enr-z"].status == "registered"


def test_cancelled_person_may_enroll_again():
    session = full_session(waitlisted=("fatou",))
    session.cancel_enrollment("enr-aminata", later(30))
    again = session.enroll(profile("aminata"), "participant", later(40), "enr-aminata-2")
    assert again.enrollment_id == "enr-aminata-2" and again.status == "waitlisted"
    assert session.active_enrollment_of(again.participant_id) is again
    assert session.waitlist_position("enr-aminata-2") == 1


@pytest.mark.parametrize("when, field", [
    (datetime(2026, 3, 31, 23, 59, tzinfo=timezone.utc), "enrollment_opens_at"),
    (datetime(2026, 5, 17, 0, 0, tzinfo=timezone.utc), "enrollment_closes_at"),
])
def test_enrolling_outside_the_window_is_refused(when, field):
    session = scheduled_session()
    with pytest.raises(InvalidInput) as error:
        session.enroll(profile("aminata"), "participant", when, "enr-1")
    assert error.value.field == field


def test_without_a_window_enrollment_is_always_open():
    session = scheduled_session(enrollment_opens_at=None, enrollment_closes_at=None)
    session.enroll(profile("aminata"), "participant", datetime(2020, 1, 1, tzinfo=timezone.utc), "enr-1")
    assert session.seats_taken == 1


@pytest.mark.parametrize("end", ["cancel", "complete"])
def test_closed_sessions_refuse_enrollment(end):
    session = scheduled_session()
    session.start()
    session.cancel("Strike", NOW) if end == "cancel" else session.complete(NOW)
    with pytest.raises(Conflict) as error:
        enroll(session, "aminata")
    assert error.value.field == "session_id"


def test_facilitator_cannot_enroll_in_own_session():
    session = scheduled_session()
    with pytest.raises(Conflict) as error:
        session.enroll({**profile("aminata"), "participant_id": FACILITATOR_ID}, "participant", NOW, "enr-1")
    assert error.value.field == "participant_id"


def test_enrollment_keeps_no_email_or_phone_even_if_given():
    session = scheduled_session()
    enrollment = session.enroll({**profile("aminata"), "email": "a@example.org", "phone": "+221 1234567"},
                                "participant", NOW, "enr-1")
    assert "email" not in enrollment.participant and "phone" not in enrollment.participant


def test_enrolled_by_must_be_organizer_or_participant():
    with pytest.raises(InvalidInput) as error:
        scheduled_session().enroll(profile("aminata"), "robot", NOW, "enr-1")
    assert error.value.field == "enrolled_by"


def test_roster_lists_registered_in_seat_order():
    session = full_session()
    session.cancel_enrollment("enr-aminata", later(30))
    assert [e.enrollment_id for e in session.roster()] == ["enr-moussa", "enr-fatou"]


def test_a_person_s_enrollment_is_their_active_one_else_the_one_they_cancelled_last():
    session = scheduled_session(capacity=2)
    first = enroll(session, "aminata", 1)
    pid = first.participant_id
    assert session.enrollment_of(pid) is first
    session.cancel_enrollment(first.enrollment_id, later(2))
    assert session.enrollment_of(pid) is first and first.status == "cancelled"
    again = session.enroll(profile("aminata"), "participant", later(3), "enr-aminata-again")
    assert session.enrollment_of(pid) is again
    assert session.enrollment_of("par-nobody") is None
