"""A facilitator's rating of a trainee's practice delivery, on the evaluation service's rubric.

The criteria and their bounds are the evaluation domain's (imported); the page shows each as a
row of five large choices. `peer_feedback_id` is made when the form is shown and posted with it,
so sending the same form twice records one rating.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from emm_evaluation.domain.peer_feedback import COMMENT_MAX_LENGTH, CRITERIA
from emm_portal.domain.form_input import N_, FormReader, Problem

SCORES = ("1", "2", "3", "4", "5")
# Message ids of the rubric: each criterion's name and what it asks the rater to look at.
CRITERION_LABELS = {
    "content_mastery": N_("Mastery of the content"),
    "clarity": N_("Clarity of explanations"),
    "participant_engagement": N_("Engagement of the participants"),
    "time_management": N_("Time management"),
    "adult_learning_methods": N_("Adult learning methods"),
}
CRITERION_HINTS = {
    "content_mastery": N_("Knows the module and answers questions correctly"),
    "clarity": N_("Explains in plain words, with examples the group knows"),
    "participant_engagement": N_("Gets everyone to take part, not only the talkative"),
    "time_management": N_("Keeps to the time planned for each part"),
    "adult_learning_methods": N_("Builds on the group's experience: exercises, discussion, case studies"),
}
CHOOSE_TRAINEE = N_("Choose whose delivery you rate")
CHOOSE_MODULE = N_("Choose the module that was delivered")
CHOOSE_SCORE = N_("Choose a score from 1 to 5")
FIELDS = ("trainee_participant_id", "module", *(f"scores.{criterion}" for criterion in CRITERIA), "comment")


def new_peer_feedback_id() -> str:
    """The id the form carries, so that posting it again records nothing twice."""
    return f"pfb-{uuid.uuid4().hex[:20]}"


@dataclass(frozen=True)
class PeerFeedbackForm:
    values: Mapping[str, Any]
    problems: Mapping[str, Problem]
    body: Mapping[str, Any] | None  # evaluation's POST /sessions/{id}/peer-feedback body


def read_peer_feedback_form(form: Mapping[str, Any], trainees: Sequence[str], modules: Sequence[str]) -> PeerFeedbackForm:
    """Check a posted rating; `trainees` are the participant ids with a seat, `modules` the session's."""
    read = FormReader(form)
    peer_feedback_id = read.raw("peer_feedback_id") or new_peer_feedback_id()
    body = {
        "peer_feedback_id": peer_feedback_id,
        "trainee_participant_id": read.choice("trainee_participant_id", trainees, missing=CHOOSE_TRAINEE),
        "module": read.choice("module", modules, missing=CHOOSE_MODULE),
        "scores": {criterion: read.choice(f"scores.{criterion}", SCORES, missing=CHOOSE_SCORE) for criterion in CRITERIA},
        "comment": read.text("comment", COMMENT_MAX_LENGTH, required=False),
    }
    if not read.ok:
        return PeerFeedbackForm(read.values, read.problems, None)
    body["scores"] = {criterion: int(score) for criterion, score in body["scores"].items()}
    return PeerFeedbackForm(read.values, {}, {key: value for key, value in body.items() if value is not None})
