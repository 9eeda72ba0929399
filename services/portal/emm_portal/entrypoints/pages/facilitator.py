"""The facilitator's pages: my sessions, the attendance sheet of a day (one tap per person),
peer feedback on a practice delivery with the rubric, and where each trainee stands towards the
trainer certificate. Organizers may use them too."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.exceptions import HTTPException

from emm_evaluation.domain.peer_feedback import CRITERIA
from emm_portal.domain import outcomes
from emm_portal.domain.form_input import N_, Problem
from emm_portal.domain.peer_feedback_form import (CRITERION_HINTS, CRITERION_LABELS, FIELDS as RATING_FIELDS,
                                                  SCORES, new_peer_feedback_id, read_peer_feedback_form)
from emm_portal.entrypoints.deps import AsVisitor, Facilitator, Form, Page
from emm_portal.entrypoints.rendering import redirect
from emm_portal.entrypoints.staff_rendering import Attempt, attempt, csv_download, errors_of, render
from emm_portal.service_layer import exports, staff_views as views

router = APIRouter(prefix="/facilitate")
Offset = Annotated[int, Query(ge=0, le=2**31 - 1)]
CHOOSE_MARK = N_("Choose present, late, absent or excused")
MARK_NOT_SENT = N_("Not saved: the registration service is not answering. Tap again in a moment.")
MARK_REFUSED = N_("Not saved: %(reason)s")
MARK_REFUSED_BECAUSE = {  # registration's refusals a facilitator meets, by the field it names
    "day": N_("Not saved: this day has not come yet where the session takes place."),
    "participant_id": N_("Not saved: this person holds no seat in the session any more."),
    "session_id": N_("Not saved: the session is cancelled, or you do not facilitate it."),
}


def session_day(day: str) -> date:
    try:
        return date.fromisoformat(day)
    except ValueError:
        raise HTTPException(404) from None


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


@router.get("")
async def my_sessions(request: Request, who: Facilitator, page: Page, apis: AsVisitor, offset: Offset = 0):
    found = await views.facilitated_sessions(apis, who.subject, offset)
    return render(request, page, "facilitator/sessions.html", sessions=found)


@router.get("/{session_id}/attendance/{day}")
async def attendance_sheet(request: Request, session_id: str, day: str, who: Facilitator, page: Page,
                           apis: AsVisitor, saved: str | None = None):
    sheet = await views.day_sheet(apis, session_id, session_day(day))
    if sheet.day not in sheet.days:
        raise HTTPException(404)
    return render(request, page, "facilitator/attendance.html", sheet=sheet, saved=saved, problem=None,
                  statuses=views.ATTENDANCE_STATUSES, uses_htmx=True)


@router.post("/{session_id}/attendance/{day}")
async def mark(request: Request, session_id: str, day: str, who: Facilitator, page: Page, apis: AsVisitor,
               form: Form):
    """One person's mark. With htmx the answer is that person's row, saved in place; without, the
    sheet again at that person, saying it was saved."""
    the_day = session_day(day)
    participant_id, status = str(form.get("participant_id", "")), str(form.get("status", ""))
    row = views.SheetRow(participant_id, str(form.get("full_name", ""))[:200], status or None)
    problem, down, marked = None, False, None
    if status not in views.ATTENDANCE_STATUSES:
        problem = Problem("status", CHOOSE_MARK)
    else:
        try:
            marked = await views.mark_attendance(apis, session_id, the_day, participant_id, status)
        except outcomes.Unavailable:
            problem, down = Problem("status", MARK_NOT_SENT), True
        except (outcomes.Invalid, outcomes.Refused, outcomes.NotAllowed) as refused:
            field = next(iter(refused.field_errors), "")
            problem = Problem("status", MARK_REFUSED_BECAUSE.get(field, MARK_REFUSED),
                              {"reason": refused.field_errors.get(field, refused.message)})
    if problem is None and not is_htmx(request):
        return redirect(f"/facilitate/{session_id}/attendance/{the_day.isoformat()}?saved={participant_id}"
                        f"#p-{participant_id}")
    context = dict(session_id=session_id, day=the_day, row=row, statuses=views.ATTENDANCE_STATUSES,
                   saved=problem is None, problem=problem and problem.text(page.gettext(request)),
                   marked=marked, total=form.get("total"))
    if is_htmx(request):  # htmx swaps only a 2xx answer: the row then says why it was not saved
        return render(request, page, "facilitator/_mark_row.html", oob=True, **context)
    return render(request, page, "facilitator/mark_not_saved.html", status=503 if down else 422, oob=False,
                  **context)


@router.get("/{session_id}/peer-feedback")
async def peer_feedback_form(request: Request, session_id: str, who: Facilitator, page: Page, apis: AsVisitor,
                             saved: str | None = None):
    session, roster = await views.session_of(apis, session_id), await views.roster_of(apis, session_id)
    return render_rating(request, page, session, roster, values={"peer_feedback_id": new_peer_feedback_id()},
                         problems={}, saved=saved)


@router.post("/{session_id}/peer-feedback")
async def rate_delivery(request: Request, session_id: str, who: Facilitator, page: Page, apis: AsVisitor,
                        form: Form):
    session, roster = await views.session_of(apis, session_id), await views.roster_of(apis, session_id)
    trainees = [e["participant_id"] for e in roster["registered"]]
    read = read_peer_feedback_form(form, trainees, session["session"]["modules"])
    rated = await attempt(apis.evaluation.post(f"/sessions/{session_id}/peer-feedback", read.body),
                          RATING_FIELDS) if read.body is not None else Attempt(problems=read.problems)
    if rated.done:
        name = next(e["full_name"] for e in roster["registered"]
                    if e["participant_id"] == read.body["trainee_participant_id"])
        return redirect(f"/facilitate/{session_id}/peer-feedback?saved={name}")
    return render_rating(request, page, session, roster, values=dict(read.values, peer_feedback_id=form.get(
        "peer_feedback_id") or new_peer_feedback_id()), problems=rated.problems, unavailable=rated.unavailable,
        status=rated.status)


def render_rating(request: Request, page: Page, session: dict, roster: dict, *, values: dict, problems: dict,
                  saved: str | None = None, unavailable: str | None = None, status: int = 200):
    _ = page.gettext(request)
    return render(request, page, "facilitator/peer_feedback.html", status=status, session=session,
                  errors=errors_of(request, page, problems),
                  trainees=[(e["participant_id"], e["full_name"]) for e in roster["registered"]],
                  modules=[(m, m) for m in session["session"]["modules"]],
                  criteria=[(c, _(CRITERION_LABELS[c]), _(CRITERION_HINTS[c])) for c in CRITERIA],
                  scores=[(s, s) for s in SCORES], values=values, saved=saved,
                  unavailable=unavailable)


@router.get("/{session_id}/certification")
async def certification_progress(request: Request, session_id: str, who: Facilitator, page: Page, apis: AsVisitor):
    view = await views.session_of(apis, session_id)
    if view["session"]["kind"] != "training_of_trainers":
        raise HTTPException(404)
    return render(request, page, "facilitator/certification_list.html", view=view,
                  roster=await views.roster_of(apis, session_id))


@router.get("/{session_id}/participants/{participant_id}/certification")
async def certification(request: Request, session_id: str, participant_id: str, who: Facilitator, page: Page,
                        apis: AsVisitor):
    view, standing = await views.certification_of(apis, session_id, participant_id)
    return render(request, page, "facilitator/certification.html", view=view, standing=standing)


@router.get("/{session_id}/attendance.csv")
async def attendance_csv(session_id: str, who: Facilitator, apis: AsVisitor):
    """The whole sheet, every day, as registration exports it."""
    return csv_download(await exports.attendance_csv(apis, session_id), f"attendance-{session_id}.csv")
