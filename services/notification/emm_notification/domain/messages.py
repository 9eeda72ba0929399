"""Which messages an event causes, for whom, in which language: pure decisions, no I/O.

The service layer feeds each consumed event to `plan_messages`, stores every planned message in
the notification log under its `notification_id` (so a redelivered event plans the same ids and
sends nothing twice), then renders and sends the ones that are `to_send`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Callable, Iterable, Mapping

from emm_notification.domain.read_model import Contact, ReadModel, SessionView

SUPPORTED_LANGUAGES: tuple[str, ...] = ("fr", "en", "pt")
FALLBACK_LANGUAGE = "en"

NO_CONSENT = "no consent to be contacted"
NO_CONTACT = "contact details not received yet"
NOT_ACTIVE = "no longer an active staff member"
NOT_STAFF = "not in the staff directory"

# Only these changes are worth an email; capacity, enrollment windows or status are not.
NOTIFIABLE_SESSION_FIELDS = frozenset(
    {"title", "start_date", "end_date", "days", "timezone", "venue", "city", "country"})


class MessageKind(StrEnum):
    ENROLLMENT_REGISTERED = "enrollment_registered"
    ENROLLMENT_WAITLISTED = "enrollment_waitlisted"
    ENROLLMENT_PROMOTED = "enrollment_promoted"
    ENROLLMENT_CANCELLED = "enrollment_cancelled"
    SESSION_UPDATED = "session_updated"
    SESSION_CANCELLED = "session_cancelled"
    SESSION_REMINDER = "session_reminder"
    EVALUATION_INVITATION = "evaluation_invitation"
    EVALUATION_REMINDER = "evaluation_reminder"
    TRAINER_CERTIFIED = "trainer_certified"
    REPORT_READY = "report_ready"
    ABSENCE_DIGEST = "absence_digest"
    CERTIFICATION_OUT_OF_REACH = "certification_out_of_reach"
    SIGN_IN_LINK = "sign_in_link"


# What a participant receives about their training: each carries their personal portal link.
STAFF_KINDS = frozenset({MessageKind.REPORT_READY, MessageKind.ABSENCE_DIGEST})
PARTICIPANT_KINDS = frozenset(MessageKind) - STAFF_KINDS - {MessageKind.SIGN_IN_LINK}
# Sent because the recipient asked for it (with their address), so consent to be contacted about
# the programme does not decide it.
REQUESTED_BY_RECIPIENT = frozenset({MessageKind.SIGN_IN_LINK})


class PlanStatus(StrEnum):
    TO_SEND = "to_send"
    SKIPPED = "skipped"
    # The contacts topic is not ordered with the others: the contact may simply arrive later.
    AWAITING_CONTACT = "awaiting_contact"


class CalendarAction(StrEnum):
    """The iCalendar METHOD to attach, if any."""

    REQUEST = "REQUEST"
    CANCEL = "CANCEL"


@dataclass(frozen=True)
class PlannedMessage:
    """One message to one recipient, decided but not yet rendered or sent.

    `facts` holds what the event says that the session snapshot does not (waitlist position,
    cancellation reason, certificate reference...), as plain JSON values for the log.
    """

    notification_id: str
    kind: MessageKind
    recipient_id: str
    caused_by_event_id: str
    session_id: str | None
    language: str
    status: PlanStatus
    reason: str | None = None
    calendar: CalendarAction | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)


def language_for(contact_language: str | None, session_languages: Iterable[str] = (),
                 available: Iterable[str] = SUPPORTED_LANGUAGES) -> str:
    """The language to write in: the participant's if we have templates for it, else the
    session's first language we have, else English."""
    available = tuple(available)
    if contact_language in available:
        return contact_language
    for language in session_languages:
        if language in available:
            return language
    return FALLBACK_LANGUAGE


def may_write(contact: Contact | None, kind: str) -> tuple[PlanStatus, str | None]:
    """Whether a message of `kind` may go to `contact` now, and if not, why."""
    if contact is None:
        return PlanStatus.AWAITING_CONTACT, NO_CONTACT
    if not contact.active:
        return PlanStatus.SKIPPED, NOT_ACTIVE
    if not contact.consent_to_contact and kind not in REQUESTED_BY_RECIPIENT:
        return PlanStatus.SKIPPED, NO_CONSENT
    return PlanStatus.TO_SEND, None


