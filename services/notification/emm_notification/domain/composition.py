"""From a planned message to the message a channel sends: texts in the right language plus the
calendar invitation. Done at send time, with the freshest contact and session snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Mapping

from emm_notification.domain.calendar import CalendarParty, calendar_attachment, session_calendar
from emm_notification.domain.channel import OutgoingMessage
from emm_notification.domain.messages import PlannedMessage, language_for
from emm_notification.domain.read_model import Contact
from emm_notification.domain.rendering import MessageTemplates, default_templates


@dataclass(frozen=True)
class Programme:
    """Who the messages come from and where their links point; from the service settings.

    URL templates may use {session_id} and {participant_id} (the recipient's, for a personal link),
    e.g. "https://emm.iom.int/sessions/{session_id}/evaluation?participant={participant_id}".
    """

    organizer: CalendarParty = CalendarParty("EMMinfo@iom.int", "IOM EMM2.0 Team")
    evaluation_url: str | None = None
    report_url: str | None = None
    daily_hours: tuple[time, time] | None = None


def message_context(planned: PlannedMessage, contact: Contact, session: Mapping[str, Any] | None,
                    programme: Programme) -> dict[str, Any]:
    """The values templates see (see rendering.CONTEXT_KEYS)."""
    context: dict[str, Any] = {"recipient_name": contact.full_name, **planned.facts}
    if session is not None:
        context |= {
            "session_title": session["title"], "session_start": session["start_date"],
            "session_end": session["end_date"], "session_days": list(session.get("days", ())),
            "city": session["city"], "country": session["country"], "venue": session.get("venue"),
            "organizing_office": session.get("organizing_office"), "modules": list(session.get("modules", ())),
        }
    if planned.session_id:
        for key in ("evaluation_url", "report_url"):
            if url := getattr(programme, key):
                context[key] = url.format(session_id=planned.session_id, participant_id=planned.recipient_id)
    return context


def compose_message(planned: PlannedMessage, contact: Contact, session: Mapping[str, Any] | None, *,
                    programme: Programme = Programme(), templates: MessageTemplates | None = None,
                    stamp: datetime | None = None) -> OutgoingMessage:
    """Render `planned` for `contact` and attach its calendar invitation or cancellation.

    The language is chosen again here, since the contact may have changed it since planning; the
    message's `language` is the one really used (for notification.sent).
    """
    templates = templates or default_templates()
    session_languages = session.get("languages", ()) if session else ()
    language = language_for(contact.preferred_language, session_languages, templates.languages())
    rendered = templates.render(planned.kind, language, message_context(planned, contact, session, programme))
    attachments = ()
    if planned.calendar is not None and session is not None:
        # A session.cancelled event is newer than the last snapshot; a later update is newer than the event.
        sequence = max(planned.facts.get("sequence", 0), session.get("sequence", 0))
        ics = session_calendar(session, planned.calendar, organizer=programme.organizer,
                               attendee=CalendarParty(contact.email, contact.full_name),
                               sequence=sequence, daily_hours=programme.daily_hours,
                               language=rendered.language, stamp=stamp)
        attachments = (calendar_attachment(ics, planned.calendar),)
    return OutgoingMessage(notification_id=planned.notification_id, to_address=contact.email,
                           to_name=contact.full_name, subject=rendered.subject, text=rendered.text,
                           html=rendered.html, attachments=attachments, language=rendered.language)
