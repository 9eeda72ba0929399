"""End-of-training evaluations: who may submit, when, and what a resubmission does.

One submission counts per (session, participant, questionnaire); a resubmission replaces the
earlier one. An anonymous submission still records its participant here (to keep one per
person and to know who evaluated, for certification), but its event carries no participant_id,
only a seal that this service alone can open (domain/respondents.py), and reports never show
its name.

Whether an evaluation is anonymous is chosen with the first submission, and every replacement
keeps that choice. A named answer has been published with its author's id; an anonymous
replacement would name the submission it replaces, so whoever reads the topic would know whose
it is. An anonymous answer replaced by a named one would likewise name its author. Both are
refused (409, field `anonymous`); an anonymous answer may be replaced by another anonymous one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from emm_evaluation.domain.errors import Conflict, Forbidden, InvalidInput
from emm_common.identifiers import identifier
from emm_evaluation.domain.questionnaire import LANGUAGES, Questionnaire, validate_answers
from emm_evaluation.domain.timestamps import aware, utc_iso

STARTED_SESSION_STATUSES = ("in_progress", "completed")
ANONYMITY_KEPT = {
    False: "you answered by name already; a replacement must be named too, since an anonymous one "
           "would show whose answers it replaces",
    True: "you answered anonymously already; a replacement must be anonymous too, or it would show "
          "whose the earlier answers were",
}


def check_can_submit(enrollment_status: str | None, session_status: str, session_start_date: date,
                     today: date, evaluation_closed_at: str | None = None) -> None:
    """Refuse an evaluation from someone not registered, before the session has started, or
    after its evaluation closed (`evaluation_closed_at`, as the event said it).

    `enrollment_status` is None when the person has no enrollment in the session; a promoted
    enrollment counts as "registered". The start date is checked as well as the status because
    the session's status may reach us later than the first training day.
    """
    if enrollment_status is None:
        raise Forbidden("participant_id", "is not enrolled in this session")
    if enrollment_status != "registered":
        raise Forbidden("enrollment_status", f"a {enrollment_status} participant cannot evaluate the session")
    if session_status == "cancelled":
        raise Conflict("session_status", "the session was cancelled")
    if evaluation_closed_at is not None:
        raise Conflict("evaluation_closed_at", f"the evaluation of this session closed at {evaluation_closed_at}")
    if session_status in STARTED_SESSION_STATUSES or today >= session_start_date:
        return
    raise Conflict("session_start_date", f"the evaluation opens when the session starts on {session_start_date}")


QUOTE_CONSENTS = ("named", "unnamed")

@dataclass(frozen=True)
class FeedbackSubmission:
    """A participant's answers to one version of a questionnaire, as stored by this service."""

    submission_id: str
    session_id: str
    questionnaire_id: str
    questionnaire_version: int
    participant_id: str
    anonymous: bool
    language: str
    answers: tuple[Mapping[str, Any], ...]
    submitted_at: datetime
    replaces_submission_id: str | None = None
    quote_consent: str | None = None  # "named", "unnamed", or None: the comments may not be quoted

    def key(self) -> tuple[str, str, str]:
        """What makes two submissions the same evaluation: the later replaces the earlier."""
        return (self.session_id, self.participant_id, self.questionnaire_id)


@dataclass(frozen=True)
class RecordedSubmission:
    """The outcome of a submission: what to store and publish, and what it replaced.

    `duplicate` is True when the same submission_id arrives again (a retried request): store
    and publish nothing new.
    """

    submission: FeedbackSubmission
    replaced: str | None = None
    duplicate: bool = False


def submit_feedback(questionnaire: Questionnaire, *, submission_id: str, session_id: str, participant_id: str,
                    anonymous: bool, language: str, answers: Sequence[Mapping[str, Any]],
                    submitted_at: datetime, earlier: FeedbackSubmission | None = None,
                    quote_consent: str | None = None) -> RecordedSubmission:
    """Validate a submission and record it, replacing `earlier` (the same person's previous one).

    Call check_can_submit first. `earlier` must be the stored submission with the same
    (session, participant, questionnaire), or None.
    """
    identifier(submission_id, "submission_id")
    if not isinstance(anonymous, bool):
        raise InvalidInput("anonymous", "must be true or false")
    if language not in LANGUAGES:
        raise InvalidInput("language", "must be fr, en or pt")
    check_quote_consent(quote_consent, anonymous)
    submission = FeedbackSubmission(
        submission_id=submission_id,
        session_id=session_id,
        questionnaire_id=questionnaire.questionnaire_id,
        questionnaire_version=questionnaire.version,
        participant_id=participant_id,
        anonymous=anonymous,
        language=language,
        answers=tuple(validate_answers(questionnaire, answers)),
        submitted_at=aware(submitted_at, "submitted_at"),
        quote_consent=quote_consent,
    )
    return record_submission(submission, earlier)


def check_quote_consent(consent: Any, anonymous: bool) -> None:
    """Whether the person's comments may be quoted in the session's write-up: with their name
    ("named"), without it ("unnamed"), or not at all (None). An anonymous evaluation is quoted
    only without a name."""
    if consent is not None and consent not in QUOTE_CONSENTS:
        raise InvalidInput("quote_consent", "must be named, unnamed or left out")
    if anonymous and consent == "named":
        raise InvalidInput("quote_consent", "an anonymous evaluation can be quoted only without a name")


def record_submission(new: FeedbackSubmission, earlier: FeedbackSubmission | None) -> RecordedSubmission:
    """`new` replaces `earlier`; the same submission_id again is a duplicate and changes nothing."""
    if earlier is None:
        return RecordedSubmission(new)
    if earlier.key() != new.key():
        raise ValueError("the earlier submission is for another session, participant or questionnaire")
    if earlier.submission_id == new.submission_id:
        return RecordedSubmission(earlier, duplicate=True)
    if earlier.anonymous != new.anonymous:
        raise Conflict("anonymous", ANONYMITY_KEPT[earlier.anonymous])
    return RecordedSubmission(replace(new, replaces_submission_id=earlier.submission_id),
                              replaced=earlier.submission_id)


def to_event_payload(submission: FeedbackSubmission) -> dict[str, Any]:
    """The `feedback.submitted` payload; an anonymous one has no participant_id."""
    payload: dict[str, Any] = {
        "submission_id": submission.submission_id,
        "session_id": submission.session_id,
        "questionnaire_id": submission.questionnaire_id,
        "questionnaire_version": submission.questionnaire_version,
        "anonymous": submission.anonymous,
        "language": submission.language,
        "answers": [{"item_id": a["item_id"], "value": a["value"]} for a in submission.answers],
        "submitted_at": utc_iso(submission.submitted_at),
    }
    if not submission.anonymous:
        payload["participant_id"] = submission.participant_id
    if submission.replaces_submission_id:
        payload["replaces_submission_id"] = submission.replaces_submission_id
    if submission.quote_consent:
        payload["quote_consent"] = submission.quote_consent
    return payload
