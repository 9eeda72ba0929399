from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from emm_evaluation.domain.errors import Conflict, Forbidden, InvalidInput
from emm_evaluation.domain.feedback import check_can_submit, submit_feedback, to_event_payload
from emm_evaluation.domain.questionnaire import default_tot_questionnaire

TOT = default_tot_questionnaire()
START = date(2026, 5, 17)
AT = datetime(2026, 5, 18, 17, 30, tzinfo=timezone.utc)
LIKERT_IDS = ("work_performance", "methodology", "content_quality", "facilitation", "relevance", "organization")
ANSWERS = [{"item_id": i, "value": 5} for i in LIKERT_IDS] + [
    {"item_id": "recommend", "value": 10},
    {"item_id": "comments", "value": "This is the best training I've had at IOM!"},
]


def submit(submission_id="sub-1", anonymous=False, earlier=None, **overrides):
    arguments = dict(submission_id=submission_id, session_id="ses-dakar-tot-1", participant_id="par-aminata",
                     anonymous=anonymous, language="fr", answers=ANSWERS, submitted_at=AT, earlier=earlier)
    arguments.update(overrides)
    return submit_feedback(TOT, **arguments)


def test_registered_participant_can_submit_once_the_session_is_in_progress():
    check_can_submit("registered", "in_progress", START, today=START)


def test_start_date_reached_opens_the_evaluation_even_if_the_status_lags():
    check_can_submit("registered", "open", START, today=date(2026, 5, 18))


@pytest.mark.parametrize("status", ["waitlisted", "cancelled"])
def test_waitlisted_or_cancelled_participant_cannot_submit(status):
    with pytest.raises(Forbidden) as error:
        check_can_submit(status, "completed", START, today=date(2026, 5, 20))
    assert error.value.field == "enrollment_status"


def test_someone_not_enrolled_cannot_submit():
    with pytest.raises(Forbidden) as error:
        check_can_submit(None, "completed", START, today=date(2026, 5, 20))
    assert error.value.field == "participant_id"


def test_evaluation_before_the_session_starts_is_a_conflict():
    with pytest.raises(Conflict) as error:
        check_can_submit("registered", "open", START, today=date(2026, 5, 16))
    assert error.value.field == "session_start_date"


def test_evaluation_after_it_closed_is_a_conflict_that_says_when_it_closed():
    with pytest.raises(Conflict) as error:
        check_can_submit("registered", "completed", START, today=date(2026, 6, 2),
                         evaluation_closed_at="2026-06-01T18:00:00Z")
    assert error.value.field == "evaluation_closed_at"
    assert "closed at 2026-06-01T18:00:00Z" in error.value.message


def test_evaluation_of_a_cancelled_session_is_a_conflict():
    with pytest.raises(Conflict) as error:
        check_can_submit("registered", "cancelled", START, today=date(2026, 5, 20))
    assert error.value.field == "session_status"


def test_first_submission_replaces_nothing():
    recorded = submit()
    assert recorded.replaced is None and not recorded.duplicate
    assert recorded.submission.questionnaire_version == 1


def test_resubmission_replaces_the_earlier_one():
    first = submit("sub-1").submission
    recorded = submit("sub-2", earlier=first)
    assert recorded.replaced == "sub-1"
    assert recorded.submission.replaces_submission_id == "sub-1"
    assert to_event_payload(recorded.submission)["replaces_submission_id"] == "sub-1"


def test_same_submission_again_is_a_duplicate_that_changes_nothing():
    first = submit("sub-1").submission
    recorded = submit("sub-1", earlier=first)
    assert recorded.duplicate and recorded.submission is first and recorded.replaced is None


def test_anonymous_submission_event_has_no_participant_id():
    payload = to_event_payload(submit(anonymous=True).submission)
    assert "participant_id" not in payload
    assert payload["anonymous"] is True


def test_named_submission_event_has_the_participant_id():
    payload = to_event_payload(submit().submission)
    assert payload["participant_id"] == "par-aminata"
    assert payload["submitted_at"] == "2026-05-18T17:30:00Z"


@pytest.mark.parametrize("first, then", [(False, True), (True, False)])
def test_a_replacement_keeps_the_anonymity_of_the_first_answer(first, then):
    earlier = submit("sub-1", anonymous=first).submission
    with pytest.raises(Conflict) as error:
        submit("sub-2", anonymous=then, earlier=earlier)
    assert error.value.field == "anonymous"


def test_an_anonymous_answer_can_be_replaced_by_another_anonymous_one():
    earlier = submit("sub-1", anonymous=True).submission
    recorded = submit("sub-2", anonymous=True, earlier=earlier)
    assert recorded.replaced == "sub-1" and "participant_id" not in to_event_payload(recorded.submission)


def test_unsupported_language_is_refused():
    with pytest.raises(InvalidInput) as error:
        submit(language="de")
    assert error.value.field == "language"


@pytest.mark.parametrize("submission_id", ["my evaluation", "x" * 65, "sub-1\n", 7])
def test_submission_id_must_be_an_id_the_event_contract_allows(submission_id):
    with pytest.raises(InvalidInput) as error:
        submit(submission_id=submission_id)
    assert error.value.field == "submission_id"


def test_submission_answers_are_validated_against_the_questionnaire():
    with pytest.raises(InvalidInput) as error:
        submit(answers=ANSWERS[1:])
    assert error.value.field == "work_performance"


