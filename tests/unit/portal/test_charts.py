import random
import xml.etree.ElementTree as ET
from datetime import date, datetime, timezone

import pytest

from emm_evaluation.domain.knowledge_test import KnowledgeScores
from emm_evaluation.domain.questionnaire import default_tot_questionnaire
from emm_evaluation.domain.report import Response, SessionFacts, build_session_report
from emm_evaluation.domain.report_export import report_to_dict
from emm_portal.domain.charts import ScorePair, attendance_chart, knowledge_chart, likert_chart

SVG = "{http://www.w3.org/2000/svg}"
DAYS = [date(2026, 5, 17), date(2026, 5, 18)]


def seed_report(language: str) -> dict:
    """The JSON of a real report: 20 answers to the default ToT questionnaire."""
    questionnaire = default_tot_questionnaire()
    pick = random.Random(7)
    likert = [item.item_id for item in questionnaire.items if item.type == "likert5"]
    responses = [Response(answers={item_id: pick.choice((3, 4, 5, 5)) for item_id in likert}, anonymous=False,
                          submitted_at=datetime(2026, 5, 18, 16, n, tzinfo=timezone.utc)) for n in range(20)]
    facts = SessionFacts("ses-dakar-1", DAYS[0], questionnaire, responses, registered=20, session_days=DAYS,
                         attended_by_day={DAYS[0]: 20, DAYS[1]: 19},
                         scores=[KnowledgeScores(f"p{n}", 50 + n, 70 + n) for n in range(20)])
    return report_to_dict(build_session_report(facts, language))


def parsed(chart) -> ET.Element:
    return ET.fromstring(str(chart.svg))


def all_charts(locale: str):
    report = seed_report(locale)
    return [likert_chart(report["ratings"]["likert"], locale),
            attendance_chart(DAYS, {"2026-05-17": {"present": 18, "late": 2, "absent": 0, "excused": 0},
                                    "2026-05-18": {"present": 17, "late": 1, "absent": 1, "excused": 1}}, 20, locale),
            knowledge_chart([ScorePair("All", report["knowledge_test"]["mean_pre"],
                                       report["knowledge_test"]["mean_post"])], locale, pass_mark=70)]


@pytest.mark.parametrize("locale", ["fr", "en", "pt"])
def test_charts_are_svg_a_content_security_policy_without_unsafe_inline_lets_in(locale):
    for chart in all_charts(locale):
        root = parsed(chart)
        assert root.tag == f"{SVG}svg" and root.get("role") == "img" and root.get("viewBox")
        assert not list(root.iter(f"{SVG}style"))
        assert all("style" not in element.attrib for element in root.iter())
        assert "<script" not in chart.svg and "javascript:" not in chart.svg


def test_each_chart_stays_a_few_kilobytes_for_the_default_questionnaire():
    assert [len(chart.svg.encode()) < 6000 for chart in all_charts("fr")] == [True, True, True]


def test_likert_chart_states_each_items_counts_and_agreement_in_its_text_alternative():
    items = [{"item_id": "work_performance", "text": "The ToT will help improve my present work performance.",
              "answered": 20, "counts": {"1": 0, "2": 0, "3": 0, "4": 6, "5": 14}},
             {"item_id": "methodology", "text": "The training methodology was effective.", "answered": 19,
              "counts": {"1": 1, "2": 0, "3": 2, "4": 8, "5": 8}}]
    chart = likert_chart(items, "en")
    assert chart.summary == ("The ToT will help improve my present work performance: 20 of 20 strongly agreed or "
                             "agreed (100%).",
                             "The training methodology was effective: 16 of 19 strongly agreed or agreed (84%).")
    assert chart.table.header == ("Question", "Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree",
                                  "Strongly agree", "Answers", "Agreed or strongly agreed")
    assert chart.table.rows[1] == ("The training methodology was effective.", "1", "0", "2", "8", "8", "19", "84%")


def test_likert_bars_are_proportional_to_the_answers_of_each_level():
    chart = likert_chart([{"text": "Q", "answered": 4, "counts": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 2}}], "en")
    bars = [r for r in parsed(chart).iter(f"{SVG}rect") if r.get("height") == "22"]
    assert [float(r.get("width")) for r in bars] == [85.0, 85.0, 170.0]
    assert [r.get("fill") for r in bars] == ["#ef8a62", "#67a9cf", "#2166ac"]


