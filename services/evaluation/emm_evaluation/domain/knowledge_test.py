"""Knowledge tests before and after a training: scores 0-100 per participant and what was gained."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from emm_evaluation.domain.certification import CertificationRules
from emm_evaluation.domain.errors import InvalidInput
from emm_evaluation.domain.numbers import is_finite_number, mean, rate
from emm_evaluation.domain.timestamps import aware, utc_iso

Phase = Literal["pre", "post"]
DEFAULT_PASS_MARK = CertificationRules.post_test_pass_mark  # the rules are where the pass mark is set


@dataclass(frozen=True)
class KnowledgeScores:
    """A participant's pre-test and post-test scores; either may not be known yet."""

    participant_id: str
    pre: float | None = None
    post: float | None = None
    full_name: str | None = None  # as a report names the person; scores are never anonymous

    @property
    def gain(self) -> float | None:
        """Post minus pre, or None unless both tests were taken."""
        if self.pre is None or self.post is None:
            return None
        return self.post - self.pre


def check_score(value: Any, field: str = "score", phase: Phase | None = None) -> float:
    """A score from 0 to 100 inclusive; InvalidInput names `field`, the message says the phase."""
    if not is_finite_number(value) or not 0 <= value <= 100:
        test = f"the {phase}-test score" if phase else "the score"
        raise InvalidInput(field, f"{test} must be a number from 0 to 100")
    return value


def record_score(scores: KnowledgeScores | None, participant_id: str, phase: Phase, score: Any) -> KnowledgeScores:
    """`scores` with the `phase` score set (a new score for the same phase replaces the old)."""
    if phase not in ("pre", "post"):
        raise InvalidInput("phase", "must be pre or post")
    current = scores or KnowledgeScores(participant_id)
    # The error names the request's `score` field; the phase is a value, not a field.
    return replace(current, **{phase: check_score(score, phase=phase)})


def score_recorded_payload(session_id: str, scores: KnowledgeScores, phase: Phase, *, pass_mark: float,
                           recorded_by: str, recorded_at: datetime) -> dict[str, Any]:
    """The `knowledge_score.recorded` payload of the `phase` score in `scores` (ids only, no name)."""
    return {"session_id": session_id, "participant_id": scores.participant_id, "phase": phase,
            "score": getattr(scores, phase), "pass_mark": pass_mark, "recorded_by": recorded_by,
            "recorded_at": utc_iso(aware(recorded_at, "recorded_at"))}


def passed(post: float, pass_mark: float = DEFAULT_PASS_MARK) -> bool:
    """A post-test score at or above the pass mark passes."""
    return post >= pass_mark


@dataclass(frozen=True)
class KnowledgeSummary:
    """Means over a session (2 decimals, in points out of 100); gains only over participants who
    took both tests; `pass_rate` the fraction (0 to 1) of post-tests at or above the pass mark."""

    participants_tested: int
    mean_pre: float | None
    mean_post: float | None
    mean_gain: float | None
    passed: int
    pass_rate: float | None
    pass_mark: float  # the certification rules' post-test pass mark these figures were counted with


@dataclass(frozen=True)
class PersonResult:
    """One person's tests as a session report lists them; `passed` is None without a post-test."""

    participant_id: str
    full_name: str | None
    pre: float | None
    post: float | None
    gain: float | None
    passed: bool | None


def results_by_person(scores: Iterable[KnowledgeScores], pass_mark: float = DEFAULT_PASS_MARK
                      ) -> tuple[PersonResult, ...]:
    """Each tested person's pre, post and gain, by name (then id, for a fixed order)."""
    return tuple(PersonResult(s.participant_id, s.full_name, s.pre, s.post, s.gain,
                              None if s.post is None else passed(s.post, pass_mark))
                 for s in sorted(scores, key=lambda s: (s.full_name or "", s.participant_id))
                 if s.pre is not None or s.post is not None)


def mean_gain(scores: Iterable[KnowledgeScores]) -> float | None:
    """The mean gain (2 decimals) over participants with both scores; None if there are none."""
    return mean(s.gain for s in scores if s.gain is not None)


def summarise_scores(scores: Iterable[KnowledgeScores], pass_mark: float = DEFAULT_PASS_MARK) -> KnowledgeSummary:
    """Pre and post means, mean gain and how many passed the post-test."""
    scores = list(scores)
    posts = [s.post for s in scores if s.post is not None]
    passes = sum(1 for post in posts if passed(post, pass_mark))
    return KnowledgeSummary(
        participants_tested=sum(1 for s in scores if s.pre is not None or s.post is not None),
        mean_pre=mean(s.pre for s in scores if s.pre is not None),
        mean_post=mean(posts),
        mean_gain=mean_gain(scores),
        passed=passes,
        pass_rate=rate(passes, len(posts)),
        pass_mark=pass_mark,
    )
