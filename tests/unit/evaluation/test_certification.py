from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from emm_evaluation.domain.certification import (CertificationFacts, CertificationRules, Decision, RuleCheck, assess,
                                                 certificate_reference, certify, decide, record_delivery, revoke,
                                                 search_pool, trainer_certified_payload, trainer_revoked_payload)
from emm_evaluation.domain.errors import Conflict, InvalidInput

AT = datetime(2026, 5, 20, 17, 0, tzinfo=timezone.utc)


def facts(**overrides):
    values = dict(session_kind="training_of_trainers", days_attended=2, session_days=2, submitted_evaluation=True,
                  best_rubric_average=4.0, post_test_score=None, already_certified=False)
    values.update(overrides)
    return CertificationFacts(**values)


def codes(decision: Decision) -> list[str]:
    return [reason.split(":")[0] for reason in decision.unmet]


def test_participant_meeting_every_rule_is_certified():
    assert decide(facts()) == Decision(True, ())


def test_certification_needs_80_percent_attendance():
    assert codes(decide(facts(days_attended=3, session_days=4))) == ["attendance"]
    assert decide(facts(days_attended=4, session_days=5)).certified


def test_certification_needs_the_evaluation_when_required():
    assert codes(decide(facts(submitted_evaluation=False))) == ["evaluation"]
    assert decide(facts(submitted_evaluation=False), CertificationRules(evaluation_required=False)).certified


def test_certification_needs_a_rated_practice_delivery_of_3_5_or_more():
    assert codes(decide(facts(best_rubric_average=3.4))) == ["peer_rubric"]
    assert codes(decide(facts(best_rubric_average=None))) == ["peer_rubric"]
    assert decide(facts(best_rubric_average=3.5)).certified


def test_post_test_pass_mark_applies_only_when_a_post_test_was_given():
    assert codes(decide(facts(post_test_score=65))) == ["post_test"]
    assert decide(facts(post_test_score=70)).certified
    assert decide(facts(post_test_score=None)).certified


def test_every_unmet_rule_is_listed():
    decision = decide(facts(days_attended=0, submitted_evaluation=False, best_rubric_average=2.0,
                            post_test_score=10))
    assert codes(decision) == ["attendance", "evaluation", "peer_rubric", "post_test"]


def test_only_a_training_of_trainers_certifies():
    assert codes(decide(facts(session_kind="government_delivery"))) == ["session_kind"]


def test_already_certified_participant_is_never_certified_again():
    assert codes(decide(facts(already_certified=True))) == ["already_certified"]


def test_rules_are_checked_when_configured():
    with pytest.raises(InvalidInput) as error:
        CertificationRules(min_attendance_ratio=1.5)
    assert error.value.field == "min_attendance_ratio"


def test_certificate_reference_is_the_same_on_replay():
    first = certificate_reference("ses-dakar-tot-1", "par-aminata", year=2026)
    assert first == certificate_reference("ses-dakar-tot-1", "par-aminata", year=2026)
    assert first.startswith("EMM2-TOT-2026-") and len(first) == len("EMM2-TOT-2026-") + 8
    assert first != certificate_reference("ses-dakar-tot-1", "par-moussa", year=2026)


def trainer(participant_id="par-aminata", full_name="Aminata Diallo", country="SN", languages=("fr", "en"),
            modules=("migration-governance",), certified_at=AT):
    return certify(decide(facts()), participant_id=participant_id, full_name=full_name, country=country,
                   languages=languages, modules=modules, session_id="ses-dakar-tot-1", certified_at=certified_at)


def test_certified_trainer_joins_the_pool_with_a_deterministic_reference():
    aminata = trainer(languages=("en", "fr"))
    assert aminata.trainer_id == "trn-par-aminata" and aminata.status == "active"
    assert aminata.languages == ("fr", "en")
    assert aminata.certificate_reference == certificate_reference("ses-dakar-tot-1", "par-aminata", year=2026)
    payload = trainer_certified_payload(aminata)
    assert payload["certified_at"] == "2026-05-20T17:00:00Z" and payload["modules"] == ["migration-governance"]


