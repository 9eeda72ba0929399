"""Reports as JSON-ready dicts (for machines) and as a flat CSV (one row per item and metric).

Every `rate` and `*_rate` is a fraction from 0 to 1 (docs/api-conventions.md), in the CSV
written as the JSON number is; means are in the item's own scale, with 2 decimals."""

from __future__ import annotations

import csv
import io
from typing import Any

from emm_evaluation.domain.knowledge_test import KnowledgeSummary, PersonResult
from emm_evaluation.domain.quotes import Quote
from emm_evaluation.domain.report import AggregateReport, AttendanceSummary, Ratings, SessionReport

CSV_COLUMNS = ("dimension", "group", "section", "item_id", "label", "metric", "value")


def report_to_dict(report: SessionReport | AggregateReport) -> dict[str, Any]:
    """The report as plain JSON-ready data, keys and lists in a fixed order."""
    common = {
        "language": report.language,
        "registered": report.registered,
        "responses": report.responses,
        "response_rate": report.response_rate,
        "attendance": _attendance_dict(report.attendance),
        "knowledge_test": _knowledge_dict(report.knowledge),
        "ratings": _ratings_dict(report.ratings),
        "headlines": list(report.headlines),
    }
    if isinstance(report, SessionReport):
        common["knowledge_test"]["by_person"] = [_person_dict(person) for person in report.knowledge_by_person]
        common["quotes"] = [_quote_dict(quote) for quote in report.quotes]
        common["quotable"] = [_quote_dict(quote) for quote in report.quotable]
        return {
            "session_id": report.session_id,
            "questionnaire_id": report.questionnaire_id,
            "questionnaire_version": report.questionnaire_version,
            **common,
            "comments": [{"item_id": c.item_id, "text": c.text, "author": c.author} for c in report.comments],
        }
    return {
        "session_ids": list(report.session_ids),
        **common,
        "breakdowns": {
            dimension: [{"group": g.group, "responses": g.responses, "ratings": _ratings_dict(g.ratings)}
                        for g in groups]
            for dimension, groups in report.breakdowns.items()
        },
    }


def report_to_csv(report: SessionReport | AggregateReport) -> str:
    """The report's numbers as CSV text: dimension, group, section, item_id, label, metric, value.

    A session report's rows have dimension "session"; an aggregate's overall rows "all", then one
    block per breakdown group (e.g. dimension "country", group "SN"). Comments are not included.
    A session report ends with each tested person's pre, post and gain (section
    "knowledge_test_person", item_id the participant id, label their name).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    if isinstance(report, SessionReport):
        scope = ("session", report.session_id)
    else:
        scope = ("all", "all")
    for row in _overall_rows(report):
        writer.writerow((*scope, *row))
    if isinstance(report, SessionReport):
        for person in report.knowledge_by_person:
            for metric in ("pre", "post", "gain"):
                writer.writerow((*scope, "knowledge_test_person", person.participant_id, person.full_name or "",
                                 metric, _cell(getattr(person, metric))))
    if isinstance(report, AggregateReport):
        for dimension, groups in report.breakdowns.items():
            for group in groups:
                writer.writerow((dimension, group.group, "responses", "", "", "responses", group.responses))
                for row in _rating_rows(group.ratings):
                    writer.writerow((dimension, group.group, *row))
    return buffer.getvalue()


def _overall_rows(report: SessionReport | AggregateReport):
    yield "responses", "", "", "registered", report.registered
    yield "responses", "", "", "responses", report.responses
    yield "responses", "", "", "response_rate", _rate_cell(report.response_rate)
    yield "attendance", "", "", "rate", _rate_cell(report.attendance.rate)
    for day in report.attendance.by_day:
        yield "attendance", day.day.isoformat(), "", "attended", day.attended
        yield "attendance", day.day.isoformat(), "", "rate", _rate_cell(day.rate)
    yield from _rating_rows(report.ratings)
    for metric, value in _knowledge_dict(report.knowledge).items():
        yield "knowledge_test", "", "", metric, _rate_cell(value) if metric.endswith("_rate") else _cell(value)


def _rating_rows(ratings: Ratings):
    for s in ratings.likert:
        for level, count in s.counts.items():
            yield "likert5", s.item_id, s.text, f"level_{level}", count
        yield "likert5", s.item_id, s.text, "answered", s.answered
        yield "likert5", s.item_id, s.text, "agree_rate", _rate_cell(s.agree_rate)
        yield "likert5", s.item_id, s.text, "mean", _cell(s.mean)
    for s in ratings.scales:
        for metric in ("answered", "promoters", "passives", "detractors", "nps", "mean"):
            yield "scale0_10", s.item_id, s.text, metric, _cell(getattr(s, metric))
    for s in ratings.choices:
        for option_id, count in s.counts.items():
            yield "single_choice", s.item_id, s.text, f"option_{option_id}", count
        yield "single_choice", s.item_id, s.text, "answered", s.answered


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _rate_cell(value: float | None) -> str:
    # Not to 2 decimals like a mean: 0.995 would print as 1.00, "everyone", when one person was not.
    return "" if value is None else repr(float(value))


def _ratings_dict(ratings: Ratings) -> dict[str, Any]:
    return {
        "likert": [
            {"item_id": s.item_id, "text": s.text, "answered": s.answered,
             "counts": {str(level): count for level, count in s.counts.items()},
             "agree_rate": s.agree_rate, "mean": s.mean}
            for s in ratings.likert
        ],
        "scales": [
            {"item_id": s.item_id, "text": s.text, "answered": s.answered, "promoters": s.promoters,
             "passives": s.passives, "detractors": s.detractors, "promoter_rate": s.promoter_rate,
             "detractor_rate": s.detractor_rate, "nps": s.nps, "mean": s.mean}
            for s in ratings.scales
        ],
        "choices": [
            {"item_id": s.item_id, "text": s.text, "answered": s.answered, "counts": dict(s.counts)}
            for s in ratings.choices
        ],
    }


def _attendance_dict(attendance: AttendanceSummary) -> dict[str, Any]:
    return {
        "rate": attendance.rate,
        "by_day": [{"day": d.day.isoformat(), "attended": d.attended, "rate": d.rate} for d in attendance.by_day],
    }


def _quote_dict(quote: Quote) -> dict[str, Any]:
    return {"submission_id": quote.submission_id, "item_id": quote.item_id, "text": quote.text, "author": quote.author}


def _person_dict(person: PersonResult) -> dict[str, Any]:
    return {"participant_id": person.participant_id, "full_name": person.full_name, "pre": person.pre,
            "post": person.post, "gain": person.gain, "passed": person.passed}


def _knowledge_dict(knowledge: KnowledgeSummary) -> dict[str, Any]:
    return {
        "participants_tested": knowledge.participants_tested,
        "mean_pre": knowledge.mean_pre,
        "mean_post": knowledge.mean_post,
        "mean_gain": knowledge.mean_gain,
        "passed": knowledge.passed,
        "pass_rate": knowledge.pass_rate,
        "pass_mark": knowledge.pass_mark,
    }
