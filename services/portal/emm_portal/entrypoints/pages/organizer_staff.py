"""The organizer's staff directory: organizers (with the offices they act for) and facilitators,
listed, added and changed through registration's `/staff`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from emm_portal.domain.staff_form import FIELDS, ROLES, read_staff_form, staff_values
from emm_portal.entrypoints.deps import AsVisitor, Form, Organizer, Page
from emm_portal.entrypoints.rendering import redirect
from emm_portal.entrypoints.staff_rendering import Attempt, attempt, errors_of, render
from emm_portal.service_layer import staff_views as views

router = APIRouter(prefix="/organize/staff")
Offset = Annotated[int, Query(ge=0, le=2**31 - 1)]


@router.get("")
async def directory(request: Request, who: Organizer, page: Page, apis: AsVisitor, offset: Offset = 0,
                    role: Annotated[str | None, Query(max_length=20)] = None, done: str | None = None):
    role = role if role in ROLES else None
    found = await views.listing(apis.registration, "/staff", offset, role=role)
    return render(request, page, "organizer/staff.html", staff=found, filters={"role": role} if role else {},
                  done=done)


@router.get("/new")
async def new_member(request: Request, who: Organizer, page: Page):
    return render(request, page, "organizer/staff_form.html", member=None, values={"role": "facilitator",
                  "preferred_language": page.language(request)}, errors={}, unavailable=None)


@router.post("/new")
async def add_member(request: Request, who: Organizer, page: Page, apis: AsVisitor, form: Form):
    read = read_staff_form(form)
    added = await attempt(apis.registration.call("POST", "/staff", json=read.body, raw=True), FIELDS) \
        if read.body is not None else Attempt(problems=read.problems)
    if added.done:  # 200: this email is in the directory already, and that entry is kept
        return redirect(f"/organize/staff?done={'added' if added.answer.status_code == 201 else 'known'}")
    return render(request, page, "organizer/staff_form.html", status=added.status, member=None,
                  values=read.values, errors=errors_of(request, page, added.problems), unavailable=added.unavailable)


@router.get("/{staff_id}/edit")
async def edit_member(request: Request, staff_id: str, who: Organizer, page: Page, apis: AsVisitor):
    member = await apis.registration.get(f"/staff/{staff_id}")
    return render(request, page, "organizer/staff_form.html", member=member, values=staff_values(member), errors={},
                  unavailable=None)


@router.post("/{staff_id}/edit")
async def change_member(request: Request, staff_id: str, who: Organizer, page: Page, apis: AsVisitor, form: Form):
    read = read_staff_form(form, editing=True)
    changed = await attempt(apis.registration.patch(f"/staff/{staff_id}", read.body), FIELDS) \
        if read.body is not None else Attempt(problems=read.problems)
    if changed.done:
        return redirect("/organize/staff?done=changed")
    member = await apis.registration.get(f"/staff/{staff_id}") if changed.unavailable is None else None
    return render(request, page, "organizer/staff_form.html", status=changed.status,
                  member=member or {"staff_id": staff_id, "email": "", "full_name": ""},
                  values={**read.values, "email": (member or {}).get("email", "")},
                  errors=errors_of(request, page, changed.problems), unavailable=changed.unavailable)
