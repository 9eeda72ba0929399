from __future__ import annotations

from dataclasses import replace

import pytest

from emm_notification.domain.messages import (NO_CONSENT, NO_CONTACT, CalendarAction, MessageKind, PlanStatus,
                                              language_for, notification_key, plan_messages, plan_scheduled)
from emm_notification.domain.read_model import Contact, ReadModel
from tests.unit.notification import examples as ex

T = ex.T


def plan(event_type: str, payload, state=None, event_id: str = "evt-1"):
    return plan_messages(T + event_type, payload, state or ex.state(), event_id=event_id)


def by_recipient(messages):
    return {m.recipient_id: m for m in messages}


# --- language -------------------------------------------------------------------------------

def test_participant_language_wins_when_a_template_exists():
    assert language_for("pt", ["fr", "en"]) == "pt"


def test_unknown_participant_language_falls_back_to_the_sessions_first_language():
    assert language_for("es", ["fr", "en"]) == "fr"
    assert language_for(None, ["pt"]) == "pt"


def test_language_falls_back_to_english_when_nothing_else_fits():
    assert language_for("es", ["ar"]) == "en"
    assert language_for(None, []) == "en"


def test_language_is_only_chosen_among_available_templates():
    assert language_for("pt", ["pt", "fr"], available=("en", "fr")) == "fr"


# --- notification key -----------------------------------------------------------------------

def test_notification_key_is_deterministic_and_distinguishes_each_part():
    key = notification_key("evt-1", "par-aminata", "enrollment_registered")
    assert key == notification_key("evt-1", "par-aminata", "enrollment_registered")
    assert len({key, notification_key("evt-2", "par-aminata", "enrollment_registered"),
                notification_key("evt-1", "par-john", "enrollment_registered"),
                notification_key("evt-1", "par-aminata", "enrollment_promoted")}) == 4


def test_notification_key_fits_the_contracts_id_pattern():
    key = notification_key("0b3a-evt", "par-aminata", "session_updated")
    ex.valid("notification.sent.v1", {
        "notification_id": key, "kind": "session_updated", "channel": "email",
        "recipient_participant_id": "par-aminata", "language": "fr", "caused_by_event_id": "0b3a-evt",
        "attempts": 1, "sent_at": "2026-04-02T10:00:02Z"})


def test_a_redelivered_event_plans_the_same_notification_ids():
    first = plan("session.updated.v1", ex.session_updated(), event_id="evt-9")
    again = plan("session.updated.v1", ex.session_updated(), event_id="evt-9")
    assert [m.notification_id for m in first] == [m.notification_id for m in again]


# --- enrollment events ----------------------------------------------------------------------

def test_registration_sends_a_confirmation_with_a_calendar_invitation():
    [message] = plan("enrollment.registered.v1", ex.enrollment_registered("par-aminata"))
    assert message.kind is MessageKind.ENROLLMENT_REGISTERED
    assert message.recipient_id == "par-aminata"
    assert message.status is PlanStatus.TO_SEND
    assert message.calendar is CalendarAction.REQUEST
    assert message.language == "fr"
    assert message.caused_by_event_id == "evt-1"
    assert message.session_id == ex.SESSION_ID


def test_waitlisting_tells_the_position_without_a_calendar():
    [message] = plan("enrollment.waitlisted.v1", ex.enrollment_waitlisted("par-joao", position=2))
    assert message.kind is MessageKind.ENROLLMENT_WAITLISTED
    assert message.facts["position"] == 2
    assert message.calendar is None
    assert message.language == "pt"


def test_promotion_sends_the_calendar_invitation():
    [message] = plan("enrollment.promoted.v1", ex.enrollment_promoted("par-joao"))
    assert (message.kind, message.calendar) == (MessageKind.ENROLLMENT_PROMOTED, CalendarAction.REQUEST)


def test_cancelling_a_seat_cancels_the_calendar_entry():
    [message] = plan("enrollment.cancelled.v1", ex.enrollment_cancelled("par-john", "registered"))
    assert message.kind is MessageKind.ENROLLMENT_CANCELLED
    assert message.calendar is CalendarAction.CANCEL
    assert message.facts["reason"] == "Mission travel"


def test_cancelling_a_waitlisted_enrollment_sends_no_calendar_cancel():
    [message] = plan("enrollment.cancelled.v1", ex.enrollment_cancelled("par-joao", "waitlisted"))
    assert message.calendar is None


def test_registration_before_the_contact_is_known_waits_for_the_contact():
    state = ex.state(contacts={})
    [message] = plan("enrollment.registered.v1", ex.enrollment_registered("par-aminata", "pt"), state)
    assert message.status is PlanStatus.AWAITING_CONTACT
    assert message.reason == NO_CONTACT
    # The payload's own language is the best guess until the contact arrives.
    assert message.language == "pt"


def test_registration_before_the_session_is_known_still_plans_the_message():
    [message] = plan("enrollment.registered.v1", ex.enrollment_registered("par-john", "en"), ReadModel(ex.CONTACTS))
    assert message.status is PlanStatus.TO_SEND
    assert message.language == "en"


