"""Certification of ToT graduates as EMM2.0 trainers, and the pool of trainers organizers pick from.

A participant is certified at most once: a replayed or repeated decision for someone already
certified never certifies again, and the certificate reference is derived from the facts, so
a replay produces the same one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from fractions import Fraction
from typing import Any

from emm_evaluation.domain.errors import Conflict, InvalidInput
from emm_common.identifiers import identifier
from emm_evaluation.domain.numbers import is_finite_number
from emm_evaluation.domain.questionnaire import LANGUAGES
from emm_evaluation.domain.timestamps import aware, utc_iso

CERTIFYING_KIND = "training_of_trainers"


@dataclass(frozen=True)
class CertificationRules:
    """What a ToT participant must meet. `min_peer_rubric_average=None` drops the rubric rule."""

    min_attendance_ratio: float = 0.8
    evaluation_required: bool = True
    min_peer_rubric_average: float | None = 3.5
    post_test_pass_mark: float = 70

    def __post_init__(self) -> None:
        if not is_finite_number(self.min_attendance_ratio) or not 0 <= self.min_attendance_ratio <= 1:
            raise InvalidInput("min_attendance_ratio", "must be from 0 to 1")
        if not isinstance(self.evaluation_required, bool):
            raise InvalidInput("evaluation_required", "must be true or false")
        if self.min_peer_rubric_average is not None and (
                not is_finite_number(self.min_peer_rubric_average) or not 1 <= self.min_peer_rubric_average <= 5):
            raise InvalidInput("min_peer_rubric_average", "must be from 1 to 5, or null")
        if not is_finite_number(self.post_test_pass_mark) or not 0 <= self.post_test_pass_mark <= 100:
            raise InvalidInput("post_test_pass_mark", "must be from 0 to 100")


@dataclass(frozen=True)
class CertificationFacts:
    """What is known of one participant in one session when deciding.

    `best_rubric_average` is the best peer-rubric average over their practice deliveries (any
    module), None if never rated; `post_test_score` is None when no post-test was given.
    """

    session_kind: str
    days_attended: int
    session_days: int
    submitted_evaluation: bool
    best_rubric_average: float | None
    post_test_score: float | None
    already_certified: bool = False


@dataclass(frozen=True)
class Decision:
    """`unmet` lists each rule not met as "code: detail" (codes: session_kind, already_certified,
    attendance, evaluation, peer_rubric, post_test); empty when certified."""

    certified: bool
    unmet: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleCheck:
    """One certification rule for one person: their `figure`, the `threshold`, whether it is met,
    and `detail` in words ("attended 1 of 2 days, needs 80%"). Rules: attendance (figure: the share
    of days attended), evaluation (submitted or not), peer_rubric (best average, None if never
    rated), post_test (the score, None when no post-test was given: then it is met)."""

    rule: str
    figure: float | bool | None
    threshold: float | bool
    met: bool
    detail: str


def assess(facts: CertificationFacts, rules: CertificationRules = CertificationRules()) -> tuple[RuleCheck, ...]:
    """Each rule of `rules` against the person's figures, met or not (the rubric rule only when set)."""
    # Fractions so that 4 of 5 days meets 0.8 exactly, whatever the float representation.
    attended = Fraction(facts.days_attended, facts.session_days) if facts.session_days else Fraction(0)
    checks = [RuleCheck("attendance", float(attended), rules.min_attendance_ratio,
                        attended >= Fraction(str(rules.min_attendance_ratio)),
                        f"attended {facts.days_attended} of {facts.session_days} days, "
                        f"needs {rules.min_attendance_ratio:.0%}")]
    if rules.evaluation_required:
        checks.append(RuleCheck("evaluation", facts.submitted_evaluation, True, facts.submitted_evaluation,
                                "the end-of-training evaluation was submitted" if facts.submitted_evaluation
                                else "the end-of-training evaluation was not submitted"))
    if rules.min_peer_rubric_average is not None:
        best = facts.best_rubric_average
        checks.append(RuleCheck(
            "peer_rubric", best, rules.min_peer_rubric_average,
            best is not None and best >= rules.min_peer_rubric_average,
            "no practice delivery was rated" if best is None
            else f"best average {best:.2f}, needs {rules.min_peer_rubric_average:g}"))
    score = facts.post_test_score
    checks.append(RuleCheck("post_test", score, rules.post_test_pass_mark,
                            score is None or score >= rules.post_test_pass_mark,
                            "no post-test was given" if score is None
                            else f"scored {score:g}, needs {rules.post_test_pass_mark:g}"))
    return tuple(checks)


def decide(facts: CertificationFacts, rules: CertificationRules = CertificationRules()) -> Decision:
    """Whether the participant becomes a certified trainer, and if not, every rule they miss."""
    if facts.session_kind != CERTIFYING_KIND:
        return Decision(False, (f"session_kind: only a training of trainers certifies, not {facts.session_kind}",))
    if facts.already_certified:
        return Decision(False, ("already_certified: the participant is already a certified trainer",))
    unmet = tuple(f"{check.rule}: {check.detail}" for check in assess(facts, rules) if not check.met)
    return Decision(not unmet, unmet)


