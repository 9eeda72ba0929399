"""The payloads the evaluation domain builds match the public event contract in schemas/."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from emm_common.contract import ContractViolation, validate
from emm_evaluation.domain import certification, feedback, knowledge_test, peer_feedback
from emm_evaluation.domain.questionnaire import default_tot_questionnaire

AT = datetime(2026, 5, 18, 17, 30, tzinfo=timezone.utc)
ANSWERS = [{"item_id": item.item_id, "value": 4} for item in default_tot_questionnaire().items
           if item.type == "likert5"]
ANSWERS += [{"item_id": "recommend", "value": 9}, {"item_id": "comments", "value": "Merci"}]


@pytest.mark.parametrize("anonymous", [False, True])
def test_feedback_payload_matches_the_contract(anonymous):
    recorded = feedback.submit_feedback(default_tot_questionnaire(), submission_id="sub-1", session_id="ses-1",
                                        participant_id="par-1", anonymous=anonymous, language="fr",
                                        answers=ANSWERS, submitted_at=AT)
    validate("org.iom.emm.feedback.submitted.v1", feedback.to_event_payload(recorded.submission))


def test_contract_refuses_an_anonymous_payload_with_a_participant_id():
    recorded = feedback.submit_feedback(default_tot_questionnaire(), submission_id="sub-1", session_id="ses-1",
                                        participant_id="par-1", anonymous=True, language="fr",
                                        answers=ANSWERS, submitted_at=AT)
    payload = feedback.to_event_payload(recorded.submission) | {"participant_id": "par-1"}
    with pytest.raises(ContractViolation):
        validate("org.iom.emm.feedback.submitted.v1", payload)


@pytest.mark.parametrize("phase", ["pre", "post"])
def test_knowledge_score_payload_matches_the_contract_and_names_nobody(phase):
    scores = knowledge_test.record_score(None, "par-1", phase, 72.5)
    payload = knowledge_test.score_recorded_payload("ses-1", scores, phase, pass_mark=70, recorded_by="stf-fac-1",
                                                    recorded_at=AT)
    validate("org.iom.emm.knowledge_score.recorded.v1", payload)
    assert payload == {"session_id": "ses-1", "participant_id": "par-1", "phase": phase, "score": 72.5,
                       "pass_mark": 70, "recorded_by": "stf-fac-1", "recorded_at": "2026-05-18T17:30:00Z"}


def test_peer_feedback_payload_matches_the_contract():
    rating = peer_feedback.rate_delivery(
        peer_feedback_id="pf-1", session_id="ses-1", trainee_participant_id="par-1",
        rater_participant_id="par-2", rater_role="peer", module="migration-governance",
        scores=dict.fromkeys(peer_feedback.CRITERIA, 4), submitted_at=AT, comment="Clear")
    validate("org.iom.emm.peer_feedback.submitted.v1", peer_feedback.to_event_payload(rating))


def test_trainer_payloads_match_the_contract():
    facts = certification.CertificationFacts("training_of_trainers", 2, 2, True, 4.2, None)
    trainer = certification.certify(certification.decide(facts), participant_id="par-1", full_name="Aminata Diallo",
                                    country="SN", languages=["fr"], modules=["migration-governance"],
                                    session_id="ses-1", certified_at=AT)
    validate("org.iom.emm.trainer.certified.v1", certification.trainer_certified_payload(trainer))
    revoked = certification.revoke(trainer, reason="Issued in error", revoked_by="usr-organizer", revoked_at=AT)
    validate("org.iom.emm.trainer.revoked.v1", certification.trainer_revoked_payload(revoked))


def test_the_schemas_state_the_bounds_the_api_and_domain_keep():
    from emm_common.contract import spec_for
    from emm_evaluation.domain.questionnaire import FREE_TEXT_MAX_LENGTH
    from emm_evaluation.entrypoints import api

    answers = spec_for("org.iom.emm.feedback.submitted.v1").schema["properties"]["answers"]
    assert answers["maxItems"] == api.MAX_ITEMS  # at most one answer per item of a questionnaire
    assert answers["items"]["properties"]["item_id"]["maxLength"] == api.ITEM_ID_LENGTH
    assert answers["items"]["properties"]["value"]["maxLength"] == FREE_TEXT_MAX_LENGTH  # option ids are shorter
    rating = spec_for("org.iom.emm.peer_feedback.submitted.v1").schema["properties"]
    assert (rating["module"]["maxLength"], rating["comment"]["maxLength"]) == (
        api.MODULE_LENGTH, peer_feedback.COMMENT_MAX_LENGTH)
    assert spec_for("org.iom.emm.trainer.revoked.v1").schema["properties"]["reason"]["maxLength"] == (
        api.REASON_LENGTH)
    certified = spec_for("org.iom.emm.trainer.certified.v1").schema["properties"]
    assert certified["modules"]["items"]["maxLength"] == api.MODULE_LENGTH
