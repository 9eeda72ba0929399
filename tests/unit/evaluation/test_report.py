from __future__ import annotations

import csv
import io
import json
import random
from datetime import date, datetime, timedelta, timezone

import pytest

from emm_evaluation.domain.feedback import submit_feedback
from emm_evaluation.domain.knowledge_test import KnowledgeScores
from emm_evaluation.domain.questionnaire import default_tot_questionnaire
from emm_evaluation.domain.report import (Profile, Response, SessionFacts, build_aggregate_report,
                                          build_session_report, response_from_submission)
from emm_evaluation.domain.report_export import report_to_csv, report_to_dict

TOT = default_tot_questionnaire()
DAY1, DAY2 = date(2026, 5, 17), date(2026, 5, 18)
AT = datetime(2026, 5, 18, 17, 0, tzinfo=timezone.utc)
LIKERT_IDS = ("work_performance", "methodology", "content_quality", "facilitation", "relevance", "organization")


def response(level=5, recommend=10, comment=None, anonymous=False, name="Aminata Diallo", minute=0,
             profile=None, **levels):
    answers = {item_id: levels.get(item_id, level) for item_id in LIKERT_IDS} | {"recommend": recommend}
    if comment:
        answers["comments"] = comment
    return Response(answers, anonymous, AT + timedelta(minutes=minute), None if anonymous else name, profile)


def session(responses, registered=6, session_id="ses-dakar-tot-1", start=DAY1, **overrides):
    values = dict(session_id=session_id, start_date=start, questionnaire=TOT, responses=responses,
                  registered=registered, session_days=(DAY1, DAY2), attended_by_day={DAY1: 6, DAY2: 5})
    values.update(overrides)
    return SessionFacts(**values)


SIX_AGREE = [response(level=5, minute=i) for i in range(3)] + [response(level=4, minute=3 + i) for i in range(3)]
FIVE_OF_SIX = SIX_AGREE[:5] + [response(level=4, work_performance=3, methodology=2, minute=9)]


def test_all_agree_gives_all_participants_headline():
    report = build_session_report(session(SIX_AGREE), "en")
    assert report.headlines[0] == ("All participants strongly agreed or agreed that the ToT will help improve "
                                   "their present work performance.")


def test_some_agree_gives_the_percentage_in_the_headline():
    report = build_session_report(session(FIVE_OF_SIX), "en")
    assert report.headlines[0] == ("83% of participants strongly agreed or agreed that the ToT will help improve "
                                   "their present work performance.")
    assert report.headlines[1] == ("83% of participants strongly agreed or agreed that the training methodology "
                                   "was effective (average 4.17 out of 5).")


def test_headlines_in_french():
    report = build_session_report(session(FIVE_OF_SIX), "fr")
    assert report.headlines[0] == ("83\u00a0% des participants étaient tout à fait d'accord ou d'accord pour dire "
                                   "que la formation des formateurs les aidera à améliorer leurs performances "
                                   "professionnelles actuelles.")
    assert report.headlines[1].endswith("la méthodologie de la formation était efficace (moyenne de 4,17 sur 5).")
    all_agree = build_session_report(session(SIX_AGREE), "fr")
    assert all_agree.headlines[0].startswith("Tous les participants étaient tout à fait d'accord ou d'accord")


def test_headlines_in_portuguese():
    report = build_session_report(session(SIX_AGREE), "pt")
    assert report.headlines[0] == ("Todos os participantes concordaram totalmente ou concordaram que a formação de "
                                   "formadores os ajudará a melhorar o seu desempenho profissional atual.")
    assert report.headlines[2] == ("Todos os participantes concordaram totalmente ou concordaram que o conteúdo da "
                                   "formação era de elevada qualidade (média de 4,50 em 5).")


