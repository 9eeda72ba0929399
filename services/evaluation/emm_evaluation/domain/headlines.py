"""Headline sentences of a report, in the style of the programme's own reporting.

"All participants strongly agreed or agreed that the ToT will help improve their present work
performance." Only the items of the default ToT questionnaire have a headline; items an
organizer adds are reported as numbers only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from emm_evaluation.domain.numbers import percent

if TYPE_CHECKING:
    from emm_evaluation.domain.report import LikertSummary, Ratings, ScaleSummary

# What participants agreed to, as the end of "... agreed that <claim>".
CLAIMS: Mapping[str, Mapping[str, str]] = {
    "work_performance": {
        "en": "the ToT will help improve their present work performance",
        "fr": "la formation des formateurs les aidera à améliorer leurs performances professionnelles actuelles",
        "pt": "a formação de formadores os ajudará a melhorar o seu desempenho profissional atual",
    },
    "methodology": {
        "en": "the training methodology was effective",
        "fr": "la méthodologie de la formation était efficace",
        "pt": "a metodologia da formação foi eficaz",
    },
    "content_quality": {
        "en": "the content of the training was of high quality",
        "fr": "le contenu de la formation était de grande qualité",
        "pt": "o conteúdo da formação era de elevada qualidade",
    },
}
# The seed's work-performance sentence has no average; the ratings of methodology and content do.
WITH_AVERAGE = ("methodology", "content_quality")

# "all", "some" and "none" when every participant answered the item; the "_of" forms, and "one_..."
# for a single answer, when some did not: then the sentence counts respondents against participants,
# never calling 4 respondents of 6 "all participants".
AGREEMENT: Mapping[str, Mapping[str, str]] = {
    "en": {
        "all": "All participants strongly agreed or agreed that {claim}{average}.",
        "some": "{percent}% of participants strongly agreed or agreed that {claim}{average}.",
        "none": "No participant strongly agreed or agreed that {claim}{average}.",
        "all_of": "All {answered} respondents (of {participants} participants) strongly agreed or agreed that "
                  "{claim}{average}.",
        "some_of": "{percent}% of the {answered} respondents (of {participants} participants) strongly agreed or "
                   "agreed that {claim}{average}.",
        "none_of": "None of the {answered} respondents (of {participants} participants) strongly agreed or agreed "
                   "that {claim}{average}.",
        "one_agreed": "The only respondent (of {participants} participants) strongly agreed or agreed that "
                      "{claim}{average}.",
        "one_disagreed": "The only respondent (of {participants} participants) neither strongly agreed nor agreed "
                         "that {claim}{average}.",
        "average": " (average {mean} out of 5)",
    },
    "fr": {
        "all": "Tous les participants étaient tout à fait d'accord ou d'accord pour dire que {claim}{average}.",
        "some": "{percent}\u00a0% des participants étaient tout à fait d'accord ou d'accord pour dire que "
                "{claim}{average}.",
        "none": "Aucun des participants n'était tout à fait d'accord ou d'accord pour dire que {claim}{average}.",
        "all_of": "Les {answered} répondants (sur {participants} participants) étaient tous tout à fait d'accord "
                  "ou d'accord pour dire que {claim}{average}.",
        "some_of": "{percent}\u00a0% des {answered} répondants (sur {participants} participants) étaient tout à "
                   "fait d'accord ou d'accord pour dire que {claim}{average}.",
        "none_of": "Aucun des {answered} répondants (sur {participants} participants) n'était tout à fait d'accord "
                   "ou d'accord pour dire que {claim}{average}.",
        "one_agreed": "Le seul répondant (sur {participants} participants) était tout à fait d'accord ou d'accord "
                      "pour dire que {claim}{average}.",
        "one_disagreed": "Le seul répondant (sur {participants} participants) n'était pas tout à fait d'accord ni "
                         "d'accord pour dire que {claim}{average}.",
        "average": " (moyenne de {mean} sur 5)",
    },
    "pt": {
        "all": "Todos os participantes concordaram totalmente ou concordaram que {claim}{average}.",
        "some": "{percent}% dos participantes concordaram totalmente ou concordaram que {claim}{average}.",
        "none": "Nenhum dos participantes concordou totalmente ou concordou que {claim}{average}.",
        "all_of": "Todos os {answered} respondentes (de {participants} participantes) concordaram totalmente ou "
                  "concordaram que {claim}{average}.",
        "some_of": "{percent}% dos {answered} respondentes (de {participants} participantes) concordaram "
                   "totalmente ou concordaram que {claim}{average}.",
        "none_of": "Nenhum dos {answered} respondentes (de {participants} participantes) concordou totalmente ou "
                   "concordou que {claim}{average}.",
        "one_agreed": "O único respondente (de {participants} participantes) concordou totalmente ou concordou que "
                      "{claim}{average}.",
        "one_disagreed": "O único respondente (de {participants} participantes) não concordou totalmente nem "
                         "concordou que {claim}{average}.",
        "average": " (média de {mean} em 5)",
    },
}

# {whom}: "participants" when everyone answered, else the respondents counted against the participants.
RECOMMEND: Mapping[str, Mapping[str, str]] = {
    "en": {
        "sentence": "The ToT has a Net Promoter Score of {nps}: {promoters}% of {whom} rated their "
                    "likelihood to recommend it 9 or 10 out of 10{detractors}.",
        "detractors": ", and {detractors}% rated it 6 or less",
        "everyone": "participants",
        "respondents": "the {answered} respondents (of {participants} participants)",
    },
    "fr": {
        "sentence": "La formation des formateurs obtient un Net Promoter Score de {nps}\u00a0: {promoters}\u00a0% "
                    "{whom} ont noté 9 ou 10 sur 10 la probabilité de la recommander{detractors}.",
        "detractors": ", et {detractors}\u00a0% 6 ou moins",
        "everyone": "des participants",
        "respondents": "des {answered} répondants (sur {participants} participants)",
    },
    "pt": {
        "sentence": "A formação de formadores obtém um Net Promoter Score de {nps}: {promoters}% {whom} "
                    "avaliaram com 9 ou 10 em 10 a probabilidade de a recomendar{detractors}.",
        "detractors": ", e {detractors}% com 6 ou menos",
        "everyone": "dos participantes",
        "respondents": "dos {answered} respondentes (de {participants} participantes)",
    },
}


def headlines(ratings: Ratings, language: str, participants: int) -> tuple[str, ...]:
    """The report's headline sentences in `language` (fr, en or pt), from its ratings; `participants`
    is how many were registered, so that a sentence over fewer respondents says so."""
    sentences = []
    for item_id in CLAIMS:
        summary = ratings.likert_item(item_id)
        if summary is not None and summary.answered:
            sentences.append(agreement_sentence(summary, language, participants))
    recommend = ratings.scale_item("recommend")
    if recommend is not None and recommend.answered:
        sentences.append(recommend_sentence(recommend, language, participants))
    return tuple(sentences)


def agreement_sentence(summary: LikertSummary, language: str, participants: int) -> str:
    """"All participants ..." / "83% of participants ..." / "No participant ..." agreed that <claim>, or,
    when fewer answered than took part, "All 4 respondents (of 6 participants) ..." and the like."""
    templates = AGREEMENT[language]
    agreed = summary.counts[4] + summary.counts[5]
    form = "all" if agreed == summary.answered else "none" if agreed == 0 else "some"
    if summary.answered < participants:
        form = ("one_agreed" if agreed else "one_disagreed") if summary.answered == 1 else f"{form}_of"
    average = ""
    if summary.item_id in WITH_AVERAGE:
        average = templates["average"].format(mean=_decimal(summary.mean, language))
    # A percentage only here, in words; "83%" never rounds up to "100%" (see numbers.percent).
    return templates[form].format(claim=CLAIMS[summary.item_id][language], percent=percent(agreed, summary.answered),
                                  average=average, answered=summary.answered, participants=participants)


def recommend_sentence(summary: ScaleSummary, language: str, participants: int) -> str:
    """The Net Promoter Score with the shares of promoters and (when there are any) detractors."""
    templates = RECOMMEND[language]
    detractors = templates["detractors"].format(detractors=percent(summary.detractors, summary.answered)) \
        if summary.detractors else ""
    whom = templates["everyone"] if summary.answered >= participants else \
        templates["respondents"].format(answered=summary.answered, participants=participants)
    return templates["sentence"].format(nps=f"{summary.nps:+d}" if summary.nps else "0", whom=whom,
                                        promoters=percent(summary.promoters, summary.answered), detractors=detractors)


def _decimal(value: float, language: str) -> str:
    text = f"{value:.2f}"
    return text if language == "en" else text.replace(".", ",")
