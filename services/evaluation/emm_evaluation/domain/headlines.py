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

AGREEMENT: Mapping[str, Mapping[str, str]] = {
    "en": {
        "all": "All participants strongly agreed or agreed that {claim}{average}.",
        "some": "{percent}% of participants strongly agreed or agreed that {claim}{average}.",
        "none": "No participant strongly agreed or agreed that {claim}{average}.",
        "average": " (average {mean} out of 5)",
    },
    "fr": {
        "all": "Tous les participants étaient tout à fait d'accord ou d'accord pour dire que {claim}{average}.",
        "some": "{percent}\u00a0% des participants étaient tout à fait d'accord ou d'accord pour dire que "
                "{claim}{average}.",
        "none": "Aucun des participants n'était tout à fait d'accord ou d'accord pour dire que {claim}{average}.",
        "average": " (moyenne de {mean} sur 5)",
    },
    "pt": {
        "all": "Todos os participantes concordaram totalmente ou concordaram que {claim}{average}.",
        "some": "{percent}% dos participantes concordaram totalmente ou concordaram que {claim}{average}.",
        "none": "Nenhum dos participantes concordou totalmente ou concordou que {claim}{average}.",
        "average": " (média de {mean} em 5)",
    },
}

RECOMMEND: Mapping[str, Mapping[str, str]] = {
    "en": {
        "sentence": "The ToT has a Net Promoter Score of {nps}: {promoters}% of participants rated their "
                    "likelihood to recommend it 9 or 10 out of 10{detractors}.",
        "detractors": ", and {detractors}% rated it 6 or less",
    },
    "fr": {
        "sentence": "La formation des formateurs obtient un Net Promoter Score de {nps}\u00a0: {promoters}\u00a0% "
                    "des participants ont noté 9 ou 10 sur 10 la probabilité de la recommander{detractors}.",
        "detractors": ", et {detractors}\u00a0% 6 ou moins",
    },
    "pt": {
        "sentence": "A formação de formadores obtém um Net Promoter Score de {nps}: {promoters}% dos participantes "
                    "avaliaram com 9 ou 10 em 10 a probabilidade de a recomendar{detractors}.",
        "detractors": ", e {detractors}% com 6 ou menos",
    },
}


def headlines(ratings: Ratings, language: str) -> tuple[str, ...]:
    """The report's headline sentences in `language` (fr, en or pt), from its ratings."""
    sentences = []
    for item_id in CLAIMS:
        summary = ratings.likert_item(item_id)
        if summary is not None and summary.answered:
            sentences.append(agreement_sentence(summary, language))
    recommend = ratings.scale_item("recommend")
    if recommend is not None and recommend.answered:
        sentences.append(recommend_sentence(recommend, language))
    return tuple(sentences)


def agreement_sentence(summary: LikertSummary, language: str) -> str:
    """"All participants ..." / "83% of participants ..." / "No participant ..." agreed that <claim>."""
    templates = AGREEMENT[language]
    agreed = summary.counts[4] + summary.counts[5]
    form = "all" if agreed == summary.answered else "none" if agreed == 0 else "some"
    average = ""
    if summary.item_id in WITH_AVERAGE:
        average = templates["average"].format(mean=_decimal(summary.mean, language))
    # A percentage only here, in words; "83%" never rounds up to "100%" (see numbers.percent).
    return templates[form].format(claim=CLAIMS[summary.item_id][language], percent=percent(agreed, summary.answered),
                                  average=average)


def recommend_sentence(summary: ScaleSummary, language: str) -> str:
    """The Net Promoter Score with the shares of promoters and (when there are any) detractors."""
    templates = RECOMMEND[language]
    detractors = templates["detractors"].format(detractors=percent(summary.detractors, summary.answered)) \
        if summary.detractors else ""
    return templates["sentence"].format(nps=f"{summary.nps:+d}" if summary.nps else "0",
                                        promoters=percent(summary.promoters, summary.answered), detractors=detractors)


def _decimal(value: float, language: str) -> str:
    text = f"{value:.2f}"
    return text if language == "en" else text.replace(".", ",")
