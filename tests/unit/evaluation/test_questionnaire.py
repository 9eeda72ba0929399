from __future__ import annotations

import pytest

from emm_evaluation.domain.errors import InvalidInput
from emm_evaluation.domain.questionnaire import (LANGUAGES, Item, Option, Questionnaire, default_tot_questionnaire,
                                                 questionnaire_from_dict, questionnaire_to_dict, validate_answers)

TOT = default_tot_questionnaire()
LIKERT_IDS = ("work_performance", "methodology", "content_quality", "facilitation", "relevance", "organization")


def full_answers(**overrides):
    values = {item_id: 5 for item_id in LIKERT_IDS} | {"recommend": 10, "comments": "Great"}
    values.update(overrides)
    return [{"item_id": k, "value": v} for k, v in values.items() if v is not ...]


def test_default_questionnaire_has_the_tot_items_in_three_languages():
    assert [item.item_id for item in TOT.items] == [*LIKERT_IDS, "recommend", "comments"]
    assert all(TOT.item(i).type == "likert5" for i in LIKERT_IDS)
    assert TOT.item("recommend").type == "scale0_10"
    assert TOT.item("comments").type == "free_text" and not TOT.item("comments").required
    for item in TOT.items:
        assert set(item.text) == set(LANGUAGES)
    assert TOT.item("work_performance").text["en"] == "The ToT will help improve my present work performance."


def test_revising_returns_a_new_version_and_leaves_the_old_one():
    revised = TOT.revise({"items": TOT.items[:-1]})
    assert revised.version == TOT.version + 1
    assert len(revised.items) == len(TOT.items) - 1
    assert TOT.version == 1 and TOT.item("comments") is not None


def test_revising_refuses_to_change_the_id():
    with pytest.raises(InvalidInput) as error:
        TOT.revise({"questionnaire_id": "other"})
    assert error.value.field == "questionnaire_id"


def test_valid_answers_come_back_in_questionnaire_order_with_text_stripped():
    answers = list(reversed(full_answers(comments="  Merci !  ")))
    normalised = validate_answers(TOT, answers)
    assert [a["item_id"] for a in normalised] == [item.item_id for item in TOT.items]
    assert normalised[-1] == {"item_id": "comments", "value": "Merci !"}


def test_optional_blank_comment_is_left_out():
    normalised = validate_answers(TOT, full_answers(comments="   "))
    assert "comments" not in [a["item_id"] for a in normalised]


def test_missing_required_item_names_the_item():
    with pytest.raises(InvalidInput) as error:
        validate_answers(TOT, full_answers(methodology=...))
    assert error.value.field == "methodology"


def test_unknown_item_names_the_item():
    with pytest.raises(InvalidInput) as error:
        validate_answers(TOT, full_answers() + [{"item_id": "catering", "value": 3}])
    assert error.value.field == "catering"


def test_item_answered_twice_is_refused():
    with pytest.raises(InvalidInput) as error:
        validate_answers(TOT, full_answers() + [{"item_id": "relevance", "value": 3}])
    assert error.value.field == "relevance"


@pytest.mark.parametrize("item_id, value", [
    ("work_performance", "5"), ("work_performance", 4.5), ("work_performance", True), ("recommend", "ten"),
    ("comments", 3),
])
def test_wrong_type_names_the_item(item_id, value):
    with pytest.raises(InvalidInput) as error:
        validate_answers(TOT, full_answers(**{item_id: value}))
    assert error.value.field == item_id


@pytest.mark.parametrize("item_id, value", [
    ("work_performance", 0), ("work_performance", 6), ("recommend", -1), ("recommend", 11),
])
def test_out_of_range_value_names_the_item(item_id, value):
    with pytest.raises(InvalidInput) as error:
        validate_answers(TOT, full_answers(**{item_id: value}))
    assert error.value.field == item_id


def _with_role_item() -> Questionnaire:
    role = Item("role", "single_choice", {"fr": "Rôle", "en": "Role", "pt": "Função"}, options=(
        Option("manager", {"fr": "Responsable", "en": "Manager", "pt": "Gestor"}),
        Option("specialist", {"fr": "Spécialiste", "en": "Specialist", "pt": "Especialista"}),
    ))
    return TOT.revise({"items": (*TOT.items, role)})


def test_unknown_option_names_the_item():
    with pytest.raises(InvalidInput) as error:
        validate_answers(_with_role_item(), full_answers(role="director"))
    assert error.value.field == "role"


def test_known_option_is_accepted():
    assert {"item_id": "role", "value": "manager"} in validate_answers(_with_role_item(), full_answers(role="manager"))


def test_item_text_is_needed_in_every_language():
    with pytest.raises(InvalidInput) as error:
        Item("x", "likert5", {"fr": "Texte", "en": "Text"})
    assert error.value.field == "x.text.pt"


def test_questionnaire_round_trips_through_plain_data():
    questionnaire = _with_role_item()
    assert questionnaire_from_dict(questionnaire_to_dict(questionnaire)) == questionnaire


def test_questionnaire_from_data_names_the_bad_field():
    data = questionnaire_to_dict(TOT)
    data["items"][0]["type"] = "stars"
    with pytest.raises(InvalidInput) as error:
        questionnaire_from_dict(data)
    assert error.value.field == "work_performance.type"


@pytest.mark.parametrize("questionnaire_id", ["my questionnaire", "q/1", "x" * 65, ""])
def test_questionnaire_id_must_be_an_id_the_event_contract_allows(questionnaire_id):
    data = questionnaire_to_dict(TOT) | {"questionnaire_id": questionnaire_id}
    with pytest.raises(InvalidInput) as error:
        questionnaire_from_dict(data)
    assert error.value.field == "questionnaire_id"