def notification_key(event_id: str, recipient_id: str, kind: str) -> str:
    """The notification log's _id: the same event, recipient and kind always give the same key."""
    digest = hashlib.sha256(f"{event_id}\x1f{recipient_id}\x1f{kind}".encode()).hexdigest()
    return f"ntf-{digest[:40]}"


def report_occasion(session_id: str) -> str:
    """The key source of a session's organizer digest: one digest per session and organizer,
    whichever event or schedule asks for it first."""
    return f"report-ready:{session_id}"


def invitation_occasion(session_id: str) -> str:
    """The key source of a session's evaluation invitations: one per participant, whichever fact
    comes last, the session's completion or the participant's seat (the two topics are consumed
    independently, so a seat may be projected after the completion)."""
    return f"evaluation-invitation:{session_id}"


# --- planning -------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Planning:
    event_id: str
    state: ReadModel
    session_id: str | None

    @property
    def session(self) -> SessionView | None:
        return self.state.sessions.get(self.session_id) if self.session_id else None

    def message(self, kind: MessageKind, recipient_id: str, *, calendar: CalendarAction | None = None,
                facts: Mapping[str, Any] | None = None, known_language: str | None = None,
                key_source: str | None = None) -> PlannedMessage:
        contact: Contact | None = self.state.contacts.get(recipient_id)
        session = self.session
        language = language_for(contact.preferred_language if contact else known_language,
                                session.languages if session else ())
        status, reason = may_write(contact, kind)
        return PlannedMessage(
            notification_id=notification_key(key_source or self.event_id, recipient_id, kind),
            kind=kind, recipient_id=recipient_id, caused_by_event_id=self.event_id,
            session_id=self.session_id, language=language, status=status, reason=reason,
            calendar=calendar, facts=dict(facts or {}))

    def to_registered(self, kind: MessageKind, **kwargs: Any) -> list[PlannedMessage]:
        session = self.session
        if session is None:
            return []
        return [self.message(kind, pid, **kwargs) for pid in session.registered_ids]


def _participant_language(payload: Mapping[str, Any]) -> str | None:
    return (payload.get("participant") or {}).get("preferred_language")


def _enrollment_registered(p: _Planning, payload: Mapping[str, Any]) -> list[PlannedMessage]:
    return [p.message(MessageKind.ENROLLMENT_REGISTERED, payload["participant_id"],
                      calendar=CalendarAction.REQUEST, known_language=_participant_language(payload)),
            *_invitation_if_completed(p, payload["participant_id"])]


def _enrollment_waitlisted(p: _Planning, payload: Mapping[str, Any]) -> list[PlannedMessage]:
    return [p.message(MessageKind.ENROLLMENT_WAITLISTED, payload["participant_id"],
                      facts={"position": payload["position"]}, known_language=_participant_language(payload))]


def _enrollment_promoted(p: _Planning, payload: Mapping[str, Any]) -> list[PlannedMessage]:
    return [p.message(MessageKind.ENROLLMENT_PROMOTED, payload["participant_id"], calendar=CalendarAction.REQUEST),
            *_invitation_if_completed(p, payload["participant_id"])]


def _invitation_if_completed(p: _Planning, participant_id: str) -> list[PlannedMessage]:
    """A seat that reaches us after the session's completion still gets its evaluation invitation."""
    session = p.session
    if session is None or not session.completed:
        return []
    return [p.message(MessageKind.EVALUATION_INVITATION, participant_id, key_source=invitation_occasion(p.session_id))]


def _enrollment_cancelled(p: _Planning, payload: Mapping[str, Any]) -> list[PlannedMessage]:
    # Only a registered participant received an invitation, so only they get a calendar CANCEL.
    held_a_seat = payload["previous_status"] == "registered"
    return [p.message(MessageKind.ENROLLMENT_CANCELLED, payload["participant_id"],
                      calendar=CalendarAction.CANCEL if held_a_seat else None,
                      facts={"previous_status": payload["previous_status"], "reason": payload.get("reason")})]