def test_headline_for_recommendation_gives_the_nps():
    responses = [response(recommend=v, minute=i) for i, v in enumerate((10, 9, 8, 6))]
    assert build_session_report(session(responses, registered=4), "en").headlines[-1] == (
        "The ToT has a Net Promoter Score of +25: 50% of participants rated their likelihood to recommend it "
        "9 or 10 out of 10, and 25% rated it 6 or less.")
    assert "Net Promoter Score de +25\u00a0: 50\u00a0% des participants" in \
        build_session_report(session(responses, registered=4), "fr").headlines[-1]
    assert "Net Promoter Score de +25: 50% dos 4 respondentes (de 6 participantes)" in \
        build_session_report(session(responses, registered=6), "pt").headlines[-1]


def test_nobody_agreeing_says_so():
    report = build_session_report(session([response(level=2), response(level=1)], registered=2), "en")
    assert report.headlines[0].startswith("No participant strongly agreed or agreed")


def test_likert_item_gives_counts_agreement_and_mean():
    summary = build_session_report(session(FIVE_OF_SIX), "en").ratings.likert_item("methodology")
    assert summary.counts == {1: 0, 2: 1, 3: 0, 4: 2, 5: 3}
    assert summary.answered == 6 and summary.agree_rate == 5 / 6 and summary.mean == 4.17


def test_one_dissent_in_many_is_never_reported_as_100_percent():
    responses = [response(minute=i) for i in range(299)] + [response(level=1, minute=300)]
    report = build_session_report(session(responses, registered=300), "en")
    assert report.ratings.likert_item("work_performance").agree_rate == 299 / 300
    assert report.headlines[0].startswith("99% of participants")


def test_nps_counts_promoters_minus_detractors():
    responses = [response(recommend=v, minute=i) for i, v in enumerate((10, 9, 9, 8, 7, 6, 0))]
    nps = build_session_report(session(responses, registered=7), "en").ratings.scale_item("recommend")
    assert (nps.promoters, nps.passives, nps.detractors) == (3, 2, 2)
    assert nps.nps == 14  # 3/7 - 2/7 = 14.3%
    detractors_only = build_session_report(session([response(recommend=3)]), "en").ratings.scale_item("recommend")
    assert detractors_only.nps == -100


def test_response_and_attendance_rates():
    report = build_session_report(session(SIX_AGREE[:3], registered=6), "en")
    assert report.response_rate == 0.5
    assert report.attendance.rate == 11 / 12  # of the participant-days
    assert [(d.day, d.attended, d.rate) for d in report.attendance.by_day] == [(DAY1, 6, 1.0), (DAY2, 5, 5 / 6)]


