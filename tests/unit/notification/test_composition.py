from __future__ import annotations

from datetime import time

import icalendar

from emm_notification.domain.composition import Programme, compose_message
from emm_notification.domain.messages import plan_messages
from emm_notification.domain.read_model import Contact
from tests.unit.notification import examples as ex

PROGRAMME = Programme(evaluation_url="https://emm.iom.int/sessions/{session_id}/evaluation")


def planned(event_type, payload, **state):
    [message, *_] = plan_messages(ex.T + event_type, payload, ex.state(**state), event_id="evt-1")
    return message


def test_registration_email_is_in_the_participants_language_with_an_invitation():
    message = compose_message(planned("enrollment.registered.v1", ex.enrollment_registered("par-aminata")),
                              ex.CONTACTS["par-aminata"], ex.session(), programme=PROGRAMME)
    assert message.language == "fr"
    assert message.to_address == "aminata@example.org"
    assert message.subject.startswith("Votre place est confirmée")
    [attachment] = message.attachments
    assert attachment.mime.startswith("text/calendar; method=REQUEST")
    [event] = icalendar.Calendar.from_ical(attachment.content).walk("VEVENT")
    assert str(event["ATTENDEE"]) == "mailto:aminata@example.org"


def test_language_is_chosen_again_with_the_contact_known_at_send_time():
    plan = planned("enrollment.registered.v1", ex.enrollment_registered("par-aminata", "fr"))
    changed = Contact("par-aminata", "Aminata Diallo", "aminata@example.org", "pt", True)
    assert compose_message(plan, changed, ex.session()).language == "pt"


def test_cancellation_invitation_carries_the_newer_sequence_of_the_event():
    plan = planned("session.cancelled.v1", ex.session_cancelled(sequence=5))
    message = compose_message(plan, ex.CONTACTS["par-aminata"], ex.session(sequence=1))
    calendar = icalendar.Calendar.from_ical(message.attachments[0].content)
    assert calendar["METHOD"] == "CANCEL"
    assert calendar.walk("VEVENT")[0]["SEQUENCE"] == 5
    assert "Venue unavailable" in message.text


def test_evaluation_invitation_links_to_the_sessions_evaluation():
    message = compose_message(planned("session.completed.v1", ex.session_completed()),
                              ex.CONTACTS["par-aminata"], ex.session(), programme=PROGRAMME)
    assert "https://emm.iom.int/sessions/ses-dakar-tot-1/evaluation" in message.text
    assert message.attachments == ()


def test_daily_hours_make_a_timed_invitation():
    programme = Programme(daily_hours=(time(9), time(17)))
    message = compose_message(planned("enrollment.promoted.v1", ex.enrollment_promoted("par-joao")),
                              ex.CONTACTS["par-joao"], ex.session(), programme=programme)
    [event] = icalendar.Calendar.from_ical(message.attachments[0].content).walk("VEVENT")
    assert event.decoded("DTSTART").hour == 9
    assert message.language == "pt"