def certificate_reference(session_id: str, participant_id: str, *, year: int) -> str:
    """E.g. EMM2-TOT-2026-3F9A1C07: the year of certification and a hash of session and participant."""
    digest = hashlib.sha256(f"{session_id}\x1f{participant_id}".encode()).hexdigest()[:8].upper()
    return f"EMM2-TOT-{year}-{digest}"


def trainer_id_for(participant_id: str) -> str:
    """The trainer id of a participant: "trn-" + participant id, hashed when that would be too long."""
    trainer_id = f"trn-{participant_id}"
    if len(trainer_id) <= 64:
        return trainer_id
    return "trn-" + hashlib.sha256(participant_id.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Trainer:
    """A member of the pool of EMM2.0 trainers."""

    trainer_id: str
    participant_id: str
    full_name: str
    country: str
    languages: tuple[str, ...]
    modules: tuple[str, ...]
    session_id: str
    certified_at: datetime
    certificate_reference: str
    status: str = "active"
    delivered_session_ids: tuple[str, ...] = field(default_factory=tuple)
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    revocation_reason: str | None = None

    @property
    def sessions_delivered(self) -> int:
        return len(self.delivered_session_ids)


def certify(decision: Decision, *, participant_id: str, full_name: str, country: str, languages: Sequence[str],
            modules: Sequence[str], session_id: str, certified_at: datetime) -> Trainer:
    """The new pool member for a positive decision; Conflict with the unmet rules otherwise."""
    if not decision.certified:
        raise Conflict("certification", "; ".join(decision.unmet) or "not certified")
    if not languages or not set(languages) <= set(LANGUAGES):
        raise InvalidInput("languages", "must be one or more of fr, en, pt")
    certified_at = aware(certified_at, "certified_at")
    return Trainer(
        trainer_id=trainer_id_for(participant_id),
        participant_id=participant_id,
        full_name=full_name,
        country=country,
        languages=tuple(language for language in LANGUAGES if language in languages),
        modules=tuple(sorted(set(modules))),
        session_id=session_id,
        certified_at=certified_at,
        certificate_reference=certificate_reference(session_id, participant_id, year=certified_at.year),
    )


def revoke(trainer: Trainer, *, reason: str, revoked_by: str, revoked_at: datetime) -> Trainer:
    """The trainer taken out of the pool; Conflict if already revoked."""
    if trainer.status == "revoked":
        raise Conflict("status", "the trainer's certification is already revoked")
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("reason", "is required")
    identifier(revoked_by, "revoked_by")
    return replace(trainer, status="revoked", revoked_at=aware(revoked_at, "revoked_at"), revoked_by=revoked_by,
                   revocation_reason=reason.strip())


def record_delivery(trainer: Trainer, session_id: str) -> Trainer:
    """The trainer with one more session delivered; the same session twice counts once."""
    if session_id in trainer.delivered_session_ids:
        return trainer
    return replace(trainer, delivered_session_ids=tuple(sorted((*trainer.delivered_session_ids, session_id))))


def search_pool(trainers: Iterable[Trainer], language: str | None = None, country: str | None = None,
                module: str | None = None, certified_from: date | None = None,
                certified_to: date | None = None, include_revoked: bool = False) -> list[Trainer]:
    """Active trainers matching every filter given (dates inclusive), ordered by name then id."""
    found = [
        trainer for trainer in trainers
        if (include_revoked or trainer.status == "active")
        and (language is None or language in trainer.languages)
        and (country is None or trainer.country == country)
        and (module is None or module in trainer.modules)
        and (certified_from is None or trainer.certified_at.date() >= certified_from)
        and (certified_to is None or trainer.certified_at.date() <= certified_to)
    ]
    return sorted(found, key=lambda t: (t.full_name.casefold(), t.participant_id))


def trainer_certified_payload(trainer: Trainer) -> dict[str, Any]:
    """The `trainer.certified` payload."""
    return {
        "trainer_id": trainer.trainer_id,
        "participant_id": trainer.participant_id,
        "session_id": trainer.session_id,
        "certified_at": utc_iso(trainer.certified_at),
        "certificate_reference": trainer.certificate_reference,
        "full_name": trainer.full_name,
        "languages": list(trainer.languages),
        "country": trainer.country,
        "modules": list(trainer.modules),
    }


def trainer_revoked_payload(trainer: Trainer) -> dict[str, Any]:
    """The `trainer.revoked` payload of a revoked trainer."""
    if trainer.status != "revoked" or trainer.revoked_at is None:
        raise ValueError("the trainer is not revoked")
    return {
        "trainer_id": trainer.trainer_id,
        "participant_id": trainer.participant_id,
        "revoked_at": utc_iso(trainer.revoked_at),
        "reason": trainer.revocation_reason,
        "revoked_by": trainer.revoked_by,
    }
