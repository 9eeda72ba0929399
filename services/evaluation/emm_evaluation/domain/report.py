"""Evaluation reports of a session, and across sessions broken down by country, office, sex and month.

Reports are pure functions of their inputs with a fixed ordering, so a report built again after
a replay is identical. Anonymous responses never show a name, and count as "undisclosed" in
breakdowns by country, office and sex: a breakdown cell may hold a single person.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from emm_evaluation.domain.errors import InvalidInput
from emm_evaluation.domain.feedback import FeedbackSubmission
from emm_evaluation.domain.headlines import headlines
from emm_evaluation.domain.knowledge_test import (DEFAULT_PASS_MARK, KnowledgeScores, KnowledgeSummary,
                                                  PersonResult, results_by_person, summarise_scores)
from emm_evaluation.domain.numbers import mean, rate, signed_percent_difference
from emm_evaluation.domain.questionnaire import LANGUAGES, Item, Questionnaire
from emm_evaluation.domain.quotes import Quote, chosen, quotable

UNDISCLOSED = "undisclosed"
DIMENSIONS = ("country", "office", "sex", "month")
LIKERT_LEVELS = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Profile:
    """What a report may know of the person behind a response (office = their organization)."""

    country: str | None = None
    organization: str | None = None
    sex: str | None = None


@dataclass(frozen=True)
class Response:
    """One current (not replaced) submission as a report sees it."""

    answers: Mapping[str, int | str]
    anonymous: bool
    submitted_at: datetime
    full_name: str | None = None
    profile: Profile | None = None
    submission_id: str | None = None
    quote_consent: str | None = None  # "named", "unnamed" or None (domain/feedback.py)


def response_from_submission(submission: FeedbackSubmission, *, full_name: str | None = None,
                             profile: Profile | None = None) -> Response:
    """A report's view of a submission; the name is dropped when the submission is anonymous."""
    return Response(
        answers={answer["item_id"]: answer["value"] for answer in submission.answers},
        anonymous=submission.anonymous,
        submitted_at=submission.submitted_at,
        full_name=None if submission.anonymous else full_name,
        profile=profile,
        submission_id=submission.submission_id,
        quote_consent=submission.quote_consent,
    )


@dataclass(frozen=True)
class SessionFacts:
    """Everything a session report is built from.

    `attended_by_day` is how many participants attended (present or late) each session day.
    """

    session_id: str
    start_date: date
    questionnaire: Questionnaire
    responses: Sequence[Response]
    registered: int
    session_days: Sequence[date] = ()
    attended_by_day: Mapping[date, int] = field(default_factory=dict)
    scores: Sequence[KnowledgeScores] = ()
    pass_mark: float = DEFAULT_PASS_MARK
    quote_picks: Sequence[tuple[str, str]] = ()  # (submission_id, item_id) an organizer chose
    organizations: Sequence[str] = ()  # of the registered participants, one entry per person (the write-up's audience)


@dataclass(frozen=True)
class LikertSummary:
    """`agree_rate`: the fraction (0 to 1) who answered 4 or 5."""

    item_id: str
    text: str
    answered: int
    counts: Mapping[int, int]
    agree_rate: float | None
    mean: float | None


@dataclass(frozen=True)
class ScaleSummary:
    """A 0-10 item: Net Promoter Score = % promoters (9-10) minus % detractors (0-6), a score from
    -100 to 100 by its own definition (not a rate); the shares themselves are fractions (0 to 1)."""

    item_id: str
    text: str
    answered: int
    promoters: int
    passives: int
    detractors: int
    promoter_rate: float | None
    detractor_rate: float | None
    nps: int | None
    mean: float | None


@dataclass(frozen=True)
class ChoiceSummary:
    item_id: str
    text: str
    answered: int
    counts: Mapping[str, int]


@dataclass(frozen=True)
class Ratings:
    """The summaries of every rated item, in questionnaire order."""

    likert: tuple[LikertSummary, ...] = ()
    scales: tuple[ScaleSummary, ...] = ()
    choices: tuple[ChoiceSummary, ...] = ()

    def likert_item(self, item_id: str) -> LikertSummary | None:
        return next((s for s in self.likert if s.item_id == item_id), None)

    def scale_item(self, item_id: str) -> ScaleSummary | None:
        return next((s for s in self.scales if s.item_id == item_id), None)


