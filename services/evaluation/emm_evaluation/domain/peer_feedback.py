"""Peer feedback: a facilitator or a peer rates a trainee's practice delivery of an EMM2.0 module.

One rating counts per (session, trainee, module, rater); a new one from the same rater replaces
the old.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from emm_evaluation.domain.errors import InvalidInput
from emm_common.identifiers import identifier
from emm_evaluation.domain.timestamps import aware, utc_iso

CRITERIA = ("content_mastery", "clarity", "participant_engagement", "time_management", "adult_learning_methods")
RATER_ROLES = ("facilitator", "peer")
COMMENT_MAX_LENGTH = 4000


@dataclass(frozen=True)
class PeerRating:
    """Scores 1-5 on each rubric criterion for one practice delivery, from one rater."""

    peer_feedback_id: str
    session_id: str
    trainee_participant_id: str
    rater_participant_id: str
    rater_role: str
    module: str
    scores: Mapping[str, int]
    submitted_at: datetime
    comment: str | None = None

    def key(self) -> tuple[str, str, str, str]:
        return (self.session_id, self.trainee_participant_id, self.module, self.rater_participant_id)

    @property
    def average(self) -> float:
        return float(Fraction(sum(self.scores.values()), len(self.scores)))


def rate_delivery(*, peer_feedback_id: str, session_id: str, trainee_participant_id: str,
                  rater_participant_id: str, rater_role: str, module: str, scores: Mapping[str, Any],
                  submitted_at: datetime, comment: str | None = None,
                  session_modules: Collection[str] | None = None) -> PeerRating:
    """A validated rating. InvalidInput names the field: a rater rating themselves is refused.

    `session_modules`, when given, are the modules of the session: the module must be one of them.
    """
    identifier(peer_feedback_id, "peer_feedback_id")
    if rater_participant_id == trainee_participant_id:
        raise InvalidInput("rater_participant_id", "a rater cannot rate their own delivery")
    if rater_role not in RATER_ROLES:
        raise InvalidInput("rater_role", "must be facilitator or peer")
    if not isinstance(module, str) or not module.strip():
        raise InvalidInput("module", "is required")
    if session_modules is not None and module not in session_modules:
        raise InvalidInput("module", "is not a module of this session")
    if comment is not None:
        if not isinstance(comment, str) or len(comment) > COMMENT_MAX_LENGTH:
            raise InvalidInput("comment", f"must be text of at most {COMMENT_MAX_LENGTH} characters")
        comment = comment.strip() or None
    return PeerRating(
        peer_feedback_id=peer_feedback_id,
        session_id=session_id,
        trainee_participant_id=trainee_participant_id,
        rater_participant_id=rater_participant_id,
        rater_role=rater_role,
        module=module,
        scores=_rubric_scores(scores),
        submitted_at=aware(submitted_at, "submitted_at"),
        comment=comment,
    )


def _rubric_scores(scores: Any) -> dict[str, int]:
    if not isinstance(scores, Mapping):
        raise InvalidInput("scores", "must give a score for each criterion")
    unknown = sorted(set(scores) - set(CRITERIA))
    if unknown:
        raise InvalidInput(f"scores.{unknown[0]}", "is not a rubric criterion")
    checked = {}
    for criterion in CRITERIA:
        value = scores.get(criterion)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise InvalidInput(f"scores.{criterion}", "must be a whole number from 1 to 5")
        checked[criterion] = value
    return checked


@dataclass(frozen=True)
class RecordedRating:
    """What to store and publish; `replaced` is the id of the rating it replaces, if any."""

    rating: PeerRating
    replaced: str | None = None
    duplicate: bool = False


def record_rating(new: PeerRating, earlier: PeerRating | None) -> RecordedRating:
    """`new` replaces `earlier` (same session, trainee, module and rater); same id again is a duplicate."""
    if earlier is None:
        return RecordedRating(new)
    if earlier.key() != new.key():
        raise ValueError("the earlier rating is for another session, trainee, module or rater")
    if earlier.peer_feedback_id == new.peer_feedback_id:
        return RecordedRating(earlier, duplicate=True)
    return RecordedRating(new, replaced=earlier.peer_feedback_id)


def rubric_average(ratings: Iterable[PeerRating]) -> float | None:
    """The mean of all criterion scores over `ratings`, unrounded; None when there are none."""
    scores = [score for rating in ratings for score in rating.scores.values()]
    if not scores:
        return None
    return float(Fraction(sum(scores), len(scores)))


def best_rubric_average(ratings: Iterable[PeerRating]) -> float | None:
    """The best per-module rubric average over one trainee's ratings; None if never rated."""
    by_module: dict[str, list[PeerRating]] = defaultdict(list)
    for rating in ratings:
        by_module[rating.module].append(rating)
    averages = [rubric_average(module_ratings) for module_ratings in by_module.values()]
    return max(averages, default=None)


def to_event_payload(rating: PeerRating) -> dict[str, Any]:
    """The `peer_feedback.submitted` payload."""
    payload: dict[str, Any] = {
        "peer_feedback_id": rating.peer_feedback_id,
        "session_id": rating.session_id,
        "trainee_participant_id": rating.trainee_participant_id,
        "rater_participant_id": rating.rater_participant_id,
        "rater_role": rating.rater_role,
        "module": rating.module,
        "scores": dict(rating.scores),
        "submitted_at": utc_iso(rating.submitted_at),
    }
    if rating.comment:
        payload["comment"] = rating.comment
    return payload
