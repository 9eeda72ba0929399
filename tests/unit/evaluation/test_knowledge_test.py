from __future__ import annotations

import pytest

from emm_evaluation.domain.errors import InvalidInput
from emm_evaluation.domain.knowledge_test import KnowledgeScores, mean_gain, passed, record_score, summarise_scores


def test_gain_is_post_minus_pre():
    assert KnowledgeScores("p1", pre=40, post=75).gain == 35
    assert KnowledgeScores("p1", pre=40).gain is None


def test_mean_gain_counts_only_participants_with_both_tests():
    scores = [KnowledgeScores("p1", 40, 80), KnowledgeScores("p2", 50, 60), KnowledgeScores("p3", pre=10)]
    assert mean_gain(scores) == 25.0
    assert mean_gain([]) is None


def test_a_new_score_for_the_same_phase_replaces_the_old():
    scores = record_score(None, "p1", "pre", 40)
    scores = record_score(scores, "p1", "post", 65)
    scores = record_score(scores, "p1", "post", 72)
    assert scores == KnowledgeScores("p1", pre=40, post=72)


@pytest.mark.parametrize("score", [-1, 100.5, "80", float("nan"), True])
def test_scores_are_from_0_to_100_and_the_error_names_the_score_field(score):
    with pytest.raises(InvalidInput) as error:
        record_score(None, "p1", "post", score)
    assert error.value.field == "score"  # the request's field, not the phase it is for
    assert "post-test" in error.value.message


def test_pass_mark_is_inclusive():
    assert passed(70) and not passed(69.5) and passed(60, pass_mark=60)


def test_summary_gives_means_and_pass_rate():
    summary = summarise_scores([KnowledgeScores("p1", 40, 80), KnowledgeScores("p2", 55, 65),
                                KnowledgeScores("p3", 50, 71)])
    assert summary.participants_tested == 3
    assert summary.mean_pre == 48.33 and summary.mean_post == 72.0 and summary.mean_gain == 23.67
    assert summary.passed == 2 and summary.pass_rate == 2 / 3
