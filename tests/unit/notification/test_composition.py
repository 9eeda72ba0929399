from __future__ import annotations

import re
from datetime import datetime, time, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import icalendar
import pytest

from emm_notification.domain.composition import PortalLinks, Programme, compose_message
from emm_notification.domain.messages import PARTICIPANT_KINDS, MessageKind, plan_messages
from emm_notification.domain.read_model import Contact
from tests.unit.notification import examples as ex

VERIFIER = ex.VERIFIER
PROGRAMME = Programme(links=PortalLinks("https://emm.example.org/", ex.ISSUER))
PORTAL_URL = re.compile(r"https://emm\.example\.org/signin\?\S+")


def portal_link(message) -> tuple[str, str]:
    """The link token and the page of the one portal URL in a message's text (the same in its HTML)."""
    [url] = set(PORTAL_URL.findall(message.text))
    assert url.replace("&", "&amp;") in message.html
    query = parse_qs(urlsplit(url).query)
    return query["link"][0], query["next"][0]


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


def test_evaluation_invitation_signs_the_participant_in_to_the_sessions_evaluation():
    plan = planned("session.completed.v1", ex.session_completed())
    message = compose_message(plan, ex.CONTACTS["par-aminata"], ex.session(), programme=PROGRAMME)
    token, page = portal_link(message)
    assert page == "/trainings/ses-dakar-tot-1/evaluation"
    link = VERIFIER.verify_link(token)
    assert (link.purpose, link.subject, link.session_id) == ("participant-sign-in", "par-aminata", "ses-dakar-tot-1")
    assert link.expires_at > datetime.now(timezone.utc) + timedelta(days=59)
    assert message.attachments == ()
    assert token not in repr(plan)  # made at send time: nothing planned (and logged) holds it


@pytest.mark.parametrize("event_type, payload, recipient", [
    ("enrollment.registered.v1", ex.enrollment_registered("par-aminata"), "par-aminata"),
    ("enrollment.waitlisted.v1", ex.enrollment_waitlisted("par-joao"), "par-joao"),
    ("enrollment.promoted.v1", ex.enrollment_promoted("par-joao"), "par-joao"),
    ("enrollment.cancelled.v1", ex.enrollment_cancelled("par-john"), "par-john"),
    ("session.updated.v1", ex.session_updated(), "par-aminata"),
    ("session.cancelled.v1", ex.session_cancelled(), "par-aminata"),
    ("trainer.certified.v1", ex.trainer_certified("par-aminata"), "par-aminata"),
])
def test_every_message_to_a_participant_signs_them_in_to_their_training(event_type, payload, recipient):
    plan = planned(event_type, payload)
    assert plan.kind in PARTICIPANT_KINDS and plan.recipient_id == recipient
    token, page = portal_link(compose_message(plan, ex.CONTACTS[recipient], ex.session(), programme=PROGRAMME))
    assert page == "/trainings/ses-dakar-tot-1"
    assert VERIFIER.verify_link(token).subject == recipient


def test_each_message_gets_a_fresh_link():
    plan = planned("enrollment.registered.v1", ex.enrollment_registered("par-aminata"))
    first, second = (portal_link(compose_message(plan, ex.CONTACTS["par-aminata"], ex.session(),
                                                 programme=PROGRAMME))[0] for _ in range(2))
    assert VERIFIER.verify_link(first).jti != VERIFIER.verify_link(second).jti


def test_without_a_signing_key_messages_go_without_links_but_a_sign_in_link_cannot_be_made():
    message = compose_message(planned("enrollment.registered.v1", ex.enrollment_registered("par-aminata")),
                              ex.CONTACTS["par-aminata"], ex.session())
    assert "signin?" not in message.text + message.html
    with pytest.raises(ValueError):
        compose_message(planned("sign_in.requested.v1", ex.sign_in_requested()), ex.CONTACTS["par-aminata"],
                        ex.session())


def test_a_staff_member_asking_gets_a_one_time_link_to_their_own_pages():
    [plan] = plan_messages(ex.T + "sign_in.requested.v1", ex.sign_in_requested("stf-fatou", session_id=None),
                           ex.state(contacts={"stf-fatou": ex.STAFF_ORGANIZER}), event_id="evt-9")
    assert (plan.kind, plan.session_id, dict(plan.facts)) == (MessageKind.SIGN_IN_LINK, None,
                                                              {"purpose": "staff-sign-in"})
    message = compose_message(plan, ex.STAFF_ORGANIZER, None, programme=PROGRAMME)
    token, page = portal_link(message)
    link = VERIFIER.verify_link(token)
    assert (link.purpose, link.subject, page) == ("staff-sign-in", "stf-fatou", "/organize")
    assert link.expires_at < datetime.now(timezone.utc) + timedelta(minutes=15, seconds=5)
    assert message.subject == "Votre lien de connexion à EMM2.0" and "15 minutes" in message.text


def test_a_participant_asking_gets_their_link_for_the_session():
    message = compose_message(planned("sign_in.requested.v1", ex.sign_in_requested("par-john")),
                              ex.CONTACTS["par-john"], ex.session(), programme=PROGRAMME)
    token, page = portal_link(message)
    assert page == "/trainings/ses-dakar-tot-1" and VERIFIER.verify_link(token).session_id == "ses-dakar-tot-1"
    assert message.subject == "Your link to EMM2.0 Training-of-Trainers, session 1" and "60 days" in message.text


def test_daily_hours_make_a_timed_invitation():
    programme = Programme(daily_hours=(time(9), time(17)))
    message = compose_message(planned("enrollment.promoted.v1", ex.enrollment_promoted("par-joao")),
                              ex.CONTACTS["par-joao"], ex.session(), programme=programme)
    [event] = icalendar.Calendar.from_ical(message.attachments[0].content).walk("VEVENT")
    assert event.decoded("DTSTART").hour == 9
    assert message.language == "pt"
