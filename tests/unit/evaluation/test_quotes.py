"""Quotes, with consent (issue 14): only comments whose authors agreed can be picked, and an
unnamed quote never carries a name."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from emm_evaluation.domain.errors import InvalidInput
from emm_evaluation.domain.feedback import submit_feedback, to_event_payload
from emm_evaluation.domain.questionnaire import default_tot_questionnaire
from emm_evaluation.domain.quotes import check_picks, chosen, quotable
from emm_evaluation.domain.report import Response, SessionFacts, build_session_report
from emm_evaluation.domain.report_export import report_to_dict

TOT = default_tot_questionnaire()
AT = datetime(2026, 5, 20, 16, 0, tzinfo=timezone.utc)
BEST = "This is the best training I've had at IOM!"


def response(n: int, comment: str, consent: str | None, anonymous: bool = False) -> Response:
    return Response({"work_performance": 5, "comments": comment}, anonymous, AT + timedelta(minutes=n),
                    None if anonymous else f"Person {n}", submission_id=f"fbk-{n}", quote_consent=consent)


RESPONSES = [response(1, BEST, "named"), response(2, "Plus de pratique, svp.", "unnamed"),
             response(3, "Not for quoting.", None), response(4, "Anonymous but quotable.", "unnamed", anonymous=True)]


def test_only_consented_comments_are_quotable_and_unnamed_ones_carry_no_name():
    found = quotable(TOT.items, RESPONSES)
    assert [(q.submission_id, q.text, q.author) for q in found] == [
        ("fbk-1", BEST, "Person 1"), ("fbk-2", "Plus de pratique, svp.", None), ("fbk-4", "Anonymous but quotable.", None)]


def test_a_comment_without_consent_cannot_be_picked():
    with pytest.raises(InvalidInput) as refused:
        check_picks([("fbk-1", "comments"), ("fbk-3", "comments")], quotable(TOT.items, RESPONSES))
    assert refused.value.field == "quotes.1"


def test_picks_keep_their_order_and_a_withdrawn_consent_drops_the_quote():
    picks = check_picks([("fbk-2", "comments"), ("fbk-1", "comments"), ("fbk-2", "comments")],
                        quotable(TOT.items, RESPONSES))
    assert picks == [("fbk-2", "comments"), ("fbk-1", "comments")]
    withdrawn = [response(1, BEST, None), *RESPONSES[1:]]  # Person 1 sent the evaluation again, without consent
    assert [q.text for q in chosen(picks, quotable(TOT.items, withdrawn))] == ["Plus de pratique, svp."]


def test_the_session_report_gives_the_chosen_quotes_and_the_candidates():
    facts = SessionFacts(session_id="ses-1", start_date=AT.date(), questionnaire=TOT, responses=RESPONSES,
                         registered=6, quote_picks=[("fbk-1", "comments")])
    data = report_to_dict(build_session_report(facts, "en"))
    assert data["quotes"] == [{"submission_id": "fbk-1", "item_id": "comments", "text": BEST, "author": "Person 1"}]
    assert len(data["quotable"]) == 3


@pytest.mark.parametrize("consent", ["named", "unnamed", None])
def test_an_evaluation_says_whether_it_may_be_quoted_and_an_anonymous_one_is_never_named(consent):
    answers = [{"item_id": item.item_id, "value": 10 if item.type == "scale0_10" else 4} for item in TOT.items
               if item.type in ("likert5", "scale0_10")]
    common = dict(submission_id="fbk-9", session_id="ses-1", participant_id="par-1", language="en",
                  answers=answers, submitted_at=AT, quote_consent=consent)
    payload = to_event_payload(submit_feedback(TOT, anonymous=False, **common).submission)
    assert payload.get("quote_consent") == consent
    if consent == "named":
        with pytest.raises(InvalidInput) as refused:
            submit_feedback(TOT, anonymous=True, **common)
        assert refused.value.field == "quote_consent"
    else:
        assert "participant_id" not in to_event_payload(submit_feedback(TOT, anonymous=True, **common).submission)
