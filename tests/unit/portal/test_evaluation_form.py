"""The evaluation form asks whether the comments may be quoted; an anonymous answer is never named."""

from emm_portal.domain.evaluation import Question, check_evaluation

ITEMS = [Question("comments", "free_text", "Comments", False, ())]


def form(**fields):
    return {"anonymous": "no", "answer-comments": "Great", **fields}


def test_no_choice_means_the_comments_are_not_quoted():
    checked = check_evaluation(form(), ITEMS, "fr")
    assert not checked.errors and "quote_consent" not in checked.data


def test_a_consent_is_sent_to_the_api():
    assert check_evaluation(form(quote_consent="named"), ITEMS, "fr").data["quote_consent"] == "named"
    assert check_evaluation(form(quote_consent="unnamed", anonymous="yes"), ITEMS, "fr").data["quote_consent"] == "unnamed"


def test_an_anonymous_answer_cannot_be_quoted_by_name_and_the_form_says_so():
    checked = check_evaluation(form(quote_consent="named", anonymous="yes"), ITEMS, "fr")
    assert set(checked.errors) == {"quote_consent"}
    assert check_evaluation(form(quote_consent="loudly"), ITEMS, "fr").errors["quote_consent"]