def _session_updated(p: _Planning, payload: Mapping[str, Any]) -> list[PlannedMessage]:
    changed = [f for f in payload["changed_fields"] if f in NOTIFIABLE_SESSION_FIELDS]
    if not changed:
        return []
    return p.to_registered(MessageKind.SESSION_UPDATED, calendar=CalendarAction.REQUEST,
                           facts={"changed_fields": changed, "sequence": payload["session"]["sequence"]})


def _session_cancelled(p: _Planning, payload: Mapping[str, Any]) -> list[PlannedMessage]:
    session = p.session
    if session is None:
        return []
    facts = {"reason": payload["reason"], "sequence": payload["sequence"]}
    registered = [p.message(MessageKind.SESSION_CANCELLED, pid, calendar=CalendarAction.CANCEL, facts=facts)
                  for pid in session.registered_ids]
    waitlisted = [p.message(MessageKind.SESSION_CANCELLED, pid, facts=facts) for pid in session.waitlisted_ids]
    return registered + waitlisted


def _session_completed(p: _Planning, payload: Mapping[str, Any]) -> list[PlannedMessage]:
    return p.to_registered(MessageKind.EVALUATION_INVITATION, key_source=invitation_occasion(p.session_id))


def _trainer_certified(p: _Planning, payload: Mapping[str, Any]) -> list[PlannedMessage]:
    facts = {"certificate_reference": payload["certificate_reference"], "trainer_id": payload["trainer_id"],
             "modules": list(payload.get("modules", ())), "certified_at": payload["certified_at"]}
    return [p.message(MessageKind.TRAINER_CERTIFIED, payload["participant_id"], facts=facts,
                      known_language=(payload.get("languages") or [None])[0])]


def _evaluation_closed(p: _Planning, payload: Mapping[str, Any]) -> list[PlannedMessage]:
    """The staff digest, once the evaluation closed: its figures and headlines are final."""
    session = p.session
    if session is None:
        return []
    rate = payload.get("response_rate")
    facts = {"submissions": payload["responses"], "responses": payload["responses"],
             "registered": payload["registered"], "closed_at": payload["closed_at"],
             "response_percent": None if rate is None else round(rate * 100)}
    return _report_ready(p, session, facts, payload.get("headlines") or {})


def _report_ready(p: _Planning, session: SessionView, facts: Mapping[str, Any],
                  headlines: Mapping[str, Any]) -> list[PlannedMessage]:
    """One digest per staff member of the session in the directory, in their language. Staff are
    known long before a session ends, so nobody unknown is waited for: they are left out."""
    planned = []
    for rid in session.digest_recipient_ids:
        contact = p.state.contacts.get(rid)
        if contact is None or contact.staff_role is None:
            continue
        message = p.message(MessageKind.REPORT_READY, rid, facts=facts, key_source=report_occasion(session.session_id))
        planned.append(replace(message, facts={**message.facts,
                                               "headlines": list(headlines.get(message.language) or ())}))
    return planned


def _certification_out_of_reach(p: _Planning, payload: Mapping[str, Any]) -> list[PlannedMessage]:
    facts = {"days_attended": payload["days_attended"], "days_in_session": payload["session_days"],
             "required_percent": round(payload["min_attendance_ratio"] * 100)}
    return [p.message(MessageKind.CERTIFICATION_OUT_OF_REACH, payload["participant_id"], facts=facts)]


def absence_occasion(session_id: str, day: str) -> str:
    """One absence digest per session day, however many marks and passes of the scheduler."""
    return f"absences:{session_id}:{day}"


def plan_absences(session_id: str, day: str, absent_ids: Iterable[str], state: ReadModel) -> list[PlannedMessage]:
    """The day's absence digest: to the session's staff in the directory (as the report's digest),
    listing by name who was marked absent, not excused."""
    p = _Planning(event_id=absence_occasion(session_id, day), state=state, session_id=session_id)
    session = p.session
    absent = sorted(state.contacts[pid].full_name if pid in state.contacts else pid for pid in absent_ids)
    if session is None or not absent:
        return []
    facts = {"day": day, "absent_names": absent}
    return [p.message(MessageKind.ABSENCE_DIGEST, rid, facts=facts) for rid in session.digest_recipient_ids
            if (contact := state.contacts.get(rid)) is not None and contact.staff_role is not None]