# --- consent --------------------------------------------------------------------------------

def test_participant_without_consent_is_skipped_with_the_reason():
    [message] = plan("enrollment.registered.v1", ex.enrollment_registered("par-moussa"))
    assert message.status is PlanStatus.SKIPPED
    assert message.reason == NO_CONSENT == "no consent to be contacted"


# --- session events -------------------------------------------------------------------------

def test_changed_place_notifies_every_registered_participant():
    messages = by_recipient(plan("session.updated.v1", ex.session_updated(["venue", "city"], sequence=3)))
    assert set(messages) == {"par-aminata", "par-john", "par-moussa"}
    assert all(m.kind is MessageKind.SESSION_UPDATED and m.calendar is CalendarAction.REQUEST
               for m in messages.values())
    assert messages["par-moussa"].status is PlanStatus.SKIPPED
    assert messages["par-aminata"].facts == {"changed_fields": ["venue", "city"], "sequence": 3}


def test_changed_dates_notify_but_waitlisted_participants_are_not_written_to():
    messages = plan("session.updated.v1", ex.session_updated(["start_date", "end_date", "days"]))
    assert "par-joao" not in by_recipient(messages)
    assert len(messages) == 3


def test_capacity_or_status_changes_send_nothing():
    assert plan("session.updated.v1", ex.session_updated(["capacity", "status"])) == []


def test_session_cancellation_reaches_registered_and_waitlisted_participants():
    messages = by_recipient(plan("session.cancelled.v1", ex.session_cancelled(sequence=4)))
    assert set(messages) == {"par-aminata", "par-john", "par-moussa", "par-joao"}
    assert messages["par-aminata"].calendar is CalendarAction.CANCEL
    assert messages["par-joao"].calendar is None
    assert messages["par-aminata"].facts == {"reason": "Venue unavailable", "sequence": 4}


def test_completed_session_invites_every_registered_participant_to_evaluate():
    messages = plan("session.completed.v1", ex.session_completed())
    assert {m.recipient_id for m in messages} == {"par-aminata", "par-john", "par-moussa"}
    assert {m.kind for m in messages} == {MessageKind.EVALUATION_INVITATION}


def test_a_seat_projected_after_the_completion_still_gets_the_one_invitation():
    """The enrollments and sessions topics are consumed independently: whichever fact comes last
    plans the invitation, under the same id, so the participant gets exactly one."""
    from_completion = by_recipient(plan("session.completed.v1", ex.session_completed(), event_id="evt-done"))
    late_seat = plan("enrollment.promoted.v1", ex.enrollment_promoted("par-aminata"),
                     ex.state(registered=("par-john", "par-moussa"), completed=True), event_id="evt-seat")
    late_registration = plan("enrollment.registered.v1", ex.enrollment_registered("par-aminata"),
                             ex.state(registered=("par-john", "par-moussa"), completed=True), event_id="evt-other")
    for messages in (late_seat, late_registration):
        [invitation] = [m for m in messages if m.kind is MessageKind.EVALUATION_INVITATION]
        assert invitation.notification_id == from_completion["par-aminata"].notification_id


def test_a_seat_before_the_completion_plans_no_invitation_yet():
    messages = plan("enrollment.registered.v1", ex.enrollment_registered("par-aminata"))
    assert [m.kind for m in messages] == [MessageKind.ENROLLMENT_REGISTERED]


def test_events_about_an_unknown_session_plan_nothing():
    assert plan("session.completed.v1", ex.session_completed(), ReadModel(ex.CONTACTS)) == []


@pytest.mark.parametrize("event_type", ["session.scheduled.v1", "contact.updated.v1", "attendance.recorded.v1",
                                        "trainer.revoked.v1", "notification.sent.v1", "no.such.event.v1"])
def test_events_that_concern_nobody_plan_nothing(event_type):
    assert plan(event_type, {"session_id": ex.SESSION_ID}) == []


# --- trainers and feedback ------------------------------------------------------------------

def test_certification_congratulates_the_new_trainer():
    [message] = plan("trainer.certified.v1", ex.trainer_certified("par-aminata"))
    assert message.kind is MessageKind.TRAINER_CERTIFIED
    assert message.facts["certificate_reference"] == "EMM2-TOT-2026-000001"


FACILITATOR = Contact("par-facilitator-1", "Fatou Sow", "fatou@iom.example.org", "fr", True, staff_role="facilitator")


def test_evaluations_alone_send_no_digest_even_when_everyone_answered():
    state = ex.state(submissions={"sub-1", "sub-2"}, contacts={**ex.CONTACTS, "par-facilitator-1": FACILITATOR})
    assert plan("feedback.submitted.v1", ex.feedback_submitted("sub-3"), state) == []