def rates_and_percentages(data, path=()):
    """Every (path, value) of a report's JSON whose key says it is a rate or a percentage."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "rate" or key.endswith(("_rate", "_percent")):
                yield (*path, key), value
            yield from rates_and_percentages(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from rates_and_percentages(value, (*path, index))


def test_every_rate_is_a_fraction_from_0_to_1_named_rate_and_no_number_is_a_percentage():
    responses = FIVE_OF_SIX + [response(recommend=6, minute=20, profile=SN)]
    facts = session(responses, registered=8, scores=[KnowledgeScores("p1", 40, 80), KnowledgeScores("p2", 60, 65)])
    for report in (build_session_report(facts, "en"), build_aggregate_report([facts], "en")):
        found = dict(rates_and_percentages(report_to_dict(report)))
        assert found and not [path for path in found if path[-1].endswith("_percent")]
        assert all(value is None or (isinstance(value, float) and 0 <= value <= 1) for value in found.values()), found
        assert any(0 < value < 1 for value in found.values() if value is not None)
        assert {r["metric"] for r in csv.DictReader(io.StringIO(report_to_csv(report)))
                if r["metric"].endswith("_percent")} == set()


def test_knowledge_test_gain_is_in_the_report():
    report = build_session_report(session(SIX_AGREE, scores=[KnowledgeScores("p1", 40, 80),
                                                             KnowledgeScores("p2", 60, 70)]), "en")
    assert report.knowledge.mean_gain == 25.0


def test_each_persons_pre_post_and_gain_are_in_the_report_and_its_csv_by_name():
    scores = [KnowledgeScores("p2", 60, 65, "Ngozi Okafor"), KnowledgeScores("p1", 40, 80, "Aïssatou N'Diaye"),
              KnowledgeScores("p3", None, 72, "Bruno Lopes"), KnowledgeScores("p4", 55, None, "Zé Gomes")]
    report = build_session_report(session(SIX_AGREE, scores=scores), "fr")
    people = report_to_dict(report)["knowledge_test"]["by_person"]
    assert [(p["full_name"], p["pre"], p["post"], p["gain"], p["passed"]) for p in people] == [
        ("Aïssatou N'Diaye", 40, 80, 40, True), ("Bruno Lopes", None, 72, None, True),
        ("Ngozi Okafor", 60, 65, 5, False), ("Zé Gomes", 55, None, None, None)]
    rows = [r for r in csv.DictReader(io.StringIO(report_to_csv(report))) if r["section"] == "knowledge_test_person"]
    assert [(r["item_id"], r["label"], r["metric"], r["value"]) for r in rows[:3]] == [
        ("p1", "Aïssatou N'Diaye", "pre", "40"), ("p1", "Aïssatou N'Diaye", "post", "80"),
        ("p1", "Aïssatou N'Diaye", "gain", "40")]
    assert len(rows) == 12
    # An aggregate across sessions gives the means only.
    assert "by_person" not in report_to_dict(build_aggregate_report([session(SIX_AGREE, scores=scores)], "fr"))[
        "knowledge_test"]


def test_anonymous_comments_have_no_name():
    responses = [response(comment="This is the best training I've had at IOM!", name="Aminata Diallo"),
                 response(comment="More practice time, please.", anonymous=True, minute=1)]
    report = build_session_report(session(responses), "en")
    assert [(c.text, c.author) for c in report.comments] == [
        ("This is the best training I've had at IOM!", "Aminata Diallo"), ("More practice time, please.", None)]


def test_anonymous_submission_loses_its_name_in_the_report():
    recorded = submit_feedback(TOT, submission_id="sub-1", session_id="s", participant_id="par-aminata",
                               anonymous=True, language="en",
                               answers=[{"item_id": k, "value": v} for k, v in response(comment="Hi").answers.items()],
                               submitted_at=AT)
    anonymous = response_from_submission(recorded.submission, full_name="Aminata Diallo")
    assert anonymous.full_name is None
    assert build_session_report(session([anonymous]), "en").comments[0].author is None
    assert "Aminata" not in json.dumps(report_to_dict(build_session_report(session([anonymous]), "en")))


def test_report_is_the_same_whatever_the_order_of_its_inputs():
    responses = FIVE_OF_SIX + [response(comment="Same minute A"), response(comment="Same minute B", anonymous=True)]
    shuffled = responses[:]
    random.Random(7).shuffle(shuffled)
    first = report_to_dict(build_session_report(session(responses), "en"))
    again = report_to_dict(build_session_report(session(shuffled), "en"))
    assert json.dumps(first) == json.dumps(again)


def test_csv_has_one_row_per_item_and_metric():
    text = report_to_csv(build_session_report(session(FIVE_OF_SIX), "en"))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["dimension", "group", "section", "item_id", "label", "metric", "value"]
    by_key = {(r["section"], r["item_id"], r["metric"]): r["value"] for r in rows}
    assert by_key[("likert5", "methodology", "mean")] == "4.17"
    assert by_key[("likert5", "methodology", "level_2")] == "1"
    assert by_key[("likert5", "work_performance", "agree_rate")] == repr(5 / 6)  # the JSON number, unrounded
    assert by_key[("scale0_10", "recommend", "nps")] == "100"  # a score from -100 to 100, not a rate
    assert by_key[("responses", "", "response_rate")] == "1.0"
    assert by_key[("attendance", "", "rate")] == repr(11 / 12)
    assert by_key[("knowledge_test", "", "mean_gain")] == ""
    assert {r["dimension"] for r in rows} == {"session"}
    assert len(by_key) == len(rows)


def test_report_dict_is_json_ready():
    data = report_to_dict(build_session_report(session(FIVE_OF_SIX), "pt"))
    assert json.loads(json.dumps(data)) == data
    assert data["ratings"]["likert"][0]["counts"] == {"1": 0, "2": 0, "3": 1, "4": 2, "5": 3}


SN = Profile("SN", "IOM RO Dakar", "female")
GH = Profile("GH", "IOM Ghana", "male")


def test_aggregate_breaks_down_by_country_office_sex_and_month():
    may = session([response(profile=SN), response(level=3, profile=GH, minute=1)], registered=2)
    june = session([response(level=4, profile=SN, minute=2), response(level=2, anonymous=True, profile=GH, minute=3)],
                   registered=4, session_id="ses-abuja-tot-1", start=date(2026, 6, 2))
    report = build_aggregate_report([june, may], "en")
    assert report.session_ids == ("ses-dakar-tot-1", "ses-abuja-tot-1")
    assert report.responses == 4 and report.response_rate == 4 / 6
    groups = lambda dimension: {g.group: g.responses for g in report.breakdowns[dimension]}  # noqa: E731
    assert groups("country") == {"SN": 2, "GH": 1, "undisclosed": 1}
    assert groups("office") == {"IOM RO Dakar": 2, "IOM Ghana": 1, "undisclosed": 1}
    assert groups("sex") == {"female": 2, "male": 1, "undisclosed": 1}
    assert groups("month") == {"2026-05": 2, "2026-06": 2}
    senegal = next(g for g in report.breakdowns["country"] if g.group == "SN")
    assert senegal.ratings.likert_item("work_performance").mean == 4.5
    assert [g.group for g in report.breakdowns["country"]][-1] == "undisclosed"


def test_aggregate_csv_has_overall_and_group_rows():
    may = session([response(profile=SN)], registered=1)
    rows = list(csv.DictReader(io.StringIO(report_to_csv(build_aggregate_report([may], "fr")))))
    assert {(r["dimension"], r["group"]) for r in rows} >= {("all", "all"), ("country", "SN"), ("month", "2026-05")}
    label = next(r for r in rows if r["item_id"] == "methodology")["label"]
    assert label == "La méthodologie de la formation était efficace."


def test_unsupported_report_language_is_refused():
    from emm_evaluation.domain.errors import InvalidInput
    with pytest.raises(InvalidInput):
        build_session_report(session(SIX_AGREE), "de")


def test_recommendation_headline_leaves_out_detractors_when_there_are_none():
    assert build_session_report(session(SIX_AGREE), "en").headlines[-1] == (
        "The ToT has a Net Promoter Score of +100: 100% of participants rated their likelihood to recommend it "
        "9 or 10 out of 10.")


def test_headlines_count_respondents_not_participants_when_some_did_not_answer():
    # Issue 14: 4 of 6 participants answered, all agreed, and the report said "Tous les participants".
    four_of_six = SIX_AGREE[:4]
    fr = build_session_report(session(four_of_six, registered=6), "fr").headlines
    assert fr[0].startswith("Les 4 répondants (sur 6 participants) étaient tous tout à fait d'accord ou d'accord")
    assert build_session_report(session(four_of_six, registered=6), "en").headlines[0].startswith(
        "All 4 respondents (of 6 participants) strongly agreed or agreed that")
    assert build_session_report(session(four_of_six, registered=6), "pt").headlines[0].startswith(
        "Todos os 4 respondentes (de 6 participantes) concordaram totalmente ou concordaram que")
    assert not any("Tous les participants" in sentence for sentence in fr)


def test_partial_headlines_give_the_share_of_respondents_and_who_answered():
    five = FIVE_OF_SIX[1:]  # 5 answered of 6 registered; 4 of the 5 agreed
    report = build_session_report(session(five, registered=6), "en")
    assert report.headlines[0] == ("80% of the 5 respondents (of 6 participants) strongly agreed or agreed that the "
                                   "ToT will help improve their present work performance.")
    one = build_session_report(session([response(level=2)], registered=6), "fr").headlines[0]
    assert one.startswith("Le seul répondant (sur 6 participants) n'était pas tout à fait d'accord ni d'accord")
