"""Questionnaires participants answer at the end of a training, and the checks on their answers.

A questionnaire in use never changes under its answers: `revise` returns a new version, and
every submission names the version it answered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from emm_evaluation.domain.errors import InvalidInput
from emm_common.identifiers import identifier

LANGUAGES = ("fr", "en", "pt")
ITEM_TYPES = ("likert5", "scale0_10", "single_choice", "free_text")
ItemType = Literal["likert5", "scale0_10", "single_choice", "free_text"]
FREE_TEXT_MAX_LENGTH = 4000

LIKERT_LABELS: Mapping[str, tuple[str, ...]] = {
    "fr": ("Pas du tout d'accord", "Pas d'accord", "Ni d'accord ni pas d'accord", "D'accord",
           "Tout à fait d'accord"),
    "en": ("Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree"),
    "pt": ("Discordo totalmente", "Discordo", "Não concordo nem discordo", "Concordo", "Concordo totalmente"),
}
"""Labels of Likert levels 1..5 per language (index 0 is level 1)."""


def _texts(value: Any, field_name: str) -> dict[str, str]:
    """Text in each of French, English and Portuguese: participants answer in any of them."""
    if not isinstance(value, Mapping):
        raise InvalidInput(field_name, "must give the text in fr, en and pt")
    texts = {}
    for language in LANGUAGES:
        text = value.get(language)
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput(f"{field_name}.{language}", "is required")
        texts[language] = text.strip()
    unknown = sorted(set(value) - set(LANGUAGES))
    if unknown:
        raise InvalidInput(f"{field_name}.{unknown[0]}", "is not a supported language (fr, en, pt)")
    return texts


@dataclass(frozen=True)
class Option:
    """One choice of a single_choice item."""

    option_id: str
    label: Mapping[str, str]

    def __post_init__(self) -> None:
        if not isinstance(self.option_id, str) or not self.option_id.strip():
            raise InvalidInput("option_id", "is required")
        object.__setattr__(self, "label", _texts(self.label, f"options.{self.option_id}.label"))


@dataclass(frozen=True)
class Item:
    """One question. `options` only for single_choice items."""

    item_id: str
    type: ItemType
    text: Mapping[str, str]
    required: bool = True
    options: tuple[Option, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.item_id, str) or not self.item_id.strip():
            raise InvalidInput("item_id", "is required")
        if self.type not in ITEM_TYPES:
            raise InvalidInput(f"{self.item_id}.type", f"must be one of {', '.join(ITEM_TYPES)}")
        object.__setattr__(self, "text", _texts(self.text, f"{self.item_id}.text"))
        options = tuple(self.options)
        if self.type == "single_choice":
            if not options:
                raise InvalidInput(f"{self.item_id}.options", "a single_choice item needs options")
            ids = [option.option_id for option in options]
            if len(set(ids)) != len(ids):
                raise InvalidInput(f"{self.item_id}.options", "option ids must be unique")
        elif options:
            raise InvalidInput(f"{self.item_id}.options", "only single_choice items have options")
        object.__setattr__(self, "options", options)

    def option_ids(self) -> tuple[str, ...]:
        return tuple(option.option_id for option in self.options)


@dataclass(frozen=True)
class Questionnaire:
    """A versioned list of items with a title per language."""

    questionnaire_id: str
    version: int
    title: Mapping[str, str]
    items: tuple[Item, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        identifier(self.questionnaire_id, "questionnaire_id")
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise InvalidInput("version", "must be an integer from 1")
        object.__setattr__(self, "title", _texts(self.title, "title"))
        items = tuple(self.items)
        if not items:
            raise InvalidInput("items", "a questionnaire needs at least one item")
        seen: set[str] = set()
        for item in items:
            if item.item_id in seen:
                raise InvalidInput(item.item_id, "appears twice in the questionnaire")
            seen.add(item.item_id)
        object.__setattr__(self, "items", items)

    def item(self, item_id: str) -> Item | None:
        return next((item for item in self.items if item.item_id == item_id), None)

    def revise(self, changes: Mapping[str, Any]) -> Questionnaire:
        """A new version with `changes` ("title" and/or "items") applied; this one is unchanged."""
        unknown = sorted(set(changes) - {"title", "items"})
        if unknown:
            raise InvalidInput(unknown[0], "only the title and the items of a questionnaire can change")
        return replace(self, version=self.version + 1, **dict(changes))


def validate_answers(questionnaire: Questionnaire, answers: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Check answers against the questionnaire and return them normalised.

    Normalised: in the questionnaire's item order, free text stripped, blank optional answers
    left out. Raises InvalidInput whose field is the item at fault (missing required, unknown,
    answered twice, wrong type, out of range, unknown option).
    """
    if not isinstance(answers, Sequence) or isinstance(answers, (str, bytes)):
        raise InvalidInput("answers", "must be a list of {item_id, value}")
    given: dict[str, Any] = {}
    for position, answer in enumerate(answers):
        if not isinstance(answer, Mapping) or not isinstance(answer.get("item_id"), str):
            raise InvalidInput(f"answers[{position}]", "must be an object with item_id and value")
        item_id = answer["item_id"]
        if questionnaire.item(item_id) is None:
            raise InvalidInput(item_id, "is not an item of this questionnaire")
        if item_id in given:
            raise InvalidInput(item_id, "is answered twice")
        given[item_id] = answer.get("value")

    normalised = []
    for item in questionnaire.items:
        value = _answer_value(item, given.get(item.item_id))
        if value is None:
            if item.required:
                raise InvalidInput(item.item_id, "is required")
            continue
        normalised.append({"item_id": item.item_id, "value": value})
    return normalised