@dataclass(frozen=True)
class Comment:
    """A free-text answer; `author` is None for anonymous responses and unnamed ones."""

    item_id: str
    text: str
    author: str | None


@dataclass(frozen=True)
class DayAttendance:
    day: date
    attended: int
    rate: float | None


@dataclass(frozen=True)
class AttendanceSummary:
    """Rates are fractions (0 to 1) of participant-days attended."""

    rate: float | None
    by_day: tuple[DayAttendance, ...] = ()


@dataclass(frozen=True)
class SessionReport:
    session_id: str
    language: str
    questionnaire_id: str
    questionnaire_version: int
    registered: int
    responses: int
    response_rate: float | None
    ratings: Ratings
    attendance: AttendanceSummary
    knowledge: KnowledgeSummary
    comments: tuple[Comment, ...]
    headlines: tuple[str, ...]
    knowledge_by_person: tuple[PersonResult, ...] = ()  # scores name their person: tests are not anonymous
    quotable: tuple[Quote, ...] = ()  # consented comments an organizer may pick
    quotes: tuple[Quote, ...] = ()  # the ones picked for the write-up


@dataclass(frozen=True)
class GroupReport:
    """The responses of one group of a breakdown, e.g. country SN or month 2026-05."""

    dimension: str
    group: str
    responses: int
    ratings: Ratings


@dataclass(frozen=True)
class AggregateReport:
    language: str
    session_ids: tuple[str, ...]
    registered: int
    responses: int
    response_rate: float | None
    attendance: AttendanceSummary
    knowledge: KnowledgeSummary
    ratings: Ratings
    headlines: tuple[str, ...]
    breakdowns: Mapping[str, tuple[GroupReport, ...]]


def build_session_report(facts: SessionFacts, language: str) -> SessionReport:
    """The report of one session in `language` (fr, en or pt)."""
    _check_language(language)
    ratings = summarise_ratings(facts.questionnaire.items, facts.responses, language)
    candidates = quotable(facts.questionnaire.items, facts.responses)
    return SessionReport(
        session_id=facts.session_id,
        language=language,
        questionnaire_id=facts.questionnaire.questionnaire_id,
        questionnaire_version=facts.questionnaire.version,
        registered=facts.registered,
        responses=len(facts.responses),
        response_rate=rate(len(facts.responses), facts.registered),
        ratings=ratings,
        attendance=summarise_attendance([facts]),
        knowledge=summarise_scores(facts.scores, facts.pass_mark),
        comments=collect_comments(facts.questionnaire.items, facts.responses),
        headlines=headlines(ratings, language, facts.registered),
        knowledge_by_person=results_by_person(facts.scores, facts.pass_mark),
        quotable=candidates,
        quotes=chosen(facts.quote_picks, candidates),
    )


def build_aggregate_report(sessions: Iterable[SessionFacts], language: str) -> AggregateReport:
    """Several sessions together, and broken down by country, office, sex and month of the session.

    Items are matched by item_id across questionnaires; the first session (by start date, then
    id) that has an item gives its type and text. Knowledge scores use the first session's pass mark.
    """
    _check_language(language)
    sessions = sorted(sessions, key=lambda s: (s.start_date, s.session_id))
    items = _items_of(sessions)
    tagged = [(session, response) for session in sessions for response in session.responses]
    ratings = summarise_ratings(items, [response for _, response in tagged], language)
    registered = sum(session.registered for session in sessions)
    breakdowns = {}
    for dimension in DIMENSIONS:
        groups: dict[str, list[Response]] = {}
        for session, response in tagged:
            groups.setdefault(_group_of(dimension, session, response), []).append(response)
        breakdowns[dimension] = tuple(
            GroupReport(dimension, group, len(groups[group]), summarise_ratings(items, groups[group], language))
            for group in sorted(groups, key=lambda g: (g == UNDISCLOSED, g)))
    return AggregateReport(
        language=language,
        session_ids=tuple(session.session_id for session in sessions),
        registered=registered,
        responses=len(tagged),
        response_rate=rate(len(tagged), registered),
        attendance=AttendanceSummary(rate=summarise_attendance(sessions).rate),
        knowledge=summarise_scores([s for session in sessions for s in session.scores],
                                   sessions[0].pass_mark if sessions else DEFAULT_PASS_MARK),
        ratings=ratings,
        headlines=headlines(ratings, language, registered),
        breakdowns=breakdowns,
    )


