"""A signed-in participant's pages: my trainings, one training (its .ics, cancelling), the
end-of-training evaluation and the knowledge test."""

from __future__ import annotations

from fastapi import APIRouter, Request

from emm_portal.domain import outcomes
from emm_portal.domain.evaluation import check_evaluation, new_submission_id, questions
from emm_portal.domain.forms import N_, CheckedForm
from emm_portal.entrypoints.deps import AsVisitor, Form, Page, Participant
from emm_portal.entrypoints.pages.invitations import calendar_file
from emm_portal.entrypoints.rendering import Pages, redirect
from emm_portal.service_layer import participant

router = APIRouter(prefix="/trainings")

# Why the evaluation API refused a submission (the field its 409/403 names) -> what the page says.
EVALUATION_REFUSALS = {
    "session_start_date": "not_started", "session_status": "cancelled", "enrollment_id": "not_arrived",
    "enrollment_status": "not_registered", "participant_id": "not_registered", "session_id": "other_training",
    "anonymous": "anonymity_kept"}


@router.get("")
async def my_trainings(request: Request, page: Page, visitor: Participant, apis: AsVisitor):
    return page.render(request, "participant/trainings.html", entries=await participant.history(apis, visitor))


@router.get("/{session_id}")
async def one_training(request: Request, page: Page, visitor: Participant, apis: AsVisitor, session_id: str,
                       done: str | None = None):
    training = await participant.training(apis, visitor, session_id)
    if training.enrollment is None:
        raise outcomes.NotFound("registration", "no enrollment of this person in this session")
    certificate = await participant.certificate(apis, visitor, session_id) if training.mine else None
    return page.render(request, "participant/training.html", training=training, done=done, certificate=certificate)


@router.get("/{session_id}/calendar.ics")
async def training_calendar(request: Request, page: Page, visitor: Participant, apis: AsVisitor, session_id: str):
    return await calendar_file(apis, session_id, page.language(request))


@router.get("/{session_id}/cancel")
async def confirm_cancellation(request: Request, page: Page, visitor: Participant, apis: AsVisitor,
                               session_id: str):
    training = await participant.training(apis, visitor, session_id)
    if not training.active or not training.mine:
        return redirect(f"/trainings/{session_id}")
    return page.render(request, "participant/cancel.html", training=training, form=CheckedForm())


@router.post("/{session_id}/cancel")
async def cancel(request: Request, page: Page, visitor: Participant, apis: AsVisitor, session_id: str, form: Form):
    checked = CheckedForm()
    reason = checked.text(form, "reason", max_length=1000, required=False)
    try:
        await participant.cancel(apis, visitor, session_id, reason)
    except outcomes.Unavailable:
        training = participant.Training({"session_id": session_id, "title": ""}, None, True)
        return page.render(request, "participant/cancel.html", status=503, training=training, form=checked,
                           unavailable=True)
    return redirect(f"/trainings/{session_id}?done=cancelled")


def evaluation_page(request: Request, page: Pages, session_id: str, questionnaire: dict, checked: CheckedForm, *,
                    status: int = 200, problem: str | None = None):
    return page.render(request, "participant/evaluation.html", status=status, session_id=session_id,
                       questionnaire=questionnaire, questions=questions(questionnaire, page.language(request)),
                       form=checked, problem=problem)


@router.get("/{session_id}/evaluation")
async def evaluation(request: Request, page: Page, visitor: Participant, apis: AsVisitor, session_id: str):
    questionnaire = await participant.questionnaire(apis, session_id)
    checked = CheckedForm(values={"submission_id": new_submission_id()})
    problem = None if visitor.session_id == session_id else "other_training"
    return evaluation_page(request, page, session_id, questionnaire, checked, problem=problem)


@router.post("/{session_id}/evaluation")
async def evaluate(request: Request, page: Page, visitor: Participant, apis: AsVisitor, session_id: str, form: Form):
    language = page.language(request)
    questionnaire = await participant.questionnaire(apis, session_id)
    items = questions(questionnaire, language)
    checked = check_evaluation(form, items, language)
    if not checked.ok:
        return evaluation_page(request, page, session_id, questionnaire, checked, status=422)
    try:
        saved = await participant.submit_evaluation(apis, session_id, checked.data)
    except outcomes.Unavailable:
        return evaluation_page(request, page, session_id, questionnaire, checked, status=503, problem="unavailable")
    except outcomes.Invalid as refused:
        checked.refused_by_api(refused.field_errors, {item.item_id: item.field for item in items})
        return evaluation_page(request, page, session_id, questionnaire, checked, status=422)
    except (outcomes.Refused, outcomes.NotAllowed) as refused:
        reason = next((EVALUATION_REFUSALS[f] for f in refused.field_errors if f in EVALUATION_REFUSALS), "refused")
        if reason == "anonymity_kept":
            checked.errors["anonymous"] = (N_("You answered anonymously before: your new answers must be anonymous too.")
                                           if not checked.data["anonymous"] else
                                           N_("You answered by name before: your new answers must be by name too."))
        return evaluation_page(request, page, session_id, questionnaire, checked, status=409, problem=reason)
    answered = [(item, next((a["value"] for a in checked.data["answers"] if a["item_id"] == item.item_id), None))
                for item in items]
    return page.render(request, "participant/evaluated.html", session_id=session_id, questionnaire=questionnaire,
                       answered=answered, saved=saved)


@router.get("/{session_id}/knowledge")
async def knowledge_test(request: Request, page: Page, visitor: Participant, apis: AsVisitor, session_id: str):
    training = await participant.training(apis, visitor, session_id)
    standing = await participant.standing(apis, visitor, session_id) if training.mine else None
    return page.render(request, "participant/knowledge.html", training=training, standing=standing)