def test_a_percentage_is_100_only_when_everyone_agreed():
    chart = likert_chart([{"text": "Q", "answered": 200, "counts": {"1": 1, "2": 0, "3": 0, "4": 0, "5": 199}}], "en")
    assert chart.table.rows[0][-1] == "99%"


def test_an_item_nobody_answered_yet_says_so_instead_of_drawing_a_bar():
    chart = likert_chart([{"text": "Q", "answered": 0, "counts": {}}], "en")
    assert "No answers yet" in chart.svg
    assert chart.table.rows[0][-1] == "–"


def test_words_numbers_and_dates_follow_the_page_locale_and_its_translations():
    french = {"Present": "Présent", "Attendance per day": "Présence par jour"}
    chart = attendance_chart(DAYS, {"2026-05-17": {"present": 1999, "late": 0, "absent": 1, "excused": 0}}, 2000,
                             "fr", translate=lambda message: french.get(message, message))
    assert chart.title == "Présence par jour"
    assert chart.table.header[1] == "Présent"
    assert chart.table.rows[0][:2] == ("dim. 17 mai", "1\u202f999")
    assert chart.table.rows[0][-1] == "99\u00a0%"
    assert chart.summary[0].startswith("dimanche 17 mai 2026: ")
    likert = likert_chart([{"text": "Q", "answered": 1, "counts": {"4": 1}}], "pt")
    assert likert.table.header[1:6] == ("Discordo totalmente", "Discordo", "Não concordo nem discordo", "Concordo",
                                        "Concordo totalmente")


def test_attendance_counts_people_left_unmarked_and_days_nobody_took_attendance_for():
    chart = attendance_chart(DAYS, {"2026-05-17": {"present": 17, "late": 1, "absent": 1, "excused": 0}}, 20, "en")
    assert chart.table.rows == (("Sun 17 May", "17", "1", "1", "0", "1", "90%"),
                                ("Mon 18 May", "0", "0", "0", "0", "20", "0%"))
    assert chart.summary[0] == ("Sunday, May 17, 2026: 17 present, 1 late, 1 absent, 0 excused, 1 not marked; "
                                "90% attended.")


def test_attendance_of_a_session_with_nobody_enrolled_is_an_empty_outline():
    chart = attendance_chart(DAYS[:1], {}, 0, "en")
    assert "Nobody enrolled" in chart.svg
    assert chart.table.rows == (("Sun 17 May", "0", "0", "0", "0", "0", "–"),)


def test_knowledge_chart_gives_before_after_and_change_rounded_as_the_reports_round():
    chart = knowledge_chart([ScorePair("All participants", 54.25, 78.25), ScorePair("Late joiners", None, 80)],
                            "en", pass_mark=70)
    assert chart.table.rows == (("All participants", "54.3", "78.3", "+24"), ("Late joiners", "–", "80", "–"))
    assert chart.summary == ("All participants: 54.3 before, 78.3 after (+24).", "Late joiners: – before, 80 after (–).",
                             "The pass mark is 70 out of 100.")
    lines = list(parsed(chart).iter(f"{SVG}line"))
    assert len(lines) == 2 and {line.get("x1") for line in lines} == {f"{0.7 * 306:.1f}"}


def test_text_from_the_questionnaire_is_escaped_in_the_svg():
    chart = likert_chart([{"text": "<script>alert(1)</script> & more", "answered": 1, "counts": {"5": 1}}], "en")
    assert "<script>" not in chart.svg and "&lt;script&gt;" in chart.svg
    parsed(chart)


def test_long_question_texts_wrap_inside_the_chart_width():
    text = "word " * 60
    chart = likert_chart([{"text": text, "answered": 1, "counts": {"5": 1}}], "en")
    lines = [t.text for t in parsed(chart).iter(f"{SVG}text") if t.text and t.text.startswith("word")]
    assert len(lines) == 3 and lines[-1].endswith("…")
    assert all(len(line) * 6.6 <= 340 for line in lines)