def test_certifying_without_a_positive_decision_is_a_conflict():
    with pytest.raises(Conflict):
        certify(decide(facts(already_certified=True)), participant_id="p", full_name="P", country="SN",
                languages=["fr"], modules=[], session_id="s", certified_at=AT)


def test_revoked_trainer_leaves_the_pool_and_cannot_be_revoked_twice():
    revoked = revoke(trainer(), reason="Certificate issued in error", revoked_by="usr-organizer", revoked_at=AT)
    assert search_pool([revoked]) == []
    assert trainer_revoked_payload(revoked)["revoked_by"] == "usr-organizer"
    with pytest.raises(Conflict) as error:
        revoke(revoked, reason="again", revoked_by="usr-organizer", revoked_at=AT)
    assert error.value.field == "status"


def test_revocation_names_a_token_subject_the_event_contract_cannot_carry():
    with pytest.raises(InvalidInput) as error:
        revoke(trainer(), reason="Certificate issued in error", revoked_by="jane.doe@iom.int", revoked_at=AT)
    assert error.value.field == "revoked_by"


def test_delivering_the_same_session_twice_counts_once():
    aminata = record_delivery(record_delivery(trainer(), "ses-gov-1"), "ses-gov-1")
    assert record_delivery(aminata, "ses-gov-2").sessions_delivered == 2
    assert aminata.sessions_delivered == 1


def test_pool_search_filters_by_language_country_module_and_certification_dates():
    pool = [
        trainer("par-aminata", "Aminata Diallo", "SN", ("fr", "en"), ("migration-governance",)),
        trainer("par-joao", "João Mendes", "GW", ("pt", "fr"), ("labour-mobility",),
                datetime(2026, 6, 3, tzinfo=timezone.utc)),
        trainer("par-ama", "Ama Mensah", "GH", ("en",), ("migration-governance", "labour-mobility")),
    ]
    names = lambda found: [t.full_name for t in found]  # noqa: E731
    assert names(search_pool(pool)) == ["Ama Mensah", "Aminata Diallo", "João Mendes"]
    assert names(search_pool(pool, language="fr")) == ["Aminata Diallo", "João Mendes"]
    assert names(search_pool(pool, country="GW")) == ["João Mendes"]
    assert names(search_pool(pool, module="labour-mobility", language="en")) == ["Ama Mensah"]
    assert names(search_pool(pool, certified_from=date(2026, 6, 1))) == ["João Mendes"]
    assert names(search_pool(pool, certified_to=date(2026, 5, 20))) == ["Ama Mensah", "Aminata Diallo"]


def test_late_counts_as_attended_and_absent_or_excused_do_not():
    from emm_evaluation.domain.attendance import days_attended
    days = [date(2026, 5, 17), date(2026, 5, 18), date(2026, 5, 19), date(2026, 5, 20)]
    marks = {days[0]: "present", days[1]: "late", days[2]: "excused", date(2026, 5, 1): "present"}
    assert days_attended(marks, days) == 2


def test_each_rule_is_listed_with_the_persons_figure_the_threshold_and_whether_it_is_met():
    # Issue 14: nobody could see why a participant was not certified.
    checks = assess(facts(days_attended=1, session_days=2, submitted_evaluation=False, best_rubric_average=None,
                          post_test_score=82))
    assert checks == (
        RuleCheck("attendance", 0.5, 0.8, False, "attended 1 of 2 days, needs 80%"),
        RuleCheck("evaluation", False, True, False, "the end-of-training evaluation was not submitted"),
        RuleCheck("peer_rubric", None, 3.5, False, "no practice delivery was rated"),
        RuleCheck("post_test", 82, 70, True, "scored 82, needs 70"))
    assert [c.rule for c in assess(facts(), CertificationRules(min_peer_rubric_average=None,
                                                                 evaluation_required=False))] == [
        "attendance", "post_test"]
    assert all(check.met for check in assess(facts()))
