"""From a planned message to the message a channel sends: texts in the right language, the
recipient's personal portal link, and the calendar invitation. Done at send time, with the
freshest contact and session snapshot; the link is signed here, so that it is never stored in
the log, published on a topic or written to a log file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Mapping

from emm_common.auth import PARTICIPANT_LINK_DAYS, STAFF_LINK_SECONDS, TokenIssuer, sign_in_url
from emm_common.calendar import PROGRAMME_TEAM, CalendarParty, session_calendar
from emm_notification.domain.calendar import calendar_attachment
from emm_notification.domain.channel import OutgoingMessage
from emm_notification.domain.messages import PARTICIPANT_KINDS, MessageKind, PlannedMessage, language_for
from emm_notification.domain.read_model import Contact
from emm_notification.domain.rendering import MessageTemplates, default_templates


EVALUATION_KINDS = (MessageKind.EVALUATION_INVITATION, MessageKind.EVALUATION_REMINDER)
STAFF_HOME = {"organizer": "/organize", "facilitator": "/facilitate"}


@dataclass(frozen=True)
class PortalLinks:
    """The personal links in emails, `{base_url}/signin?link=<token>&next=<page>`: the portal
    exchanges the link token for a session and shows the page."""

    base_url: str
    issuer: TokenIssuer
    participant_link_days: int = PARTICIPANT_LINK_DAYS

    def for_participant(self, participant_id: str, session_id: str, page: str) -> str:
        """A reusable link to the participant's enrollment in the session, valid `participant_link_days`."""
        link = self.issuer.issue_link("participant-sign-in", participant_id, self.participant_link_days * 86400,
                                      session_id=session_id)
        return sign_in_url(self.base_url, link, page)

    def for_staff(self, staff_id: str, page: str) -> str:
        """A one-time link for a staff member, valid 15 minutes."""
        return sign_in_url(self.base_url, self.issuer.issue_link("staff-sign-in", staff_id, STAFF_LINK_SECONDS), page)


@dataclass(frozen=True)
class Programme:
    """Who the messages come from and where their links point; from the service settings.

    `links` signs the personal portal links (none without the signing key). `report_url` (the
    organizer digest's link) may use {session_id}, e.g. "https://emm.iom.int/organize/sessions/{session_id}/report".
    """

    organizer: CalendarParty = PROGRAMME_TEAM
    links: PortalLinks | None = None
    report_url: str | None = None
    daily_hours: tuple[time, time] | None = None


def training_page(kind: str, session_id: str) -> str:
    """The portal page a participant's message leads to: the evaluation, or their training."""
    return f"/trainings/{session_id}/evaluation" if kind in EVALUATION_KINDS else f"/trainings/{session_id}"


def link_context(planned: PlannedMessage, contact: Contact, links: PortalLinks | None) -> dict[str, Any]:
    """`portal_url` for the message's recipient (and, in a sign-in link's message, how long it is valid)."""
    signing_in = planned.kind == MessageKind.SIGN_IN_LINK
    if links is None:
        if signing_in:
            raise ValueError("no signing key (EMM_JWT_PRIVATE_KEY_FILE): sign-in links cannot be made")
        return {}
    if signing_in and planned.facts["purpose"] == "staff-sign-in":
        return {"portal_url": links.for_staff(planned.recipient_id, STAFF_HOME.get(contact.staff_role or "", "/")),
                "link_minutes": STAFF_LINK_SECONDS // 60}
    if (signing_in or planned.kind in PARTICIPANT_KINDS) and planned.session_id:
        url = links.for_participant(planned.recipient_id, planned.session_id,
                                    training_page(planned.kind, planned.session_id))
        return {"portal_url": url, **({"link_days": links.participant_link_days} if signing_in else {})}
    return {}


def message_context(planned: PlannedMessage, contact: Contact, session: Mapping[str, Any] | None,
                    programme: Programme) -> dict[str, Any]:
    """The values templates see (see rendering.CONTEXT_KEYS)."""
    context: dict[str, Any] = {"recipient_name": contact.full_name, **planned.facts,
                               **link_context(planned, contact, programme.links)}
    if session is not None:
        context |= {
            "session_title": session["title"], "session_start": session["start_date"],
            "session_end": session["end_date"], "session_days": list(session.get("days", ())),
            "city": session["city"], "country": session["country"], "venue": session.get("venue"),
            "organizing_office": session.get("organizing_office"), "modules": list(session.get("modules", ())),
        }
    if planned.session_id and programme.report_url:
        context["report_url"] = programme.report_url.format(session_id=planned.session_id,
                                                            participant_id=planned.recipient_id)
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
