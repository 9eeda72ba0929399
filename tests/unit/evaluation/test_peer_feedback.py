from __future__ import annotations

from datetime import datetime, timezone

import pytest

from emm_evaluation.domain.errors import InvalidInput
from emm_evaluation.domain.peer_feedback import (best_rubric_average, rate_delivery, record_rating, rubric_average,
                                                 to_event_payload)

AT = datetime(2026, 5, 18, 11, 0, tzinfo=timezone.utc)
SCORES = {"content_mastery": 4, "clarity": 5, "participant_engagement": 4, "time_management": 3,
          "adult_learning_methods": 4}


def rating(peer_feedback_id="pf-1", rater="par-facilitator-1", module="migration-governance", scores=SCORES,
           **overrides):
    arguments = dict(peer_feedback_id=peer_feedback_id, session_id="ses-dakar-tot-1",
                     trainee_participant_id="par-aminata", rater_participant_id=rater, rater_role="facilitator",
                     module=module, scores=scores, submitted_at=AT)
    arguments.update(overrides)
    return rate_delivery(**arguments)


def test_rater_cannot_rate_themselves():
    with pytest.raises(InvalidInput) as error:
        rating(rater="par-aminata")
    assert error.value.field == "rater_participant_id"


@pytest.mark.parametrize("value", [0, 6, 3.5, "4", None])
def test_each_criterion_is_a_whole_number_from_1_to_5(value):
    with pytest.raises(InvalidInput) as error:
        rating(scores=SCORES | {"clarity": value})
    assert error.value.field == "scores.clarity"


def test_unknown_criterion_is_refused():
    with pytest.raises(InvalidInput) as error:
        rating(scores=SCORES | {"charisma": 5})
    assert error.value.field == "scores.charisma"


def test_rater_role_is_facilitator_or_peer():
    with pytest.raises(InvalidInput) as error:
        rating(rater_role="observer")
    assert error.value.field == "rater_role"


def test_module_must_belong_to_the_session_when_known():
    with pytest.raises(InvalidInput) as error:
        rating(module="border-management", session_modules=["migration-governance"])
    assert error.value.field == "module"


@pytest.mark.parametrize("peer_feedback_id", ["my rating", "x" * 65, ""])
def test_peer_feedback_id_must_be_an_id_the_event_contract_allows(peer_feedback_id):
    with pytest.raises(InvalidInput) as error:
        rating(peer_feedback_id=peer_feedback_id)
    assert error.value.field == "peer_feedback_id"


def test_new_rating_by_the_same_rater_replaces_the_old():
    first = rating("pf-1")
    recorded = record_rating(rating("pf-2", scores=SCORES | {"clarity": 3}), first)
    assert recorded.replaced == "pf-1"
    assert recorded.rating.scores["clarity"] == 3


def test_same_rating_again_is_a_duplicate():
    first = rating("pf-1")
    assert record_rating(rating("pf-1"), first).duplicate


def test_rating_by_another_rater_is_not_the_same_key():
    with pytest.raises(ValueError):
        record_rating(rating("pf-2", rater="par-peer-2"), rating("pf-1"))


def test_rubric_average_is_the_mean_of_all_criterion_scores():
    assert rubric_average([rating()]) == 4.0
    assert rubric_average([rating(), rating("pf-2", rater="par-peer-2", scores=dict.fromkeys(SCORES, 5))]) == 4.5
    assert rubric_average([]) is None


def test_best_rubric_average_takes_the_best_module():
    ratings = [rating(module="migration-governance", scores=dict.fromkeys(SCORES, 3)),
               rating("pf-2", module="labour-mobility", scores=dict.fromkeys(SCORES, 4))]
    assert best_rubric_average(ratings) == 4.0
    assert best_rubric_average([]) is None


def test_peer_feedback_event_carries_scores_and_comment():
    payload = to_event_payload(rating(comment=" Clear and engaging. "))
    assert payload["scores"] == SCORES
    assert payload["comment"] == "Clear and engaging."
    assert payload["submitted_at"] == "2026-05-18T11:00:00Z"