def _answer_value(item: Item, value: Any) -> int | str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if item.type in ("likert5", "scale0_10"):
        low, high = (1, 5) if item.type == "likert5" else (0, 10)
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(item.item_id, f"must be a whole number from {low} to {high}")
        if not low <= value <= high:
            raise InvalidInput(item.item_id, f"must be from {low} to {high}")
        return value
    if not isinstance(value, str):
        raise InvalidInput(item.item_id, "must be text")
    if item.type == "single_choice":
        if value not in item.option_ids():
            raise InvalidInput(item.item_id, f"'{value}' is not one of its options")
        return value
    value = value.strip()
    if len(value) > FREE_TEXT_MAX_LENGTH:
        raise InvalidInput(item.item_id, f"must be at most {FREE_TEXT_MAX_LENGTH} characters")
    return value


def questionnaire_to_dict(questionnaire: Questionnaire) -> dict[str, Any]:
    """The questionnaire as plain JSON-ready data (for storage and the API)."""
    return {
        "questionnaire_id": questionnaire.questionnaire_id,
        "version": questionnaire.version,
        "title": dict(questionnaire.title),
        "items": [
            {
                "item_id": item.item_id,
                "type": item.type,
                "text": dict(item.text),
                "required": item.required,
                **({"options": [{"option_id": o.option_id, "label": dict(o.label)} for o in item.options]}
                   if item.options else {}),
            }
            for item in questionnaire.items
        ],
    }


def questionnaire_from_dict(data: Mapping[str, Any]) -> Questionnaire:
    """The inverse of questionnaire_to_dict; InvalidInput names the field at fault."""
    if not isinstance(data, Mapping):
        raise InvalidInput("questionnaire", "must be an object")
    raw_items = data.get("items")
    if not isinstance(raw_items, Sequence) or isinstance(raw_items, (str, bytes)):
        raise InvalidInput("items", "must be a list")
    return Questionnaire(
        questionnaire_id=data.get("questionnaire_id"),
        version=data.get("version", 1),
        title=data.get("title"),
        items=tuple(_item_from_dict(raw, position) for position, raw in enumerate(raw_items)),
    )


def _item_from_dict(raw: Any, position: int) -> Item:
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"items[{position}]", "must be an object")
    options = raw.get("options") or ()
    if not isinstance(options, Sequence) or any(not isinstance(o, Mapping) for o in options):
        raise InvalidInput(f"items[{position}].options", "must be a list of {option_id, label}")
    required = raw.get("required", True)
    if not isinstance(required, bool):
        raise InvalidInput(f"items[{position}].required", "must be true or false")
    return Item(
        item_id=raw.get("item_id"),
        type=raw.get("type"),
        text=raw.get("text"),
        required=required,
        options=tuple(Option(o.get("option_id"), o.get("label")) for o in options),
    )


def _likert(item_id: str, fr: str, en: str, pt: str) -> Item:
    return Item(item_id, "likert5", {"fr": fr, "en": en, "pt": pt})


DEFAULT_QUESTIONNAIRE_ID = "tot-default"


def default_tot_questionnaire() -> Questionnaire:
    """The default end-of-training evaluation of an EMM2.0 Training of Trainers, in fr, en and pt."""
    return Questionnaire(
        questionnaire_id=DEFAULT_QUESTIONNAIRE_ID,
        version=1,
        title={
            "fr": "Évaluation de fin de formation : formation des formateurs EMM2.0",
            "en": "End-of-training evaluation: EMM2.0 Training of Trainers",
            "pt": "Avaliação final da formação: formação de formadores EMM2.0",
        },
        items=(
            _likert("work_performance",
                    "La formation des formateurs m'aidera à améliorer mes performances professionnelles actuelles.",
                    "The ToT will help improve my present work performance.",
                    "A formação de formadores ajudará a melhorar o meu desempenho profissional atual."),
            _likert("methodology",
                    "La méthodologie de la formation était efficace.",
                    "The training methodology was effective.",
                    "A metodologia da formação foi eficaz."),
            _likert("content_quality",
                    "Le contenu de la formation était de grande qualité.",
                    "The content of the training was of high quality.",
                    "O conteúdo da formação era de elevada qualidade."),
            _likert("facilitation",
                    "Les facilitateurs étaient bien préparés et ont su faire participer le groupe.",
                    "The facilitators were well prepared and engaged the participants.",
                    "Os facilitadores estavam bem preparados e envolveram os participantes."),
            _likert("relevance",
                    "La formation est pertinente pour mon travail.",
                    "The training is relevant to my work.",
                    "A formação é relevante para o meu trabalho."),
            _likert("organization",
                    "L'organisation et la logistique de la formation étaient bonnes.",
                    "The organization and logistics of the training were good.",
                    "A organização e a logística da formação foram boas."),
            Item("recommend", "scale0_10", {
                "fr": "Quelle est la probabilité que vous recommandiez cette formation à un ou une collègue ? "
                      "(0 = pas du tout probable, 10 = très probable)",
                "en": "How likely are you to recommend this training to a colleague? "
                      "(0 = not at all likely, 10 = extremely likely)",
                "pt": "Qual é a probabilidade de recomendar esta formação a um colega? "
                      "(0 = nada provável, 10 = extremamente provável)",
            }),
            Item("comments", "free_text", {
                "fr": "Avez-vous d'autres commentaires ou suggestions ?",
                "en": "Do you have any other comments or suggestions?",
                "pt": "Tem outros comentários ou sugestões?",
            }, required=False),
        ),
    )