def _sign_in_requested(p: _Planning, payload: Mapping[str, Any]) -> list[PlannedMessage]:
    # The link itself is made at send time, never planned: the log and the topics do not hold it.
    return [p.message(MessageKind.SIGN_IN_LINK, payload["recipient_id"], facts={"purpose": payload["purpose"]})]


_Planner = Callable[[_Planning, Mapping[str, Any]], list[PlannedMessage]]
_SessionIdOf = Callable[[Mapping[str, Any]], str]

_EVENT_PLANNERS: dict[str, tuple[_Planner, _SessionIdOf]] = {
    "org.iom.emm.enrollment.registered.v1": (_enrollment_registered, lambda d: d["session_id"]),
    "org.iom.emm.enrollment.waitlisted.v1": (_enrollment_waitlisted, lambda d: d["session_id"]),
    "org.iom.emm.enrollment.promoted.v1": (_enrollment_promoted, lambda d: d["session_id"]),
    "org.iom.emm.enrollment.cancelled.v1": (_enrollment_cancelled, lambda d: d["session_id"]),
    "org.iom.emm.session.updated.v1": (_session_updated, lambda d: d["session"]["session_id"]),
    "org.iom.emm.session.cancelled.v1": (_session_cancelled, lambda d: d["session_id"]),
    "org.iom.emm.session.completed.v1": (_session_completed, lambda d: d["session_id"]),
    "org.iom.emm.trainer.certified.v1": (_trainer_certified, lambda d: d["session_id"]),
    "org.iom.emm.certification.out_of_reach.v1": (_certification_out_of_reach, lambda d: d["session_id"]),
    "org.iom.emm.evaluation.closed.v1": (_evaluation_closed, lambda d: d["session_id"]),
    "org.iom.emm.sign_in.requested.v1": (_sign_in_requested, lambda d: d.get("session_id")),
}


def plan_messages(event_type: str, payload: Mapping[str, Any], state: ReadModel, *,
                  event_id: str) -> list[PlannedMessage]:
    """The messages one consumed event causes, one per recipient, in a stable order.

    Events that cause no message (session.scheduled, session.evaluation_closed, contact.updated,
    staff.updated, attendance.*, feedback.submitted, trainer.revoked, peer_feedback.*, notification.*)
    plan nothing; neither does an event about a session not yet
    in `state`. A recipient without consent is planned `skipped` with the reason, so the log says
    why nothing was sent.
    """
    entry = _EVENT_PLANNERS.get(event_type)
    if entry is None:
        return []
    planner, session_id_of = entry
    return planner(_Planning(event_id=event_id, state=state, session_id=session_id_of(payload)), payload)


def plan_scheduled(kind: MessageKind, session_id: str, state: ReadModel, *, occasion_id: str) -> list[PlannedMessage]:
    """The messages a scheduler asks for at a point in time rather than an event causing them.

    `occasion_id` plays the part of the event id (e.g. "session-reminder:<session>:<date>"), so
    running the same schedule twice plans the same notification ids. Kinds: session_reminder (to
    registered participants) and evaluation_reminder (to registered participants with no known
    evaluation).
    """
    p = _Planning(event_id=occasion_id, state=state, session_id=session_id)
    session = p.session
    if session is None:
        return []
    if kind is MessageKind.SESSION_REMINDER:
        return p.to_registered(kind, calendar=CalendarAction.REQUEST)
    if kind is MessageKind.EVALUATION_REMINDER:
        # Anonymous answers name nobody: when there are as many as seats, everyone has answered.
        if len(session.submission_ids) >= len(session.registered_ids):
            return []
        return [p.message(kind, pid) for pid in session.registered_ids if pid not in session.evaluated_ids]
    raise ValueError(f"{kind} is caused by an event, not by a schedule")
