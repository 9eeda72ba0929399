"""The evaluation API's request bodies are typed and bounded (the OpenAPI document describes
them), while the checks against the questionnaire and the rubric stay in the domain, whose errors
name the item at fault."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from emm_evaluation.domain.peer_feedback import CRITERIA
from emm_evaluation.entrypoints import api

SCORES = {criterion: 4 for criterion in CRITERIA}


def refused_at(model, body) -> list[tuple]:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(body)
    return [error["loc"] for error in refused.value.errors()]


def test_the_rubric_of_the_api_is_the_domain_s():
    assert tuple(api.Scores.model_fields) == CRITERIA


@pytest.mark.parametrize("anonymous", ["yes", "true", 1, None])
def test_anonymous_is_true_or_false_and_nothing_else(anonymous):
    assert refused_at(api.FeedbackBody, {"answers": [], "anonymous": anonymous}) == [("anonymous",)]


def test_language_is_one_of_the_programme_s():
    assert refused_at(api.FeedbackBody, {"answers": [], "language": "de"}) == [("language",)]
    assert api.FeedbackBody.model_validate({"answers": []}).language == "en"


def test_answers_are_bounded_and_each_is_an_item_id_with_a_number_or_a_text():
    too_many = [{"item_id": f"q{n}", "value": 3} for n in range(api.MAX_ITEMS + 1)]
    assert refused_at(api.FeedbackBody, {"answers": too_many}) == [("answers",)]
    assert refused_at(api.FeedbackBody, {"answers": [{"item_id": "comments", "value": "x" * 4001}]})[0][:3] == (
        "answers", 0, "value")
    assert refused_at(api.FeedbackBody, {"answers": [{"item_id": "i" * 101, "value": 3}]}) == [
        ("answers", 0, "item_id")]
    assert refused_at(api.FeedbackBody, {"answers": [{"item_id": "work_performance", "value": True}]})[0][:3] == (
        "answers", 0, "value")


def test_a_value_out_of_the_item_s_range_is_left_to_the_domain_which_names_the_item():
    body = api.FeedbackBody.model_validate({"answers": [{"item_id": "recommend", "value": 11},
                                                        {"item_id": "work_performance", "value": "4"},
                                                        {"item_id": "comments"}]})
    assert body.model_dump()["answers"] == [{"item_id": "recommend", "value": 11},
                                            {"item_id": "work_performance", "value": "4"},
                                            {"item_id": "comments", "value": None}]


def test_scores_name_each_criterion_and_the_domain_checks_their_range():
    peer = {"trainee_participant_id": "par-2", "module": "migration-governance", "scores": SCORES}
    assert api.PeerFeedbackBody.model_validate({**peer, "scores": {**SCORES, "clarity": 0}}).scores.clarity == 0
    assert refused_at(api.PeerFeedbackBody, {**peer, "scores": {**SCORES, "humour": 5}}) == [("scores", "humour")]
    without_clarity = {c: 4 for c in CRITERIA if c != "clarity"}
    assert refused_at(api.PeerFeedbackBody, {**peer, "scores": without_clarity}) == [("scores", "clarity")]
    assert refused_at(api.PeerFeedbackBody, {**peer, "scores": {**SCORES, "clarity": "4"}}) == [
        ("scores", "clarity")]
    assert refused_at(api.PeerFeedbackBody, {**peer, "comment": "c" * 4001}) == [("comment",)]
    assert refused_at(api.PeerFeedbackBody, {**peer, "module": "m" * 201}) == [("module",)]
    assert refused_at(api.PeerFeedbackBody, {**peer, "trainee_participant_id": "p" * 65}) == [
        ("trainee_participant_id",)]


def test_a_score_is_a_number_whose_range_the_domain_checks():
    assert api.ScoreBody.model_validate({"participant_id": "par-2", "phase": "post", "score": 150}).score == 150
    assert api.ScoreBody.model_validate({"participant_id": "par-2", "phase": "pre", "score": 55}).score == 55
    assert isinstance(api.ScoreBody.model_validate({"participant_id": "p", "phase": "pre", "score": 55}).score, int)
    for not_a_number in ("55", True, None):
        assert refused_at(api.ScoreBody, {"participant_id": "p", "phase": "pre", "score": not_a_number})[0][0] == (
            "score")


def test_a_questionnaire_is_bounded_and_its_item_types_left_to_the_domain():
    text = {"fr": "Q", "en": "Q", "pt": "Q"}
    item = {"item_id": "q1", "type": "stars", "text": text}
    api.QuestionnaireBody.model_validate({"title": text, "items": [item]})  # the domain names q1.type
    assert refused_at(api.QuestionnaireBody, {"title": text, "items": [item] * (api.MAX_ITEMS + 1)}) == [("items",)]
    assert refused_at(api.QuestionnaireBody, {"title": {**text, "fr": "t" * 301}, "items": [item]}) == [
        ("title", "fr")]
    assert refused_at(api.QuestionnaireBody, {"title": text, "items": [{**item, "required": "yes"}]}) == [
        ("items", 0, "required")]


def test_a_revocation_needs_a_bounded_reason():
    assert refused_at(api.RevocationBody, {}) == [("reason",)]
    assert refused_at(api.RevocationBody, {"reason": "r" * 1001}) == [("reason",)]