def summarise_ratings(items: Sequence[Item], responses: Sequence[Response], language: str) -> Ratings:
    """Counts, agreement, means and NPS per item over `responses`; answers of the wrong type are ignored."""
    likert, scales, choices = [], [], []
    for item in items:
        values = [r.answers.get(item.item_id) for r in responses]
        text = item.text[language]
        if item.type == "likert5":
            likert.append(_likert_summary(item.item_id, text, _whole_numbers(values, 1, 5)))
        elif item.type == "scale0_10":
            scales.append(_scale_summary(item.item_id, text, _whole_numbers(values, 0, 10)))
        elif item.type == "single_choice":
            chosen = [v for v in values if v in item.option_ids()]
            choices.append(ChoiceSummary(item.item_id, text, len(chosen),
                                         {o: chosen.count(o) for o in item.option_ids()}))
    return Ratings(tuple(likert), tuple(scales), tuple(choices))


def _whole_numbers(values: Iterable[Any], low: int, high: int) -> list[int]:
    return [v for v in values if isinstance(v, int) and not isinstance(v, bool) and low <= v <= high]


def _likert_summary(item_id: str, text: str, values: list[int]) -> LikertSummary:
    counts = {level: values.count(level) for level in LIKERT_LEVELS}
    return LikertSummary(item_id, text, len(values), counts,
                         agree_rate=rate(counts[4] + counts[5], len(values)), mean=mean(values))


def _scale_summary(item_id: str, text: str, values: list[int]) -> ScaleSummary:
    promoters = sum(1 for v in values if v >= 9)
    detractors = sum(1 for v in values if v <= 6)
    return ScaleSummary(
        item_id, text, len(values), promoters, len(values) - promoters - detractors, detractors,
        promoter_rate=rate(promoters, len(values)), detractor_rate=rate(detractors, len(values)),
        nps=signed_percent_difference(promoters, detractors, len(values)), mean=mean(values))


def collect_comments(items: Sequence[Item], responses: Sequence[Response]) -> tuple[Comment, ...]:
    """Free-text answers in submission order; named only when the response is not anonymous."""
    free_text = [item.item_id for item in items if item.type == "free_text"]
    comments = []
    for response in responses:
        author = None if response.anonymous else response.full_name
        for item_id in free_text:
            text = response.answers.get(item_id)
            if isinstance(text, str) and text.strip():
                comments.append((response.submitted_at, Comment(item_id, text.strip(), author)))
    # Sorting on the text too makes the order independent of the order responses were loaded in.
    comments.sort(key=lambda c: (c[0], c[1].item_id, c[1].text, c[1].author or ""))
    return tuple(comment for _, comment in comments)


def summarise_attendance(sessions: Sequence[SessionFacts]) -> AttendanceSummary:
    """Share of participant-days attended over registered participants and session days."""
    attended = expected = 0
    by_day = []
    for session in sessions:
        for day in sorted(session.session_days):
            count = session.attended_by_day.get(day, 0)
            by_day.append(DayAttendance(day, count, rate(count, session.registered)))
            attended += count
            expected += session.registered
    return AttendanceSummary(rate=rate(attended, expected), by_day=tuple(by_day))


def _items_of(sessions: Sequence[SessionFacts]) -> list[Item]:
    items: dict[str, Item] = {}
    for session in sessions:
        for item in session.questionnaire.items:
            items.setdefault(item.item_id, item)
    return list(items.values())


def _group_of(dimension: str, session: SessionFacts, response: Response) -> str:
    if dimension == "month":
        return session.start_date.strftime("%Y-%m")
    if response.anonymous or response.profile is None:
        return UNDISCLOSED
    value = {"country": response.profile.country, "office": response.profile.organization,
             "sex": response.profile.sex}[dimension]
    return value or UNDISCLOSED


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise InvalidInput("language", "must be fr, en or pt")
