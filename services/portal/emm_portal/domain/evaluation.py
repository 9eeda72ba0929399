"""The end-of-training evaluation as a form: the session's questionnaire (from the evaluation API)
becomes one question per item, and the posted form becomes the API's `answers`.

A form field is `answer-<item_id>`; the anonymous choice is `anonymous` ("yes"/"no") and the
`submission_id` is made when the form is first shown, so sending it twice stores one answer.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from emm_portal.domain.forms import N_, CheckedForm

FREE_TEXT_MAX_LENGTH = 4000
ANSWER_PREFIX = "answer-"
SUBMISSION_ID = re.compile(r"fbk-[0-9a-f]{16}")
SCALES = {"likert5": range(1, 6), "scale0_10": range(0, 11)}


def new_submission_id() -> str:
    return f"fbk-{uuid.uuid4().hex[:16]}"


def answer_field(item_id: str) -> str:
    return ANSWER_PREFIX + item_id


@dataclass(frozen=True)
class Question:
    """One item as the page shows it, in one language."""

    item_id: str
    type: str
    text: str
    required: bool
    options: tuple[tuple[str, str], ...]  # (value, label) of single_choice and scale0_10 items

    @property
    def field(self) -> str:
        return answer_field(self.item_id)


def questions(questionnaire: Mapping[str, Any], language: str) -> list[Question]:
    """The questionnaire's items in `language` (English where a text lacks it). A 0-10 scale's
    options are its numbers; a Likert item's five labels are the template's to translate."""
    def text(texts: Mapping[str, str]) -> str:
        return texts.get(language) or texts.get("en", "")

    found = []
    for item in questionnaire.get("items", []):
        if item["type"] == "scale0_10":
            options = tuple((str(n), str(n)) for n in SCALES["scale0_10"])
        else:
            options = tuple((o["option_id"], text(o["label"])) for o in item.get("options") or ())
        found.append(Question(item["item_id"], item["type"], text(item["text"]), item.get("required", True), options))
    return found


QUOTE_CHOICES = ("no", "unnamed", "named")  # may my comments be quoted in the write-up (no by default)

def check_evaluation(form: Mapping[str, Any], items: list[Question], language: str) -> CheckedForm:
    """The API's feedback body from the form, or the errors. Item ranges are checked here as
    the evaluation API checks them, so a mistake is named next to its question."""
    checked = CheckedForm()
    checked.choice(form, "anonymous", ("yes", "no"), message=N_("Choose whether to answer anonymously."))
    consent = str(form.get("quote_consent") or "no")
    checked.values["quote_consent"] = consent
    if consent not in QUOTE_CHOICES:
        checked.errors["quote_consent"] = N_("Choose one of the options.")
    elif consent == "named" and checked.data.get("anonymous") == "yes":
        checked.errors["quote_consent"] = N_("You answer anonymously: you can be quoted only without your name.")
    answers = []
    for item in items:
        raw = str(form.get(item.field) or "").strip()
        checked.values[item.field] = raw
        if not raw:
            if item.required:
                checked.errors[item.field] = N_("Answer this question.")
            continue
        if item.type in SCALES:
            if not raw.isdigit() or int(raw) not in SCALES[item.type]:
                checked.errors[item.field] = N_("Choose one of the options.")
                continue
            answers.append({"item_id": item.item_id, "value": int(raw)})
        elif item.type == "single_choice" and raw not in {value for value, _ in item.options}:
            checked.errors[item.field] = N_("Choose one of the options.")
        elif len(raw) > FREE_TEXT_MAX_LENGTH:
            checked.errors[item.field] = N_("This is too long.")
        else:
            answers.append({"item_id": item.item_id, "value": raw})
    given = str(form.get("submission_id") or "")
    submission_id = given if SUBMISSION_ID.fullmatch(given) else new_submission_id()
    checked.values["submission_id"] = submission_id
    checked.data = {"submission_id": submission_id, "language": language,
                    "anonymous": checked.data.get("anonymous") == "yes", "answers": answers}
    if consent in ("named", "unnamed"):
        checked.data["quote_consent"] = consent
    return checked