def test_the_closed_evaluation_sends_the_digest_with_its_figures_and_headlines_in_the_staff_member_s_language():
    state = ex.state(submissions={"sub-1", "sub-2"}, contacts={**ex.CONTACTS, "par-facilitator-1": FACILITATOR})
    [message] = plan("evaluation.closed.v1", ex.evaluation_closed(registered=3, responses=2), state)
    assert (message.kind, message.recipient_id, message.status, message.language) == (
        MessageKind.REPORT_READY, "par-facilitator-1", PlanStatus.TO_SEND, "fr")
    assert message.facts == {"submissions": 2, "responses": 2, "registered": 3, "closed_at": "2026-06-01T18:00:00Z",
                             "response_percent": 67,
                             "headlines": ["Les 2 répondants (67 % des participants) étaient d'accord."]}


def test_the_digest_goes_to_the_facilitators_and_organizers_once_each():
    organizer = Contact("stf-fatou", "Fatou Ndiaye", "f@iom.example.org", "en", True, staff_role="organizer")
    state = ex.state(contacts={**ex.CONTACTS, "par-facilitator-1": FACILITATOR, "stf-fatou": organizer})
    view = replace(state.sessions[ex.SESSION_ID], organizer_ids=("stf-fatou", "par-facilitator-1"))
    state = replace(state, sessions={ex.SESSION_ID: view})
    messages = plan("evaluation.closed.v1", ex.evaluation_closed(), state)
    assert [(m.recipient_id, m.language, m.facts["headlines"][:1]) for m in messages] == [
        ("par-facilitator-1", "fr", ["Les 2 répondants (67 % des participants) étaient d'accord."]),
        ("stf-fatou", "en", ["All 2 respondents (67% of participants) strongly agreed or agreed."])]


def test_nobody_outside_the_staff_directory_is_planned_a_digest_so_nothing_waits_for_a_contact():
    # par-facilitator-1 is known only as a participant here, and usr-emm-team not at all.
    state = ex.state()
    view = replace(state.sessions[ex.SESSION_ID], organizer_ids=("usr-emm-team",))
    assert plan("evaluation.closed.v1", ex.evaluation_closed(), replace(state, sessions={ex.SESSION_ID: view})) == []


def test_the_digest_is_planned_once_per_session_whatever_event_asks():
    state = ex.state(contacts={**ex.CONTACTS, "par-facilitator-1": FACILITATOR})
    first = plan("evaluation.closed.v1", ex.evaluation_closed(), state, event_id="evt-1")
    again = plan("evaluation.closed.v1", ex.evaluation_closed(), state, event_id="evt-2")
    assert first[0].notification_id == again[0].notification_id


# --- scheduled messages ---------------------------------------------------------------------

def test_session_reminder_goes_to_registered_participants_with_the_invitation():
    messages = plan_scheduled(MessageKind.SESSION_REMINDER, ex.SESSION_ID, ex.state(), occasion_id="rem-1")
    assert {m.recipient_id for m in messages} == {"par-aminata", "par-john", "par-moussa"}
    assert all(m.calendar is CalendarAction.REQUEST for m in messages)


def test_evaluation_reminder_skips_participants_who_already_evaluated():
    state = ex.state(evaluated={"par-aminata"})
    messages = plan_scheduled(MessageKind.EVALUATION_REMINDER, ex.SESSION_ID, state, occasion_id="eval-rem-1")
    assert {m.recipient_id for m in messages} == {"par-john", "par-moussa"}


def test_no_evaluation_reminder_once_there_are_as_many_answers_as_seats_anonymous_ones_included():
    state = ex.state(evaluated={"par-aminata"}, submissions={"sub-1", "sub-2", "sub-3"})
    assert plan_scheduled(MessageKind.EVALUATION_REMINDER, ex.SESSION_ID, state, occasion_id="eval-rem-1") == []


def test_running_a_schedule_twice_plans_the_same_ids():
    ids = [[m.notification_id for m in plan_scheduled(MessageKind.SESSION_REMINDER, ex.SESSION_ID, ex.state(),
                                                      occasion_id="rem-1")] for _ in range(2)]
    assert ids[0] == ids[1]


def test_event_caused_kinds_cannot_be_scheduled():
    with pytest.raises(ValueError):
        plan_scheduled(MessageKind.ENROLLMENT_REGISTERED, ex.SESSION_ID, ex.state(), occasion_id="x")


def test_a_requested_sign_in_link_goes_even_without_consent_to_be_contacted():
    # par-moussa did not consent to programme emails, but asked for his link himself.
    [message] = plan_messages(ex.T + "sign_in.requested.v1", ex.sign_in_requested("par-moussa"), ex.state(),
                              event_id="evt-1")
    assert (message.kind, message.status, message.session_id) == (MessageKind.SIGN_IN_LINK, PlanStatus.TO_SEND,
                                                                   ex.SESSION_ID)
    assert dict(message.facts) == {"purpose": "participant-sign-in"}


def test_a_staff_member_no_longer_active_is_written_to_no_more():
    inactive = Contact("stf-fatou", "Fatou Ndiaye", "f@iom.example.org", "fr", True, staff_role="organizer",
                       active=False)
    [message] = plan_messages(ex.T + "sign_in.requested.v1", ex.sign_in_requested("stf-fatou", session_id=None),
                              ex.state(contacts={"stf-fatou": inactive}), event_id="evt-1")
    assert (message.status, message.reason) == (PlanStatus.SKIPPED, "no longer an active staff member")
